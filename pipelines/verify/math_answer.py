r"""The ``math`` verifier: normalisation, then math-verify's parse-then-verify, gold first.

The reference is the problem's ``answer`` (LaTeX, a plain number, an interval, a set, a
tuple, a matrix, a percentage, a number with units; a worked solution gives its boxed
answer). The response's answer is found by
:func:`tracemill.pipelines.verify.math_extract.find_math_answer` in the final part only.
Both are rewritten by :mod:`tracemill.pipelines.verify.math_normalize` and split into
their parts; this module then decides:

- hedging (``ambiguous``): several different boxed answers (one box per part of a
  multi-part reference is fine, and so is the same answer boxed twice), an alternative
  offered next to the box ("\boxed{3} or 4"), several candidates, a range, a ``\pm`` or an
  inequality where the reference is one value, a chain whose numeric members differ
  (``3 = 4``), struck-out or unbalanced ``\left``/``\right`` LaTeX;
- order: parts are compared in order, unless the reference is a set (``\{…\}``, "or",
  ``\pm``) or the question frees the order ("in any order", "find all …", "enter all …");
- percent policy: see :func:`~tracemill.pipelines.verify.math_normalize.percent_variants`;
- decimals: math-verify's match by rounding to ``float_rounding`` places must also hold
  within a relative ``10**-(float_rounding - 1)`` (tiny values are not all 0);
- symbols: a comparison that fails is retried with plain symbols, ``i`` as the imaginary
  unit (math-verify can give one name two sets of assumptions);
- size: answers longer than ``MAX_ANSWER_CHARS`` are ``too_long`` (never compared by a
  prefix); an expression hundreds of characters long for a numeric reference is
  ``invalid_answer``.

This module is the in-process path: math-verify's ``signal.alarm`` timeouts work only
in a main thread (elsewhere they are switched off and the caller must bound the time),
so batch verification runs it inside :class:`tracemill.pipelines.verify.pool.VerifierPool`
workers, whose parent also enforces a hard deadline.

Optional ``verifier_spec`` keys: ``float_rounding`` (int), ``numeric_precision`` (int),
``strict`` (bool), ``allow_set_relation_comp`` (bool).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from tracemill.pipelines.extract import MAX_ANSWER_CHARS, boxed_spans
from tracemill.pipelines.verify.math_extract import (
    MathAnswer,
    find_math_answer,
    last_choice_letter,
)
from tracemill.pipelines.verify.math_normalize import (
    _MATH_WORDS,
    Normalized,
    Shape,
    equation_sides,
    inequality_to_interval,
    is_label,
    looks_like_inequality,
    normalize,
    percent_variants,
    question_allows_any_order,
    same_quantity,
    split_answer,
    split_top_level,
    time_of_day,
)
from tracemill.pipelines.verify.registry import Verdict, register_verifier

log = logging.getLogger(__name__)

MATH_VERSION = "2"
DETAIL_CHARS = 500


@dataclass(frozen=True)
class MathVerifyConfig:
    """Knobs passed to math-verify (frozen: usable as a cache key)."""

    parse_timeout_s: int = 3
    compare_timeout_s: int = 3
    float_rounding: int = 6
    numeric_precision: int = 15
    strict: bool = True
    allow_set_relation_comp: bool = False


DEFAULT_CONFIG = MathVerifyConfig()
_SPEC_KEYS = {
    "parse_timeout_s": int,
    "compare_timeout_s": int,
    "float_rounding": int,
    "numeric_precision": int,
    "strict": bool,
    "allow_set_relation_comp": bool,
}
_LATEX_MARKERS = ("$", "\\(", "\\[", "\\boxed")
_BARE_PERCENT = re.compile(r"(?<!\\)%")


class _Timeout(Exception):
    """math-verify ran out of time (its TimeoutException derives from BaseException)."""


def config_from_spec(
    spec_text: str | None, base: MathVerifyConfig = DEFAULT_CONFIG
) -> MathVerifyConfig:
    """Apply the recognised keys of a problem's ``verifier_spec`` JSON to `base`."""
    if not spec_text:
        return base
    try:
        spec = json.loads(spec_text)
    except (TypeError, ValueError):
        log.debug("ignoring unparsable math verifier_spec")
        return base
    if not isinstance(spec, dict):
        return base
    changes = {k: t(spec[k]) for k, t in _SPEC_KEYS.items() if k in spec}
    return replace(base, **changes) if changes else base


