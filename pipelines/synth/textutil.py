"""Shared answer parsing for the logic families: safe arithmetic, lists, grids, SAT counts.

Everything here takes untrusted model output. Functions raise ``ValueError`` on input
they cannot read (the verdict's reason is then ``format``) and
:class:`~tracemill.pipelines.verify.answers.AmbiguousAnswer` on hedges ("3 or 4"), and
bound their work: over-long inputs are refused (never cut to a prefix) and arithmetic
refuses huge intermediate values.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

MAX_EXPR_CHARS = 400
"""Longer arithmetic expressions are rejected before parsing."""
MAX_EXPR_NODES = 200
MAX_EXPONENT = 16
MAX_MAGNITUDE_BITS = 256
"""Numerators/denominators above 2**256 are refused (no answer needs them)."""

_OP_TRANSLATION = str.maketrans(
    {
        "×": "*",
        "·": "*",
        "∗": "*",
        "÷": "/",
        "−": "-",
        "–": "-",
        "—": "-",
        "[": "(",
        "]": ")",
        "{": "(",
        "}": ")",
    }
)


_NOT_ARITHMETIC = re.compile(r"[^0-9\s+\-*/().^]")
"""Characters outside plain arithmetic are refused before parsing (names, quotes, ``#``)."""


@dataclass(frozen=True)
class Arithmetic:
    """A parsed arithmetic expression: its exact value and the integer literals it used."""

    value: Fraction
    numbers: tuple[int, ...]


def normalize_expression(text: str) -> str:
    """Map common typographic operators to Python ones and drop LaTeX spacing."""
    text = text.replace("\\times", "*").replace("\\cdot", "*").replace("\\div", "/")
    text = text.replace("\\left", "").replace("\\right", "").replace("$", "")
    return text.translate(_OP_TRANSLATION).strip()


def _check_size(value: Fraction) -> Fraction:
    if (
        value.numerator.bit_length() > MAX_MAGNITUDE_BITS
        or value.denominator.bit_length() > MAX_MAGNITUDE_BITS
    ):
        raise ValueError("intermediate value too large")
    return value


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if exponent.denominator != 1:
        raise ValueError("non-integer exponent")
    exp = exponent.numerator
    if abs(exp) > MAX_EXPONENT:
        raise ValueError(f"exponent {exp} exceeds {MAX_EXPONENT}")
    bits = max(base.numerator.bit_length(), base.denominator.bit_length())
    if bits * abs(exp) > MAX_MAGNITUDE_BITS:
        raise ValueError("power too large")
    if base == 0 and exp < 0:
        raise ValueError("zero to a negative power")
    return base**exp


def evaluate_arithmetic(
    text: str,
    *,
    allow_pow: bool = False,
    allow_unary: bool = True,
    max_chars: int = MAX_EXPR_CHARS,
) -> Arithmetic:
    """Evaluate integer arithmetic (+ - * / and parentheses, optionally **) exactly.

    The text is parsed with :mod:`ast` and only numeric literals, the four operations,
    unary signs (unless ``allow_unary`` is false) and (when allowed) bounded powers are
    walked; anything else — names,
    calls, attributes, floats, strings — raises ``ValueError``. Nothing is ever executed.
    """
    if not isinstance(text, str):
        raise TypeError("expression must be a string")
    if len(text) > max_chars:
        raise ValueError(f"expression longer than {max_chars} characters")
    expr = normalize_expression(text)
    if not expr:
        raise ValueError("empty expression")
    stray = _NOT_ARITHMETIC.search(expr)
    if stray:
        raise ValueError(f"character {stray.group(0)!r} is not allowed in arithmetic")
    if allow_pow:
        expr = expr.replace("^", "**")
    try:
        tree = ast.parse(expr, mode="eval")
    except (SyntaxError, MemoryError, RecursionError) as e:
        raise ValueError(f"not an arithmetic expression: {e}") from None
    nodes = 0
    numbers: list[int] = []

    def walk(node: ast.AST, depth: int) -> Fraction:
        nonlocal nodes
        nodes += 1
        if nodes > MAX_EXPR_NODES or depth > 60:
            raise ValueError("expression too large")
        if isinstance(node, ast.Expression):
            return walk(node.body, depth + 1)
        if isinstance(node, ast.Constant):
            if type(node.value) is not int:
                raise ValueError(f"only integer literals are allowed, got {node.value!r}")
            numbers.append(node.value)
            return _check_size(Fraction(node.value))
        if (
            allow_unary
            and isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub | ast.UAdd)
        ):
            inner = walk(node.operand, depth + 1)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp):
            left = walk(node.left, depth + 1)
            right = walk(node.right, depth + 1)
            op = node.op
            if isinstance(op, ast.Add):
                return _check_size(left + right)
            if isinstance(op, ast.Sub):
                return _check_size(left - right)
            if isinstance(op, ast.Mult):
                return _check_size(left * right)
            if isinstance(op, ast.Div):
                if right == 0:
                    raise ValueError("division by zero")
                return _check_size(left / right)
            if isinstance(op, ast.Pow) and allow_pow:
                return _check_size(_power(left, right))
            raise ValueError(f"operator {type(op).__name__} is not allowed")
        raise ValueError(f"{type(node).__name__} is not allowed in arithmetic")

    value = walk(tree, 0)
    return Arithmetic(value, tuple(numbers))


