"""Shared machinery of the grid puzzle families: answer parsing, rendering, SAT helpers.

Uniqueness is decided with a SAT solver (:mod:`pysat`): a puzzle's rules are encoded once,
a clause "some cell differs from the planted solution" is added, and each clue is a
literal passed as an *assumption* (a given cell is its own literal; a clue that needs
several clauses gets an activation literal guarding them). A puzzle is unique exactly
when that solver is UNSAT under its clues, so removing clues one by one (and adding them
back for easier levels) needs one incremental solver call per candidate.

Parsers accept any text (they are fed pieces of model output by
:func:`tracemill.pipelines.verify.answers.read_answer`, already cleaned of markdown and
LaTeX): a text must be *wholly* an answer of the expected shape, else :class:`ValueError`
is raised (the verdict's reason is then ``format``); a text longer than
:data:`MAX_PARSE_CHARS` is refused, never cut to a prefix.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pysat.card import CardEnc, EncType
from pysat.formula import IDPool
from pysat.solvers import Solver
from tracemill.pipelines.synth.textutil import ORDINAL_ROW_LABEL, without_index_header
from tracemill.pipelines.verify.registry import Verdict

T = TypeVar("T")
Clause = list[int]
Cell = tuple[int, int]

MAX_PARSE_CHARS = 10_000
SOLVER = "minisat22"
"""Deterministic for a given clause order, fast on small incremental instances."""

# characters that separate cells; everything else in an answer line is a cell
_SEPARATORS = re.compile(r"[\s,;|\[\]{}()\"'`]+")
_ROW_LABEL = re.compile(
    r"^\s*(?:(?:row|line|r)\s*\d{1,2}\s*[:=.)\-]|\d{1,2}\s*[:)]|\(\d{1,2}\))\s*|"
    + ORDINAL_ROW_LABEL,
    re.IGNORECASE,
)
_RULE_LINE = re.compile(r"^[\s\-=+_|:*]*$")
_PAIR_LABEL = re.compile(r"(?i)\b(?:rows?|r|columns?|cols?|c)\s*(?=\d)|(?<=\d)\s*(?:r|c)(?=\d)")
_INTS = re.compile(r"\d+")
_LIST_NUMBER = re.compile(r"^[ \t]*\d{1,3}[.)][ \t]+(?=\D)", re.M)
"""List numbering at the start of a line ("1. (1, 3)")."""
_COUNT_PHRASE = re.compile(
    r"(?i)\b\d{1,3}\s+(?:mines?|cells?|stars?|tents?|moves?|steps?|presses|squares?)\b"
)
"""A count in the prose around a list ("There are 5 mines at …")."""
_PAIR_FILLER = re.compile(r"[\s,;:|()\[\]{}<>.\-→]+")
_WORDS = re.compile(r"[A-Za-z]+")
_OR = re.compile(r"(?i)\b(?:or|either|maybe|possibly)\b|/")

FILLED = "#"
EMPTY = "."
BINARY_CELLS: dict[str, bool] = {
    **dict.fromkeys("#1xX*■█⬛◼▪●★⭐bB", True),
    **dict.fromkeys(".0-_oO□⬜◻▫○·░wW", False),
}
"""Tolerant spellings of a shaded (True) / unshaded (False) cell."""


# -- answers -----------------------------------------------------------------------


def check_length(text: str, limit: int = MAX_PARSE_CHARS) -> str:
    """``text`` itself, or ``ValueError`` when it is longer than ``limit`` (never truncated)."""
    if not isinstance(text, str):
        raise TypeError("answer must be a string")
    if len(text) > limit:
        raise ValueError(f"answer longer than {limit} characters")
    return text


def without_row_labels(text: str) -> str:
    """``text`` with row labels (``Row 1:``, ``1:``, ``(1)``) removed from its lines."""
    return "\n".join(_ROW_LABEL.sub("", line) for line in text.split("\n"))


def _grid_lines(text: str) -> list[str]:
    lines = []
    for raw in text.split("\n"):
        cells = _SEPARATORS.sub("", _ROW_LABEL.sub("", raw))
        if cells:
            lines.append(cells)
    return lines


def parse_grid(text: str, rows: int, cols: int, alphabet: Mapping[str, T]) -> list[list[T]]:
    """Parse a ``rows`` × ``cols`` grid of one-character cells from answer text.

    Cells may be separated by spaces, commas, ``|`` or nothing, rows by newlines
    (optionally labelled ``Row 1:``, ``1:``, ``(1)``, "First row:", under a header line of
    column indices); brackets and quotes are ignored, so
    ``[[1,2],[2,1]]`` also parses, and ruled lines (``---+---``) between rows are skipped
    when their characters are not cells. Every cell must be a key of ``alphabet``; the
    text must hold exactly ``rows`` × ``cols`` cells.
    """
    check_length(text)
    lines = _grid_lines(without_index_header(text, cols))
    if len(lines) != rows and any(_RULE_LINE.match(line) for line in lines):
        ruled = [line for line in lines if not (_RULE_LINE.match(line) and len(line) != cols)]
        if len(ruled) == rows or len("".join(ruled)) == rows * cols:
            lines = ruled
    if len(lines) != rows:
        joined = "".join(lines)
        if len(joined) != rows * cols:
            raise ValueError(f"expected {rows} rows of {cols} cells, got {len(lines)} row(s)")
        lines = [joined[r * cols : (r + 1) * cols] for r in range(rows)]
    grid: list[list[T]] = []
    for r, line in enumerate(lines):
        if len(line) != cols:
            raise ValueError(f"row {r + 1} has {len(line)} cells, expected {cols}")
        row = []
        for ch in line:
            if ch not in alphabet:
                raise ValueError(f"unexpected cell {ch!r} in row {r + 1}")
            row.append(alphabet[ch])
        grid.append(row)
    return grid


def digit_alphabet(n: int) -> dict[str, int]:
    """Cells ``1``…``n`` (n ≤ 9) mapped to their values."""
    return {str(v): v for v in range(1, n + 1)}


def parse_binary_grid(text: str, rows: int, cols: int) -> list[list[bool]]:
    """A grid of shaded (``#``, ``1``, ``X``, ``*``, ``■``) / unshaded (``.``, ``0``) cells."""
    return parse_grid(text, rows, cols, BINARY_CELLS)


_COORDINATES = re.compile(r"\(\s*\d{1,3}\s*,\s*\d{1,3}\s*\)|\br\s*\d{1,3}\s*c\s*\d{1,3}\b", re.I)
"""A coordinate list instead of a grid: "(1, 2), (1, 3)" or "r1c2 r1c3"."""


def has_coordinates(text: str) -> bool:
    """Whether an answer lists cells as coordinates (``(1, 2)``, ``r1c2``) rather than a grid."""
    return bool(_COORDINATES.search(text))


_ROW_COLUMNS = re.compile(
    r"^\s*row\s*(\d{1,2})\s*[:\-]\s*(?:(?:columns?|cols?)\s+(\d{1,2}(?:\s*(?:,|&|\band\b)\s*\d{1,2})*)"
    r"|none|nothing|-)\s*\.?\s*$",
    re.IGNORECASE,
)
"""A row's marked columns in words: "Row 1: column 3", "Row 2: columns 1, 4", "Row 3: none"."""


def _by_row_columns(text: str, rows: int, cols: int) -> list[list[bool]] | None:
    """A shading written row by row as its marked columns, or None when not so written."""
    lines = [line for line in text.split("\n") if line.strip()]
    matches = [_ROW_COLUMNS.match(line) for line in lines]
    if not lines or any(m is None for m in matches):
        return None
    grid = [[False] * cols for _ in range(rows)]
    seen = set()
    for m in matches:
        r = int(m.group(1))  # type: ignore[union-attr]
        if not 1 <= r <= rows or r in seen:
            raise ValueError(f"row {r} is not a row of the grid, or is given twice")
        seen.add(r)
        for c in map(int, re.findall(r"\d+", m.group(2) or "")):  # type: ignore[union-attr]
            if not 1 <= c <= cols:
                raise ValueError(f"column {c} is not a column of the grid")
            grid[r - 1][c - 1] = True
    if len(seen) != rows:
        raise ValueError(f"expected all {rows} rows")
    return grid


def parse_shaded(text: str, rows: int, cols: int) -> list[list[bool]]:
    """A shading: a binary grid, shaded cells as pairs, or each row's shaded columns.

    Pairs are 1-based ``(row, column)``; rows by columns read "Row 1: columns 2, 4",
    "Row 2: none" (every row given).

    See :func:`parse_binary_grid` and :func:`parse_pairs`.
    """
    by_rows = _by_row_columns(check_length(text), rows, cols)
    if by_rows is not None:
        return by_rows
    if _COORDINATES.search(text):
        cells = parse_cells(text, rows, cols)
        return [[(r, c) in cells for c in range(cols)] for r in range(rows)]
    return parse_binary_grid(text, rows, cols)


def parse_pairs(text: str, rows: int, cols: int, limit: int = 1000) -> list[Cell]:
    """1-based ``(row, col)`` pairs in order → 0-based cells.

    Accepted: ``(1, 2), (3, 4)``, ``[[1,2],[3,4]]``, ``r1c2 r3c4``, ``Row 1, Column 2``,
    one pair per line (numbered lists too), and a little prose around them ("The 5 mines
    are at … and …").
    Raises ``ValueError`` for an odd count (also on one line: a table row ``1 | 1 | 3`` is
    an index and a pair, not pairs), cells off the grid, digits or many words
    outside the pairs, and :class:`AmbiguousAnswer` for "or"-style alternatives.
    """
    from tracemill.pipelines.verify.answers import AmbiguousAnswer

    check_length(text)
    plain = _PAIR_LABEL.sub(" ", _COUNT_PHRASE.sub(" ", _LIST_NUMBER.sub("", text)))
    numbers = _INTS.findall(plain)
    if not numbers:
        raise ValueError("no (row, column) pairs")
    if any(len(v) > 3 for v in numbers):
        raise ValueError("coordinate too large")
    if len(numbers) > 2 * limit:
        raise ValueError("too many coordinates")
    leftover = _PAIR_FILLER.sub(" ", _INTS.sub(" ", plain))
    if _OR.search(leftover):
        raise AmbiguousAnswer("alternatives among the cells")
    words = [w for w in _WORDS.findall(leftover) if w.lower() != "and"]
    if len(words) > 6 or re.search(r"[^\sA-Za-z]", leftover):
        raise ValueError("the cells are not a plain list of (row, column) pairs")
    if len(numbers) % 2:
        raise ValueError("expected (row, column) pairs, found an odd number of coordinates")
    for line in plain.split("\n"):  # a pair never spans lines ("1 | 1 | 3" is a table row)
        count = len(_INTS.findall(line))
        if count > 1 and count % 2:
            raise ValueError(f"a line holds {count} coordinates, not (row, column) pairs")
    cells = []
    for i in range(0, len(numbers), 2):
        r, c = int(numbers[i]), int(numbers[i + 1])
        if not (1 <= r <= rows and 1 <= c <= cols):
            raise ValueError(f"cell ({r}, {c}) is outside the {rows}x{cols} grid")
        cells.append((r - 1, c - 1))
    return cells


def parse_cells(text: str, rows: int, cols: int, limit: int = 1000) -> set[Cell]:
    """Parse 1-based ``(row, col)`` coordinates (see :func:`parse_pairs`) → 0-based cells.

    A set of cells lists each once: a cell given twice is two lists run together (two
    options, or a draft and the answer), so it does not read.
    """
    cells = parse_pairs(text, rows, cols, limit)
    if len(set(cells)) != len(cells):
        raise ValueError("a cell is listed twice")
    return set(cells)


def format_grid(grid: Iterable[Iterable[Any]], sep: str = " ") -> str:
    """Rows of cells joined by ``sep``, one row per line."""
    return "\n".join(sep.join(str(v) for v in row) for row in grid)


def format_binary_grid(grid: Iterable[Iterable[bool]], on: str = FILLED, off: str = EMPTY) -> str:
    """A boolean grid as rows of ``on``/``off`` characters separated by spaces."""
    return format_grid([[on if v else off for v in row] for row in grid])


def format_cells(cells: Iterable[Cell]) -> str:
    """0-based cells as sorted 1-based ``(row, col)`` pairs."""
    return ", ".join(f"({r + 1}, {c + 1})" for r, c in sorted(cells))


def grid_answer_format(rows: int, cols: int, what: str, example: str) -> str:
    """The standard sentence telling the model how to write a grid answer."""
    return (
        f"Give your final answer as {rows} lines of {cols} {what} separated by spaces, "
        f"inside <answer></answer> tags, for example:\n<answer>\n{example}\n</answer>"
    )


# -- geometry ------------------------------------------------------------------------


def neighbors4(r: int, c: int, rows: int, cols: int) -> list[Cell]:
    """Orthogonal neighbours of a cell inside the grid."""
    out = [(r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)]
    return [(a, b) for a, b in out if 0 <= a < rows and 0 <= b < cols]


def neighbors8(r: int, c: int, rows: int, cols: int) -> list[Cell]:
    """Orthogonal and diagonal neighbours of a cell inside the grid."""
    return [
        (r + dr, c + dc)
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if (dr or dc) and 0 <= r + dr < rows and 0 <= c + dc < cols
    ]


def reach(start: Cell, cells: set[Cell]) -> set[Cell]:
    """The cells of ``cells`` orthogonally connected to ``start`` (which is among them)."""
    seen = {start}
    stack = [start]
    while stack:
        r, c = stack.pop()
        for nb in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if nb in cells and nb not in seen:
                seen.add(nb)
                stack.append(nb)
    return seen


def is_connected(cells: set[Cell]) -> bool:
    """Whether a set of cells is orthogonally connected (the empty set counts as connected)."""
    if not cells:
        return True
    return len(reach(next(iter(cells)), cells)) == len(cells)


def border_cells(region: list[list[int]], exclude: set[Cell]) -> list[Cell]:
    """Cells (row-major) next to another region, except those in ``exclude``."""
    n = len(region)
    return [
        (r, c)
        for r in range(n)
        for c in range(n)
        if (r, c) not in exclude
        and any(region[a][b] != region[r][c] for a, b in neighbors4(r, c, n, n))
    ]


def random_latin_square(n: int, rng: random.Random) -> list[list[int]]:
    """A random ``n`` × ``n`` Latin square over 1…n (randomized backtracking, n ≤ 9)."""
    if not 1 <= n <= 9:
        raise ValueError("latin squares are generated for 1 <= n <= 9")
    while True:
        grid = [[0] * n for _ in range(n)]
        budget = [20_000]
        if _fill_latin(grid, 0, n, rng, budget):
            return grid


def _fill_latin(
    grid: list[list[int]], pos: int, n: int, rng: random.Random, budget: list[int]
) -> bool:
    if pos == n * n:
        return True
    budget[0] -= 1
    if budget[0] < 0:
        return False
    r, c = divmod(pos, n)
    used = set(grid[r][:c]) | {grid[i][c] for i in range(r)}
    options = [v for v in range(1, n + 1) if v not in used]
    rng.shuffle(options)
    for v in options:
        grid[r][c] = v
        if _fill_latin(grid, pos + 1, n, rng, budget):
            return True
    grid[r][c] = 0
    return False


# -- SAT encodings ---------------------------------------------------------------------


def exactly(lits: Sequence[int], k: int, pool: IDPool) -> list[Clause]:
    """Clauses: exactly ``k`` of ``lits`` are true."""
    if k < 0 or k > len(lits):
        return [[]]
    if k == 0:
        return [[-lit] for lit in lits]
    if k == len(lits):
        return [[lit] for lit in lits]
    if k == 1:
        out = [list(lits)]
        out += [[-a, -b] for i, a in enumerate(lits) for b in lits[i + 1 :]]
        return out
    return CardEnc.equals(lits=list(lits), bound=k, vpool=pool, encoding=EncType.seqcounter).clauses


def at_most(lits: Sequence[int], k: int, pool: IDPool) -> list[Clause]:
    """Clauses: at most ``k`` of ``lits`` are true."""
    if k >= len(lits):
        return []
    if k == 0:
        return [[-lit] for lit in lits]
    if k == 1:
        return [[-a, -b] for i, a in enumerate(lits) for b in lits[i + 1 :]]
    return CardEnc.atmost(lits=list(lits), bound=k, vpool=pool, encoding=EncType.seqcounter).clauses


def one_of(options: Sequence[Sequence[int]], pool: IDPool, tag: Any) -> list[Clause]:
    """Clauses: at least one option holds, an option being a conjunction of literals.

    Each option gets a selector variable (keyed by ``tag`` and its index) implying its
    literals. No options at all gives the empty (unsatisfiable) clause.
    """
    clauses: list[Clause] = []
    selectors = []
    for i, option in enumerate(options):
        s = pool.id((tag, i))
        selectors.append(s)
        clauses.extend([-s, lit] for lit in option)
    clauses.append(selectors)
    return clauses


def guard(clauses: Iterable[Clause], act: int) -> list[Clause]:
    """The clauses, each active only when literal ``act`` is true."""
    return [[-act, *c] for c in clauses]


class UniquenessSolver:
    """Answers "is there a solution other than the planted one under these clues?".

    ``rules`` must hold for every solution; ``solution`` lists the literals (over the
    decision variables only) of the planted solution. Use as a context manager.
    """

    def __init__(self, rules: Iterable[Clause], solution: Sequence[int]) -> None:
        self.rules = list(rules)
        self.solution = list(solution)
        self.solver = Solver(name=SOLVER, bootstrap_with=self.rules)
        self.solver.add_clause([-lit for lit in self.solution])
        self.last_conflicts = 0
        self._plain: Solver | None = None

    def propagation_gap(self, clues: Sequence[int]) -> int:
        """Solution literals that unit propagation from ``clues`` does not reach.

        0 means the puzzle falls to propagation alone (with this encoding); larger
        values need case analysis — a difficulty signal within a family.
        """
        if self._plain is None:
            self._plain = Solver(name=SOLVER, bootstrap_with=self.rules)
        _, implied = self._plain.propagate(assumptions=list(clues))
        reached = set(implied or ())
        return sum(lit not in reached for lit in self.solution)

    def other_solution(self, clues: Sequence[int]) -> set[int] | None:
        """The true literals of a different solution consistent with ``clues``, or None."""
        before = self.solver.accum_stats().get("conflicts", 0)
        sat = self.solver.solve(assumptions=list(clues))
        self.last_conflicts = self.solver.accum_stats().get("conflicts", 0) - before
        return set(self.solver.get_model() or ()) if sat else None

    def is_unique(self, clues: Sequence[int]) -> bool:
        """True when the planted solution is the only one consistent with ``clues``."""
        return self.other_solution(clues) is None

    def minimize(self, clues: Sequence[int], *, keep: Sequence[int] = ()) -> list[int]:
        """Drop clues (tried in the given order) while the solution stays unique.

        ``keep`` are clues that are never dropped. The result is a minimal clue set: no
        single remaining clue can be removed.
        """
        kept = list(clues)
        for clue in list(clues):
            trial = [c for c in kept if c != clue]
            if self.is_unique([*keep, *trial]):
                kept = trial
        return kept

    def reveal_until_unique(
        self, clues: Sequence[int], candidates: Sequence[int], rng: random.Random, limit: int = 500
    ) -> list[int]:
        """Add literals of the planted solution from ``candidates`` until it is unique.

        Each step reveals one candidate on which the found alternative solution differs,
        so the loop ends. Returns the revealed literals.
        """
        revealed: list[int] = []
        for _ in range(limit):
            other = self.other_solution([*clues, *revealed])
            if other is None:
                return revealed
            differing = [lit for lit in candidates if lit not in other and lit not in revealed]
            if not differing:
                raise RuntimeError("no candidate separates the planted solution")
            revealed.append(rng.choice(differing))
        raise RuntimeError("puzzle did not become unique")

    def close(self) -> None:
        """Free the solvers."""
        self.solver.delete()
        if self._plain is not None:
            self._plain.delete()

    def __enter__(self) -> UniquenessSolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def add_back(removed: Sequence[T], count: int, rng: random.Random) -> list[T]:
    """``count`` clues drawn from ``removed`` (in a random order) to make a puzzle easier."""
    pool = list(removed)
    rng.shuffle(pool)
    return pool[: max(0, min(count, len(pool)))]


def minimize_clues(
    rules: Iterable[Clause],
    solution: Sequence[int],
    order: Sequence[int],
    extra: int,
    rng: random.Random,
    *,
    key: Callable[[int], Any] | None = None,
) -> tuple[list[int], int, int]:
    """Clues that fix the planted solution: a minimal set plus ``extra`` spare ones.

    Clue literals are dropped in ``order`` while the solution stays unique, then
    ``extra`` of the dropped ones (drawn at random) are put back. The kept clues are
    sorted by ``key`` when given. Returns ``(clues, conflicts, gap)``: the solver's
    conflicts proving uniqueness under the clues and their propagation gap (see
    :func:`difficulty_score`).
    """
    with UniquenessSolver(rules, solution) as solver:
        kept = solver.minimize(order)
        kept += add_back([lit for lit in order if lit not in kept], extra, rng)
        if key is not None:
            kept.sort(key=key)
        solver.is_unique(kept)
        return kept, solver.last_conflicts, solver.propagation_gap(kept)


def minimize_givens(
    rules: Iterable[Clause], lits: Mapping[Cell, int], extra: int, rng: random.Random
) -> tuple[set[Cell], int, int]:
    """Given cells that fix the planted solution (``lits``: each cell's solution literal).

    Cells are tried for removal in a random order (see :func:`minimize_clues`); the
    solver is queried with the givens in row-major order. Returns ``(givens, conflicts,
    gap)``.
    """
    order = list(lits)
    rng.shuffle(order)
    cell_of = {lit: cell for cell, lit in lits.items()}
    kept, conflicts, gap = minimize_clues(
        rules,
        list(lits.values()),
        [lits[cell] for cell in order],
        extra,
        rng,
        key=cell_of.__getitem__,
    )
    return {cell_of[lit] for lit in kept}, conflicts, gap


def unique_or_reveal(
    rules: Iterable[Clause], solution: Sequence[int], rng: random.Random, *, final: bool
) -> tuple[list[int], int, int] | None:
    """Settle one random draw of a puzzle whose rules alone should fix ``solution``.

    Returns None when the draw is not unique and is not the ``final`` one (draw again);
    otherwise reveals true literals of ``solution`` until it is unique and returns
    ``(revealed, conflicts, gap)``.
    """
    with UniquenessSolver(rules, solution) as solver:
        if not final and not solver.is_unique([]):
            return None
        revealed = solver.reveal_until_unique([], [x for x in solution if x > 0], rng)
        return revealed, solver.last_conflicts, solver.propagation_gap(revealed)


def difficulty_score(unknown: int, conflicts: int, gap: int = 0) -> float:
    """Difficulty of a grid puzzle: cells to deduce, deduction depth and search effort.

    ``gap`` counts solution cells unit propagation from the clues does not reach (see
    :meth:`UniquenessSolver.propagation_gap`); ``conflicts`` is what the SAT solver
    needed to prove that the clues admit no other solution.
    """
    return round(unknown + 2.0 * gap + 4.0 * math.log2(1 + conflicts), 2)


def wrong(why: str) -> Verdict:
    """A failed verdict saying which rule the answer breaks (the reader adds the answer)."""
    return Verdict(False, 0.0, "wrong", {"error": why})


def positive_int(name: str, value: Any, lo: int, hi: int) -> None:
    """Raise ``ValueError`` unless ``value`` is an int in ``lo``…``hi``."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer from {lo} to {hi}, got {value!r}")


def number_in(name: str, value: Any, lo: float, hi: float) -> None:
    """Raise ``ValueError`` unless ``value`` is a number (int or float) in ``[lo, hi]``."""
    if not isinstance(value, int | float) or not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}], got {value!r}")


# -- Latin squares ----------------------------------------------------------------------


def latin_rules(n: int, pool: IDPool) -> list[Clause]:
    """CNF of an n×n Latin square over variables ``("x", r, c, v)``."""

    def x(r: int, c: int, v: int) -> int:
        return pool.id(("x", r, c, v))

    clauses: list[Clause] = []
    values = range(1, n + 1)
    for i in range(n):
        for j in range(n):
            clauses += exactly([x(i, j, v) for v in values], 1, pool)
        for v in values:
            clauses += exactly([x(i, c, v) for c in range(n)], 1, pool)
            clauses += exactly([x(r, i, v) for r in range(n)], 1, pool)
    return clauses


def latin_violation(
    grid: Sequence[Sequence[int]], givens: Iterable[Sequence[int]], noun: str
) -> str | None:
    """The first way an n×n grid fails as a Latin square keeping ``givens``, or None.

    ``givens`` are ``[row, col, value]`` triples (0-based); ``noun`` names a cell value
    in the message ("digit", "height").
    """
    n = len(grid)
    for r, c, v in givens:
        if grid[r][c] != v:
            return f"given at row {r + 1}, column {c + 1} changed"
    target = set(range(1, n + 1))
    for i in range(n):
        if set(grid[i]) != target or {grid[r][i] for r in range(n)} != target:
            return f"row or column {i + 1} repeats a {noun}"
    return None
