"""Survo: place the missing numbers 1..m·n so every row and column hits its sum.

Generation shuffles 1..m·n into a grid, blanks cells and proves uniqueness with a
backtracking solver, revealing a cell where two solutions differ until one remains.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import format_grid, parse_int_grid


def solve_survo(
    givens: list[list[int]], row_sums: list[int], col_sums: list[int], limit: int = 2
) -> list[list[list[int]]]:
    """Up to ``limit`` completions of ``givens`` (0 = blank) meeting the sums."""
    m, n = len(givens), len(givens[0])
    grid = [list(row) for row in givens]
    present = {v for row in grid for v in row if v}
    free = sorted(set(range(1, m * n + 1)) - present)
    blanks = [(r, c) for r in range(m) for c in range(n) if not grid[r][c]]
    row_left = [sum(1 for c in range(n) if not grid[r][c]) for r in range(m)]
    col_left = [sum(1 for r in range(m) if not grid[r][c]) for c in range(n)]
    row_need = [row_sums[r] - sum(grid[r]) for r in range(m)]
    col_need = [col_sums[c] - sum(grid[r][c] for r in range(m)) for c in range(n)]
    available = set(free)
    solutions: list[list[list[int]]] = []

    def feasible(need: int, count: int) -> bool:
        if count == 0:
            return need == 0
        ordered = sorted(available)
        if len(ordered) < count:
            return False
        return sum(ordered[:count]) <= need <= sum(ordered[-count:])

    def place(k: int) -> None:
        if len(solutions) >= limit:
            return
        if k == len(blanks):
            solutions.append([list(row) for row in grid])
            return
        r, c = blanks[k]
        if row_left[r] == 1:
            options = [row_need[r]]
        elif col_left[c] == 1:
            options = [col_need[c]]
        else:
            options = sorted(available)
        for v in options:
            if v not in available:
                continue
            if col_left[c] == 1 and v != col_need[c]:
                continue
            available.discard(v)
            grid[r][c] = v
            row_left[r] -= 1
            col_left[c] -= 1
            row_need[r] -= v
            col_need[c] -= v
            if feasible(row_need[r], row_left[r]) and feasible(col_need[c], col_left[c]):
                place(k + 1)
            row_left[r] += 1
            col_left[c] += 1
            row_need[r] += v
            col_need[c] += v
            grid[r][c] = 0
            available.add(v)

    place(0)
    return solutions


_NUMBER = re.compile(r"[-+]?\d+")


def without_sums(text: str, m: int, n: int) -> str:
    """``text`` without a row-sum column and column-sum line that agree with its numbers."""
    lines = [line for line in text.split("\n") if _NUMBER.search(line)]
    rows = [[int(v) for v in _NUMBER.findall(line)] for line in lines]
    if len(rows) not in (m, m + 1) or any(len(r) != n + 1 for r in rows[:m]):
        return text
    if any(sum(r[:n]) != r[n] for r in rows[:m]):
        return text
    if len(rows) == m + 1:
        columns = [sum(r[j] for r in rows[:m]) for j in range(n)]
        if rows[m] not in (columns, [*columns, sum(columns)]):
            return text
    return "\n".join(" ".join(str(v) for v in r[:n]) for r in rows[:m])


@register_task
class Survo(Task):
    """Complete a Survo grid (unique solution)."""

    name = "survo"
    version = "3"
    description = "Place the missing numbers so rows and columns reach their sums."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        rows: int = 3
        """Rows of the grid."""
        cols: int = 3
        """Columns of the grid."""
        blanks: int = 4
        """Cells left blank before any are revealed back to make the solution unique."""

        def __post_init__(self) -> None:
            if not 2 <= self.rows <= 5 or not 2 <= self.cols <= 5:
                raise ValueError("rows and cols must be 2..5")
            if not 1 <= self.blanks <= self.rows * self.cols:
                raise ValueError("blanks must be 1..rows*cols")
            if self.blanks > 14:
                raise ValueError("blanks must be <= 14 (solver bound)")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """Larger grids with more blanks with the level."""
        level = check_level(level)
        table = {
            1: (3, 3, 3),
            2: (3, 3, 5),
            3: (3, 4, 6),
            4: (3, 4, 8),
            5: (4, 4, 8),
            6: (4, 4, 10),
            7: (4, 5, 10),
            8: (4, 5, 12),
            9: (5, 5, 12),
            10: (5, 5, 14),
        }
        rows, cols, blanks = table[level]
        return cls.Config(rows=rows, cols=cols, blanks=blanks)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """Shuffle 1..m·n, blank cells, reveal differing cells until unique."""
        m, n = config.rows, config.cols
        values = list(range(1, m * n + 1))
        rng.shuffle(values)
        grid = [values[r * n : (r + 1) * n] for r in range(m)]
        row_sums = [sum(row) for row in grid]
        col_sums = [sum(grid[r][c] for r in range(m)) for c in range(n)]
        cells = [(r, c) for r in range(m) for c in range(n)]
        hidden = set(rng.sample(cells, config.blanks))
        while True:
            givens = [[0 if (r, c) in hidden else grid[r][c] for c in range(n)] for r in range(m)]
            sols = solve_survo(givens, row_sums, col_sums)
            if len(sols) < 2:
                break
            other = sols[0] if sols[0] != grid else sols[1]
            diff = sorted(x for x in hidden if other[x[0]][x[1]] != grid[x[0]][x[1]])
            hidden.discard(rng.choice(diff))
        shown = [
            [("_" if not v else str(v)) for v in row] + [f"| {row_sums[r]}"]
            for r, row in enumerate(givens)
        ]
        shown.append([str(s) for s in col_sums])
        question = (
            f"Fill this {m}x{n} Survo puzzle. Each of the numbers 1 to {m * n} appears exactly "
            "once in the grid. The number after | is the sum of its row; the bottom line "
            "gives the sum of each column. Blank cells are shown as _.\n\n"
            f"{format_grid(shown)}\n\n"
            "The solution is unique. Give the completed grid (without the sums) inside answer "
            "tags, one row per line with numbers separated by spaces, like "
            "<answer>\nrow 1\nrow 2\n...\n</answer>."
        )
        spec = {"givens": givens, "row_sums": row_sums, "col_sums": col_sums}
        return Item(question, format_grid(grid), spec, difficulty=float(len(hidden)))

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[int]]:
        """An m × n grid of integers.

        The board may be written as the question shows it, each row followed by its sum
        (``10 3 6 7 | 26``) and the column sums on a last line: sums that agree with the
        numbers are dropped (sums that do not are left, and the grid does not read).
        """
        givens = spec["givens"]
        m, n = len(givens), len(givens[0])
        return parse_int_grid(without_sums(text, m, n), m, n)

    def judge(self, spec: Mapping[str, Any], grid: list[list[int]]) -> float:
        """1.0 if the grid uses 1..m·n once, keeps the givens and meets every sum."""
        givens = spec["givens"]
        m, n = len(givens), len(givens[0])
        if sorted(v for row in grid for v in row) != list(range(1, m * n + 1)):
            return 0.0
        if any(givens[r][c] and grid[r][c] != givens[r][c] for r in range(m) for c in range(n)):
            return 0.0
        if [sum(row) for row in grid] != list(spec["row_sums"]):
            return 0.0
        cols = [sum(grid[r][c] for r in range(m)) for c in range(n)]
        return 1.0 if cols == list(spec["col_sums"]) else 0.0


__all__ = ["Survo", "solve_survo"]
