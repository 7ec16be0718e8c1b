"""Shortest path on a weighted grid with walls, from the top-left to the bottom-right.

The optimum is computed with Dijkstra at generation time. Several cheapest paths may
exist: ``check`` accepts any path that starts and ends right, moves between
orthogonally adjacent open cells, and costs exactly the optimum.
"""

from __future__ import annotations

import heapq
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    format_grid,
    neighbors4,
    number_in,
    parse_pairs,
    positive_int,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict

WALL = 0
"""Wall cells are stored as weight 0 and shown as ``#``."""

_LEVELS = {
    1: (3, 3, 3, 0.0),
    2: (3, 4, 5, 0.0),
    3: (4, 4, 5, 0.1),
    4: (4, 5, 9, 0.1),
    5: (5, 5, 9, 0.15),
    6: (5, 6, 9, 0.15),
    7: (6, 6, 9, 0.2),
    8: (6, 7, 9, 0.2),
    9: (7, 7, 9, 0.25),
    10: (8, 8, 9, 0.25),
}


@dataclass(frozen=True)
class ShortestPathConfig:
    """Knobs: grid shape, largest cell cost, share of wall cells."""

    rows: int = 3
    """Grid rows (2–12)."""
    cols: int = 3
    """Grid columns (2–12)."""
    max_cost: int = 3
    """Cell costs are drawn from 1…max_cost (1–9)."""
    walls: float = 0.0
    """Share of cells (not the corners) that are walls (0–0.4)."""

    def __post_init__(self) -> None:
        positive_int("rows", self.rows, 2, 12)
        positive_int("cols", self.cols, 2, 12)
        positive_int("max_cost", self.max_cost, 1, 9)
        number_in("walls", self.walls, 0.0, 0.4)


def dijkstra(grid: Sequence[Sequence[int]]) -> int | None:
    """Cheapest cost (sum of entered cells' costs, start included) corner to corner."""
    rows, cols = len(grid), len(grid[0])
    best = {(0, 0): grid[0][0]}
    heap = [(grid[0][0], 0, 0)]
    while heap:
        cost, r, c = heapq.heappop(heap)
        if (r, c) == (rows - 1, cols - 1):
            return cost
        if cost > best.get((r, c), cost):
            continue
        for a, b in neighbors4(r, c, rows, cols):
            if grid[a][b] == WALL:
                continue
            nxt = cost + grid[a][b]
            if nxt < best.get((a, b), nxt + 1):
                best[(a, b)] = nxt
                heapq.heappush(heap, (nxt, a, b))
    return None