def as_latex(text: str) -> str:
    """Wrap a bare answer in ``$…$`` so math-verify's LaTeX extractor sees all of it."""
    text = text.strip()
    if any(m in text.replace("\\$", "") for m in _LATEX_MARKERS):
        return text
    # an escaped dollar is currency, not a math delimiter; a bare % would start a comment
    return "$" + _BARE_PERCENT.sub(r"\\%", text.replace("\\$", "")) + "$"


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@lru_cache(maxsize=1)
def _extraction_config() -> list[Any]:
    """math-verify's extraction, less its unit stripping.

    math-verify drops a trailing unit-like word, including one-letter ones ("2t" → 2,
    "x + 2t" → x + 2): a false accept wherever the letter is a variable. Units are
    dropped by :mod:`~tracemill.pipelines.verify.math_normalize` instead, which knows a
    variable from a unit.
    """
    from latex2sympy2_extended.latex2sympy2 import NormalizationConfig
    from math_verify import ExprExtractionConfig, LatexExtractionConfig

    norm = NormalizationConfig(
        basic_latex=True, units=False, malformed_operators=True, nits=True, boxed="all",
        equations=False,
    )  # fmt: skip
    return [LatexExtractionConfig(normalization_config=norm), ExprExtractionConfig()]


def _parse(text: str, timeout_s: int | None) -> list[Any]:
    from math_verify import parse
    from math_verify.errors import TimeoutException

    try:
        return list(
            parse(
                text,
                extraction_config=_extraction_config(),
                parsing_timeout=timeout_s,  # type: ignore[arg-type]
                raise_on_error=True,
            )
        )
    except TimeoutException as e:
        raise _Timeout("parse") from e
    except Exception:  # noqa: BLE001 - unparsable text is an answer that matches nothing
        log.debug("math-verify could not parse %.80r", text)
        return []


@lru_cache(maxsize=2048)
def _parse_gold(reference: str, timeout_s: int | None) -> tuple[Any, ...]:
    """Parsed reference (cached: many samples share one problem)."""
    gold = _parse(as_latex(reference), timeout_s)
    if not gold:
        gold = _parse(reference, timeout_s)
    return tuple(gold) if gold else (reference.strip(),)


def _equivalent(
    gold: tuple[Any, ...], pred: list[Any], cfg: MathVerifyConfig, timeout_s: int | None
) -> bool:
    """True when any (gold, pred) pair matches; raises _Timeout when none did and one timed out."""
    from math_verify import verify
    from math_verify.errors import TimeoutException

    timed_out = False
    for g in gold:
        for p in pred:
            pairs = [(g, p)]
            relaxed = _relaxed_symbols(g, p)
            if relaxed is not None:
                pairs.append(relaxed)
            for a, b in pairs:
                try:
                    if verify(
                        a,
                        b,
                        float_rounding=cfg.float_rounding,
                        numeric_precision=cfg.numeric_precision,
                        strict=cfg.strict,
                        allow_set_relation_comp=cfg.allow_set_relation_comp,
                        timeout_seconds=timeout_s,
                        raise_on_error=True,
                    ) and _close_enough(a, b, cfg.float_rounding):
                        return True
                except TimeoutException:
                    timed_out = True
                except Exception:  # noqa: BLE001 - a failed comparison is a non-match
                    log.debug("math-verify comparison failed", exc_info=True)
    if timed_out:
        raise _Timeout("verify")
    return False


