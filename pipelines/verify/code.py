r"""The ``code`` verifier: run the response's Python program against the problem's tests.

The program is the last ```` ```python ```` fenced block of the response's final part
(after ``</think>``), else its last fenced block of any language. It runs only inside
:mod:`tracemill.pipelines.verify.sandbox`; all cases of a problem share one sandbox start.

``verifier_spec`` (JSON) formats:

- stdin/stdout: ``{"tests": [{"input": "...", "output": "..."}], "time_limit_s": 2,
  "memory_mb": 512, "compare": {...}}`` (APPS-style ``{"inputs": [...], "outputs":
  [...]}`` is accepted too);
- function call: ``{"fn_name": "f", "tests": [{"args": [...], "kwargs": {},
  "expected": ...}]}``; a ``Solution`` class method of that name works as well. A test
  may list ``"expected_any": [...]``: any of those values passes (APPS / TACO accept a
  return value equal to a one-element expected list or to its element);
- assertion code (KodCode pytest functions, MBPP asserts, HumanEval ``check``):
  ``{"assert": {"style": ..., ...}}``, see :mod:`tracemill.pipelines.verify.asserts`
  (each test function / assert is a case; what is and is not guaranteed is stated there).

Function-call and assertion-test programs run after the pre-imports LiveCodeBench's
harness provides (``List``, ``Optional``, ``deque``, ``heapq``, ``gcd``, …:
:data:`~tracemill.pipelines.verify.sandbox.PREIMPORTS`).

``compare`` keys: ``mode`` (``tokens`` (default): whitespace-insensitive token match;
``lines``: line by line, trailing spaces and blank lines at the end ignored; ``exact``),
``rel_tol``/``abs_tol`` (default 1e-6), ``case_sensitive`` (default true). Numbers
(ASCII digits only) are compared by value: where the expected token is an integer the
output must be exactly that integer (``3`` or ``3.0``, never ``2.9999999`` nor
``1e18`` for ``1000000000000000007``); where it is a decimal, within the tolerance.
Function results are compared structurally (tuples as lists, sets as sorted lists) by
the same rules; they arrive as plain JSON written by the sandbox's harness, so objects
that override ``__eq__`` never take part in the comparison, and a value with no plain
form (a custom object, a generator) is ``wrong``.

Nothing inside the sandbox holds the expected outputs: they are compared here, in
the verifying process, with what the program printed or returned.

Score = fraction of tests passed; passed only when all pass; the reason is that of
the first failing test, named (truncated) in the detail. After a case times out the
remaining cases are not run and count as timeouts (spec ``"run_all": true`` runs them).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tracemill.pipelines.extract import final_part
from tracemill.pipelines.verify.asserts import (
    DEFAULT_TIME_LIMIT_S,
    AssertSpec,
    SealedSuite,
    judge_case,
    seal,
)
from tracemill.pipelines.verify.registry import Verdict, register_verifier
from tracemill.pipelines.verify.sandbox import (
    CaseResult,
    SandboxConfig,
    SandboxUnavailable,
    run_program,
)

log = logging.getLogger(__name__)

CODE_VERSION = "3"
"""2: exact integers, plain serialised return values (unserialisable: wrong), run memory cap.
3: assertion-code tests (pytest, MBPP, HumanEval), LiveCodeBench's pre-imports for
function-call programs."""
MAX_TIME_LIMIT_S = 30.0
MAX_MEMORY_MB = 4096
SHOW = 200
"""Characters of input/expected/actual kept in a verdict's detail."""
_FENCE = re.compile(r"```([^\n`]*)\n(.*?)```", re.DOTALL)
_INT = re.compile(r"[+-]?\d+", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_PY_TAGS = {"python", "py", "python3", "py3"}

_config = SandboxConfig()


def configure_sandbox(config: SandboxConfig) -> None:
    """Set the sandbox configuration the ``code`` verifier uses in this process."""
    global _config
    _config = config


def sandbox_config() -> SandboxConfig:
    """The sandbox configuration the ``code`` verifier uses."""
    return _config


def extract_program(response: str | None) -> str | None:
    """The last python fenced block of the final part, else its last fenced block."""
    final = final_part(response)
    blocks = _FENCE.findall(final)
    if not blocks:
        return None
    python = [body for tag, body in blocks if tag.strip().lower() in _PY_TAGS]
    body = (python or [b for _, b in blocks])[-1]
    return body if body.strip() else None


@dataclass(frozen=True)
class Compare:
    """How outputs are compared."""

    mode: str = "tokens"
    rel_tol: float = 1e-6
    abs_tol: float = 1e-6
    case_sensitive: bool = True

    @classmethod
    def from_spec(cls, spec: Any) -> Compare:
        """Build from a spec's ``compare`` object (unknown keys are ignored)."""
        if not isinstance(spec, dict):
            return cls()
        mode = str(spec.get("mode", "tokens"))
        if mode not in ("tokens", "lines", "exact"):
            raise ValueError(f"unknown compare mode {mode!r}")
        return cls(
            mode=mode,
            rel_tol=float(spec.get("rel_tol", 1e-6)),
            abs_tol=float(spec.get("abs_tol", 1e-6)),
            case_sensitive=bool(spec.get("case_sensitive", True)),
        )

    def token_equal(self, expected: str, got: str) -> bool:
        """Two tokens match: equal text, or equal numbers (see the module docstring)."""
        if not self.case_sensitive:
            expected, got = expected.lower(), got.lower()
        if expected == got:
            return True
        if not (_NUMBER.fullmatch(expected) and _NUMBER.fullmatch(got)):
            return False
        if _INT.fullmatch(expected):
            # exact, at any size: an approximation of an integer answer is wrong
            return Decimal(expected) == Decimal(got)
        a, b = float(expected), float(got)
        if math.isinf(a) or math.isinf(b):
            return a == b
        return math.isclose(a, b, rel_tol=self.rel_tol, abs_tol=self.abs_tol)

    def text_equal(self, expected: str, got: str) -> bool:
        """Compare program output with the expected output."""
        if self.mode == "exact":
            return expected == got
        if self.mode == "lines":
            exp = [ln.rstrip() for ln in expected.rstrip().splitlines()]
            out = [ln.rstrip() for ln in got.rstrip().splitlines()]
            if not self.case_sensitive:
                exp, out = [x.lower() for x in exp], [x.lower() for x in out]
            return exp == out
        exp_t, got_t = expected.split(), got.split()
        return len(exp_t) == len(got_t) and all(map(self.token_equal, exp_t, got_t))

    def value_equal(self, expected: Any, got: Any) -> bool:
        """Structural equality of JSON values (integers exact, decimals within tolerance)."""
        if isinstance(expected, bool) or isinstance(got, bool):
            return type(expected) is type(got) and expected == got
        if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
            if isinstance(expected, int):
                return expected == got  # an int equals only the same whole number
            if math.isnan(expected) or math.isnan(got):
                return math.isnan(expected) and math.isnan(got)
            if math.isinf(expected) or math.isinf(got):
                return expected == got
            return math.isclose(expected, got, rel_tol=self.rel_tol, abs_tol=self.abs_tol)
        if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
            return len(expected) == len(got) and all(map(self.value_equal, expected, got))
        if isinstance(expected, dict) and isinstance(got, dict):
            return expected.keys() == got.keys() and all(
                self.value_equal(expected[k], got[k]) for k in expected
            )
        if isinstance(expected, str) and isinstance(got, str) and not self.case_sensitive:
            return expected.lower() == got.lower()
        return type(expected) is type(got) and expected == got


@dataclass(frozen=True)
class CodeTests:
    """A problem's tests, parsed from its ``verifier_spec``."""

    mode: str
    inputs: list[str]
    expected: list[Any]
    fn_name: str | None
    time_limit_s: float
    memory_mb: int
    compare: Compare
    run_all: bool = False
    """Run every case even after one timed out (default: later cases count as timeouts)."""
    alternatives: list[list[Any] | None] | None = None
    """Per call test: the values any of which passes (``expected_any``), else None."""
    suite: SealedSuite | None = None
    """Assertion tests: the rewritten test code and the checks kept outside the sandbox."""


def parse_tests(spec_text: str | None) -> CodeTests | None:
    """Parse a code ``verifier_spec``; None when it holds no tests."""
    if not spec_text:
        return None
    spec = json.loads(spec_text)
    if not isinstance(spec, dict):
        raise ValueError("code verifier_spec must be a JSON object")
    default_limit = DEFAULT_TIME_LIMIT_S if "assert" in spec else 2.0
    time_limit = min(float(spec.get("time_limit_s", default_limit)), MAX_TIME_LIMIT_S)
    memory = min(int(spec.get("memory_mb", 512)), MAX_MEMORY_MB)
    compare = Compare.from_spec(spec.get("compare"))
    fn_name = spec.get("fn_name")
    run_all = bool(spec.get("run_all", False))
    if "assert" in spec:
        suite = seal(AssertSpec.from_json(spec["assert"]))
        inputs = [suite.case_input(c) for c in suite.cases]
        names = [c.name for c in suite.cases]
        return CodeTests("assert", inputs, names, None, time_limit, memory, compare, run_all,
                         suite=suite)  # fmt: skip
    tests = spec.get("tests")
    if tests is None and "inputs" in spec and not fn_name:
        pairs = zip(spec["inputs"], spec["outputs"], strict=True)
        tests = [{"input": i, "output": o} for i, o in pairs]
    if not tests:
        return None
    if fn_name:
        inputs = [
            json.dumps({"args": t.get("args", []), "kwargs": t.get("kwargs", {})}) for t in tests
        ]
        expected = [t.get("expected") for t in tests]
        alternatives = [
            t["expected_any"] if isinstance(t.get("expected_any"), list) else None for t in tests
        ]
        return CodeTests(
            "call", inputs, expected, str(fn_name), time_limit, memory, compare, run_all,
            alternatives if any(a is not None for a in alternatives) else None,
        )  # fmt: skip
    inputs = [str(t.get("input", "")) for t in tests]
    expected = [str(t.get("output", "")) for t in tests]
    return CodeTests("stdio", inputs, expected, None, time_limit, memory, compare, run_all)


def _case_reason(tests: CodeTests, case: CaseResult) -> tuple[str, Any]:
    """(reason, actual output) of one case: ok, wrong, or the harness status."""
    if case.status != "ok":
        return case.status, case.stdout
    if tests.mode == "call":
        if case.result is None:
            error = case.result_error or "no result"
            return ("wrong" if error.startswith("unserialisable") else "runtime_error"), error
        try:
            got = json.loads(case.result)
            options = tests.alternatives[case.index] if tests.alternatives else None
            accepted = options if options is not None else [tests.expected[case.index]]
            ok = any(tests.compare.value_equal(e, got) for e in accepted)
        except (ValueError, RecursionError):
            return "runtime_error", "malformed result"
        return ("ok" if ok else "wrong"), got
    ok = tests.compare.text_equal(tests.expected[case.index], case.stdout)
    return ("ok" if ok else "wrong"), case.stdout


def _show(value: Any) -> str:
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=repr)
    except (ValueError, RecursionError):
        text = "<unprintable>"
    return text if len(text) <= SHOW else text[:SHOW] + "…"


