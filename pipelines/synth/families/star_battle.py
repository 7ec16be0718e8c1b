"""Star Battle (one star per row, column and region; stars never touch), unique solution.

Stars are placed first (one per row, no two in adjacent columns of neighbouring rows,
distinct columns); regions then grow at random from the stars. Regions are redrawn until
the SAT solver finds the star placement unique; if a few draws fail, stars are revealed
until it is.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pysat.formula import IDPool
from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    UniquenessSolver,
    border_cells,
    difficulty_score,
    exactly,
    format_binary_grid,
    format_cells,
    format_grid,
    grid_answer_format,
    is_connected,
    neighbors4,
    neighbors8,
    parse_shaded,
    positive_int,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict

_PLACEMENTS = 3
_DRAWS = 4
_MAX_REPAIRS = 150
STAR = "*"


@dataclass(frozen=True)
class StarBattleConfig:
    """Knobs: grid size (= number of regions; one star each)."""

    size: int = 5
    """Side of the square (5–10)."""

    def __post_init__(self) -> None:
        positive_int("size", self.size, 5, 10)


_LEVELS = {1: 5, 2: 5, 3: 6, 4: 6, 5: 7, 6: 7, 7: 8, 8: 8, 9: 9, 10: 9}


def place_stars(n: int, rng: random.Random) -> list[int]:
    """The star's column in each row: distinct columns, no two stars touching."""
    cols: list[int] = []

    def extend() -> bool:
        if len(cols) == n:
            return True
        options = [c for c in range(n) if c not in cols and (not cols or abs(c - cols[-1]) > 1)]
        rng.shuffle(options)
        for c in options:
            cols.append(c)
            if extend():
                return True
            cols.pop()
        return False

    if not extend():
        raise ValueError(f"no star placement for size {n}")
    return cols


def grow_regions(n: int, seeds: list[tuple[int, int]], rng: random.Random) -> list[list[int]]:
    """Region index per cell, grown at random from one seed cell per region."""
    region = [[-1] * n for _ in range(n)]
    for i, (r, c) in enumerate(seeds):
        region[r][c] = i
    free = n * n - len(seeds)
    while free:
        frontier = sorted(
            {
                (a, b)
                for r in range(n)
                for c in range(n)
                if region[r][c] >= 0
                for a, b in neighbors4(r, c, n, n)
                if region[a][b] < 0
            }
        )
        a, b = rng.choice(frontier)
        owners = sorted({region[x][y] for x, y in neighbors4(a, b, n, n) if region[x][y] >= 0})
        region[a][b] = rng.choice(owners)
        free -= 1
    return region


def _repair(
    region: list[list[int]],
    alt_stars: list[tuple[int, int]],
    stars: list[tuple[int, int]],
    rng: random.Random,
) -> bool:
    """Move a cell into a neighbouring region to break an alternative solution.

    A star cell of the alternative solution is moved when possible; otherwise a random
    non-star border cell (a perturbation). Regions stay connected and keep their seed
    star. Returns False when no move exists.
    """
    n = len(region)
    first = list(alt_stars)
    rng.shuffle(first)
    border = border_cells(region, stars)
    rng.shuffle(border)
    for r, c in first + border:
        old = region[r][c]
        rest = {(a, b) for a in range(n) for b in range(n) if region[a][b] == old} - {(r, c)}
        targets = sorted({region[a][b] for a, b in neighbors4(r, c, n, n)} - {old})
        if not targets or not rest or not is_connected(rest):
            continue
        region[r][c] = rng.choice(targets)
        return True
    return False


def _rules(n: int, region: list[list[int]], pool: IDPool) -> list[list[int]]:
    def s(r: int, c: int) -> int:
        return pool.id((r, c))

    clauses: list[list[int]] = []
    for i in range(n):
        clauses += exactly([s(i, c) for c in range(n)], 1, pool)
        clauses += exactly([s(r, i) for r in range(n)], 1, pool)
        cells = [s(r, c) for r in range(n) for c in range(n) if region[r][c] == i]
        clauses += exactly(cells, 1, pool)
    # touching in a row or column is already excluded by one star per line
    for r in range(n - 1):
        for c in range(n):
            for b in (c - 1, c + 1):
                if 0 <= b < n:
                    clauses.append([-s(r, c), -s(r + 1, b)])
    return clauses