def _relaxed_symbols(gold: Any, pred: Any) -> tuple[Any, Any] | None:
    r"""Both sides with plain symbols (and ``i`` as the imaginary unit when both use it).

    math-verify sometimes gives one symbol different assumptions on the two sides
    (``1 - 2i`` has a real ``i``, ``1-2 i`` a non-real one), and then ``x - x`` is not
    zero. ``i`` used on both sides (or on one side against a plain number) is the
    imaginary unit: ``i(2-i)`` is ``1+2i`` and ``e^{i\pi}`` is ``-1``. ``None`` when neither
    applies (nothing to retry).
    """
    from sympy import Basic, I, Symbol
    from sympy.matrices import MatrixBase

    if not isinstance(gold, (Basic, MatrixBase)) or not isinstance(pred, (Basic, MatrixBase)):
        return None
    g_syms = {s for s in gold.free_symbols if isinstance(s, Symbol)}
    p_syms = {s for s in pred.free_symbols if isinstance(s, Symbol)}
    g_names, p_names = {s.name for s in g_syms}, {s.name for s in p_syms}
    # i on both sides, or on one side against a plain number, is the imaginary unit
    imaginary = ("i" in g_names or not g_names) and ("i" in p_names or not p_names)
    imaginary = imaginary and ("i" in g_names or "i" in p_names)
    clash = any(a.name == b.name and a != b for a in g_syms for b in p_syms)
    if not imaginary and not clash:
        return None

    def plain(expr: Any, syms: set[Any]) -> Any:
        mapping = {s: I if imaginary and s.name == "i" else Symbol(s.name) for s in syms}
        return expr.xreplace(mapping)

    return plain(gold, g_syms), plain(pred, p_syms)


def _close_enough(gold: Any, pred: Any, float_rounding: int) -> bool:
    """Relative agreement of a decimal that math-verify matched by rounding.

    math-verify rounds a decimal to ``float_rounding`` places, so every value below
    ``5e-7`` equals 0 and ``1e-8`` equals ``2e-8``. A decimal must also agree within a
    relative ``10**-(float_rounding - 1)`` (``0.333333`` still matches ``1/3``).
    """
    from sympy import Float

    if not (isinstance(gold, Float) or isinstance(pred, Float)):
        return True
    try:
        a, b = complex(gold.evalf()), complex(pred.evalf())
    except (TypeError, ValueError, AttributeError):
        return True
    if a == b:
        return True
    return abs(a - b) <= 10.0 ** -max(float_rounding - 1, 0) * max(abs(a), abs(b))


_CHOICE_REF = re.compile(r"^\(?([A-J])\)?\.?$|^\(([A-J])\)\s*\S.*$|^([A-J])[.)]\s+\S.*$")
_CHOICE_PRED = re.compile(
    r"^\(?([A-Ja-j])\)?[.:]?$|^\(([A-J])\)\s+(?!.*\b(?:or|and)\b)\S.*$"
    r"|^([A-J])\s*[:.)]\s*(?!.*\b(?:or|and)\b)\S.*$"
    r"|^(?:[Oo]ption|[Cc]hoice|[Aa]nswer)\s*\(?([A-J])\)?[.:]?$"
)
_PROSE_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}(?![A-Za-z])")
_EXCLUSION = re.compile(r"^(?:but\s+|and\s+)?not\b", re.IGNORECASE)
_LETTERS = re.compile(r"(?<![A-Za-z])[A-J](?![A-Za-z])")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_DECIMAL_COMMA = re.compile(r"^-?(?:0,\d+|[1-9]\d*,(?!\d{3}$)\d+)$")
"""``2,74`` / ``0,111``: a decimal comma (policy: read as one only against a decimal)."""
_TEXT = re.compile(r"^[A-Za-z][A-Za-z '\-.]*$")
_NUMERIC_MEMBER = re.compile(r"^[\d\s.+\-*/^(){}\[\]]*$")
_LATEX_NUMERIC_CMDS = re.compile(r"\\(?:frac|sqrt|pi|cdot|times|div)(?![A-Za-z])")
_COLLECTION_HINTS = re.compile(
    r"\\ldots|\\mathbb|\\begin\{cases\}|\\forall|\\mid|\\setminus|"
    r"\b(?:all|any|every)\s+(?:real|integers?|numbers?|values?)|\bintegers?\b"
)
_DEGREE_IN_TRIG = re.compile(
    r"\\(?:sin|cos|tan|sec|csc|cot)(?![A-Za-z]).*(?:\\circ|\\degree|°)", re.DOTALL
)
_NUMERIC_LITERAL = re.compile(
    r"^-?(?:\d+(?:\.\d+)?|\.\d+|\d+/\d+|\\frac\{-?\d+\}\{\d+\})(?:\s*\\%)?$"
)
HUGE_MIN_CHARS = 160
HUGE_RATIO = 20
"""An answer to a numeric reference longer than both of these is no answer (``invalid_answer``)."""
MAX_ITEMS = 64
"""Collections with more parts are compared whole by math-verify."""