def format_number(value: Fraction | int) -> str:
    """An exact number as text (``7``, ``-3/4``)."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


_LIST_SPLIT = re.compile(r"\s*(?:,|;|\n|\s\|\s|→|->|=>|\s-\s|\s<\s)\s*")
_WRAPPERS = "[](){}\"'`"
_NUMBERING = re.compile(
    r"^\s*(?:\d{1,3}[.)]|\(\d{1,3}\)|[a-z][.)]|(?:step|move)\s*\d{1,3}\s*[:.)])\s+", re.I
)
_AND = re.compile(r"(?i)^(?:and|then)\s+")
_NUMBER_TOKEN = re.compile(r"\(?\d{1,3}[.)]")


def normalize_token(token: str) -> str:
    """Lower-case, strip quotes, brackets and trailing punctuation, collapse whitespace."""
    token = token.strip().strip(_WRAPPERS).strip().rstrip(".!").strip()
    return " ".join(token.lower().split())


def parse_list(text: str, *, max_items: int = 1000, split_spaces: bool = False) -> list[str]:
    """Split an answer list into normalized tokens (see :func:`normalize_token`).

    Items are separated by commas, semicolons, newlines, `` | ``, arrows (``→``, ``->``)
    or, with ``split_spaces``, spaces; list numbering (``1.``, ``(2)``, ``Step 2:``) and a joining
    "and" before the last item are dropped; empty tokens are dropped.
    """
    if not isinstance(text, str):
        raise TypeError("answer must be a string")
    if len(text) > 40 * max_items + 200:
        raise ValueError("list answer too long")
    text = text.strip().strip("[]()").strip()
    lines = [_NUMBERING.sub("", line) for line in text.split("\n")]
    parts = [p for line in lines for p in _LIST_SPLIT.split(line)]
    if split_spaces:
        parts = [w for p in parts for w in p.split() if not _NUMBER_TOKEN.fullmatch(w)]
    tokens = [normalize_token(_AND.sub("", p.strip())) for p in parts]
    tokens = [t for t in tokens if t]
    if len(tokens) > max_items:
        raise ValueError(f"more than {max_items} items")
    return tokens


def parse_vocabulary_list(
    text: str, vocabulary: Iterable[str], *, max_items: int = 1000
) -> list[str]:
    """A list whose every item is a word of ``vocabulary`` (case-insensitive).

    Items may be separated as in :func:`parse_list`; when there are no separators, spaces
    separate them. Anything else — prose, an unknown word — raises ``ValueError``, so a
    sentence is never read as a list.
    """
    words = {w.lower() for w in vocabulary}
    tokens = parse_list(text, max_items=max_items)
    if any(" " in t and t not in words for t in tokens):
        tokens = parse_list(text, max_items=max_items, split_spaces=True)
    unknown = [t for t in tokens if t not in words]
    if unknown:
        raise ValueError(f"{unknown[0][:40]!r} is not one of the given words")
    if not tokens:
        raise ValueError("empty list")
    return tokens


_INT = re.compile(r"[-+]?\d+")
_RULE_LINE = re.compile(r"\s*[-=+_|:]{3,}[-=+_|: ]*")
_INT_SEPARATORS = re.compile(r"[\s,;|\[\](){}]+")
ORDINAL_ROW_LABEL = (
    r"^\s*(?:the\s+)?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
    r"eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth)\s+row\s*(?:[:=.)\-]|is\b)\s*"
)
"""A row label in words ("First row:", "The second row is"), as models write them."""
_ROW_LABEL = re.compile(
    r"^\s*(?:(?:row|line|r)\s*\d{1,2}\s*[:=.)\-]|\d{1,2}\s*:|\(\d{1,2}\))\s*|" + ORDINAL_ROW_LABEL,
    re.IGNORECASE,
)


_HEADER_TOKENS = re.compile(r"[^\s|,;:]+")
_LABELLED = re.compile(r"^\s*(?:row\s*)?(\d{1,2})\s*(?:[:|.)]|\s)", re.IGNORECASE)


def without_index_header(text: str, cols: int) -> str:
    """``text`` without a first line of column indices (``1 2 3 4`` or ``A B C D``).

    Dropped only when every following line starts with its row number (``1: 4 2 3 1``,
    ``2 | 3 1 2 4``), so a first row that happens to read ``1 2 3 4`` stays.
    """
    lines = [line for line in text.split("\n") if line.strip()]
    if len(lines) < 2:
        return text
    head = _HEADER_TOKENS.findall(lines[0])
    if head not in ([str(c) for c in range(1, cols + 1)], [chr(65 + c) for c in range(cols)]):
        return text
    for i, line in enumerate(lines[1:], 1):
        m = _LABELLED.match(line)
        if m is None or int(m.group(1)) != i:
            return text
    return "\n".join(lines[1:])


def parse_int_grid(text: str, rows: int, cols: int) -> list[list[int]]:
    """Read a ``rows``×``cols`` grid of integers in reading order.

    Separators are free (spaces, commas, newlines, brackets, ``|``), optional ``Row k:``
    labels, a header line of column indices (see :func:`without_index_header`) and ruled
    lines (``---+---``) are ignored; rows of single digits may be run together (``3412``);
    every other token must be an integer, and there must be exactly ``rows * cols`` of
    them (one row per line, or all on one line).
    """
    if not isinstance(text, str):
        raise TypeError("answer must be a string")
    if len(text) > 40 * rows * cols + 200:
        raise ValueError("grid answer too long")
    grid_rows: list[list[int]] = []
    text = without_index_header(text, cols)
    lines = [line for line in text.split("\n") if not _RULE_LINE.fullmatch(line) and line.strip()]
    if len(lines) == rows and all(re.fullmatch(rf"\s*\d{{{cols}}}\s*", line) for line in lines):
        lines = [" ".join(line.strip()) for line in lines]  # rows of single digits run together
    for line in lines:
        if _RULE_LINE.fullmatch(line):
            continue  # a ruled line between rows (---+---)
        tokens = [t for t in _INT_SEPARATORS.split(_ROW_LABEL.sub(" ", line)) if t]
        if not tokens:
            continue
        bad = next((t for t in tokens if not _INT.fullmatch(t) or len(t) > 7), None)
        if bad is not None:
            raise ValueError(f"{bad[:20]!r} is not a number of the grid")
        grid_rows.append([int(t) for t in tokens])
    values = [v for row in grid_rows for v in row]
    if len(values) != rows * cols:
        raise ValueError(f"expected {rows * cols} numbers, found {len(values)}")
    if len(grid_rows) == rows and any(len(row) != cols for row in grid_rows):
        raise ValueError(f"expected rows of {cols} numbers")
    return [values[r * cols : (r + 1) * cols] for r in range(rows)]


_HEDGE = re.compile(r"(?i)\b(?:or|either|maybe|perhaps|possibly|otherwise|alternatively)\b")
_SIGNED = re.compile(r"([+-]?)\s*(\d{1,3}(?:,\d{3})+|\d{1,40})")
_ANY_INT = re.compile(r"\d+")


_REMARK = re.compile(r"(?<=[\w.!?])[ \t]*\(([^()\n]{1,80})\)")


def remarks(text: str) -> list[str]:
    """The parenthesised remarks that follow a word (``PACK (change R to P)``)."""
    return _REMARK.findall(text)


def strip_remarks(text: str) -> str:
    """``text`` without the parenthesised remarks that follow a word.

    A parenthesis right after a word comments on it ("PACK (change R to P)", "Emma: yes
    (truth-teller)"); one that opens an item ("seed, (deed)") is kept. Callers refuse
    hedges ("(or 43)") first with :func:`refuse_hedge`.
    """
    return _REMARK.sub("", text)


def refuse_hedge(text: str, what: str = "answers") -> None:
    """Raise :class:`AmbiguousAnswer` when ``text`` offers alternatives ("3 or 4", "maybe")."""
    from tracemill.pipelines.verify.answers import AmbiguousAnswer

    if _HEDGE.search(text):
        raise AmbiguousAnswer(f"the text offers alternative {what}")


def parse_integer(text: str) -> int:
    """One integer (sign, thousands commas allowed) and nothing else; hedges are ambiguous."""
    if not isinstance(text, str):
        raise TypeError("answer must be a string")
    t = text.strip().removesuffix(".").strip()
    if len(t) > 60:
        raise ValueError("expected one integer")
    m = _SIGNED.fullmatch(t)
    if m:
        return int(m.group(1) + m.group(2).replace(",", ""))
    if len(_ANY_INT.findall(t)) > 1:
        refuse_hedge(t, "numbers")
    raise ValueError(f"expected one integer, got {t[:40]!r}")


def format_grid(grid: Sequence[Sequence[int | str]]) -> str:
    """A grid as text, one row per line, cells separated by spaces."""
    return "\n".join(" ".join(str(v) for v in row) for row in grid)


def count_models(
    clauses: Iterable[Sequence[int]], *, limit: int = 2, project: Sequence[int] | None = None
) -> list[list[int]]:
    """Up to ``limit`` models of a CNF, distinct on the ``project`` variables (all if None).

    Each model after the first is found after blocking the previous one's projection, so
    ``len(result) == 1`` means the projected solution is unique.
    """
    from pysat.solvers import Solver

    models: list[list[int]] = []
    with Solver(name="minisat22", bootstrap_with=[list(c) for c in clauses]) as solver:
        while len(models) < limit and solver.solve():
            model = solver.get_model() or []
            models.append(model)
            keep = set(project) if project is not None else None
            block = [-lit for lit in model if keep is None or abs(lit) in keep]
            if not block:
                break
            solver.add_clause(block)
    return models
