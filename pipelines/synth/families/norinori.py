"""Norinori: shade two cells per region so that the shaded cells form dominoes, unique.

A random maximal packing of non-touching dominoes is drawn first (dense, about 45 %
shaded, and with no gap where a domino could be added). Every shaded cell seeds a region
that grows at random over the unshaded cells, and the seed regions are paired along a
random perfect matching of their adjacency graph (the dominoes themselves are one such
matching), so dominoes may cross region borders. The SAT solver looks for another
shading; unshaded cells move between regions to break it, regions (and every few draws
the dominoes) are redrawn when that stalls, and shaded cells are revealed as a last
resort.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pysat.formula import IDPool
from pysat.solvers import Solver
from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    SOLVER,
    UniquenessSolver,
    border_cells,
    difficulty_score,
    exactly,
    format_binary_grid,
    format_cells,
    format_grid,
    grid_answer_format,
    neighbors4,
    parse_shaded,
    positive_int,
    reach,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict

Cell = tuple[int, int]
Domino = tuple[Cell, Cell]

_PACKINGS = 200
_MATCH_BUDGET = 2000
_DRAWS = 12
_NEW_DOMINOES = 3
_REPAIRS = 40

MAX_REGIONS = {4: 4, 5: 6, 6: 9, 7: 12, 8: 16, 9: 19, 10: 25}
"""Most regions (= non-touching dominoes that fit) per grid side."""

# (size, regions): 40–50 % of the cells shaded. Within a size, fewer regions are larger
# and leave more unshaded cells to rule out, so the later level has fewer.
_LEVELS = {
    1: (4, 4),
    2: (5, 6),
    3: (5, 5),
    4: (6, 8),
    5: (7, 11),
    6: (7, 10),
    7: (8, 14),
    8: (9, 18),
    9: (9, 17),
    10: (10, 22),
}


@dataclass(frozen=True)
class NorinoriConfig:
    """Knobs: grid size and number of regions (each holds two shaded cells)."""

    size: int = 4
    """Side of the square (4–10)."""
    regions: int = 4
    """Regions, which is also the number of dominoes (2 up to ``MAX_REGIONS[size]``).

    Below about 40 % shaded cells (``2 * regions / size**2``) regions rarely decide the
    shading alone, and generation falls back to revealing shaded cells.
    """

    def __post_init__(self) -> None:
        positive_int("size", self.size, 4, 10)
        positive_int("regions", self.regions, 2, MAX_REGIONS[self.size])


def _domino_rules(n: int, pool: IDPool) -> list[list[int]]:
    """Every shaded cell has exactly one shaded neighbour (cells take ids 1 … n*n)."""
    for r in range(n):
        for c in range(n):
            pool.id((r, c))
    clauses: list[list[int]] = []
    for r in range(n):
        for c in range(n):
            s = pool.id((r, c))
            near = [pool.id(nb) for nb in neighbors4(r, c, n, n)]
            clauses.append([-s, *near])
            clauses += [[-s, -a, -b] for i, a in enumerate(near) for b in near[i + 1 :]]
    return clauses


def _fits(a: Cell, b: Cell, shaded: set[Cell], n: int) -> bool:
    """Whether domino ``a``–``b`` can join ``shaded`` without touching a shaded cell."""
    near = {a, b, *neighbors4(*a, n, n), *neighbors4(*b, n, n)}
    return not near & shaded


def _pack(n: int, chance: float, rng: random.Random) -> list[Domino]:
    """A maximal random packing of non-touching dominoes.

    One reading-order pass places a domino at each free cell with ``chance`` (denser
    than dropping dominoes at random places, which stalls near 35 % shaded); a pass over
    all places in random order then fills every gap left, so no domino can be added
    (a gap invites an alternative shading that puts a domino there).
    """
    shaded: set[Cell] = set()
    placed: list[Domino] = []
    for r in range(n):
        for c in range(n):
            options = [
                x for x in ((r, c + 1), (r + 1, c)) if max(x) < n and _fits((r, c), x, shaded, n)
            ]
            if options and rng.random() < chance:
                other = rng.choice(options)
                shaded |= {(r, c), other}
                placed.append(((r, c), other))
    places = [((r, c), (r, c + 1)) for r in range(n) for c in range(n - 1)]
    places += [((r, c), (r + 1, c)) for r in range(n - 1) for c in range(n)]
    rng.shuffle(places)
    for a, b in places:
        if _fits(a, b, shaded, n):
            shaded |= {a, b}
            placed.append((a, b))
    return placed


def _solve_packing(n: int, count: int, rng: random.Random) -> list[Domino]:
    """``count`` dominoes from the SAT solver (random phases; slow near the densest)."""
    pool = IDPool()
    cells = [(r, c) for r in range(n) for c in range(n)]
    clauses = _domino_rules(n, pool) + exactly([pool.id(x) for x in cells], 2 * count, pool)
    with Solver(name=SOLVER, bootstrap_with=clauses) as solver:
        solver.set_phases([pool.id(x) * rng.choice((1, -1)) for x in cells])
        if not solver.solve():
            raise ValueError(f"{count} dominoes do not fit on a {n}x{n} grid")
        model = set(solver.get_model())
    shaded = {x for x in cells if pool.id(x) in model}
    return [
        (x, y)
        for x in cells
        if x in shaded
        for y in ((x[0], x[1] + 1), (x[0] + 1, x[1]))
        if y in shaded
    ]


def place_dominoes(n: int, count: int, rng: random.Random) -> list[Domino]:
    """``count`` dominoes on an ``n`` × ``n`` grid, no two orthogonally adjacent.

    Random maximal packings are drawn until one has exactly ``count`` dominoes; failing
    that, ``count`` of a larger one (or the solver's, when none is larger). The grid is
    then turned or mirrored at random, so no corner is favoured.
    """
    larger = None
    for _ in range(_PACKINGS):
        placed = _pack(n, rng.uniform(0.8, 1.0), rng)
        if len(placed) == count:
            break
        if len(placed) > count and larger is None:
            larger = placed
    else:
        placed = rng.sample(larger, count) if larger else _solve_packing(n, count, rng)
    flip_r, flip_c, swap = (rng.random() < 0.5 for _ in range(3))

    def move(cell: Cell) -> Cell:
        r, c = (n - 1 - cell[0] if flip_r else cell[0]), (n - 1 - cell[1] if flip_c else cell[1])
        return (c, r) if swap else (r, c)

    return sorted((min(move(a), move(b)), max(move(a), move(b))) for a, b in placed)


def _grow(n: int, seeds: Sequence[Cell], rng: random.Random) -> list[list[int]]:
    """Seed index per cell, grown at random from one cell per seed."""
    owner = [[-1] * n for _ in range(n)]
    for i, (r, c) in enumerate(seeds):
        owner[r][c] = i
    frontier = {nb for r, c in seeds for nb in neighbors4(r, c, n, n) if owner[nb[0]][nb[1]] < 0}
    while frontier:
        a, b = rng.choice(sorted(frontier))
        frontier.discard((a, b))
        owners = sorted({owner[x][y] for x, y in neighbors4(a, b, n, n) if owner[x][y] >= 0})
        owner[a][b] = rng.choice(owners)
        frontier |= {(x, y) for x, y in neighbors4(a, b, n, n) if owner[x][y] < 0}
    return owner


def _match(adjacent: list[set[int]], rng: random.Random) -> list[tuple[int, int]] | None:
    """A random perfect matching (fewest options first), or None when the budget runs out."""
    free = set(range(len(adjacent)))
    pairs: list[tuple[int, int]] = []
    budget = [_MATCH_BUDGET]

    def extend() -> bool:
        if not free:
            return True
        budget[0] -= 1
        if budget[0] < 0:
            return False
        node = min(sorted(free), key=lambda v: len(adjacent[v] & free))
        free.discard(node)
        options = sorted(adjacent[node] & free)
        rng.shuffle(options)
        for other in options:
            free.discard(other)
            pairs.append((node, other))
            if extend():
                return True
            pairs.pop()
            free.add(other)
        free.add(node)
        return False

    return pairs if extend() else None


def draw_regions(n: int, dominoes: Sequence[Domino], rng: random.Random) -> list[list[int]]:
    """Connected regions holding two shaded cells each (whole dominoes or two halves)."""
    seeds = [cell for domino in dominoes for cell in domino]
    owner = _grow(n, seeds, rng)
    adjacent: list[set[int]] = [set() for _ in seeds]
    for r in range(n):
        for c in range(n):
            for a, b in ((r + 1, c), (r, c + 1)):
                if a < n and b < n and owner[a][b] != owner[r][c]:
                    adjacent[owner[r][c]].add(owner[a][b])
                    adjacent[owner[a][b]].add(owner[r][c])
    pairs = _match(adjacent, rng) or [(2 * i, 2 * i + 1) for i in range(len(dominoes))]
    rng.shuffle(pairs)
    label = {}
    for i, (a, b) in enumerate(pairs):
        label[a] = label[b] = i
    return _relabel([[label[v] for v in row] for row in owner])


def _relabel(region: list[list[int]]) -> list[list[int]]:
    """Regions numbered in reading order of their first cell (A top left, then B, …)."""
    order: dict[int, int] = {}
    for row in region:
        for v in row:
            order.setdefault(v, len(order))
    return [[order[v] for v in row] for row in region]


def _rules(region: Sequence[Sequence[int]], pool: IDPool) -> list[list[int]]:
    n = len(region)
    clauses = _domino_rules(n, pool)
    for i in range(max(map(max, region)) + 1):
        cells = [pool.id((r, c)) for r in range(n) for c in range(n) if region[r][c] == i]
        clauses += exactly(cells, 2, pool)
    return clauses


def _detach(region: list[list[int]], start: Cell, shaded: set[Cell]) -> list[Cell] | None:
    """Unshaded cells that can leave ``start``'s region together, ``start`` among them.

    A shortest path of the region's unshaded cells runs from ``start`` to a cell that
    borders another region; the parts of the region cut off from its planted pair go
    with it. None when every such path splits the pair.
    """
    n = len(region)
    old = region[start[0]][start[1]]
    cells = {(r, c) for r in range(n) for c in range(n) if region[r][c] == old}
    pair = sorted(cells & shaded)
    parent: dict[Cell, Cell | None] = {start: None}
    queue = [start]
    for r, c in queue:
        if any(region[a][b] != old for a, b in neighbors4(r, c, n, n)):
            path: list[Cell] = []
            step: Cell | None = (r, c)
            while step is not None:
                path.append(step)
                step = parent[step]
            kept = reach(pair[0], cells - set(path))
            if pair[1] in kept:
                return sorted(cells - kept)
        for nb in neighbors4(r, c, n, n):
            if nb in cells and nb not in shaded and nb not in parent:
                parent[nb] = (r, c)
                queue.append(nb)
    return None


def _repair(
    region: list[list[int]], alternative: set[Cell], shaded: set[Cell], rng: random.Random
) -> bool:
    """Move unshaded cells to a neighbouring region so that ``alternative`` breaks.

    A cell the alternative shades (and the plant does not) leaves its region when
    possible (see :func:`_detach`): the old region then holds too few alternative
    cells. Otherwise a random unshaded border cell moves alone (a perturbation).
    Regions stay connected and keep their planted pair. Returns False when no move
    exists.
    """
    n = len(region)
    first = sorted(alternative - shaded)
    rng.shuffle(first)
    border = border_cells(region, shaded)
    rng.shuffle(border)
    for i, cell in enumerate(first + border):
        moved = _detach(region, cell, shaded)
        if moved is None or (i >= len(first) and len(moved) > 1):
            continue
        old = region[cell[0]][cell[1]]
        targets = sorted({region[a][b] for x in moved for a, b in neighbors4(*x, n, n)} - {old})
        new = rng.choice(targets)
        for a, b in moved:
            region[a][b] = new
        return True
    return False


def norinori_violation(
    grid: Sequence[Sequence[bool]], region: Sequence[Sequence[int]]
) -> str | None:
    """The first rule a shading breaks, or None."""
    n = len(region)
    counts: dict[int, int] = {}
    for r in range(n):
        for c in range(n):
            counts[region[r][c]] = counts.get(region[r][c], 0) + bool(grid[r][c])
    letters = string.ascii_uppercase
    for i in sorted(counts):
        if counts[i] != 2:
            return f"region {letters[i]} has {counts[i]} shaded cells, expected 2"
    for r in range(n):
        for c in range(n):
            if not grid[r][c]:
                continue
            touching = sum(bool(grid[a][b]) for a, b in neighbors4(r, c, n, n))
            if touching == 0:
                return f"shaded cell ({r + 1}, {c + 1}) is not part of a domino"
            if touching > 1:
                return f"shaded cell ({r + 1}, {c + 1}) touches {touching} shaded cells"
    return None


def parse_shading(answer: str, n: int) -> list[list[bool]]:
    """A shading grid (``#``/``.``, ``1``/``0``, …) or a list of shaded 1-based cells."""
    return parse_shaded(answer, n, n)


@register_task
class NorinoriTask(Task):
    """Shade two cells per region, shaded cells forming dominoes (unique solution)."""

    name = "norinori"
    domain = "logic"
    version = "3"
    description = "Norinori 4x4 to 10x10 (two shaded cells per region, all in dominoes), unique."
    Config = NorinoriConfig

    @classmethod
    def config_for_level(cls, level: int) -> NorinoriConfig:
        """Level 1: 4×4 with 4 regions … level 10: 10×10 with 22 regions."""
        size, regions = _LEVELS[check_level(level)]
        return NorinoriConfig(size=size, regions=regions)

    def generate(self, config: NorinoriConfig, rng: random.Random) -> Item:
        """Dominoes, then regions repaired or redrawn until unique (else reveal cells)."""
        n = config.size
        draws = repairs = 0
        revealed: list[int] | None = None
        while revealed is None:
            if draws % _NEW_DOMINOES == 0:
                dominoes = place_dominoes(n, config.regions, rng)
                shaded = {cell for domino in dominoes for cell in domino}
            draws += 1
            final = draws >= _DRAWS
            region = draw_regions(n, dominoes, rng)
            for attempt in range(_REPAIRS + 1):
                pool = IDPool()
                rules = _rules(region, pool)
                cells = [(r, c) for r in range(n) for c in range(n)]
                lits = [pool.id(cell) if cell in shaded else -pool.id(cell) for cell in cells]
                with UniquenessSolver(rules, lits) as solver:
                    other = solver.other_solution([])
                    if other is not None and attempt < _REPAIRS:
                        alternative = {pool.obj(v) for v in other if 0 < v <= n * n}
                        if _repair(region, alternative, shaded, rng):
                            repairs += 1
                            continue
                    if other is None or final:
                        revealed = solver.reveal_until_unique([], [x for x in lits if x > 0], rng)
                        conflicts = solver.last_conflicts
                        gap = solver.propagation_gap(revealed)
                break
        region = _relabel(region)
        given = sorted(pool.obj(lit) for lit in revealed)
        letters = string.ascii_uppercase
        hint = f"\nThese cells are known to be shaded: {format_cells(given)}.\n" if given else ""
        solution = [[(r, c) in shaded for c in range(n)] for r in range(n)]
        example = format_binary_grid([[c < 2 for c in range(n)], [c == n - 1 for c in range(n)]])
        count = max(map(max, region)) + 1
        question = (
            f"Solve this {n}x{n} Norinori puzzle. The grid is divided into {count} regions, "
            "shown by letters. Shade some cells so that every region contains exactly two "
            "shaded cells and every shaded cell is orthogonally adjacent (side by side or one "
            "above the other) to exactly one other shaded cell, so the shaded cells form "
            "dominoes of two cells that touch no other shaded cell. A domino may cross a region "
            "border. The puzzle has exactly one solution.\n\n"
            f"{format_grid([[letters[v] for v in row] for row in region])}\n{hint}\n"
            + grid_answer_format(n, n, "cells (# shaded, . unshaded)", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_binary_grid(solution),
            spec={"size": n, "regions": region, "shaded": [list(c) for c in given]},
            difficulty=difficulty_score(n * n - len(given), conflicts, gap),
            metadata={
                "revealed": len(given),
                "draws": draws,
                "repairs": repairs,
                "conflicts": conflicts,
                "propagation_gap": gap,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[bool]]:
        """A shading grid or a list of shaded cells (see :func:`parse_shading`)."""
        return parse_shading(text, int(spec["size"]))

    def judge(self, spec: Mapping[str, Any], grid: list[list[bool]]) -> Verdict | float:
        """Every rule holds and revealed cells stay shaded."""
        for r, c in spec["shaded"]:
            if not grid[r][c]:
                return wrong(f"cell ({r + 1}, {c + 1}) must be shaded")
        bad = norinori_violation(grid, spec["regions"])
        return wrong(bad) if bad else 1.0