_COST = re.compile(
    r"[\s,;:(\[-]*\b(?:with|for|at)?\s*(?:an?\s+)?(?:(?:total|minimum|minimal|path)\s+)?"
    r"(?:cost|costing)\b(?:\s+(?:of|is|equals))?\s*[:=]?\s*\d{1,6}\s*[)\]]?\.?[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
"""The path's cost stated after it ("… with a total cost of 16", "(cost 16)", "Total cost: 16")."""


def parse_path(text: str, rows: int, cols: int) -> list[tuple[int, int]]:
    """1-based ``(row, col)`` pairs in order → 0-based cells (see :func:`parse_pairs`).

    A cost stated after the path (one number) is not part of it and is dropped; the judge
    computes the path's own cost.
    """
    if len(text) > 16 * rows * cols + 200:
        raise ValueError("path answer too long")
    return parse_pairs(_COST.sub("", text), rows, cols)


def path_cost(grid: Sequence[Sequence[int]], path: Sequence[tuple[int, int]]) -> str | int:
    """The path's cost, or a message naming the first rule it breaks."""
    rows, cols = len(grid), len(grid[0])
    if path[0] != (0, 0):
        return "the path does not start at (1, 1)"
    if path[-1] != (rows - 1, cols - 1):
        return f"the path does not end at ({rows}, {cols})"
    for (r, c), nxt in zip(path, path[1:], strict=False):
        if nxt not in neighbors4(r, c, rows, cols):
            return f"({r + 1}, {c + 1}) and ({nxt[0] + 1}, {nxt[1] + 1}) are not adjacent"
    for r, c in path:
        if grid[r][c] == WALL:
            return f"({r + 1}, {c + 1}) is a wall"
    return sum(grid[r][c] for r, c in path)


@register_task
class ShortestPathTask(Task):
    """Find a cheapest path through a weighted grid (any cheapest path passes)."""

    name = "shortest_path"
    domain = "logic"
    version = "3"
    description = "Cheapest corner-to-corner path on a weighted grid with walls (Dijkstra)."
    Config = ShortestPathConfig

    @classmethod
    def config_for_level(cls, level: int) -> ShortestPathConfig:
        """Bigger grids, wider cost ranges and more walls as levels rise."""
        rows, cols, cost, walls = _LEVELS[check_level(level)]
        return ShortestPathConfig(rows=rows, cols=cols, max_cost=cost, walls=walls)

    def generate(self, config: ShortestPathConfig, rng: random.Random) -> Item:
        """Random costs and walls, redrawn until the corners are connected."""
        rows, cols = config.rows, config.cols
        corners = {(0, 0), (rows - 1, cols - 1)}
        while True:
            grid = [
                [
                    WALL
                    if (r, c) not in corners and rng.random() < config.walls
                    else rng.randint(1, config.max_cost)
                    for c in range(cols)
                ]
                for r in range(rows)
            ]
            optimum = dijkstra(grid)
            if optimum is not None:
                break
        path = _one_cheapest_path(grid, optimum)
        shown = format_grid([["#" if v == WALL else v for v in row] for row in grid])
        question = (
            f"Each cell of this {rows}x{cols} grid shows the cost of entering it; # is a wall "
            "that cannot be entered.\n\n"
            f"{shown}\n\n"
            f"Find a cheapest path from the top-left cell (1, 1) to the bottom-right cell "
            f"({rows}, {cols}), moving up, down, left or right one cell at a time. A path's "
            "cost is the sum of the costs of all cells on it, both ends included. List the "
            "cells of the path in order as (row, column) pairs, rows and columns counted from "
            "1, inside answer tags, for example <answer>(1, 1), (1, 2), (2, 2)</answer>. Any "
            "cheapest path is accepted."
        )
        return Item(
            question=question,
            answer=", ".join(f"({r + 1}, {c + 1})" for r, c in path),
            spec={"grid": grid, "cost": optimum},
            difficulty=float(rows * cols / 4 + len(path)),
            metadata={"cost": optimum, "length": len(path)},
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> tuple[tuple[int, int], ...]:
        """The path's cells in order, 0-based."""
        grid = spec["grid"]
        return tuple(parse_path(text, len(grid), len(grid[0])))

    def judge(self, spec: Mapping[str, Any], path: tuple[tuple[int, int], ...]) -> Verdict | float:
        """A valid path whose cost equals the stored optimum."""
        grid = [[int(v) for v in row] for row in spec["grid"]]
        cost = path_cost(grid, path)
        if isinstance(cost, str):
            return wrong(cost)
        if cost != int(spec["cost"]):
            return wrong(f"the path costs {cost}, the cheapest costs {spec['cost']}")
        return 1.0


def _one_cheapest_path(grid: Sequence[Sequence[int]], optimum: int) -> list[tuple[int, int]]:
    """A cheapest path, by walking back along cells whose distance fits exactly."""
    rows, cols = len(grid), len(grid[0])
    dist = {(0, 0): grid[0][0]}
    heap = [(grid[0][0], 0, 0)]
    while heap:
        cost, r, c = heapq.heappop(heap)
        if cost > dist[(r, c)]:
            continue
        for a, b in neighbors4(r, c, rows, cols):
            if grid[a][b] != WALL and cost + grid[a][b] < dist.get((a, b), 10**9):
                dist[(a, b)] = cost + grid[a][b]
                heapq.heappush(heap, (dist[(a, b)], a, b))
    cell = (rows - 1, cols - 1)
    path = [cell]
    while cell != (0, 0):
        r, c = cell
        cell = next(
            p
            for p in neighbors4(r, c, rows, cols)
            if p in dist and dist[p] + grid[r][c] == dist[(r, c)]
        )
        path.append(cell)
    if dist[(rows - 1, cols - 1)] != optimum:  # pragma: no cover - same Dijkstra
        raise RuntimeError("inconsistent shortest path")
    return path[::-1]
