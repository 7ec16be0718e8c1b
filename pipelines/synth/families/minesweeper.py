"""Minesweeper deduction: find every mine from the revealed numbers (unique answer).

Mines are scattered at random; every safe cell starts revealed (its number counts the
mines among its up to 8 neighbours) and revealed cells are hidden again in a random
order while the mine layout stays unique given the numbers and the total mine count.
``extra_revealed`` of the hidden ones are shown again for easier levels. The answer is
the list of mine coordinates.
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
    exactly,
    format_cells,
    format_grid,
    guard,
    minimize_clues,
    neighbors8,
    parse_cells,
    positive_int,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict


@dataclass(frozen=True)
class MinesweeperConfig:
    """Knobs: board shape, mine count and spare revealed cells."""

    rows: int = 4
    """Rows of the board."""
    cols: int = 4
    """Columns of the board."""
    mines: int = 3
    """Mines hidden on the board."""
    extra_revealed: int = 2
    """Hidden cells shown again after minimizing (more = easier)."""

    def __post_init__(self) -> None:
        positive_int("rows", self.rows, 2, 16)
        positive_int("cols", self.cols, 2, 16)
        positive_int("mines", self.mines, 1, self.rows * self.cols - 1)
        positive_int("extra_revealed", self.extra_revealed, 0, 256)


_LEVELS = {
    1: (4, 4, 3, 3),
    2: (4, 4, 4, 1),
    3: (5, 5, 5, 2),
    4: (5, 5, 6, 0),
    5: (6, 6, 7, 2),
    6: (6, 6, 8, 0),
    7: (7, 7, 10, 2),
    8: (7, 7, 11, 0),
    9: (8, 8, 13, 0),
    10: (9, 9, 16, 0),
}


def counts(rows: int, cols: int, mines: set[tuple[int, int]]) -> list[list[int]]:
    """Neighbouring-mine count of every cell."""
    return [
        [sum((a, b) in mines for a, b in neighbors8(r, c, rows, cols)) for c in range(cols)]
        for r in range(rows)
    ]


@register_task
class MinesweeperTask(Task):
    """Locate all mines on a partly revealed Minesweeper board (unique answer)."""

    name = "minesweeper"
    domain = "logic"
    version = "3"
    description = "Minesweeper deduction: list every mine given revealed numbers; unique."
    Config = MinesweeperConfig

    @classmethod
    def config_for_level(cls, level: int) -> MinesweeperConfig:
        """Level 1: 4×4 with 3 mines … level 10: 9×9 with 16 mines, minimal reveals."""
        rows, cols, mines, extra = _LEVELS[check_level(level)]
        return MinesweeperConfig(rows=rows, cols=cols, mines=mines, extra_revealed=extra)

    def generate(self, config: MinesweeperConfig, rng: random.Random) -> Item:
        """Random mines; revealed cells minimized under uniqueness."""
        R, C = config.rows, config.cols
        cells = [(r, c) for r in range(R) for c in range(C)]
        mines = set(rng.sample(cells, config.mines))
        numbers = counts(R, C, mines)
        pool = IDPool()
        mine = {cell: pool.id(cell) for cell in cells}
        rules = exactly(list(mine.values()), len(mines), pool)
        reveal: dict[int, tuple[int, int]] = {}
        for cell in cells:
            if cell in mines:
                continue
            act = pool.id(("shown", cell))
            around = [mine[nb] for nb in neighbors8(*cell, R, C)]
            rules += guard([[-mine[cell]], *exactly(around, numbers[cell[0]][cell[1]], pool)], act)
            reveal[act] = cell
        solution = [mine[cell] if cell in mines else -mine[cell] for cell in cells]
        order = list(reveal)
        rng.shuffle(order)
        kept, conflicts, gap = minimize_clues(rules, solution, order, config.extra_revealed, rng)
        shown = {reveal[x] for x in kept}
        board = [
            [str(numbers[r][c]) if (r, c) in shown else "?" for c in range(C)] for r in range(R)
        ]
        question = (
            f"This {R}x{C} Minesweeper board hides exactly {len(mines)} mines. A number is a "
            "revealed safe cell telling how many of its up to 8 neighbours (including "
            "diagonal ones) hold a mine; ? is an unrevealed cell. Rows and columns are "
            f"numbered from 1 at the top-left. Find the position of every mine; the "
            "numbers determine them uniquely.\n\n"
            f"{format_grid(board)}\n\n"
            "Give your final answer as the list of all mine positions as (row, column) "
            "pairs inside <answer></answer> tags, for example:\n"
            "<answer>(1, 2), (3, 4)</answer>"
        )
        return Item(
            question=question,
            answer=format_cells(mines),
            spec={
                "rows": R,
                "cols": C,
                "mines": sorted([list(m) for m in mines]),
                "revealed": sorted([list(s) for s in shown]),
            },
            difficulty=difficulty_score(R * C - len(shown), conflicts, gap),
            metadata={"revealed": len(shown), "conflicts": conflicts, "propagation_gap": gap},
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> frozenset[tuple[int, int]]:
        """The listed (row, column) cells, 0-based."""
        return frozenset(parse_cells(text, int(spec["rows"]), int(spec["cols"])))

    def judge(self, spec: Mapping[str, Any], found: frozenset[tuple[int, int]]) -> Verdict | float:
        """The listed cells must be exactly the mines (the layout is unique)."""
        mines = {(r, c) for r, c in spec["mines"]}
        if found == mines:
            return 1.0
        missing, extra = len(mines - found), len(found - mines)
        return wrong(f"{missing} mine(s) missing, {extra} cell(s) are not mines")
