r"""Rule verifiers: ``exact``, ``normalized``, ``choice`` and ``numeric``.

All read the response's answer with the shared structured-answer layer
(:func:`tracemill.pipelines.verify.answers.read_answer`), so hedges such as
``\boxed{3} or \boxed{4}`` are ``ambiguous`` and an answer that is there but unreadable
is ``format``; nothing readable is ``no_answer``. ``exact`` and ``normalized`` compare
free-form strings, so for them answer tags decide when present, else ``\boxed{}``, else a
cue line ("Final answer: …"), else a final part that is one short line (models often
reply with just the answer). ``choice`` and ``numeric`` have strict parsers and read
every layout the layer knows (bold, "The answer is …", tables, fences …).

- ``exact``: the answer equals the reference after stripping outer whitespace.
- ``normalized``: equal after :func:`normalize_text` (case, whitespace, punctuation,
  light LaTeX: ``$``, ``\text{}``, ``\left``/``\right``, spacing commands).
  Spec ``{"aliases": [...]}`` adds accepted references.
- ``choice``: multiple choice. Spec ``{"options": [...]}`` (labels A, B, …) or
  ``{"options": {"A": "...", ...}}``; the reference is a label or an option's text;
  the response may give the label (``B``, ``(B)``, ``\text{B}``, "option B") or the
  option's text. More than one label named is ``ambiguous``.
- ``numeric``: numbers within ``rel_tol`` (default 1e-6) / ``abs_tol`` (default 1e-9)
  from the spec; accepts thousands separators, ``%``, ``$``, fractions ``a/b`` and
  ``\frac{a}{b}``, ``×10^{k}``. An unreadable answer is ``format``.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from tracemill.pipelines.verify.answers import AmbiguousAnswer, Reading, read_answer
from tracemill.pipelines.verify.registry import Verdict, register_verifier

RULES_VERSION = "3"
_NAMED_LABEL_WORDS = 6
"""A label is picked out of a text ("I pick B") only when the text is this short."""

_TEXT_CMD = re.compile(r"\\(?:text|textbf|textrm|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_SPACING = re.compile(r"\\[,;:! ]|\\q?quad|~")
_LEFT_RIGHT = re.compile(r"\\(?:left|right)\b")
_DROP = re.compile(r"[,;:!?'\"`“”‘’]")
_LONE_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_WS = re.compile(r"\s+")


def spec_of(problem: Mapping[str, Any]) -> dict[str, Any]:
    """The problem's ``verifier_spec`` as a dict (empty when absent or not an object)."""
    text = problem.get("verifier_spec")
    if not text:
        return {}
    try:
        spec = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return spec if isinstance(spec, dict) else {}


def normalize_text(text: str) -> str:
    """Lower-case, strip light LaTeX and punctuation, collapse whitespace."""
    out = text.replace("\\$", "").replace("$", "")
    for _ in range(3):  # nested \text{\textbf{..}}
        out = _TEXT_CMD.sub(r"\1", out)
    out = _SPACING.sub(" ", out)
    out = _LEFT_RIGHT.sub("", out)
    out = _DROP.sub("", out)
    out = _LONE_DOT.sub("", out)
    return _WS.sub(" ", out).strip().lower()


def _verdict(ok: bool, detail: dict[str, Any]) -> Verdict:
    return Verdict(ok, 1.0 if ok else 0.0, "ok" if ok else "wrong", detail)


def _start(
    problem: Mapping[str, Any],
    response: str,
    parse: Callable[[str], Any],
    *,
    loose: bool = False,
) -> tuple[Reading[Any], Verdict | None]:
    """Shared opening: reference check, then the answer read with ``parse``."""
    reference = problem.get("answer")
    reading = read_answer(response, parse, loose=loose)
    if reference is None or not str(reference).strip():
        return reading, Verdict(False, 0.0, "no_reference", reading.detail)
    if not reading.ok:
        return reading, Verdict(False, 0.0, reading.status, reading.detail)
    return reading, None


@register_verifier("exact", RULES_VERSION)
def verify_exact(problem: Mapping[str, Any], response: str) -> Verdict:
    """The extracted answer equals the reference (outer whitespace ignored)."""
    reading, early = _start(problem, response, str.strip, loose=True)
    if early is not None:
        return early
    return _verdict(reading.value == str(problem["answer"]).strip(), reading.detail)


@register_verifier("normalized", RULES_VERSION)
def verify_normalized(problem: Mapping[str, Any], response: str) -> Verdict:
    """Case-, whitespace-, punctuation- and light-LaTeX-insensitive string match."""
    reading, early = _start(problem, response, normalize_text, loose=True)
    if early is not None:
        return early
    aliases = spec_of(problem).get("aliases") or []
    refs = [str(problem["answer"]), *(str(a) for a in aliases if a is not None)]
    got = reading.value
    return _verdict(bool(got) and any(got == normalize_text(r) for r in refs), reading.detail)


