"""Calcudoku (KenKen): a Latin square whose cages must reach a target with an operation.

Generation fills a random Latin square, cuts it into random connected cages and proves
uniqueness with a SAT solver; where two solutions remain, a differing cell becomes its
own single-cell cage and the rest of that cage is re-cut, until the solution is unique.
"""

from __future__ import annotations

import itertools
import math
import random
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import count_models, format_grid, parse_int_grid

Cell = tuple[int, int]
_LABELS = string.ascii_uppercase + string.ascii_lowercase


def random_latin_square(n: int, rng: random.Random) -> list[list[int]]:
    """A random n×n Latin square over 1..n (randomized backtracking)."""
    grid = [[0] * n for _ in range(n)]

    def fill(k: int) -> bool:
        if k == n * n:
            return True
        r, c = divmod(k, n)
        taken = set(grid[r][:c]) | {grid[i][c] for i in range(r)}
        options = [v for v in range(1, n + 1) if v not in taken]
        rng.shuffle(options)
        for v in options:
            grid[r][c] = v
            if fill(k + 1):
                return True
        grid[r][c] = 0
        return False

    fill(0)
    return grid


def cage_holds(op: str, target: int, values: Sequence[int]) -> bool:
    """Whether ``values`` reach ``target`` with ``op`` (``- /`` on two cells, any order)."""
    if op == "=":
        return len(values) == 1 and values[0] == target
    if op == "+":
        return sum(values) == target
    if op == "*":
        return math.prod(values) == target
    if len(values) != 2:
        return False
    hi, lo = max(values), min(values)
    if op == "-":
        return hi - lo == target
    if op == "/":
        return lo != 0 and hi == target * lo
    raise ValueError(f"unknown cage operation {op!r}")


def _neighbors(cell: Cell, n: int) -> list[Cell]:
    r, c = cell
    out = [(r + dr, c + dc) for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1))]
    return [(a, b) for a, b in out if 0 <= a < n and 0 <= b < n]


def _components(cells: list[Cell], n: int) -> list[list[Cell]]:
    left = set(cells)
    parts = []
    while left:
        stack = [min(left)]
        left.discard(stack[0])
        part = []
        while stack:
            cell = stack.pop()
            part.append(cell)
            for nb in _neighbors(cell, n):
                if nb in left:
                    left.discard(nb)
                    stack.append(nb)
        parts.append(sorted(part))
    return parts


def _cnf(n: int, cages: list[dict[str, Any]]) -> tuple[list[list[int]], list[int]]:
    def var(r: int, c: int, v: int) -> int:
        return 1 + (r * n + c) * n + (v - 1)

    clauses: list[list[int]] = []
    for a in range(n):
        for b in range(n):
            for lits in (
                [var(a, b, v) for v in range(1, n + 1)],
                [var(a, x, b + 1) for x in range(n)],
                [var(x, a, b + 1) for x in range(n)],
            ):
                clauses.append(lits)
                clauses += [[-p, -q] for p, q in itertools.combinations(lits, 2)]
    aux = n * n * n
    for cage in cages:
        cells = [tuple(x) for x in cage["cells"]]
        tuples = [
            vals
            for vals in itertools.product(range(1, n + 1), repeat=len(cells))
            if cage_holds(cage["op"], cage["target"], vals)
        ]
        selectors = []
        for vals in tuples:
            aux += 1
            selectors.append(aux)
            clauses += [[-aux, var(r, c, v)] for (r, c), v in zip(cells, vals, strict=True)]
        clauses.append(selectors)
    return clauses, list(range(1, n * n * n + 1))


