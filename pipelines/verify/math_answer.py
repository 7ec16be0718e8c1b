r"""The ``math`` verifier: math-verify's parse-then-verify, gold first.

The reference is the problem's ``answer`` (LaTeX, a plain number, an interval, a set, a
tuple, a matrix, a percentage, a number with units). The response's answer is taken by
:func:`tracemill.pipelines.extract.extract_answer` (``\boxed{}``, ``<answer>``, "final answer:"),
falling back to math-verify's own extraction over the end of the final part.

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

from tracemill.pipelines.extract import MAX_ANSWER_CHARS, extract_answer, final_part
from tracemill.pipelines.verify.registry import Verdict, register_verifier

log = logging.getLogger(__name__)

MATH_VERSION = "1"
FALLBACK_TAIL_CHARS = 4000
"""Without an explicit answer, math-verify searches only this much of the final part."""
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


def _parse(text: str, timeout_s: int | None) -> list[Any]:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse
    from math_verify.errors import TimeoutException

    try:
        return list(
            parse(
                text,
                extraction_config=[LatexExtractionConfig(), ExprExtractionConfig()],
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
            try:
                if verify(
                    g,
                    p,
                    float_rounding=cfg.float_rounding,
                    numeric_precision=cfg.numeric_precision,
                    strict=cfg.strict,
                    allow_set_relation_comp=cfg.allow_set_relation_comp,
                    timeout_seconds=timeout_s,
                    raise_on_error=True,
                ):
                    return True
            except TimeoutException:
                timed_out = True
            except Exception:  # noqa: BLE001 - a failed comparison is a non-match
                log.debug("math-verify comparison failed", exc_info=True)
    if timed_out:
        raise _Timeout("verify")
    return False


def check_math(
    reference: str | None, response: str, cfg: MathVerifyConfig = DEFAULT_CONFIG
) -> Verdict:
    """Verify `response` against a reference answer (the work behind the ``math`` verifier)."""
    if reference is None or not str(reference).strip():
        return Verdict(False, 0.0, "no_reference", {"extracted": None})
    main = _in_main_thread()
    parse_t = cfg.parse_timeout_s if main else None
    cmp_t = cfg.compare_timeout_s if main else None
    extraction = extract_answer(response)
    detail: dict[str, Any] = {
        "extracted": extraction.answer[:DETAIL_CHARS] if extraction.answer else None,
        "method": extraction.method,
    }
    try:
        gold = _parse_gold(str(reference)[:MAX_ANSWER_CHARS], parse_t)
        if extraction.answer is not None:
            pred = _parse(as_latex(extraction.answer), parse_t) or [extraction.answer.strip()]
        else:
            tail = final_part(response)[-FALLBACK_TAIL_CHARS:]
            pred = _parse(tail, parse_t) if tail else []
            if not pred:
                return Verdict(False, 0.0, "no_answer", detail)
            found = next((p for p in pred if isinstance(p, str)), None)
            detail.update(extracted=(found or "")[:DETAIL_CHARS] or None, method="math_verify")
        ok = _equivalent(gold, pred, cfg, cmp_t)
    except _Timeout as e:
        detail["error"] = f"math-verify timed out during {e}"
        return Verdict(False, 0.0, "timeout", detail)
    return Verdict(ok, 1.0 if ok else 0.0, "ok" if ok else "wrong", detail)


@register_verifier("math", MATH_VERSION)
def verify_math(problem: Mapping[str, Any], response: str) -> Verdict:
    """Math answer equivalence with math-verify (parse then verify, gold first)."""
    cfg = config_from_spec(problem.get("verifier_spec"))
    return check_math(problem.get("answer"), response, cfg)
