"""Campsite (Tents and Trees): pair every tree with a tent next to it (unique solution).

Tents are scattered so that none touch; each gets a tree on a free orthogonal
neighbour. The clues are the tent counts of every row and column. The SAT encoding pairs
trees with adjacent tents one-to-one; layouts are redrawn until the tents are unique,
and if a few draws fail, tents are revealed until they are.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pysat.formula import IDPool
from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    at_most,
    difficulty_score,
    exactly,
    format_cells,
    format_grid,
    grid_answer_format,
    has_coordinates,
    neighbors4,
    neighbors8,
    parse_cells,
    parse_grid,
    positive_int,
    unique_or_reveal,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict

_DRAWS = 15
TREE, TENT, EMPTY = "T", "*", "."
_CELLS = {
    TREE: TREE,
    TENT: TENT,
    "A": TENT,
    "⛺": TENT,
    "🌲": TREE,
    "🌳": TREE,
    EMPTY: EMPTY,
    "-": EMPTY,
    "_": EMPTY,
    "0": EMPTY,
    "·": EMPTY,
}

Cell = tuple[int, int]


@dataclass(frozen=True)
class CampsiteConfig:
    """Knobs: grid shape and number of tree/tent pairs."""

    rows: int = 5
    """Rows of the grid."""
    cols: int = 5
    """Columns of the grid."""
    tents: int = 5
    """Tree/tent pairs to place."""

    def __post_init__(self) -> None:
        positive_int("rows", self.rows, 3, 16)
        positive_int("cols", self.cols, 3, 16)
        limit = ((self.rows + 1) // 2) * ((self.cols + 1) // 2)
        positive_int("tents", self.tents, 1, min(limit, self.rows * self.cols // 3))


_LEVELS = {
    1: (4, 4, 3),
    2: (5, 5, 4),
    3: (5, 5, 5),
    4: (6, 6, 6),
    5: (6, 6, 7),
    6: (7, 7, 9),
    7: (8, 8, 11),
    8: (8, 8, 13),
    9: (9, 9, 16),
    10: (10, 10, 20),
}


def _layout(config: CampsiteConfig, rng: random.Random) -> tuple[set[Cell], set[Cell]]:
    """Non-touching tents with one adjacent tree each (fewer tents if space runs out)."""
    R, C = config.rows, config.cols
    cells = [(r, c) for r in range(R) for c in range(C)]
    rng.shuffle(cells)
    tents: set[Cell] = set()
    trees: set[Cell] = set()
    for cell in cells:
        if len(tents) == config.tents:
            break
        if cell in trees or any(nb in tents for nb in neighbors8(*cell, R, C)):
            continue
        spots = [nb for nb in neighbors4(*cell, R, C) if nb not in tents and nb not in trees]
        if not spots:
            continue
        tents.add(cell)
        trees.add(rng.choice(sorted(spots)))
    return tents, trees


def _rules(
    R: int, C: int, trees: set[Cell], rows: list[int], cols: list[int], pool: IDPool
) -> list[list[int]]:
    open_cells = [(r, c) for r in range(R) for c in range(C) if (r, c) not in trees]
    tent = {cell: pool.id(cell) for cell in open_cells}
    clauses: list[list[int]] = []
    for r in range(R):
        clauses += exactly([tent[(r, c)] for c in range(C) if (r, c) in tent], rows[r], pool)
    for c in range(C):
        clauses += exactly([tent[(r, c)] for r in range(R) if (r, c) in tent], cols[c], pool)
    for cell in open_cells:
        for nb in neighbors8(*cell, R, C):
            if nb in tent and nb > cell:
                clauses.append([-tent[cell], -tent[nb]])
    pairs: dict[Cell, list[int]] = {cell: [] for cell in open_cells}
    for tree in sorted(trees):
        links = []
        for nb in neighbors4(*tree, R, C):
            if nb in tent:
                p = pool.id(("pair", tree, nb))
                clauses.append([-p, tent[nb]])
                links.append(p)
                pairs[nb].append(p)
        clauses += exactly(links, 1, pool)
    for cell, links in pairs.items():
        clauses.append([-tent[cell], *links])
        clauses += at_most(links, 1, pool)
    return clauses


def _matched(trees: set[Cell], tents: set[Cell], R: int, C: int) -> bool:
    """Whether trees and tents pair up one-to-one across orthogonal neighbours."""
    if len(trees) != len(tents):
        return False
    match: dict[Cell, Cell] = {}

    def augment(tree: Cell, seen: set[Cell]) -> bool:
        for nb in neighbors4(*tree, R, C):
            if nb in tents and nb not in seen:
                seen.add(nb)
                if nb not in match or augment(match[nb], seen):
                    match[nb] = tree
                    return True
        return False

    return all(augment(tree, set()) for tree in sorted(trees))


@register_task
class CampsiteTask(Task):
    """Place tents next to trees matching row/column counts (unique solution)."""

    name = "campsite"
    domain = "logic"
    version = "3"
    description = "Campsite / Tents and Trees 4x4 to 10x10 with row/column counts, unique."
    Config = CampsiteConfig

    @classmethod
    def config_for_level(cls, level: int) -> CampsiteConfig:
        """Level 1: 4×4 with 3 tents … level 10: 10×10 with 20 tents."""
        rows, cols, tents = _LEVELS[check_level(level)]
        return CampsiteConfig(rows=rows, cols=cols, tents=tents)

    def generate(self, config: CampsiteConfig, rng: random.Random) -> Item:
        """Random layouts until the tents are unique (else reveal tents)."""
        R, C = config.rows, config.cols
        for draw in range(_DRAWS):
            tents, trees = _layout(config, rng)
            rows = [sum((r, c) in tents for c in range(C)) for r in range(R)]
            cols = [sum((r, c) in tents for r in range(R)) for c in range(C)]
            pool = IDPool()
            rules = _rules(R, C, trees, rows, cols, pool)
            lits = [pool.id(cell) * (1 if cell in tents else -1) for cell in _open(R, C, trees)]
            settled = unique_or_reveal(rules, lits, rng, final=draw == _DRAWS - 1)
            if settled is None:
                continue
            revealed, conflicts, gap = settled
            break
        given = sorted(pool.obj(x) for x in revealed)
        board = [[TREE if (r, c) in trees else EMPTY for c in range(C)] for r in range(R)]
        solved = [[TENT if (r, c) in tents else board[r][c] for c in range(C)] for r in range(R)]
        lines = [f"  {' '.join(map(str, cols))}"]
        lines += [f"{rows[r]} {' '.join(board[r])}" for r in range(R)]
        hint = f"\nThese cells are known to hold a tent: {format_cells(given)}.\n" if given else ""
        example = " ".join([TREE, TENT] + [EMPTY] * (C - 2))
        question = (
            f"Solve this {R}x{C} Campsite (Tents and Trees) puzzle. T is a tree and . an empty "
            "cell. Place tents on empty cells so that: every tree is paired with exactly one "
            "tent directly above, below, left or right of it, and every tent with exactly "
            "one such tree; no two tents touch, not even diagonally; and each row and column "
            "has as many tents as its number (column counts on top, row counts on the left). "
            "The puzzle has exactly one solution.\n\n"
            + "\n".join(lines)
            + f"\n{hint}\n"
            + grid_answer_format(R, C, "cells (T tree, * tent, . empty)", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_grid(solved),
            spec={
                "rows": R,
                "cols": C,
                "trees": sorted([list(t) for t in trees]),
                "row_counts": rows,
                "col_counts": cols,
                "tents": [list(g) for g in given],
            },
            difficulty=difficulty_score(R * C - len(trees) - len(given), conflicts, gap),
            metadata={
                "revealed": len(given),
                "draws": draw + 1,
                "conflicts": conflicts,
                "propagation_gap": gap,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[str]]:
        """A rows × cols grid of tree / tent / empty cells, or the tents as (row, column) pairs.

        Listed tents are placed on the puzzle's own trees; a listed cell holding a tree is
        not a tent position (``ValueError``).
        """
        R, C = int(spec["rows"]), int(spec["cols"])
        if not has_coordinates(text):
            return parse_grid(text, R, C, _CELLS)
        tents = parse_cells(text, R, C)
        trees = {(r, c) for r, c in spec["trees"]}
        if tents & trees:
            raise ValueError("a listed tent is on a tree")
        return [
            [TREE if (r, c) in trees else TENT if (r, c) in tents else EMPTY for c in range(C)]
            for r in range(R)
        ]

    def echoes(self, spec: Mapping[str, Any]) -> list[Any]:
        """The puzzle as shown: trees and no tents."""
        R, C = int(spec["rows"]), int(spec["cols"])
        trees = {(r, c) for r, c in spec["trees"]}
        return [[[TREE if (r, c) in trees else EMPTY for c in range(C)] for r in range(R)]]

    def judge(self, spec: Mapping[str, Any], grid: list[list[str]]) -> Verdict | float:
        """Trees where given, counts match, no touching tents, trees and tents pair up."""
        R, C = int(spec["rows"]), int(spec["cols"])
        trees = {(r, c) for r, c in spec["trees"]}
        tents = {(r, c) for r in range(R) for c in range(C) if grid[r][c] == TENT}
        marked = {(r, c) for r in range(R) for c in range(C) if grid[r][c] == TREE}
        if marked and marked != trees:
            return wrong("trees must stay where they are")
        if tents & trees:
            return wrong("a tent stands on a tree")
        for r, c in spec["tents"]:
            if (r, c) not in tents:
                return wrong(f"cell ({r + 1}, {c + 1}) must hold a tent")
        if [sum((r, c) in tents for c in range(C)) for r in range(R)] != list(spec["row_counts"]):
            return wrong("a row has the wrong number of tents")
        if [sum((r, c) in tents for r in range(R)) for c in range(C)] != list(spec["col_counts"]):
            return wrong("a column has the wrong number of tents")
        for r, c in tents:
            if any(nb in tents for nb in neighbors8(r, c, R, C)):
                return wrong(f"tent at ({r + 1}, {c + 1}) touches another tent")
        if not _matched(trees, tents, R, C):
            return wrong("trees and tents do not pair up one-to-one")
        return 1.0


def _open(R: int, C: int, trees: set[Cell]) -> list[Cell]:
    return [(r, c) for r in range(R) for c in range(C) if (r, c) not in trees]
