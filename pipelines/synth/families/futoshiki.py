"""Futoshiki: a Latin square with inequality signs between neighbours, unique solution.

Every inequality between adjacent cells and every cell of a random Latin square start as
candidate clues (each an assumption literal of a SAT encoding); clues are dropped in a
random order while the solution stays unique, then ``extra_clues`` of the dropped ones
return for easier levels.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pysat.formula import IDPool
from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.grid import (
    difficulty_score,
    digit_alphabet,
    format_grid,
    grid_answer_format,
    latin_rules,
    latin_violation,
    minimize_clues,
    parse_grid,
    positive_int,
    random_latin_square,
    wrong,
)
from tracemill.pipelines.verify.registry import Verdict


@dataclass(frozen=True)
class FutoshikiConfig:
    """Knobs: grid size and redundant clues kept beyond a minimal set."""

    size: int = 4
    """Side of the square (4–7)."""
    extra_clues: int = 3
    """Dropped clues (givens or inequalities) put back (more = easier)."""

    def __post_init__(self) -> None:
        positive_int("size", self.size, 3, 8)
        positive_int("extra_clues", self.extra_clues, 0, 200)


_LEVELS = {
    1: (4, 4),
    2: (4, 1),
    3: (5, 5),
    4: (5, 2),
    5: (5, 0),
    6: (6, 4),
    7: (6, 1),
    8: (6, 0),
    9: (7, 2),
    10: (7, 0),
}


def _less(a: tuple[int, int], b: tuple[int, int], n: int, pool: IDPool) -> list[list[int]]:
    """Clauses: value(a) < value(b)."""
    return [
        [-pool.id(("x", *a, va)), -pool.id(("x", *b, vb))]
        for va in range(1, n + 1)
        for vb in range(1, va + 1)
    ]


def render(n: int, givens: dict, signs: dict) -> str:
    """Cells (``.`` when empty) with ``<``/``>`` between columns and ``^``/``v`` between rows."""
    lines = []
    for r in range(n):
        row = ""
        for c in range(n):
            row += str(givens.get((r, c), "."))
            if c < n - 1:
                row += f" {signs.get(((r, c), (r, c + 1)), ' ')} "
        lines.append(row.rstrip())
        if r < n - 1:
            marks = [signs.get(((r, c), (r + 1, c)), " ") for c in range(n)]
            lines.append("   ".join(marks).rstrip())
    return "\n".join(lines)


def _listing(less: list[list[list[int]]]) -> str:
    return "; ".join(f"({a + 1},{b + 1}) < ({c + 1},{d + 1})" for (a, b), (c, d) in less)


_INEQUALITY = re.compile(r"[<>^∧∨]|(?<![^\s])[vV](?![^\s])")
"""Inequality signs of a board written in the question's layout (``v`` only standing alone)."""


@register_task
class FutoshikiTask(Task):
    """Fill a Latin square respecting inequality signs (unique solution)."""

    name = "futoshiki"
    domain = "logic"
    version = "3"
    description = "Futoshiki (Latin square + inequalities), 4x4 to 7x7, unique solution."
    Config = FutoshikiConfig

    @classmethod
    def config_for_level(cls, level: int) -> FutoshikiConfig:
        """Level 1: 4×4 with spare clues … level 10: 7×7 with a minimal clue set."""
        size, extra = _LEVELS[check_level(level)]
        return FutoshikiConfig(size=size, extra_clues=extra)

    def generate(self, config: FutoshikiConfig, rng: random.Random) -> Item:
        """A Latin square; givens and inequalities minimized under uniqueness."""
        n = config.size
        sol = random_latin_square(n, rng)
        pool = IDPool()
        rules = latin_rules(n, pool)
        solution_lits = [pool.id(("x", r, c, sol[r][c])) for r in range(n) for c in range(n)]
        candidates: dict[int, tuple] = {}
        for r in range(n):
            for c in range(n):
                candidates[pool.id(("x", r, c, sol[r][c]))] = ("given", (r, c))
                for nb in ((r, c + 1), (r + 1, c)):
                    if nb[0] < n and nb[1] < n:
                        lo, hi = ((r, c), nb) if sol[r][c] < sol[nb[0]][nb[1]] else (nb, (r, c))
                        act = pool.id(("less", lo, hi))
                        rules += [[-act, *cl] for cl in _less(lo, hi, n, pool)]
                        candidates[act] = ("sign", ((r, c), nb))
        # try dropping givens first so the final clues lean on inequalities
        order = list(candidates)
        rng.shuffle(order)
        order.sort(key=lambda lit: candidates[lit][0] != "given")
        kept, conflicts, gap = minimize_clues(rules, solution_lits, order, config.extra_clues, rng)
        givens: dict[tuple[int, int], int] = {}
        signs: dict[tuple, str] = {}
        for lit in kept:
            kind, where = candidates[lit]
            if kind == "given":
                givens[where] = sol[where[0]][where[1]]
            else:
                a, b = where
                smaller = sol[a[0]][a[1]] < sol[b[0]][b[1]]
                horizontal = a[0] == b[0]
                signs[where] = "<>"[not smaller] if horizontal else "^v"[not smaller]
        spec_signs = [
            [list(a), list(b)] if signs[(a, b)] in "<^" else [list(b), list(a)]
            for a, b in sorted(signs)
        ]
        example = format_grid([[(r + c) % n + 1 for c in range(n)] for r in range(2)])
        question = (
            f"Solve this {n}x{n} Futoshiki puzzle. Fill every empty cell (.) with a digit from "
            f"1 to {n} so that each row and each column contains every digit exactly once and "
            "all inequality signs hold. Between horizontally adjacent cells, < and > compare "
            "the left cell with the right one. Between vertically adjacent cells, ^ means the "
            "upper cell is smaller than the lower one and v means the upper cell is larger. "
            "The puzzle has exactly one solution.\n\n"
            f"{render(n, givens, signs)}\n\n"
            "The same inequalities as a list, with (row, column) numbered from 1 at the "
            f"top-left: {_listing(spec_signs)}.\n\n"
            + grid_answer_format(n, n, "digits", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_grid(sol),
            spec={
                "size": n,
                "givens": [[r, c, v] for (r, c), v in sorted(givens.items())],
                "less": spec_signs,
                "solution": sol,
            },
            difficulty=difficulty_score(n * n - len(givens), conflicts, gap),
            metadata={
                "givens": len(givens),
                "inequalities": len(signs),
                "conflicts": conflicts,
                "propagation_gap": gap,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[int]]:
        """A size × size grid of digits 1…size.

        The board may be written as the question shows it: inequality signs between cells
        (``2 > 1``) and lines of ``^``/``v`` (or ``∧``/``∨``) between rows are dropped; only
        the digits are the answer.
        """
        n = int(spec["size"])
        return parse_grid(_INEQUALITY.sub(" ", text), n, n, digit_alphabet(n))

    def judge(self, spec: Mapping[str, Any], grid: list[list[int]]) -> Verdict | float:
        """Latin square, givens kept, every inequality (``less`` pairs: a < b) holds."""
        bad = latin_violation(grid, spec["givens"], "digit")
        if bad:
            return wrong(bad)
        for (ar, ac), (br, bc) in spec["less"]:
            if not grid[ar][ac] < grid[br][bc]:
                return wrong(f"inequality ({ar + 1},{ac + 1}) < ({br + 1},{bc + 1}) fails")
        return 1.0