def check_code(
    program: str | None, tests: CodeTests, config: SandboxConfig | None = None
) -> Verdict:
    """Run `program` on `tests` in the sandbox and grade it."""
    if program is None:
        return Verdict(False, 0.0, "no_answer", {"extracted": None})
    detail: dict[str, Any] = {"extracted": _show(program), "tests": len(tests.inputs)}
    try:
        run = run_program(
            program,
            tests.inputs,
            mode=tests.mode,  # type: ignore[arg-type]
            fn_name=tests.fn_name,
            time_limit_s=tests.time_limit_s,
            memory_mb=tests.memory_mb,
            stop_after_timeout=not tests.run_all,
            config=config or _config,
            test_source=tests.suite.source if tests.suite else None,
            prelude=tests.suite.prelude if tests.suite else None,
        )
    except SandboxUnavailable as e:
        detail["error"] = str(e)[:1000]
        return Verdict(False, 0.0, "sandbox_error", detail)
    if not run.compiled:
        detail["error"] = (run.compile_error or run.note or "")[-SHOW * 3 :]
        reason = "compile_error" if run.compile_error is not None else "timeout"
        return Verdict(False, 0.0, reason, detail)
    if tests.suite is not None:
        return _grade_asserts(tests.suite, run, detail)
    by_index = {c.index: c for c in run.cases}
    passed = 0
    first: dict[str, Any] | None = None
    for i in range(len(tests.inputs)):
        case = by_index.get(i)
        if case is None:
            note = run.note or "not run: an earlier case timed out"
            reason, got, stderr = "timeout", None, note
        else:
            (reason, got), stderr = _case_reason(tests, case), case.stderr
        if reason == "ok":
            passed += 1
        elif first is None:
            first = {
                "index": i,
                "reason": reason,
                "input": _show(tests.inputs[i]),
                "expected": _show(tests.expected[i]),
                "got": _show(got) if got is not None else None,
                "stderr": stderr[-SHOW * 2 :],
            }
    detail["passed"] = passed
    if first is not None:
        detail["first_failure"] = first
    score = passed / len(tests.inputs)
    if first is None:
        return Verdict(True, 1.0, "ok", detail)
    return Verdict(False, score, first["reason"], detail)