def _decode(n: int, model: list[int]) -> list[list[int]]:
    grid = [[0] * n for _ in range(n)]
    for lit in model:
        if 0 < lit <= n * n * n:
            k = lit - 1
            cell, v = divmod(k, n)
            grid[cell // n][cell % n] = v + 1
    return grid


@register_task
class Calcudoku(Task):
    """Fill a Latin square so every cage reaches its target (unique solution)."""

    name = "calcudoku"
    version = "3"
    description = "KenKen: Latin square with arithmetic cages."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        size: int = 4
        """Side length n; rows and columns hold 1..n."""
        max_cage: int = 3
        """Largest cage size."""
        ops: str = "+-*/"
        """Operations cages may use (a subset of ``+-*/``)."""

        def __post_init__(self) -> None:
            if not 3 <= self.size <= 7:
                raise ValueError("size must be 3..7")
            if not 1 <= self.max_cage <= 5:
                raise ValueError("max_cage must be 1..5")
            if not self.ops or set(self.ops) - set("+-*/"):
                raise ValueError("ops must be a non-empty subset of '+-*/'")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """Bigger grids, bigger cages and more operations with the level."""
        level = check_level(level)
        table = {
            1: (3, 2, "+"),
            2: (3, 3, "+-"),
            3: (4, 2, "+-"),
            4: (4, 3, "+-*"),
            5: (4, 3, "+-*/"),
            6: (5, 3, "+-*/"),
            7: (5, 4, "+-*/"),
            8: (6, 3, "+-*/"),
            9: (6, 4, "+-*/"),
            10: (7, 4, "+-*/"),
        }
        size, max_cage, ops = table[level]
        return cls.Config(size=size, max_cage=max_cage, ops=ops)

    def _cage(self, cells: list[Cell], grid: list[list[int]], ops: str, rng: random.Random) -> dict:
        values = [grid[r][c] for r, c in cells]
        if len(cells) == 1:
            return {"cells": [list(x) for x in cells], "op": "=", "target": values[0]}
        choices = [op for op in ops if op in "+*" or len(cells) == 2]
        hi, lo = max(values), min(values)
        if "/" in choices and hi % lo:
            choices.remove("/")
        if "-" in choices and hi == lo:
            choices.remove("-")
        if not choices:
            choices = ["+"]
        op = rng.choice(choices)
        target = {
            "+": sum(values),
            "*": math.prod(values),
            "-": hi - lo,
            "/": hi // lo,
        }[op]
        return {"cells": [list(x) for x in cells], "op": op, "target": target}

    def generate(self, config: Config, rng: random.Random) -> Item:
        """Random Latin square, random cages, then split cages until the solution is unique."""
        n = config.size
        grid = random_latin_square(n, rng)
        owner: dict[Cell, int] = {}
        groups: list[list[Cell]] = []
        order = [(r, c) for r in range(n) for c in range(n)]
        rng.shuffle(order)
        for start in order:
            if start in owner:
                continue
            size = min(config.max_cage, rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5]))
            cage = [start]
            owner[start] = len(groups)
            while len(cage) < size:
                frontier = sorted({nb for x in cage for nb in _neighbors(x, n) if nb not in owner})
                if not frontier:
                    break
                nb = rng.choice(frontier)
                owner[nb] = len(groups)
                cage.append(nb)
            groups.append(sorted(cage))
        cages = [self._cage(g, grid, config.ops, rng) for g in groups]
        while True:
            clauses, cells = _cnf(n, cages)
            models = count_models(clauses, limit=2, project=cells)
            if len(models) < 2:
                break
            other = _decode(n, models[0])
            if other == grid:
                other = _decode(n, models[1])
            diff = [(r, c) for r in range(n) for c in range(n) if other[r][c] != grid[r][c]]
            cell = rng.choice(diff)
            idx = next(i for i, cg in enumerate(cages) if list(cell) in cg["cells"])
            rest = [tuple(x) for x in cages[idx]["cells"] if tuple(x) != cell]
            del cages[idx]
            cages.append(self._cage([cell], grid, config.ops, rng))
            cages += [self._cage(part, grid, config.ops, rng) for part in _components(rest, n)]
        cages.sort(key=lambda cg: cg["cells"][0])
        label = {tuple(x): _LABELS[i] for i, cg in enumerate(cages) for x in cg["cells"]}
        layout = format_grid([[label[(r, c)] for c in range(n)] for r in range(n)])
        legend = "\n".join(
            f"{_LABELS[i]}: {cg['target']}{'' if cg['op'] == '=' else ' ' + cg['op']}"
            for i, cg in enumerate(cages)
        )
        question = (
            f"Solve this {n}x{n} Calcudoku (KenKen). Fill the grid with digits 1 to {n} so "
            "that every row and every column contains each digit exactly once. Cells with "
            "the same letter form a cage; each cage shows a target and an operation: the "
            "cage's digits combined with that operation (in some order, for - and /) give "
            "the target. A cage with a target and no operation is a single given cell.\n\n"
            f"Cage layout:\n{layout}\n\nCages:\n{legend}\n\n"
            "The solution is unique. Give the solved grid inside answer tags, one row per "
            "line with digits separated by spaces, like <answer>\nrow 1\nrow 2\n...\n</answer>."
        )
        spec = {"size": n, "cages": cages}
        difficulty = float(n * n - sum(1 for cg in cages if cg["op"] == "="))
        return Item(question, format_grid(grid), spec, difficulty=difficulty)

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[int]]:
        """A size × size grid of integers."""
        n = int(spec["size"])
        return parse_int_grid(text, n, n)

    def judge(self, spec: Mapping[str, Any], grid: list[list[int]]) -> float:
        """1.0 if the grid is a Latin square meeting every cage."""
        n = int(spec["size"])
        digits = set(range(1, n + 1))
        if any(set(row) != digits for row in grid):
            return 0.0
        if any({grid[r][c] for r in range(n)} != digits for c in range(n)):
            return 0.0
        for cage in spec["cages"]:
            values = [grid[r][c] for r, c in cage["cells"]]
            if not cage_holds(cage["op"], int(cage["target"]), values):
                return 0.0
        return 1.0


__all__ = ["Calcudoku", "cage_holds", "random_latin_square"]