# --- multiple choice ---------------------------------------------------------------

_LABEL_WRAPPED = re.compile(
    r"^(?:the\s+)?(?:answer\s*(?:is)?\s*:?\s*)?(?:option|choice)?\s*[(\[]?\s*([a-z])\s*[)\]]?[.:]?$",
    re.IGNORECASE,
)


def _options(spec: Mapping[str, Any]) -> dict[str, str]:
    raw = spec.get("options") or spec.get("choices") or []
    if isinstance(raw, dict):
        return {str(k).strip().upper(): str(v) for k, v in raw.items()}
    return {string.ascii_uppercase[i]: str(v) for i, v in enumerate(raw[:26])}


def _label_of(text: str, options: Mapping[str, str]) -> tuple[str | None, bool]:
    """(label, ambiguous): the option a short text names, by label or by option text."""
    plain = text.replace("$", "")
    for _ in range(3):
        plain = _TEXT_CMD.sub(r"\1", plain)
    plain = plain.strip()
    labels = set(options) or set(string.ascii_uppercase[:10])
    m = _LABEL_WRAPPED.match(plain)
    if m and m.group(1).upper() in labels:
        return m.group(1).upper(), False
    norm = normalize_text(plain)
    for label, option in options.items():
        if norm and norm == normalize_text(option):
            return label, False
    if len(plain.split()) > _NAMED_LABEL_WORDS:
        return None, False
    named = {x.upper() for x in re.findall(r"(?<![A-Za-z])([A-Z])(?![A-Za-z])", plain)}
    named &= labels
    if len(named) == 1:
        return named.pop(), False
    return None, len(named) > 1


def parse_choice(text: str, options: Mapping[str, str]) -> str:
    """The label a short answer text names; ``ValueError`` if none, ambiguous if several."""
    label, ambiguous = _label_of(text, options)
    if ambiguous:
        raise AmbiguousAnswer("more than one option named")
    if label is None:
        raise ValueError("names no option")
    return label


@register_verifier("choice", RULES_VERSION)
def verify_choice(problem: Mapping[str, Any], response: str) -> Verdict:
    """Multiple choice: the response names the reference option (label or text)."""
    options = _options(spec_of(problem))
    reading, early = _start(problem, response, lambda text: parse_choice(text, options))
    if early is not None:
        return early
    detail = reading.detail
    gold, _ = _label_of(str(problem["answer"]), options)
    if gold is None:
        detail["error"] = "reference names no option"
        return Verdict(False, 0.0, "no_reference", detail)
    detail["choice"] = reading.value
    return _verdict(reading.value == gold, detail)


# --- numeric -----------------------------------------------------------------------

_FRAC = re.compile(r"^(-?)\\[dt]?frac\s*\{([^{}]+)\}\s*\{([^{}]+)\}$")
_TIMES_POW = re.compile(r"^(.+?)\s*(?:\\times|\\cdot|×|\*)\s*10\s*\^\s*\{?\s*([+-]?\d+)\s*\}?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def parse_number(text: str | None) -> float | None:
    """A float from a short answer text, or None."""
    if text is None:
        return None
    t = text.strip().replace("\\$", "").replace("$", "").replace("\\%", "").rstrip("%")
    t = t.replace("\\!", "").replace("\\,", "").replace("{,}", ",").replace(" ", "")
    t = t.rstrip(".")
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    m = _TIMES_POW.match(t)
    if m:
        base = parse_number(m.group(1))
        return None if base is None else base * 10.0 ** int(m.group(2))
    m = _FRAC.match(t)
    if m:
        num, den = parse_number(m.group(2)), parse_number(m.group(3))
        if num is None or not den:
            return None
        return (-1 if m.group(1) else 1) * num / den
    if t.count("/") == 1:
        num_t, den_t = t.split("/")
        num, den = parse_number(num_t), parse_number(den_t)
        return None if num is None or not den else num / den
    try:
        value = float(t)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _number(text: str) -> float:
    value = parse_number(text)
    if value is None:
        raise ValueError("not a number")
    return value


@register_verifier("numeric", RULES_VERSION)
def verify_numeric(problem: Mapping[str, Any], response: str) -> Verdict:
    """A number within the spec's ``rel_tol``/``abs_tol`` of the reference."""
    reading, early = _start(problem, response, _number)
    if early is not None:
        return early
    detail = reading.detail
    gold = parse_number(str(problem["answer"]))
    if gold is None:
        detail["error"] = "reference is not a number"
        return Verdict(False, 0.0, "no_reference", detail)
    got = reading.value
    spec = spec_of(problem)
    rel, abs_ = float(spec.get("rel_tol", 1e-6)), float(spec.get("abs_tol", 1e-9))
    detail["value"] = got
    return _verdict(math.isclose(got, gold, rel_tol=rel, abs_tol=abs_), detail)