def _is_text(s: str) -> bool:
    """A word answer ("Evelyn", "odd", "yes"): compared as text, never as symbols."""
    if not _TEXT.match(s):
        return False
    words = re.findall(r"[A-Za-z]+", s)
    return any(len(w) >= 3 and w.lower() not in _MATH_WORDS for w in words)


def _text_key(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.casefold()).strip()


class _Ctx:
    """One comparison: config, timeouts and the question's wording."""

    def __init__(self, cfg: MathVerifyConfig, question: str | None) -> None:
        main = _in_main_thread()
        self.cfg = cfg
        self.parse_t = cfg.parse_timeout_s if main else None
        self.cmp_t = cfg.compare_timeout_s if main else None
        self.any_order = question_allows_any_order(question)


class _Ambiguous(Exception):
    """The answer offers several different values where one is asked for."""


@lru_cache(maxsize=4096)
def _parse_pred(pred: str, timeout_s: int | None) -> tuple[Any, ...]:
    """Parsed prediction (cached: parts of lists are compared many times)."""
    return tuple(_parse(as_latex(pred), timeout_s)) or (pred.strip(),)


def _mv_equal(gold: str, pred: str, ctx: _Ctx) -> bool:
    """math-verify on two normalised answers (gold first)."""
    parsed_gold = _parse_gold(gold, ctx.parse_t)
    parsed_pred = list(_parse_pred(pred, ctx.parse_t))
    return _equivalent(parsed_gold, parsed_pred, ctx.cfg, ctx.cmp_t)


def _reduce_chain(text: str, ctx: _Ctx, check: bool = True) -> str:
    """``a = b = c``: check the numeric members agree, keep ``first = last`` or ``last``."""
    members = [m for m in split_top_level(text, ("=",)) if m]
    if len(members) < 2:
        return text
    if not check:
        if len(members) == 2:
            return text
        first_numeric = re.search(r"\d", members[0]) and not re.search(r"[A-Za-z]", members[0])
        return members[-1] if first_numeric else f"{members[0]} = {members[-1]}"
    numeric = [
        m
        for m in members
        if _NUMERIC_MEMBER.match(_LATEX_NUMERIC_CMDS.sub("", m).replace("\\", ""))
        and re.search(r"\d", m)
    ]
    if len(numeric) >= 2:
        last = numeric[-1]
        for other in numeric[:-1]:
            if not _mv_equal(last, other, ctx):
                raise _Ambiguous(f"contradictory equation chain: {other} = {last}")
    if len(members) == 2:
        return text if not numeric or len(numeric) < 2 else members[-1]
    first = members[0]
    return members[-1] if first in numeric else f"{first} = {members[-1]}"


def _scalar_equal(ref: Normalized, pred: Normalized, ctx: _Ctx) -> bool:
    """Two single answers: percent policy, chains, inequalities, then math-verify."""
    r, p = ref.text, pred.text
    if r == p and ref.percent == pred.percent:
        return True
    if "=" in p and "\\approx" not in p:
        p = _reduce_chain(p, ctx)
    if "=" in r and "\\approx" not in r:
        r = _reduce_chain(r, ctx, check=False)
    r_ineq, p_ineq = looks_like_inequality(r), looks_like_inequality(p)
    if r_ineq or p_ineq:
        if r_ineq and p_ineq and _mv_equal(r, p, ctx):
            return True
        r_int = inequality_to_interval(r) if r_ineq else None
        p_int = inequality_to_interval(p) if p_ineq else None
        if r_int is not None or p_int is not None:
            return _mv_equal(r_int or r, p_int or p, ctx)
    golds = percent_variants(r) if ref.percent else [r]
    preds = percent_variants(p) if pred.percent else [p]
    if ref.percent and pred.percent:
        golds, preds = golds[:1], preds[:1]
    if any(_mv_equal(g, q, ctx) for g in golds for q in preds):
        return True
    return _equation_equal(r, p, ctx)


