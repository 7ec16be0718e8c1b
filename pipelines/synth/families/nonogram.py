"""Nonograms: shade cells so each row/column shows the clue's runs of shaded cells.

Each line is encoded as "one of the patterns fitting its clue". Random pictures are
redrawn until the clues fix a unique solution; if a few draws fail, shaded cells are
revealed until the picture is unique.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pysat.formula import IDPool
from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    difficulty_score,
    format_binary_grid,
    format_cells,
    grid_answer_format,
    number_in,
    one_of,
    parse_shaded,
    positive_int,
    unique_or_reveal,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict

_DRAWS = 10


@dataclass(frozen=True)
class NonogramConfig:
    """Knobs: picture shape and the share of shaded cells."""

    rows: int = 5
    """Rows of the picture."""
    cols: int = 5
    """Columns of the picture."""
    density: float = 0.55
    """Probability that a cell of the hidden picture is shaded."""

    def __post_init__(self) -> None:
        positive_int("rows", self.rows, 2, 15)
        positive_int("cols", self.cols, 2, 15)
        number_in("density", self.density, 0.1, 0.9)


_LEVELS = {
    1: (4, 4),
    2: (5, 5),
    3: (5, 6),
    4: (6, 6),
    5: (7, 7),
    6: (8, 8),
    7: (9, 9),
    8: (10, 10),
    9: (11, 11),
    10: (12, 12),
}


def runs(line: Sequence[bool]) -> list[int]:
    """Lengths of the runs of shaded cells in a line."""
    out, n = [], 0
    for cell in line:
        if cell:
            n += 1
        elif n:
            out.append(n)
            n = 0
    if n:
        out.append(n)
    return out


@cache
def line_patterns(clue: tuple[int, ...], width: int) -> list[tuple[bool, ...]]:
    """Every line of ``width`` cells whose runs are ``clue``."""
    if not clue:
        return [(False,) * width]
    first, rest = clue[0], clue[1:]
    tail = sum(rest) + len(rest)
    out = []
    for start in range(width - tail - first + 1):
        head = (False,) * start + (True,) * first
        if rest:
            head += (False,)
            out += [head + p for p in line_patterns(rest, width - len(head))]
        else:
            out.append(head + (False,) * (width - len(head)))
    return out


def _clue_text(clue: list[int]) -> str:
    return " ".join(map(str, clue)) if clue else "0"


@register_task
class NonogramTask(Task):
    """Reconstruct a black-and-white picture from its run clues (unique solution)."""

    name = "nonogram"
    domain = "logic"
    version = "3"
    description = "Nonograms 4x4 to 12x12 from row/column run clues, unique solution."
    Config = NonogramConfig

    @classmethod
    def config_for_level(cls, level: int) -> NonogramConfig:
        """Level 1: 4×4 … level 10: 12×12."""
        rows, cols = _LEVELS[check_level(level)]
        return NonogramConfig(rows=rows, cols=cols)

    def generate(self, config: NonogramConfig, rng: random.Random) -> Item:
        """Random pictures until the clues are unique (else reveal shaded cells)."""
        R, C = config.rows, config.cols
        for draw in range(_DRAWS):
            grid = [[rng.random() < config.density for _ in range(C)] for _ in range(R)]
            row_clues = [runs(row) for row in grid]
            col_clues = [runs([grid[r][c] for r in range(R)]) for c in range(C)]
            pool = IDPool()
            cell = {(r, c): pool.id((r, c)) for r in range(R) for c in range(C)}
            rules: list[list[int]] = []
            for r, clue in enumerate(row_clues):
                options = [
                    [cell[r, c] if on else -cell[r, c] for c, on in enumerate(p)]
                    for p in line_patterns(tuple(clue), C)
                ]
                rules += one_of(options, pool, ("row", r))
            for c, clue in enumerate(col_clues):
                options = [
                    [cell[r, c] if on else -cell[r, c] for r, on in enumerate(p)]
                    for p in line_patterns(tuple(clue), R)
                ]
                rules += one_of(options, pool, ("col", c))
            lits = [cell[k] if grid[k[0]][k[1]] else -cell[k] for k in cell]
            settled = unique_or_reveal(rules, lits, rng, final=draw == _DRAWS - 1)
            if settled is None:
                continue
            revealed, conflicts, gap = settled
            break
        given = sorted(pool.obj(x) for x in revealed)
        hint = f"\nThese cells are known to be shaded: {format_cells(given)}.\n" if given else ""
        example = format_binary_grid([[c % 2 == r % 2 for c in range(C)] for r in range(2)])
        question = (
            f"Solve this {R}x{C} nonogram. Shade cells so that each row and each column "
            "shows exactly the runs of consecutive shaded cells given by its clue, in "
            "order (top to bottom for columns, left to right for rows), with at least one "
            "empty cell between runs; 0 means the line is empty. The puzzle has exactly "
            "one solution.\n\n"
            "Row clues (top to bottom):\n"
            + "\n".join(f"row {r + 1}: {_clue_text(cl)}" for r, cl in enumerate(row_clues))
            + "\nColumn clues (left to right):\n"
            + "\n".join(f"column {c + 1}: {_clue_text(cl)}" for c, cl in enumerate(col_clues))
            + f"\n{hint}\n"
            + grid_answer_format(R, C, "cells (# shaded, . empty)", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_binary_grid(grid),
            spec={
                "rows": R,
                "cols": C,
                "row_clues": row_clues,
                "col_clues": col_clues,
                "shaded": [list(g) for g in given],
            },
            difficulty=difficulty_score(R * C - len(given), conflicts, gap),
            metadata={
                "revealed": len(given),
                "draws": draw + 1,
                "conflicts": conflicts,
                "propagation_gap": gap,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[bool]]:
        """A rows × cols grid of shaded / empty cells."""
        return parse_shaded(text, int(spec["rows"]), int(spec["cols"]))

    def judge(self, spec: Mapping[str, Any], grid: list[list[bool]]) -> Verdict | float:
        """Every row's and column's runs match its clue; revealed cells are shaded."""
        R, C = int(spec["rows"]), int(spec["cols"])
        for r, c in spec["shaded"]:
            if not grid[r][c]:
                return wrong(f"cell ({r + 1}, {c + 1}) must be shaded")
        for r in range(R):
            if runs(grid[r]) != list(spec["row_clues"][r]):
                return wrong(f"row {r + 1} does not match its clue")
        for c in range(C):
            if runs([grid[r][c] for r in range(R)]) != list(spec["col_clues"][c]):
                return wrong(f"column {c + 1} does not match its clue")
        return 1.0
