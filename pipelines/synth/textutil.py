"""Shared answer parsing for the logic families: safe arithmetic, lists, grids, SAT counts.

Everything here takes untrusted model output. Functions raise ``ValueError`` on input
they cannot read (the registry maps that to ``invalid_answer``) and bound their work:
inputs are length-capped before parsing and arithmetic refuses huge intermediate values.
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


_LIST_SPLIT = re.compile(r"\s*(?:,|;|\n|\s\|\s)\s*")
_WRAPPERS = "[](){}\"'`"


def normalize_token(token: str) -> str:
    """Lower-case, strip quotes, brackets and trailing punctuation, collapse whitespace."""
    token = token.strip().strip(_WRAPPERS).strip().rstrip(".").strip()
    return " ".join(token.lower().split())


def parse_list(text: str, *, max_items: int = 1000, split_spaces: bool = False) -> list[str]:
    """Split an answer list on commas, semicolons or newlines (or spaces) into tokens.

    Tokens are normalized with :func:`normalize_token`; empty tokens are dropped.
    """
    if not isinstance(text, str):
        raise TypeError("answer must be a string")
    text = text.strip().strip("[]()").strip()
    parts = text.split() if split_spaces else _LIST_SPLIT.split(text)
    if split_spaces:
        parts = [p for raw in parts for p in raw.split(",")]
    tokens = [normalize_token(p) for p in parts]
    tokens = [t for t in tokens if t]
    if len(tokens) > max_items:
        raise ValueError(f"more than {max_items} items")
    return tokens


_INT = re.compile(r"-?\d+")
_ROW_LABEL = re.compile(r"(?i)\brow\s*\d+\s*[:=.)-]")


def parse_int_grid(text: str, rows: int, cols: int) -> list[list[int]]:
    """Read a ``rows``×``cols`` grid of integers in reading order.

    Separators are free (spaces, commas, newlines, brackets, ``|``) and optional ``Row k:``
    labels are ignored; the number of integers must be exactly ``rows * cols``.
    """
    if not isinstance(text, str):
        raise TypeError("answer must be a string")
    if len(text) > 40 * rows * cols + 200:
        raise ValueError("grid answer too long")
    cleaned = _ROW_LABEL.sub(" ", text)
    values = [int(v) for v in _INT.findall(cleaned) if len(v) <= 6]
    if len(values) != rows * cols:
        raise ValueError(f"expected {rows * cols} numbers, found {len(values)}")
    return [values[r * cols : (r + 1) * cols] for r in range(rows)]


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
