"""The verifier registry: name → versioned verifier mapping (problem row, response) → verdict.

A verifier reads only the stored problem row (a mapping with the `problems` columns;
``verifier_spec`` is JSON text) and the response text, so any catalog row can be
re-graded later. Verifiers never raise on bad model output: :func:`run_verifier` turns
an unexpected exception into ``passed=False, reason="verifier_error"``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

REASONS = frozenset(
    {
        "ok",
        "wrong",
        "partial",
        "no_answer",
        "format",
        "invalid_answer",
        "timeout",
        "runtime_error",
        "compile_error",
        "memory_limit",
        "output_limit",
        "sandbox_error",
        "verifier_error",
        "no_reference",
        "judge_error",
        "ambiguous",
        "too_long",
    }
)
"""Verdict reasons. Of the answer-reading ones: ``no_answer`` (nothing that looks like an
answer), ``format`` (an answer is there but not of the expected shape: a missing row, an
unknown symbol, prose), ``ambiguous`` (two different answers in the final part, or a
hedge such as "3 or 4": never a pass), ``too_long`` (an answer too long to read or
compare: never cut to a prefix), ``wrong`` (read, and it breaks the rules or differs
from the reference); ``invalid_answer``: a read answer the rules could not be applied to
(also the reason of rows written before ``format`` existed)."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying one response."""

    passed: bool
    score: float
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reason not in REASONS:
            raise ValueError(f"unknown verdict reason {self.reason!r}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score {self.score} outside [0, 1]")


VerifyFn = Callable[[Mapping[str, Any], str], Verdict]


@dataclass(frozen=True)
class RegisteredVerifier:
    """A verifier function with its registry name and version."""

    name: str
    version: str
    fn: VerifyFn
    doc: str = ""

    def __call__(self, problem: Mapping[str, Any], response: str) -> Verdict:
        """Verify `response` against `problem` (never raises on bad output)."""
        return run_verifier(self, problem, response)


_REGISTRY: dict[str, RegisteredVerifier] = {}


def register_verifier(name: str, version: str) -> Callable[[VerifyFn], VerifyFn]:
    """Decorator: register `fn` as verifier `name` at `version`.

    A name belongs to one function: registering another one under a taken name raises
    ``ValueError`` (re-running the same definition, e.g. a module reload, replaces it).
    """

    def deco(fn: VerifyFn) -> VerifyFn:
        old = _REGISTRY.get(name)
        if old is not None and _origin(old.fn) != _origin(fn):
            raise ValueError(
                f"verifier {name!r} is already registered by {_origin(old.fn)}; "
                f"{_origin(fn)} must choose another name"
            )
        _REGISTRY[name] = RegisteredVerifier(name, version, fn, (fn.__doc__ or "").strip())
        return fn

    return deco


def _origin(fn: Callable[..., Any]) -> str:
    """Where a function is defined (``module.qualname``)."""
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def get_verifier(name: str) -> RegisteredVerifier:
    """The verifier registered as `name`, with a clear error naming the known ones."""
    _load_builtin()
    if name not in _REGISTRY and ":" in name:
        _load_task_sources(name.partition(":")[0])
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "none"
        raise KeyError(f"unknown verifier {name!r}; registered: {known}") from None


def verifier_names() -> list[str]:
    """Names of all registered verifiers (external task sources' ones where installed)."""
    _load_builtin()
    _load_task_sources(None)
    return sorted(_REGISTRY)


def run_verifier(
    verifier: RegisteredVerifier, problem: Mapping[str, Any], response: str
) -> Verdict:
    """Call a verifier, turning any exception into a failed verdict."""
    if not isinstance(response, str):
        response = "" if response is None else str(response)
    try:
        return verifier.fn(problem, response)
    except Exception as e:  # noqa: BLE001 - model output must never crash a run
        log.debug("verifier %s raised on problem %s", verifier.name, problem.get("problem_id"))
        return Verdict(False, 0.0, "verifier_error", {"error": f"{type(e).__name__}: {e}"[:500]})


_BUILTIN_MODULES: tuple[str, ...] = (
    "tracemill.pipelines.verify.math_answer",
    "tracemill.pipelines.verify.code",
    "tracemill.pipelines.verify.rules",
    "tracemill.pipelines.verify.judge",
    "tracemill.pipelines.synth.families",  # every synthetic family registers its rule verifier
)
"""Modules imported on first lookup so their verifiers register themselves."""


def _load_builtin() -> None:
    import importlib

    for mod in _BUILTIN_MODULES:
        importlib.import_module(mod)


def _load_task_sources(prefix: str | None) -> None:
    """Register the verifiers of external task families (``rg:NAME``) on first use."""
    from tracemill.pipelines.synth.base import TASK_SOURCES, load_source

    for known in TASK_SOURCES:
        if prefix in (None, known):
            load_source(known)