def star_violation(grid: list[list[bool]], region: list[list[int]]) -> str | None:
    """The first rule a star grid breaks, or None."""
    n = len(grid)
    stars = [(r, c) for r in range(n) for c in range(n) if grid[r][c]]
    for i in range(n):
        if sum(grid[i]) != 1:
            return f"row {i + 1} must have exactly one star"
        if sum(grid[r][i] for r in range(n)) != 1:
            return f"column {i + 1} must have exactly one star"
    if sorted(region[r][c] for r, c in stars) != list(range(n)):
        return "every region must have exactly one star"
    for r, c in stars:
        if any(grid[a][b] for a, b in neighbors8(r, c, n, n)):
            return f"star at ({r + 1}, {c + 1}) touches another star"
    return None


@register_task
class StarBattleTask(Task):
    """Place one star per row, column and region with no two stars touching (unique)."""

    name = "star_battle"
    domain = "logic"
    version = "3"
    description = "Star Battle 5x5 to 10x10 (one star per row/column/region), unique solution."
    Config = StarBattleConfig

    @classmethod
    def config_for_level(cls, level: int) -> StarBattleConfig:
        """Level 1: 5×5 … levels 9–10: 9×9 (10×10 by knob)."""
        return StarBattleConfig(size=_LEVELS[check_level(level)])

    def generate(self, config: StarBattleConfig, rng: random.Random) -> Item:
        """Stars, then random regions until unique (else reveal stars)."""
        n = config.size
        draw = repairs = 0
        for placement in range(_PLACEMENTS):
            last = placement == _PLACEMENTS - 1
            cols = place_stars(n, rng)
            stars = [(r, cols[r]) for r in range(n)]
            region = grow_regions(n, stars, rng)
            budget = repairs + _MAX_REPAIRS
            revealed = None
            while True:
                pool = IDPool()
                lits = [pool.id(cell) for cell in stars]
                with UniquenessSolver(_rules(n, region, pool), lits) as solver:
                    other = solver.other_solution([])
                    stuck = draw >= _DRAWS * (placement + 1) or repairs >= budget
                    if other is None or (stuck and last):
                        revealed = solver.reveal_until_unique([], lits, rng)
                        conflicts = solver.last_conflicts
                        gap = solver.propagation_gap(revealed)
                if revealed is not None or stuck:
                    break
                alt = [pool.obj(v) for v in sorted(other) if v > 0]
                if not _repair(region, [cell for cell in alt if cell not in stars], stars, rng):
                    draw += 1
                    region = grow_regions(n, stars, rng)
                repairs += 1
            if revealed is not None:
                break
        given = sorted(pool.obj(lit) for lit in revealed)
        letters = string.ascii_uppercase
        hint = f"\nThese cells are known to hold a star: {format_cells(given)}.\n" if given else ""
        solution = [[c == cols[r] for c in range(n)] for r in range(n)]
        example = format_binary_grid([[c == r for c in range(n)] for r in range(2)], on=STAR)
        question = (
            f"Solve this {n}x{n} Star Battle puzzle. The grid is divided into {n} regions, "
            "shown by letters. Place stars so that every row, every column and every region "
            "contains exactly one star, and no two stars touch each other, not even "
            "diagonally. The puzzle has exactly one solution.\n\n"
            f"{format_grid([[letters[v] for v in row] for row in region])}\n{hint}\n"
            + grid_answer_format(n, n, "cells (* star, . empty)", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_binary_grid(solution, on=STAR),
            spec={"size": n, "regions": region, "stars": [list(c) for c in given]},
            difficulty=difficulty_score(n * n - len(given) * 9, conflicts, gap),
            metadata={
                "revealed": len(given),
                "draws": draw + 1,
                "repairs": repairs,
                "conflicts": conflicts,
                "propagation_gap": gap,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[bool]]:
        """A size × size grid of star / empty cells."""
        n = int(spec["size"])
        return parse_shaded(text, n, n)

    def judge(self, spec: Mapping[str, Any], grid: list[list[bool]]) -> Verdict | float:
        """Every rule holds and revealed stars are kept."""
        for r, c in spec["stars"]:
            if not grid[r][c]:
                return wrong(f"cell ({r + 1}, {c + 1}) must hold a star")
        bad = star_violation(grid, spec["regions"])
        return wrong(bad) if bad else 1.0
