"""Sudoku (4×4, 6×6, 9×9) with a unique solution, checked by a SAT solver.

A full grid comes from the canonical pattern shuffled by rows within bands, bands,
columns within stacks, stacks and digits; givens are then removed in a random order
while the solution stays unique (:class:`~tracemill.pipelines.synth.grid.UniquenessSolver`), and
``extra_givens`` of the removed ones are put back for easier levels.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pysat.formula import IDPool
from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    difficulty_score,
    digit_alphabet,
    exactly,
    format_grid,
    grid_answer_format,
    minimize_givens,
    parse_grid,
    positive_int,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict

BOXES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}
"""Box shape (rows, cols) per grid size."""


@dataclass(frozen=True)
class SudokuConfig:
    """Knobs: grid size and how many redundant givens to keep beyond a minimal set."""

    size: int = 4
    """4, 6 or 9."""
    extra_givens: int = 4
    """Givens put back after minimizing (more = easier)."""

    def __post_init__(self) -> None:
        if self.size not in BOXES:
            raise ValueError(f"size must be 4, 6 or 9, got {self.size!r}")
        positive_int("extra_givens", self.extra_givens, 0, 81)


_LEVELS = {
    1: (4, 4),
    2: (4, 0),
    3: (6, 10),
    4: (6, 4),
    5: (6, 0),
    6: (9, 30),
    7: (9, 20),
    8: (9, 12),
    9: (9, 5),
    10: (9, 0),
}


def full_grid(size: int, rng: random.Random) -> list[list[int]]:
    """A random complete Sudoku grid of ``size`` (values 1…size)."""
    bh, bw = BOXES[size]

    def shuffled_groups(groups: int, per: int) -> list[int]:
        order = list(range(groups))
        rng.shuffle(order)
        out = []
        for g in order:
            inner = list(range(per))
            rng.shuffle(inner)
            out.extend(g * per + i for i in inner)
        return out

    rows = shuffled_groups(bw, bh)  # bw bands of bh rows
    cols = shuffled_groups(bh, bw)  # bh stacks of bw columns
    digits = list(range(1, size + 1))
    rng.shuffle(digits)
    grid = [[digits[(bw * (r % bh) + r // bh + c) % size] for c in cols] for r in rows]
    if bh == bw and rng.random() < 0.5:
        grid = [list(col) for col in zip(*grid, strict=True)]
    return grid


def sudoku_rules(size: int, pool: IDPool) -> list[list[int]]:
    """CNF of the Sudoku rules over variables ``("x", r, c, v)``."""
    bh, bw = BOXES[size]

    def x(r: int, c: int, v: int) -> int:
        return pool.id(("x", r, c, v))

    clauses: list[list[int]] = []
    values = range(1, size + 1)
    for r in range(size):
        for c in range(size):
            clauses += exactly([x(r, c, v) for v in values], 1, pool)
    for v in values:
        for i in range(size):
            clauses += exactly([x(i, c, v) for c in range(size)], 1, pool)
            clauses += exactly([x(r, i, v) for r in range(size)], 1, pool)
        for br in range(0, size, bh):
            for bc in range(0, size, bw):
                box = [x(br + a, bc + b, v) for a in range(bh) for b in range(bw)]
                clauses += exactly(box, 1, pool)
    return clauses


def render(puzzle: list[list[int]]) -> str:
    """Grid rows with ``.`` for empty cells."""
    return format_grid([[str(v) if v else "." for v in row] for row in puzzle])


def _valid(grid: list[list[int]], size: int) -> str | None:
    bh, bw = BOXES[size]
    target = set(range(1, size + 1))
    for i in range(size):
        if set(grid[i]) != target:
            return f"row {i + 1}"
        if {grid[r][i] for r in range(size)} != target:
            return f"column {i + 1}"
    for br in range(0, size, bh):
        for bc in range(0, size, bw):
            if {grid[br + a][bc + b] for a in range(bh) for b in range(bw)} != target:
                return f"box at row {br + 1}, column {bc + 1}"
    return None


@register_task
class SudokuTask(Task):
    """Fill a Sudoku grid (unique solution)."""

    name = "sudoku"
    domain = "logic"
    version = "3"
    description = "Sudoku 4x4 / 6x6 / 9x9 with a solver-checked unique solution."
    Config = SudokuConfig

    @classmethod
    def config_for_level(cls, level: int) -> SudokuConfig:
        """Levels 1–2: 4×4, 3–5: 6×6, 6–10: 9×9, fewer spare givens as levels rise."""
        size, extra = _LEVELS[check_level(level)]
        return SudokuConfig(size=size, extra_givens=extra)

    def generate(self, config: SudokuConfig, rng: random.Random) -> Item:
        """A full grid, then givens removed while the solution stays unique."""
        size = config.size
        solution = full_grid(size, rng)
        pool = IDPool()
        rules = sudoku_rules(size, pool)
        lits = {
            (r, c): pool.id(("x", r, c, solution[r][c])) for r in range(size) for c in range(size)
        }
        kept_cells, conflicts, gap = minimize_givens(rules, lits, config.extra_givens, rng)
        puzzle = [
            [solution[r][c] if (r, c) in kept_cells else 0 for c in range(size)]
            for r in range(size)
        ]
        bh, bw = BOXES[size]
        example = format_grid([[(r + c) % size + 1 for c in range(size)] for r in range(2)])
        question = (
            f"Solve this {size}x{size} Sudoku. Fill every empty cell (shown as .) with a digit "
            f"from 1 to {size} so that each row, each column and each {bh}x{bw} box (boxes "
            f"tile the grid from the top-left corner, {bh} rows tall and {bw} columns wide) "
            f"contains every digit exactly once. The puzzle has exactly one solution.\n\n"
            f"{render(puzzle)}\n\n" + grid_answer_format(size, size, "digits", example + "\n...")
        )
        unknown = size * size - len(kept_cells)
        return Item(
            question=question,
            answer=format_grid(solution),
            spec={"size": size, "puzzle": puzzle, "solution": solution},
            difficulty=difficulty_score(unknown, conflicts, gap),
            metadata={
                "givens": len(kept_cells),
                "empty": unknown,
                "conflicts": conflicts,
                "propagation_gap": gap,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[int]]:
        """A size × size grid of digits 1…size."""
        size = int(spec["size"])
        return parse_grid(text, size, size, digit_alphabet(size))

    def judge(self, spec: Mapping[str, Any], grid: list[list[int]]) -> Verdict | float:
        """The grid must keep the givens and satisfy the Sudoku rules."""
        size = int(spec["size"])
        puzzle = spec["puzzle"]
        for r in range(size):
            for c in range(size):
                if puzzle[r][c] and grid[r][c] != puzzle[r][c]:
                    return wrong(f"given at row {r + 1}, column {c + 1} changed")
        bad = _valid(grid, size)
        return wrong(f"{bad} breaks the rules") if bad else 1.0
