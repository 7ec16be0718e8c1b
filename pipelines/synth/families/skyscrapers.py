"""Skyscrapers: a Latin square of building heights with visibility clues on the edges.

A clue counts the buildings seen from that side (a taller building hides the lower ones
behind it). Each edge clue is encoded as "the line reads as one of the permutations with
that many visible buildings" behind an activation literal; clues (edge clues and cell
givens) are dropped while the solution stays unique, givens first.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from pysat.formula import IDPool
from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    UniquenessSolver,
    difficulty_score,
    digit_alphabet,
    format_grid,
    grid_answer_format,
    guard,
    latin_rules,
    latin_violation,
    one_of,
    parse_grid,
    positive_int,
    random_latin_square,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict

SIDES = ("top", "bottom", "left", "right")


@dataclass(frozen=True)
class SkyscrapersConfig:
    """Knobs: grid size and redundant clues kept beyond a minimal set."""

    size: int = 4
    """Side of the square (3–6)."""
    extra_clues: int = 2
    """Dropped clues put back (more = easier)."""

    def __post_init__(self) -> None:
        positive_int("size", self.size, 3, 6)
        positive_int("extra_clues", self.extra_clues, 0, 60)


_LEVELS = {
    1: (4, 4),
    2: (4, 1),
    3: (4, 0),
    4: (5, 4),
    5: (5, 2),
    6: (5, 0),
    7: (6, 6),
    8: (6, 3),
    9: (6, 1),
    10: (6, 0),
}


def visible(heights: Sequence[int]) -> int:
    """How many buildings are seen looking along ``heights`` from its start."""
    seen, top = 0, 0
    for h in heights:
        if h > top:
            seen, top = seen + 1, h
    return seen


@cache
def _perms_by_visibility(n: int) -> dict[int, list[tuple[int, ...]]]:
    out: dict[int, list[tuple[int, ...]]] = {}
    for p in itertools.permutations(range(1, n + 1)):
        out.setdefault(visible(p), []).append(p)
    return out


def line_cells(side: str, i: int, n: int) -> list[tuple[int, int]]:
    """Cells of line ``i`` as seen from ``side`` (nearest first)."""
    if side == "top":
        return [(r, i) for r in range(n)]
    if side == "bottom":
        return [(r, i) for r in reversed(range(n))]
    if side == "left":
        return [(i, c) for c in range(n)]
    return [(i, c) for c in reversed(range(n))]


def render(n: int, clues: dict[tuple[str, int], int], givens: dict) -> str:
    """The grid framed by its clues (``-`` where a side has no clue, ``.`` for empty cells)."""

    def clue(side: str, i: int) -> str:
        return str(clues.get((side, i), "-"))

    lines = ["  " + " ".join(clue("top", c) for c in range(n))]
    for r in range(n):
        cells = " ".join(str(givens.get((r, c), ".")) for c in range(n))
        lines.append(f"{clue('left', r)} {cells} {clue('right', r)}")
    lines.append("  " + " ".join(clue("bottom", c) for c in range(n)))
    return "\n".join(lines)


@register_task
class SkyscrapersTask(Task):
    """Place building heights in a Latin square matching visibility clues (unique)."""

    name = "skyscrapers"
    domain = "logic"
    version = "3"
    description = "Skyscrapers 4x4 to 6x6: visibility clues on the edges, unique solution."
    Config = SkyscrapersConfig

    @classmethod
    def config_for_level(cls, level: int) -> SkyscrapersConfig:
        """Levels 1–3: 4×4, 4–6: 5×5, 7–10: 6×6, fewer spare clues as levels rise."""
        size, extra = _LEVELS[check_level(level)]
        return SkyscrapersConfig(size=size, extra_clues=extra)

    def generate(self, config: SkyscrapersConfig, rng: random.Random) -> Item:
        """A Latin square; edge clues and givens minimized under uniqueness."""
        n = config.size
        sol = random_latin_square(n, rng)
        pool = IDPool()
        rules = latin_rules(n, pool)
        solution_lits = [pool.id(("x", r, c, sol[r][c])) for r in range(n) for c in range(n)]
        perms = _perms_by_visibility(n)
        candidates: dict[int, tuple] = {}
        for side in SIDES:
            for i in range(n):
                cells = line_cells(side, i, n)
                count = visible([sol[r][c] for r, c in cells])
                act = pool.id(("clue", side, i))
                options = [
                    [pool.id(("x", r, c, h)) for (r, c), h in zip(cells, p, strict=True)]
                    for p in perms[count]
                ]
                rules += guard(one_of(options, pool, ("sel", side, i)), act)
                candidates[act] = ("clue", (side, i), count)
        givens_order = []
        for r in range(n):
            for c in range(n):
                lit = pool.id(("x", r, c, sol[r][c]))
                candidates[lit] = ("given", (r, c), sol[r][c])
                givens_order.append(lit)
        edge_order = [lit for lit in candidates if candidates[lit][0] == "clue"]
        rng.shuffle(givens_order)
        rng.shuffle(edge_order)
        with UniquenessSolver(rules, solution_lits) as solver:
            order = givens_order + edge_order
            kept = solver.minimize(order)
            # spare clues: edge clues (the puzzle's own language) before givens
            removed = [lit for lit in edge_order + givens_order if lit not in kept]
            kept += removed[: config.extra_clues]
            solver.is_unique(kept)
            conflicts = solver.last_conflicts
            gap = solver.propagation_gap(kept)
        clues = {candidates[x][1]: candidates[x][2] for x in kept if candidates[x][0] == "clue"}
        givens = {candidates[x][1]: candidates[x][2] for x in kept if candidates[x][0] == "given"}
        example = format_grid([[(r + c) % n + 1 for c in range(n)] for r in range(2)])
        question = (
            f"Solve this {n}x{n} Skyscrapers puzzle. Place a building of height 1 to {n} in "
            "every cell so that each row and each column contains every height exactly once. "
            "A number outside the grid says how many buildings are visible from that side "
            "looking along its row or column: a building is visible when it is taller than "
            "every building in front of it. The numbers above the grid look down the "
            "columns, the numbers below look up, the left numbers look right and the right "
            "numbers look left; - means no clue, and . is an empty cell (a digit inside the "
            "grid is given). The puzzle has exactly one solution.\n\n"
            f"{render(n, clues, givens)}\n\n"
            + grid_answer_format(n, n, "heights", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_grid(sol),
            spec={
                "size": n,
                "clues": [[side, i, v] for (side, i), v in sorted(clues.items())],
                "givens": [[r, c, v] for (r, c), v in sorted(givens.items())],
                "solution": sol,
            },
            difficulty=difficulty_score(n * n - len(givens), conflicts, gap),
            metadata={
                "clues": len(clues),
                "givens": len(givens),
                "conflicts": conflicts,
                "propagation_gap": gap,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[int]]:
        """A size × size grid of heights 1…size."""
        n = int(spec["size"])
        return parse_grid(text, n, n, digit_alphabet(n))

    def judge(self, spec: Mapping[str, Any], grid: list[list[int]]) -> Verdict | float:
        """Latin square, givens kept, every visibility clue matches."""
        n = int(spec["size"])
        bad = latin_violation(grid, spec["givens"], "height")
        if bad:
            return wrong(bad)
        for side, i, count in spec["clues"]:
            if side not in SIDES:
                raise ValueError(f"bad side {side!r} in spec")
            if visible([grid[r][c] for r, c in line_cells(side, int(i), n)]) != count:
                return wrong(f"{side} clue {count} of line {int(i) + 1} fails")
        return 1.0
