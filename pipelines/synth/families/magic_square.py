"""Magic square completion: fill the blanks so every row, column and diagonal has one sum.

Several completions may exist, so the verifier checks the rules (the right set of
numbers, the givens kept, all line sums equal the magic constant), not one stored grid.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.synth.base import Item, Task, check_level, register_task
from tracemill.pipelines.synth.textutil import format_grid, parse_int_grid

Grid = list[list[int]]


def _siamese(n: int) -> Grid:
    grid = [[0] * n for _ in range(n)]
    r, c = 0, n // 2
    for v in range(1, n * n + 1):
        grid[r][c] = v
        nr, nc = (r - 1) % n, (c + 1) % n
        if grid[nr][nc]:
            nr, nc = (r + 1) % n, c
        r, c = nr, nc
    return grid


def _doubly_even(n: int) -> Grid:
    grid = [[r * n + c + 1 for c in range(n)] for r in range(n)]
    for r in range(n):
        for c in range(n):
            if (r % 4 == c % 4) or ((r % 4) + (c % 4) == 3):
                grid[r][c] = n * n + 1 - grid[r][c]
    return grid


def _random_search(n: int, rng: random.Random) -> Grid | None:
    """A random magic square by randomized backtracking (quick for n = 3 only)."""
    target = n * (n * n + 1) // 2
    grid = [[0] * n for _ in range(n)]
    used: set[int] = set()
    values = list(range(1, n * n + 1))
    budget = [20_000]

    def candidates(r: int, c: int) -> list[int]:
        if c == n - 1:
            forced = [target - sum(grid[r][:c])]
        elif r == n - 1:
            forced = [target - sum(grid[i][c] for i in range(r))]
        else:
            forced = rng.sample(values, len(values))
        return [v for v in forced if 1 <= v <= n * n and v not in used]

    def fill(k: int) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if k == n * n:
            return is_magic(grid, target)
        r, c = divmod(k, n)
        for v in candidates(r, c):
            if r == n - 1 and c == n - 1 and target - sum(grid[i][c] for i in range(r)) != v:
                continue
            anti = sum(grid[n - 1 - i][i] for i in range(1, n))
            if r == n - 1 and c == 0 and anti + v != target:
                continue
            grid[r][c] = v
            used.add(v)
            if fill(k + 1):
                return True
            used.discard(v)
            grid[r][c] = 0
        return False

    return [list(row) for row in grid] if fill(0) else None


def _linear(n: int, rng: random.Random) -> Grid | None:
    """A (pandiagonal) magic square from two random linear Latin squares mod n."""
    a1, b1, a2, b2 = (rng.randrange(1, n) for _ in range(4))
    e1, e2 = rng.randrange(n), rng.randrange(n)
    grid = [
        [n * ((a1 * r + b1 * c + e1) % n) + (a2 * r + b2 * c + e2) % n + 1 for c in range(n)]
        for r in range(n)
    ]
    if sorted(v for row in grid for v in row) != list(range(1, n * n + 1)):
        return None
    return grid if is_magic(grid, n * (n * n + 1) // 2) else None


def _binary4(rng: random.Random) -> Grid | None:
    """A 4x4 magic square whose four value bits are affine forms of the cell bits."""
    # A form balanced on every row, column and diagonal depends on both the row bits
    # and the column bits, and differently on each (pairs over GF(2)^2 with x, y != 0).
    forms = [(x, y) for x in (1, 2, 3) for y in (1, 2, 3) if x != y]
    chosen = rng.sample(forms, 4)
    flips = [rng.randrange(2) for _ in range(4)]

    def parity(v: int) -> int:
        return bin(v).count("1") & 1

    grid = [
        [
            1
            + sum(
                ((parity(x & r) ^ parity(y & c) ^ f) << k)
                for k, ((x, y), f) in enumerate(zip(chosen, flips, strict=True))
            )
            for c in range(4)
        ]
        for r in range(4)
    ]
    if sorted(v for row in grid for v in row) != list(range(1, 17)):
        return None
    return grid if is_magic(grid, 34) else None


def random_magic_square(n: int, rng: random.Random) -> Grid:
    """A random magic square of 1..n² (search or linear construction, random symmetries)."""
    grid: Grid | None = None
    for _ in range(50):
        if n == 4:
            grid = _binary4(rng)
        elif n == 3:
            grid = _random_search(n, rng)
        else:
            grid = _linear(n, rng)
        if grid is not None:
            break
    if grid is None:
        grid = _siamese(n) if n % 2 else _doubly_even(n)
    # Permuting rows and columns by the same p with p(n-1-i) = n-1-p(i) keeps both
    # diagonals (as sets), so the square stays magic.
    half = list(range(n // 2))
    rng.shuffle(half)
    perm = list(range(n))
    for i, h in enumerate(half):
        if rng.random() < 0.5:
            perm[i], perm[n - 1 - i] = h, n - 1 - h
        else:
            perm[i], perm[n - 1 - i] = n - 1 - h, h
    grid = [[grid[perm[r]][perm[c]] for c in range(n)] for r in range(n)]
    for _ in range(rng.randrange(4)):
        grid = [list(row) for row in zip(*grid[::-1], strict=True)]
    if rng.random() < 0.5:
        grid = [row[::-1] for row in grid]
    if rng.random() < 0.5:
        grid = [[n * n + 1 - v for v in row] for row in grid]
    return grid


def is_magic(grid: Grid, target: int) -> bool:
    """Whether all rows, columns and both diagonals of ``grid`` sum to ``target``."""
    n = len(grid)
    lines = [list(row) for row in grid]
    lines += [[grid[r][c] for r in range(n)] for c in range(n)]
    lines.append([grid[i][i] for i in range(n)])
    lines.append([grid[i][n - 1 - i] for i in range(n)])
    return all(sum(line) == target for line in lines)


@register_task
class MagicSquare(Task):
    """Complete a partially filled magic square."""

    name = "magic_square"
    version = "3"
    description = "Fill the blanks of an n×n magic square of consecutive integers."

    @dataclass(frozen=True)
    class Config:
        """Difficulty knobs."""

        size: int = 3
        """Side length n (3, 4 or 5)."""
        blanks: float = 0.4
        """Fraction of cells left blank."""
        max_offset: int = 0
        """The numbers are s..s+n²-1 with s drawn from 1..1+max_offset."""

        def __post_init__(self) -> None:
            if self.size not in (3, 4, 5):
                raise ValueError("size must be 3, 4 or 5")
            if not 0.0 < self.blanks <= 1.0:
                raise ValueError("blanks must be in (0, 1]")
            if not 0 <= self.max_offset <= 1000:
                raise ValueError("max_offset must be 0..1000")

    @classmethod
    def config_for_level(cls, level: int) -> Config:
        """Bigger squares, more blanks and shifted number ranges with the level."""
        level = check_level(level)
        table = {
            1: (3, 0.35, 0),
            2: (3, 0.5, 0),
            3: (3, 0.7, 10),
            4: (4, 0.35, 0),
            5: (4, 0.5, 10),
            6: (4, 0.65, 20),
            7: (5, 0.35, 0),
            8: (5, 0.5, 20),
            9: (5, 0.65, 50),
            10: (5, 0.8, 100),
        }
        size, blanks, offset = table[level]
        return cls.Config(size=size, blanks=blanks, max_offset=offset)

    def generate(self, config: Config, rng: random.Random) -> Item:
        """A random magic square with a random set of cells blanked."""
        n = config.size
        start = 1 + rng.randint(0, config.max_offset)
        grid = [[v + start - 1 for v in row] for row in random_magic_square(n, rng)]
        target = sum(grid[0])
        cells = [(r, c) for r in range(n) for c in range(n)]
        hidden = set(rng.sample(cells, max(1, round(config.blanks * n * n))))
        shown = [["_" if (r, c) in hidden else str(grid[r][c]) for c in range(n)] for r in range(n)]
        givens = [[0 if (r, c) in hidden else grid[r][c] for c in range(n)] for r in range(n)]
        last = start + n * n - 1
        question = (
            f"Complete this {n}x{n} magic square. Each of the integers {start} to {last} "
            f"must appear exactly once, and every row, every column and both main diagonals "
            f"must add up to {target}. Blank cells are shown as _.\n\n"
            f"{format_grid(shown)}\n\n"
            "Give the completed square inside answer tags, one row per line with the numbers "
            "separated by spaces, like <answer>\nrow 1\nrow 2\n...\n</answer>."
        )
        spec = {"size": n, "start": start, "target": target, "givens": givens}
        return Item(question, format_grid(grid), spec, difficulty=float(len(hidden)))

    def parse(self, spec: Mapping[str, Any], text: str) -> list[list[int]]:
        """A size × size grid of integers."""
        n = int(spec["size"])
        return parse_int_grid(text, n, n)

    def judge(self, spec: Mapping[str, Any], grid: list[list[int]]) -> float:
        """1.0 if the grid is a magic square of the right numbers that keeps the givens."""
        n = int(spec["size"])
        start = int(spec["start"])
        if sorted(v for row in grid for v in row) != list(range(start, start + n * n)):
            return 0.0
        givens = spec["givens"]
        for r in range(n):
            for c in range(n):
                if givens[r][c] and grid[r][c] != givens[r][c]:
                    return 0.0
        return 1.0 if is_magic(grid, int(spec["target"])) else 0.0


__all__ = ["MagicSquare", "is_magic", "random_magic_square"]
