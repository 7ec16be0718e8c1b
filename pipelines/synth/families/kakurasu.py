"""Kakurasu: shade cells so that weighted row and column sums match the clues.

A shaded cell in column ``c`` adds ``c`` (1-based) to its row's sum; a shaded cell in row
``r`` adds ``r`` to its column's sum. Each line is encoded as "one of the subsets with
that sum"; random shadings are redrawn until the clues fix a unique solution, and if a
few draws fail, shaded cells are revealed until it is unique.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
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

_DRAWS = 20


@dataclass(frozen=True)
class KakurasuConfig:
    """Knobs: grid size and the share of shaded cells."""

    size: int = 4
    """Side of the square (3–9)."""
    density: float = 0.5
    """Probability that a cell of the hidden solution is shaded."""

    def __post_init__(self) -> None:
        positive_int("size", self.size, 3, 9)
        number_in("density", self.density, 0.1, 0.9)


_LEVELS = {1: 3, 2: 4, 3: 4, 4: 5, 5: 5, 6: 6, 7: 6, 8: 7, 9: 7, 10: 8}


@cache
def _subsets_by_sum(n: int) -> dict[int, list[tuple[int, ...]]]:
    out: dict[int, list[tuple[int, ...]]] = {}
    for k in range(n + 1):
        for combo in itertools.combinations(range(1, n + 1), k):
            out.setdefault(sum(combo), []).append(combo)
    return out


def line_sums(grid: list[list[bool]]) -> tuple[list[int], list[int]]:
    """(row sums of shaded column numbers, column sums of shaded row numbers)."""
    n = len(grid)
    rows = [sum(c + 1 for c in range(n) if grid[r][c]) for r in range(n)]
    cols = [sum(r + 1 for r in range(n) if grid[r][c]) for c in range(n)]
    return rows, cols


def _rules(n: int, rows: list[int], cols: list[int], pool: IDPool) -> list[list[int]]:
    subsets = _subsets_by_sum(n)
    clauses: list[list[int]] = []
    for i in range(n):
        for kind, total in (("row", rows[i]), ("col", cols[i])):
            cells = [(i, j) if kind == "row" else (j, i) for j in range(n)]
            options = [
                [pool.id(cells[j]) if j + 1 in subset else -pool.id(cells[j]) for j in range(n)]
                for subset in subsets.get(total, [])
            ]
            clauses += one_of(options, pool, (kind, i))
    return clauses


@register_task
class KakurasuTask(Task):
    """Shade cells to match weighted row/column sums (unique solution)."""

    name = "kakurasu"
    domain = "logic"
    version = "3"
    description = "Kakurasu 3x3 to 8x8: weighted row/column sums, unique solution."
    Config = KakurasuConfig

    @classmethod
    def config_for_level(cls, level: int) -> KakurasuConfig:
        """Level 1: 3×3 … level 10: 8×8."""
        return KakurasuConfig(size=_LEVELS[check_level(level)])

    def generate(self, config: KakurasuConfig, rng: random.Random) -> Item:
        """Random shadings until the sums fix one solution (else reveal shaded cells)."""
        n = config.size
        for draw in range(_DRAWS):
            grid = [[rng.random() < config.density for _ in range(n)] for _ in range(n)]
            rows, cols = line_sums(grid)
            pool = IDPool()
            rules = _rules(n, rows, cols, pool)
            lits = [pool.id((r, c)) * (1 if grid[r][c] else -1) for r in range(n) for c in range(n)]
            settled = unique_or_reveal(rules, lits, rng, final=draw == _DRAWS - 1)
            if settled is None:
                continue
            revealed, conflicts, gap = settled
            break
        given = sorted(pool.obj(lit) for lit in revealed)
        hint = (
            f"\nThese cells are known to be shaded (row, column): {format_cells(given)}.\n"
            if given
            else ""
        )
        example = format_binary_grid([[(r + c) % 2 == 0 for c in range(n)] for r in range(2)])
        question = (
            f"Solve this {n}x{n} Kakurasu puzzle. Shade some cells of the grid. Rows and "
            f"columns are numbered 1 to {n} from the top-left. A shaded cell in column c adds "
            "c to the sum of its row, and a shaded cell in row r adds r to the sum of its "
            "column. Each row's sum must equal its row clue and each column's sum its column "
            "clue. The puzzle has exactly one solution.\n\n"
            f"Row clues (top to bottom): {' '.join(map(str, rows))}\n"
            f"Column clues (left to right): {' '.join(map(str, cols))}\n{hint}\n"
            + grid_answer_format(n, n, "cells (# shaded, . empty)", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_binary_grid(grid),
            spec={
                "size": n,
                "rows": rows,
                "cols": cols,
                "shaded": [list(cell) for cell in given],
                "solution": format_binary_grid(grid),
            },
            difficulty=difficulty_score(n * n - len(given), conflicts, gap),
            metadata={
                "revealed": len(given),
                "draws": draw + 1,
                "conflicts": conflicts,
                "propagation_gap": gap,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[bool]]:
        """A size × size grid of shaded / empty cells."""
        n = int(spec["size"])
        return parse_shaded(text, n, n)

    def judge(self, spec: Mapping[str, Any], grid: list[list[bool]]) -> Verdict | float:
        """Row and column sums match, revealed cells shaded."""
        for r, c in spec["shaded"]:
            if not grid[r][c]:
                return wrong(f"cell ({r + 1}, {c + 1}) must be shaded")
        rows, cols = line_sums(grid)
        if rows != list(spec["rows"]):
            return wrong("a row sum does not match its clue")
        if cols != list(spec["cols"]):
            return wrong("a column sum does not match its clue")
        return 1.0