def _equation_equal(r: str, p: str, ctx: _Ctx) -> bool:
    r"""Equations whose left sides name the answer: compare what they say it is.

    ``I_{\max} = E`` against ``E`` (a name math-verify cannot parse), ``f(x) = E`` against
    ``y = E`` (one function, two names), and ``L = E1`` against ``L = E2``. ``x = 2`` is
    never ``y = 2``.
    """
    r_sides, p_sides = equation_sides(r), equation_sides(p)
    if r_sides and p_sides:
        if same_quantity(r_sides[0], p_sides[0]):
            return _equal(r_sides[1], p_sides[1], ctx, depth=1)
        return False
    if r_sides and is_label(r_sides[0]):
        return _equal(r_sides[1], p, ctx, depth=1)
    if p_sides and is_label(p_sides[0]):
        return _equal(r, p_sides[1], ctx, depth=1)
    return False


def _choice(ref: str, pred: str) -> bool | None:
    """Multiple choice: the letters must match (``None`` when the reference is no choice)."""
    m = _CHOICE_REF.match(ref)
    if not m:
        return None
    if pred.strip().upper() == ref.strip().upper():
        return True
    if len(set(re.findall(r"(?<![A-Za-z])[A-J](?![A-Za-z])", pred))) >= 2:
        raise _Ambiguous("several choices")
    p = _CHOICE_PRED.match(pred.strip())
    letter = next(g for g in m.groups() if g)
    return bool(p) and next(g for g in p.groups() if g).upper() == letter


def _single_value(shape: Shape, norm: Normalized) -> bool:
    """True when the reference is one value (not a collection, interval or relation)."""
    return (
        shape.kind == "scalar"
        and "\\pm" not in norm.text
        and "\\mp" not in norm.text
        and not looks_like_inequality(norm.text)
        and not _COLLECTION_HINTS.search(norm.text)
    )


def _hedge(ref_shape: Shape, ref: Normalized, pred_shape: Shape, pred: Normalized,
           ctx: _Ctx) -> str | None:  # fmt: skip
    """Why `pred` offers several values where the reference is one (``None`` if it does not)."""
    if not _single_value(ref_shape, ref):
        return None
    p = pred.text
    if pred_shape.kind in ("seq", "set") and len(pred_shape.items) >= 2:
        kept = [i for i in pred_shape.items if not _EXCLUSION.match(i)]
        if len(kept) == 1:
            return None  # "4, not 3" states one value
        first = normalize(pred_shape.items[0])
        for item in pred_shape.items[1:]:
            if not _equal(first.text, normalize(item).text, ctx, depth=1):
                return f"{len(pred_shape.items)} candidate answers"
        return None
    if pred_shape.kind in ("interval", "union"):
        return "an interval of candidates"
    if "\\pm" in p or "\\mp" in p:
        return "a \\pm answer"
    if _COLLECTION_HINTS.search(p):
        return "a set or range of candidates"
    if looks_like_inequality(p) and not re.search(r"\\approx", p):
        return "an inequality, not a value"
    return None


def _compatible_brackets(r: Shape, p: Shape) -> bool:
    """Intervals and bracketed pairs must keep their bracket kinds."""
    if r.kind == "set" or p.kind == "set":
        return True
    if not r.open and not p.open:
        return True
    if not r.open or not p.open:
        # a bare list matches a tuple, not an interval with a closed end
        bracketed = r if r.open else p
        return not (
            len(bracketed.items) == 2
            and (bracketed.open + bracketed.close != "()" or "\\infty" in "".join(bracketed.items))
        )
    return (
        (r.open, r.close) == (p.open, p.close)
        or {r.open, p.open} <= {"(", "["}
        and (
            len(r.items) > 2
            and r.open + r.close in ("()", "[]")
            and p.open + p.close in ("()", "[]")
        )
    )


