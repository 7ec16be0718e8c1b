"""Binairo (Takuzu): fill a grid with 0/1 — balanced lines, no three in a row, no twin lines.

A complete grid comes from the SAT encoding solved under random phases; givens are then
dropped in a random order while the solution stays unique, and ``extra_givens`` of the
dropped ones return for easier levels.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pysat.formula import IDPool
from pysat.solvers import Solver
from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    SOLVER,
    difficulty_score,
    exactly,
    format_grid,
    grid_answer_format,
    minimize_givens,
    parse_grid,
    positive_int,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict

BITS = {"0": 0, "1": 1}


@dataclass(frozen=True)
class BinairoConfig:
    """Knobs: grid size (even) and redundant givens kept beyond a minimal set."""

    size: int = 4
    """Side of the square: 4, 6, 8, 10, 12 or 14."""
    extra_givens: int = 2
    """Givens kept beyond a minimal set (more = easier)."""

    def __post_init__(self) -> None:
        positive_int("size", self.size, 4, 14)
        if self.size % 2:
            raise ValueError(f"size must be even, got {self.size}")
        positive_int("extra_givens", self.extra_givens, 0, 196)


_LEVELS = {
    1: (4, 3),
    2: (4, 0),
    3: (6, 6),
    4: (6, 2),
    5: (6, 0),
    6: (8, 8),
    7: (8, 3),
    8: (8, 0),
    9: (10, 4),
    10: (10, 0),
}


def _rules(n: int, pool: IDPool) -> list[list[int]]:
    def x(r: int, c: int) -> int:
        return pool.id((r, c))

    for r in range(n):
        for c in range(n):
            x(r, c)  # cells take ids 1 … n*n in row-major order
    clauses: list[list[int]] = []
    lines = [[(i, j) for j in range(n)] for i in range(n)]
    lines += [[(j, i) for j in range(n)] for i in range(n)]
    for line in lines:
        lits = [x(*cell) for cell in line]
        clauses += exactly(lits, n // 2, pool)
        for a, b, c in zip(lits, lits[1:], lits[2:], strict=False):
            clauses += [[a, b, c], [-a, -b, -c]]
    for kind, group in (("row", lines[:n]), ("col", lines[n:])):
        for i in range(n):
            for j in range(i + 1, n):
                diffs = []
                for k in range(n):
                    d = pool.id(("diff", kind, i, j, k))
                    a, b = x(*group[i][k]), x(*group[j][k])
                    clauses += [[-d, a, b], [-d, -a, -b]]
                    diffs.append(d)
                clauses.append(diffs)
    return clauses


def binairo_violation(grid: Sequence[Sequence[int]]) -> str | None:
    """The first rule a filled grid breaks, or None."""
    n = len(grid)
    rows = [tuple(row) for row in grid]
    cols = [tuple(grid[r][c] for r in range(n)) for c in range(n)]
    for name, lines in (("row", rows), ("column", cols)):
        if len(set(lines)) != n:
            return f"two {name}s are identical"
        for i, line in enumerate(lines):
            if sum(line) * 2 != n:
                return f"{name} {i + 1} is not balanced"
            if any(line[k] == line[k + 1] == line[k + 2] for k in range(n - 2)):
                return f"{name} {i + 1} has three equal digits in a row"
    return None


@register_task
class BinairoTask(Task):
    """Fill a Binairo/Takuzu grid (unique solution)."""

    name = "binairo"
    domain = "logic"
    version = "3"
    description = "Binairo/Takuzu 4x4 to 10x10 with a solver-checked unique solution."
    Config = BinairoConfig

    @classmethod
    def config_for_level(cls, level: int) -> BinairoConfig:
        """Level 1: 4×4 … level 10: 10×10 with a minimal set of givens."""
        size, extra = _LEVELS[check_level(level)]
        return BinairoConfig(size=size, extra_givens=extra)

    def generate(self, config: BinairoConfig, rng: random.Random) -> Item:
        """A random full grid (random solver phases), givens minimized under uniqueness."""
        n = config.size
        pool = IDPool()
        rules = _rules(n, pool)
        cells = [(r, c) for r in range(n) for c in range(n)]
        with Solver(name=SOLVER, bootstrap_with=rules) as solver:
            solver.set_phases([pool.id(cell) * rng.choice((1, -1)) for cell in cells])
            if not solver.solve():
                raise RuntimeError(f"no {n}x{n} binairo grid")
            model = set(solver.get_model())
        sol = [[1 if pool.id((r, c)) in model else 0 for c in range(n)] for r in range(n)]
        lits = {cell: pool.id(cell) if sol[cell[0]][cell[1]] else -pool.id(cell) for cell in cells}
        kept, conflicts, gap = minimize_givens(rules, lits, config.extra_givens, rng)
        puzzle = [[str(sol[r][c]) if (r, c) in kept else "." for c in range(n)] for r in range(n)]
        example = format_grid([[(r + c) % 2 for c in range(n)] for r in range(2)])
        question = (
            f"Solve this {n}x{n} Binairo (Takuzu) puzzle. Fill every empty cell (.) with 0 or 1 "
            f"so that every row and every column has as many 0s as 1s ({n // 2} each), no row "
            "or column has three equal digits next to each other, and no two rows and no two "
            "columns are identical. The puzzle has exactly one solution.\n\n"
            f"{format_grid(puzzle)}\n\n"
            + grid_answer_format(n, n, "digits (0 or 1)", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_grid(sol),
            spec={"size": n, "puzzle": ["".join(row) for row in puzzle]},
            difficulty=difficulty_score(n * n - len(kept), conflicts, gap),
            metadata={"givens": len(kept), "conflicts": conflicts, "propagation_gap": gap},
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[int]]:
        """A size × size grid of 0s and 1s."""
        n = int(spec["size"])
        return parse_grid(text, n, n, BITS)

    def judge(self, spec: Mapping[str, Any], grid: list[list[int]]) -> Verdict | float:
        """Givens kept and every Binairo rule holds."""
        for r, row in enumerate(spec["puzzle"]):
            for c, ch in enumerate(row):
                if ch != "." and grid[r][c] != int(ch):
                    return wrong(f"given at row {r + 1}, column {c + 1} changed")
        bad = binairo_violation(grid)
        return wrong(bad) if bad else 1.0