def _grade_asserts(suite: SealedSuite, run: Any, detail: dict[str, Any]) -> Verdict:
    """Grade an assertion-test run: every case judged on its report (see :mod:`.asserts`)."""
    by_index = {c.index: c for c in run.cases}
    passed = counted = 0
    first: dict[str, Any] | None = None
    detail["checks_sealed"], detail["checks_open"] = suite.sealed, suite.open
    for i, case in enumerate(suite.cases):
        result = by_index.get(i)
        if result is None:
            reason, extra, stderr = "timeout", {}, run.note or "not run: an earlier case timed out"
        elif result.status != "ok":
            reason, extra, stderr = result.status, {}, result.stderr
        else:
            outcome = judge_case(suite, case, result.result)
            reason, extra, stderr = outcome.reason, outcome.detail, result.stderr
            if result.result is None and result.result_error:
                extra = {"error": result.result_error}
        if reason == "skipped":
            missing = extra.get("missing_module")
            if missing:
                known = detail.get("missing_modules", [])
                detail["missing_modules"] = sorted({*known, missing})
            detail["skipped"] = detail.get("skipped", 0) + 1
            continue
        counted += 1
        if reason == "ok":
            passed += 1
        elif first is None:
            shown = {k: (_show(v) if isinstance(v, str) else v) for k, v in extra.items()}
            first = {"index": i, "test": case.name, "reason": reason, **shown,
                     "stderr": stderr[-SHOW * 2 :]}  # fmt: skip
    detail["passed"] = passed
    if first is not None:
        detail["first_failure"] = first
        return Verdict(False, passed / counted, first["reason"], detail)
    if detail.get("skipped"):
        # A skip is reported from inside the program's process, so a program could forge
        # one for the tests it cannot pass: a run with a skipped test is never a pass. It
        # is not a negative either (the sandbox's Python may lack a module the tests need).
        detail["error"] = (
            f"{detail['skipped']} of {len(suite.cases)} tests were skipped, so the program was "
            "not fully checked (missing_modules: modules the sandbox's Python lacks)"
        )
        return Verdict(False, passed / counted if counted else 0.0, "sandbox_error", detail)
    return Verdict(True, 1.0, "ok", detail)


@register_verifier("code", CODE_VERSION)
def verify_code(problem: Mapping[str, Any], response: str) -> Verdict:
    """Run the response's Python program on the problem's tests in a bubblewrap sandbox."""
    try:
        tests = parse_tests(problem.get("verifier_spec"))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
        return Verdict(False, 0.0, "no_reference", {"error": f"bad verifier_spec: {e}"[:500]})
    if tests is None:
        return Verdict(False, 0.0, "no_reference", {"error": "no tests in verifier_spec"})
    return check_code(extract_program(response), tests)