def _match_unordered(refs: list[str], preds: list[str], ctx: _Ctx) -> bool:
    """Every reference part matched by a different predicted part (augmenting paths)."""
    n = len(refs)
    adj = [[j for j, q in enumerate(preds) if _equal(r, q, ctx, depth=1)] for r in refs]
    owner: dict[int, int] = {}

    def assign(i: int, seen: set[int]) -> bool:
        for j in adj[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or assign(owner[j], seen):
                owner[j] = i
                return True
        return False

    return all(assign(i, set()) for i in range(n))


def _many(shape: Shape) -> bool:
    return shape.kind in ("seq", "set") and len(shape.items) >= 2


def _equal(reference: str, answer: str, ctx: _Ctx, depth: int = 0) -> bool:
    """Equivalence of a reference answer and a predicted answer (may raise _Ambiguous)."""
    ref, pred = normalize(reference), normalize(answer)
    if pred.malformed:
        raise _Ambiguous(pred.malformed)
    if not pred.text:
        return False
    if ref.text == pred.text and ref.percent == pred.percent:
        return True
    if re.search(r"\d", ref.text) and not re.search(r"[A-Za-z]", ref.text):
        pred = normalize(answer, letter_units=True)  # a numeric reference: "5 m" is 5 metres
    if _DECIMAL_COMMA.match(ref.text) and _DECIMAL.match(pred.text):
        ref = Normalized(ref.text.replace(",", "."), ref.percent)
    elif _DECIMAL_COMMA.match(pred.text) and _DECIMAL.match(ref.text):
        pred = Normalized(pred.text.replace(",", "."), pred.percent)
    choice = _choice(ref.text, pred.text)
    if choice is not None:
        return choice
    r_time, p_time = time_of_day(reference), time_of_day(answer)
    if r_time and p_time and (r_time[1] or p_time[1]):
        return r_time[0] == p_time[0]  # 20:34 is 08:34 p.m. and 20:34:00
    if _is_text(ref.text) or _is_text(pred.text):
        if _is_text(ref.text) and _is_text(pred.text):
            return _text_key(ref.text) == _text_key(pred.text)
        if _is_text(ref.text):
            return False
    r_shape, p_shape = split_answer(ref.text), split_answer(pred.text)
    if _many(r_shape) != _many(p_shape):
        # "100,200" against a two-part answer: read the commas as separators, not thousands
        if _many(r_shape) and "," in answer:
            pred = normalize(answer, comma_thousands=False, letter_units=True)
            p_shape = split_answer(pred.text)
        elif _many(p_shape) and "," in reference:
            ref = normalize(reference, comma_thousands=False)
            r_shape = split_answer(ref.text)
    if depth == 0:
        why = _hedge(r_shape, ref, p_shape, pred, ctx)
        if why:
            raise _Ambiguous(why)
    r_many = r_shape.kind in ("seq", "set") and len(r_shape.items) >= 2
    p_many = p_shape.kind in ("seq", "set") and len(p_shape.items) >= 2
    if looks_like_inequality(ref.text) != looks_like_inequality(pred.text):
        return _scalar_equal(ref, pred, ctx)  # an inequality against an interval
    if (r_many or p_many) and depth < 3:
        if "\\pm" in ref.text or "\\pm" in pred.text:
            return _scalar_equal(ref, pred, ctx)
        if not (r_many and p_many):
            kept = [i for i in p_shape.items if not _EXCLUSION.match(i)]
            if p_many and len(kept) == 1 and _single_value(r_shape, ref):
                return _equal(reference, kept[0], ctx, depth + 1)  # "4, not 3"
            if p_many and _single_value(r_shape, ref):
                return _equal(reference, p_shape.items[0], ctx, depth + 1)  # "4, 4": one value
            return False  # one value against several
        if len(r_shape.items) != len(p_shape.items):
            return False
        if len(r_shape.items) > MAX_ITEMS:
            return _scalar_equal(ref, pred, ctx)
        if not _compatible_brackets(r_shape, p_shape):
            return False
        unordered = r_shape.kind == "set" or (ctx.any_order and not r_shape.open)
        refs, preds = list(r_shape.items), list(p_shape.items)
        if unordered:
            return _match_unordered(refs, preds, ctx)
        return all(_equal(a, b, ctx, depth + 1) for a, b in zip(refs, preds, strict=True))
    if r_shape.kind == "set" and p_shape.kind == "scalar" and len(r_shape.items) == 1:
        return _equal(r_shape.items[0], pred.text, ctx, depth + 1)
    if p_shape.kind == "set" and r_shape.kind == "scalar" and len(p_shape.items) == 1:
        return _equal(ref.text, p_shape.items[0], ctx, depth + 1)
    if _scalar_equal(ref, pred, ctx):
        return True
    if _DEGREE_IN_TRIG.search(reference) or _DEGREE_IN_TRIG.search(answer):
        # sin(90° - x) is cos x: read angles inside trig functions as degrees
        return _scalar_equal(normalize(reference, trig_degrees=True),
                             normalize(answer, trig_degrees=True), ctx)  # fmt: skip
    return False


def _huge_for(reference: str, answer: str) -> str | None:
    r"""Why `answer` is no way to write a plain number (``None`` when it is fine).

    Against a numeric reference, an answer hundreds of characters long is not a way of
    writing that number: it is an expression built to simplify to it (a restated problem,
    ``4 + 0\cdot(\dots)``), which a reward must not pay for.
    """
    ref = normalize(reference).text
    if not _NUMERIC_LITERAL.match(ref):
        return None
    pred = normalize(answer).text
    limit = max(HUGE_MIN_CHARS, HUGE_RATIO * len(ref))
    if len(pred) > limit:
        return f"a {len(pred)}-character expression for a number ({limit} allowed)"
    return None


def compare_answers(
    reference: str | None,
    answer: str | None,
    cfg: MathVerifyConfig = DEFAULT_CONFIG,
    question: str | None = None,
) -> Verdict:
    """Compare one extracted answer with the reference (the answer-level math verdict).

    Reasons: ``ok``, ``wrong``, ``ambiguous`` (several different values where one is
    asked for, a contradictory chain like ``3 = 4``, struck-out or unbalanced LaTeX),
    ``too_long`` (over :data:`MAX_ANSWER_CHARS`, never cut to a prefix), ``no_answer``,
    ``no_reference``, ``timeout``.
    """
    if reference is None or not str(reference).strip():
        return Verdict(False, 0.0, "no_reference", {"extracted": None})
    reference = str(reference)
    detail: dict[str, Any] = {"extracted": answer[:DETAIL_CHARS] if answer else None}
    if answer is None or not answer.strip():
        return Verdict(False, 0.0, "no_answer", detail)
    if len(reference) > MAX_ANSWER_CHARS or len(answer) > MAX_ANSWER_CHARS:
        side = "reference" if len(reference) > MAX_ANSWER_CHARS else "answer"
        detail["error"] = f"{side} longer than {MAX_ANSWER_CHARS} characters"
        return Verdict(False, 0.0, "too_long", detail)
    ref_text = reference_answer(reference)
    huge = _huge_for(ref_text, answer)
    if huge:
        detail["error"] = huge
        return Verdict(False, 0.0, "invalid_answer", detail)
    ctx = _Ctx(cfg, question)
    try:
        ok = _equal(ref_text, answer, ctx)
    except _Ambiguous as e:
        detail["error"] = str(e)
        return Verdict(False, 0.0, "ambiguous", detail)
    except _Timeout as e:
        detail["error"] = f"math-verify timed out during {e}"
        return Verdict(False, 0.0, "timeout", detail)
    return Verdict(ok, 1.0 if ok else 0.0, "ok" if ok else "wrong", detail)


def reference_answer(reference: str) -> str:
    """The answer a reference states: its boxes (joined) when it is a worked solution."""
    spans = boxed_spans(reference)
    if spans:
        contents = [s[2] for s in spans]
        return contents[0] if len(set(contents)) == 1 else ", ".join(contents)
    if len(reference) > 200 and len(_PROSE_WORD.findall(reference)) >= 12:
        found = find_math_answer(reference)
        if found.answer:
            return found.answer
    return reference


def _resolve_boxes(found: MathAnswer, reference: str, ctx: _Ctx) -> str:
    """One answer from several boxes, or raise _Ambiguous when they disagree."""
    last = found.answer or ""
    distinct: list[str] = []
    for b in found.boxes:
        if b and b not in distinct:
            distinct.append(b)
    others = [b for b in distinct if b != last and not _equal(last, b, ctx, depth=1)]
    if not others:
        return last
    ref_shape = split_answer(normalize(reference_answer(reference)).text)
    if len(ref_shape.items) == len(found.boxes) >= 2 and all(
        split_answer(normalize(b).text).kind == "scalar" for b in found.boxes
    ):
        return ", ".join(found.boxes)  # one box per part of a multi-part answer
    last_shape = split_answer(normalize(last).text)
    if len(last_shape.items) >= 2 and all(
        any(_equal(item, b, ctx, depth=1) for item in last_shape.items) for b in others
    ):
        return last  # the parts first, then the whole
    raise _Ambiguous(f"{len(distinct)} different boxed answers")


def check_math(
    reference: str | None,
    response: str,
    cfg: MathVerifyConfig = DEFAULT_CONFIG,
    question: str | None = None,
) -> Verdict:
    """Verify `response` against a reference answer (the work behind the ``math`` verifier)."""
    if reference is None or not str(reference).strip():
        return Verdict(False, 0.0, "no_reference", {"extracted": None})
    found = find_math_answer(response)
    detail: dict[str, Any] = {
        "extracted": found.answer[:DETAIL_CHARS] if found.answer else None,
        "method": found.method,
    }
    if found.truncated:
        detail["error"] = f"answer longer than {MAX_ANSWER_CHARS} characters"
        return Verdict(False, 0.0, "too_long", detail)
    choice = _CHOICE_REF.match(normalize(reference_answer(str(reference))).text)
    stated = normalize(found.answer).text if found.answer else ""
    if choice and not _CHOICE_PRED.match(stated) and not _LETTERS.search(stated):
        letter = last_choice_letter(response, next(g for g in choice.groups() if g))
        if letter is not None and found.method not in ("boxed", "tag"):
            found = MathAnswer(letter, "choice")
            detail.update(extracted=letter, method="choice")
    if found.answer is None or not found.answer.strip():
        return Verdict(False, 0.0, "no_answer", detail)
    answer = found.answer
    ctx = _Ctx(cfg, question)
    try:
        if len(found.boxes) > 1:
            answer = _resolve_boxes(found, str(reference), ctx)
            detail["extracted"] = answer[:DETAIL_CHARS]
        if found.nearby and not _equal(answer, found.nearby, ctx, depth=1):
            raise _Ambiguous(f"an alternative next to the boxed answer: {found.nearby[:80]}")
    except _Ambiguous as e:
        detail["error"] = str(e)
        return Verdict(False, 0.0, "ambiguous", detail)
    except _Timeout as e:
        detail["error"] = f"math-verify timed out during {e}"
        return Verdict(False, 0.0, "timeout", detail)
    verdict = compare_answers(reference, answer, cfg, question)
    return replace(verdict, detail={**detail, **verdict.detail})


@register_verifier("math", MATH_VERSION)
def verify_math(problem: Mapping[str, Any], response: str) -> Verdict:
    """Math answer equivalence with math-verify (parse then verify, gold first)."""
    cfg = config_from_spec(problem.get("verifier_spec"))
    question = problem.get("question")
    return check_math(
        problem.get("answer"), response, cfg, question if isinstance(question, str) else None
    )
