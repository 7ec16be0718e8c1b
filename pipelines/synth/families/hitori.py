"""Hitori: shade cells so no number repeats among unshaded cells of a row or column.

Shaded cells may not touch orthogonally and the unshaded cells must stay connected. A
hidden shading is drawn first, unshaded cells take the values of a random Latin square,
and each shaded cell copies a value of an unshaded cell in its row or column. Uniqueness
is checked with a SAT solver on the local rules plus connectivity added lazily (a
disconnected candidate is blocked and the search continues); boards are redrawn until
the shading is unique.
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
    UniquenessSolver,
    check_length,
    difficulty_score,
    format_binary_grid,
    format_grid,
    grid_answer_format,
    has_coordinates,
    is_connected,
    neighbors4,
    number_in,
    parse_binary_grid,
    parse_grid,
    parse_shaded,
    positive_int,
    random_latin_square,
    without_row_labels,
    wrong,
)
from tracemill.pipelines.synth.textutil import without_index_header
from tracemill.pipelines.verify.registry import Verdict

_DRAWS = 50
_REPAIRS = 60
_BLOCKS = 200

Cell = tuple[int, int]


@dataclass(frozen=True)
class HitoriConfig:
    """Knobs: grid size and the share of shaded cells in the hidden solution."""

    size: int = 4
    """Side of the square (4–9)."""
    density: float = 0.9
    """Chance that a cell is shaded when it may be (shaded cells never touch)."""

    def __post_init__(self) -> None:
        positive_int("size", self.size, 4, 9)
        number_in("density", self.density, 0.05, 1)


_LEVELS = {1: 4, 2: 4, 3: 5, 4: 5, 5: 6, 6: 6, 7: 7, 8: 7, 9: 8, 10: 8}


def _shading(n: int, density: float, rng: random.Random) -> set[Cell]:
    cells = [(r, c) for r in range(n) for c in range(n)]
    rng.shuffle(cells)
    shaded: set[Cell] = set()
    for cell in cells:
        if rng.random() >= density or any(nb in shaded for nb in neighbors4(*cell, n, n)):
            continue
        whites = {x for x in cells if x not in shaded and x != cell}
        if is_connected(whites):
            shaded.add(cell)
    return shaded


def _rules(numbers: list[list[int]], pool: IDPool) -> list[list[int]]:
    n = len(numbers)
    clauses: list[list[int]] = []
    for r in range(n):
        for c in range(n):
            for a, b in ((r + 1, c), (r, c + 1)):
                if a < n and b < n:
                    clauses.append([-pool.id((r, c)), -pool.id((a, b))])
    lines = [[(i, j) for j in range(n)] for i in range(n)]
    lines += [[(j, i) for j in range(n)] for i in range(n)]
    for line in lines:
        for i, x in enumerate(line):
            for y in line[i + 1 :]:
                if numbers[x[0]][x[1]] == numbers[y[0]][y[1]]:
                    clauses.append([pool.id(x), pool.id(y)])
    return clauses


_UNDECIDED = frozenset({(-1, -1)})


def _alternative(numbers: list[list[int]], shaded: set[Cell]) -> frozenset[Cell] | None:
    """Another valid shading (None: the planted one is unique; ``_UNDECIDED``: gave up)."""
    n = len(numbers)
    pool = IDPool()
    cells = [(r, c) for r in range(n) for c in range(n)]
    for cell in cells:
        pool.id(cell)
    lits = [pool.id(cell) if cell in shaded else -pool.id(cell) for cell in cells]
    with UniquenessSolver(_rules(numbers, pool), lits) as solver:
        for _ in range(_BLOCKS):
            other = solver.other_solution([])
            if other is None:
                return None
            black = frozenset(cell for cell in cells if pool.id(cell) in other)
            if is_connected(set(cells) - black):
                return black
            solver.solver.add_clause([-pool.id(c) if c in black else pool.id(c) for c in cells])
    return _UNDECIDED


def _repair(
    numbers: list[list[int]], shaded: set[Cell], other: frozenset[Cell], rng: random.Random
) -> bool:
    """Renumber a cell shaded in the plant but not in ``other`` so ``other`` breaks.

    The new number repeats one of ``other``'s unshaded cells in the same row or column;
    the planted shading stays valid because shaded numbers are free.
    """
    n = len(numbers)
    choices = []
    for r, c in sorted(shaded - other):
        line = [(r, j) for j in range(n) if j != c] + [(i, c) for i in range(n) if i != r]
        values = {numbers[a][b] for a, b in line if (a, b) not in other} - {numbers[r][c]}
        choices += [((r, c), v) for v in sorted(values)]
    if not choices:
        return False
    (r, c), v = rng.choice(choices)
    numbers[r][c] = v
    return True


def _propagation_gap(numbers: list[list[int]], shaded: set[Cell]) -> int:
    """Cells the local rules (without connectivity) do not settle by unit propagation."""
    n = len(numbers)
    pool = IDPool()
    cells = [(r, c) for r in range(n) for c in range(n)]
    lits = [pool.id(cell) if cell in shaded else -pool.id(cell) for cell in cells]
    with UniquenessSolver(_rules(numbers, pool), lits) as solver:
        return solver.propagation_gap([])


def hitori_violation(numbers: list[list[int]], shaded: list[list[bool]]) -> str | None:
    """The first rule a shading breaks, or None."""
    n = len(numbers)
    cells = [(r, c) for r in range(n) for c in range(n)]
    for r, c in cells:
        if shaded[r][c] and any(shaded[a][b] for a, b in neighbors4(r, c, n, n)):
            return f"shaded cells touch at ({r + 1}, {c + 1})"
    for i in range(n):
        row = [numbers[i][c] for c in range(n) if not shaded[i][c]]
        col = [numbers[r][i] for r in range(n) if not shaded[r][i]]
        if len(set(row)) != len(row):
            return f"row {i + 1} repeats a number"
        if len(set(col)) != len(col):
            return f"column {i + 1} repeats a number"
    if not is_connected({(r, c) for r, c in cells if not shaded[r][c]}):
        return "unshaded cells are not connected"
    return None


_SHADE_MARKS = "#xX*■█"


def parse_shading(answer: str, n: int) -> list[list[bool]]:
    """A shading: a grid of cells or numbers, or the shaded cells as ``(row, column)`` pairs.

    A grid has ``#``/``.`` (or 1/0) cells; when the answer repeats the puzzle's numbers
    (any digit 2–9 appears), a digit is an unshaded cell and ``#``, ``X`` or ``*`` a
    shaded one.
    """
    if has_coordinates(check_length(answer)):
        return parse_shaded(answer, n, n)
    answer = without_index_header(answer, n)
    if re.search(r"[2-9]", without_row_labels(answer)):
        alphabet = {str(d): False for d in range(10)} | dict.fromkeys(_SHADE_MARKS, True)
        return parse_grid(answer, n, n, alphabet)
    return parse_binary_grid(answer, n, n)


@register_task
class HitoriTask(Task):
    """Shade duplicates away under Hitori rules (unique solution)."""

    name = "hitori"
    domain = "logic"
    version = "3"
    description = "Hitori 4x4 to 8x8: shade cells to remove repeats, unique solution."
    Config = HitoriConfig

    @classmethod
    def config_for_level(cls, level: int) -> HitoriConfig:
        """Level 1: 4×4 … level 10: 8×8."""
        return HitoriConfig(size=_LEVELS[check_level(level)], density=0.9)

    def generate(self, config: HitoriConfig, rng: random.Random) -> Item:
        """Hidden shading + Latin square values, redrawn until the shading is unique."""
        n = config.size
        draws = repairs = 0
        while True:
            draws += 1
            if draws > _DRAWS:
                raise RuntimeError(f"no unique {n}x{n} hitori after {_DRAWS} draws")
            shaded = _shading(n, config.density, rng)
            latin = random_latin_square(n, rng)
            numbers = [row[:] for row in latin]
            for r, c in sorted(shaded):
                same_line = [(r, j) for j in range(n)] + [(i, c) for i in range(n)]
                options = sorted({latin[a][b] for a, b in same_line if (a, b) not in shaded})
                numbers[r][c] = rng.choice(options)
            for _ in range(_REPAIRS):
                other = _alternative(numbers, shaded)
                if other is None or other is _UNDECIDED or not _repair(numbers, shaded, other, rng):
                    break
                repairs += 1
            if other is None:
                break
        solution = [[(r, c) in shaded for c in range(n)] for r in range(n)]
        gap = _propagation_gap(numbers, shaded)
        example = format_binary_grid([[(r + c) % 3 == 0 for c in range(n)] for r in range(2)])
        question = (
            f"Solve this {n}x{n} Hitori puzzle. Shade some cells so that no number appears "
            "more than once among the unshaded cells of any row or column, no two shaded "
            "cells are orthogonally adjacent (side by side or one above the other), and all "
            "unshaded cells form one orthogonally connected area. The puzzle has exactly "
            "one solution.\n\n"
            f"{format_grid(numbers)}\n\n"
            + grid_answer_format(n, n, "cells (# shaded, . unshaded)", example + "\n...")
        )
        return Item(
            question=question,
            answer=format_binary_grid(solution),
            spec={"size": n, "numbers": numbers},
            difficulty=difficulty_score(n * n, 0, gap),
            metadata={
                "shaded": len(shaded),
                "draws": draws,
                "repairs": repairs,
                "propagation_gap": gap,
            },
        )

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[bool]]:
        """A shading grid (see :func:`parse_shading`)."""
        return parse_shading(text, int(spec["size"]))

    def echoes(self, spec: Mapping[str, Any]) -> list[Any]:
        """The numbers as shown read as a grid with nothing shaded."""
        n = int(spec["size"])
        return [[[False] * n for _ in range(n)]]

    def judge(self, spec: Mapping[str, Any], grid: list[list[bool]]) -> Verdict | float:
        """Every Hitori rule holds for the answer's shading."""
        bad = hitori_violation(spec["numbers"], grid)
        return wrong(bad) if bad else 1.0
