r"""Code test cases of public datasets → the ``code`` verifier's spec.

Every layout below becomes ``{"tests": [{"input", "output"}, ...]}`` (stdin/stdout) or
``{"fn_name": F, "tests": [{"args": [...], "expected": ...}, ...]}`` (function calls),
the spec :mod:`tracemill.pipelines.verify.code` reads:

- a list of ``{"input", "output"}`` cases (open-r1 ``test_cases``, LiveCodeBench
  ``public_test_cases``); LiveCodeBench ``"testtype": "functional"`` cases hold one JSON
  value per argument line and a JSON return value, and are decoded into values;
- SandboxFusion / CommonOJ cases ``{"input": {"stdin": ...}, "output": {"stdout": ...}}``;
- ``{"inputs": [...], "outputs": [...], "fn_name"?}`` (APPS, TACO, LiveCodeBench as
  packed by SandboxFusion). With ``fn_name``, inputs that are lists are the arguments
  (APPS); inputs that are text are JSON lines, one argument each (LiveCodeBench). APPS
  and TACO accept a return value equal to the expected value or to its only element
  when the expected value is a one-element list: such tests carry ``expected_any``;
- ``{"input": [...], "output": [...]}`` (CodeContests ``public_tests``/``private_tests``);
- ``{"test_cases": ..., "language"?}`` (open-r1 ``verification_info``) and
  ``{"input_output": ...}`` wrappers;
- any of these as JSON text, or as LiveCodeBench's compressed text (base64 of zlib of a
  pickle). The pickle is read by :class:`PlainUnpickler`, which builds only str, bytes,
  int, float, bool, None, list, tuple and dict values: a pickle naming any class or
  function is refused, never run.

Anything else raises :class:`UnreadableTests` with the reason; callers turn it into an
error naming the record and field. Tests that call for files, checkers or assertion
code (``test_code``, ``test_list``) are refused with a reason: the code verifier runs
stdin/stdout and function-call tests only.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import re
import zlib
from typing import Any

MAX_DECOMPRESSED_BYTES = 256 << 20
"""Compressed test fields larger than this when inflated are refused (zip bombs)."""
MAX_DECODED_ITEMS = 5_000_000
"""Values a decoded pickle may hold, counting shared ones each time (no quadratic blowup)."""
MAX_DECODED_DEPTH = 64
_B64 = re.compile(r"[A-Za-z0-9+/=\s]+")
_FUNCTIONAL = ("functional", "function", "call", "fn_call")
_ASSERT_KEYS = ("test_code", "test_list", "test", "check", "assert")
_ASSERT_REFUSAL = (
    "{kind} tests cannot be run by the code verifier (it runs stdin/stdout and function-call tests)"
)


class UnreadableTests(ValueError):
    """Test cases that cannot be read into the code verifier's spec."""


class PlainUnpickler(pickle.Unpickler):
    """An unpickler for plain data: it refuses every global (class, function) reference.

    Pickle opcodes for str, bytes, numbers, None, bools, lists, tuples and dicts need no
    global; anything else (``GLOBAL``, ``STACK_GLOBAL``, ``REDUCE`` of a named callable,
    persistent ids) raises :class:`pickle.UnpicklingError` before it can run.
    """

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102 - see class doc
        raise pickle.UnpicklingError(f"refused: the pickle names {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:  # noqa: D102 - see class doc
        raise pickle.UnpicklingError("refused: the pickle uses persistent ids")


def decode_compressed(text: str) -> Any:
    """Decode LiveCodeBench's compressed field: base64 → zlib → plain-data pickle."""
    try:
        raw = base64.b64decode(text.strip(), validate=False)
    except (binascii.Error, ValueError) as e:
        raise UnreadableTests(f"not base64 text ({e})") from None
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(raw, MAX_DECOMPRESSED_BYTES)
    except zlib.error as e:
        raise UnreadableTests(f"base64 text that is not zlib data ({e})") from None
    if inflater.unconsumed_tail:
        raise UnreadableTests(
            f"compressed tests inflate to more than {MAX_DECOMPRESSED_BYTES} bytes"
        )
    try:
        value = PlainUnpickler(io.BytesIO(data)).load()
    except pickle.UnpicklingError as e:
        raise UnreadableTests(f"compressed tests are not a plain-data pickle: {e}") from None
    except Exception as e:  # noqa: BLE001 - a malformed pickle can raise almost anything
        reason = f"compressed tests are not a readable pickle ({type(e).__name__})"
        raise UnreadableTests(reason) from None
    _check_plain(value)
    return value


def _check_plain(value: Any) -> None:
    """Plain data only, a tree of bounded size and depth (a pickle can share or loop)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if seen > MAX_DECODED_ITEMS:
            raise UnreadableTests(f"compressed tests hold more than {MAX_DECODED_ITEMS} values")
        if depth > MAX_DECODED_DEPTH:
            raise UnreadableTests(f"compressed tests nest deeper than {MAX_DECODED_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item.keys())
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
        elif not (item is None or isinstance(item, str | bytes | int | float | bool)):
            raise UnreadableTests(f"compressed tests hold a {type(item).__name__}, not plain data")


def _parse_text(value: str) -> Any:
    """JSON text, or compressed text, or the text itself when it is neither."""
    stripped = value.strip()
    if not stripped:
        raise UnreadableTests("empty test field")
    if stripped[0] in "[{":
        try:
            return json.loads(stripped)
        except (ValueError, RecursionError) as e:
            raise UnreadableTests(f"test field is not valid JSON ({e})") from None
    if len(stripped) >= 16 and _B64.fullmatch(stripped):
        return decode_compressed(stripped)
    if "assert" in stripped or "def test" in stripped:
        raise UnreadableTests(_ASSERT_REFUSAL.format(kind="assertion code"))
    raise UnreadableTests("test field is text that is neither JSON nor compressed tests")


def _text(value: Any, what: str) -> str:
    """Test input/output text: lists of lines are joined with newlines."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise UnreadableTests(f"{what} is {type(value).__name__}, expected text")


def _stdio_side(value: Any, stream: str, what: str) -> str:
    """One side of a stdin/stdout case: text, or a SandboxFusion ``{"stdin": ...}`` dict."""
    if isinstance(value, dict):
        other = sorted(k for k in value if k != stream)
        if other:
            raise UnreadableTests(
                f"{what} uses files ({', '.join(other)}); only {stream} is supported"
            )
        if stream not in value:
            raise UnreadableTests(f"{what} has no {stream!r}")
        return _text(value[stream], what)
    return _text(value, what)


def _json_lines(text: str, what: str) -> list[Any]:
    lines = text.strip("\n").split("\n")
    try:
        return [json.loads(line) for line in lines]
    except ValueError as e:
        raise UnreadableTests(f"{what} is not one JSON value per line ({e})") from None


def _json_value(value: Any, what: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as e:
        raise UnreadableTests(f"{what} is not a JSON value ({e})") from None


def _call_case(args: Any, expected: Any, *, apps: bool) -> dict[str, Any]:
    case: dict[str, Any] = {
        "args": args if isinstance(args, list) else [args],
        "expected": expected,
    }
    if apps and isinstance(expected, list) and len(expected) == 1:
        case["expected_any"] = [expected, expected[0]]
    return case


def _from_lists(inputs: Any, outputs: Any, fn_name: str | None) -> dict[str, Any]:
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise UnreadableTests("inputs and outputs must be lists")
    if len(inputs) != len(outputs):
        raise UnreadableTests(f"{len(inputs)} inputs but {len(outputs)} outputs")
    if fn_name:
        tests = []
        for i, (inp, out) in enumerate(zip(inputs, outputs, strict=True)):
            if isinstance(inp, str):  # LiveCodeBench: one JSON argument per line
                args = _json_lines(inp, f"input {i}")
                tests.append(_call_case(args, _json_value(out, f"output {i}"), apps=False))
            else:  # APPS / TACO: the argument list itself
                tests.append(_call_case(inp, out, apps=True))
        return {"fn_name": fn_name, "tests": tests}
    return {
        "tests": [
            {"input": _text(i, f"input {n}"), "output": _text(o, f"output {n}")}
            for n, (i, o) in enumerate(zip(inputs, outputs, strict=True))
        ]
    }


def _from_cases(cases: list[Any], fn_name: str | None) -> dict[str, Any]:
    tests: list[dict[str, Any]] = []
    functional = False
    for n, case in enumerate(cases):
        if not isinstance(case, dict) or "input" not in case or "output" not in case:
            raise UnreadableTests(f"test {n} needs 'input' and 'output'")
        kind = str(case.get("testtype") or case.get("type") or "").lower()
        if kind in _FUNCTIONAL:
            functional = True
            args = case["input"]
            args = _json_lines(args, f"test {n} input") if isinstance(args, str) else args
            tests.append(
                _call_case(args, _json_value(case["output"], f"test {n} output"), apps=False)
            )
        else:
            tests.append(
                {
                    "input": _stdio_side(case["input"], "stdin", f"test {n} input"),
                    "output": _stdio_side(case["output"], "stdout", f"test {n} output"),
                }
            )
    if functional:
        if any("args" not in t for t in tests):
            raise UnreadableTests("mixes function-call and stdin/stdout tests")
        if not fn_name:
            raise UnreadableTests("function-call tests but no function name (map fn_name)")
        return {"fn_name": fn_name, "tests": tests}
    return {"tests": tests}


def normalize_tests(value: Any, fn_name: str | None = None) -> dict[str, Any]:
    """Turn one test field (any layout in the module doc) into a code verifier spec."""
    language: str | None = None
    for _ in range(4):  # unwrap JSON text / compressed text / wrapper objects
        if isinstance(value, str):
            value = _parse_text(value)
        elif isinstance(value, bytes):
            value = _parse_text(value.decode("utf-8", errors="replace"))
        elif isinstance(value, dict) and "input_output" in value:
            value = value["input_output"]
        elif isinstance(value, dict) and "test_cases" in value:
            language = value.get("language")
            if language and str(language).lower() not in ("python", "python3", "py"):
                raise UnreadableTests(f"tests for language {language!r}; the verifier runs Python")
            fn_name = fn_name or value.get("fn_name") or None
            language = str(language) if language else None
            value = value["test_cases"]
        else:
            break
    spec = _normalize(value, fn_name)
    if language:
        spec["language"] = language
    return spec


def _normalize(value: Any, fn_name: str | None) -> dict[str, Any]:
    if isinstance(value, dict):
        name = value.get("fn_name") or fn_name or None
        if "inputs" in value and "outputs" in value:
            return _check(_from_lists(value["inputs"], value["outputs"], name and str(name)))
        if "input" in value and "output" in value and isinstance(value["input"], list):
            return _check(_from_lists(value["input"], value["output"], name and str(name)))
        assert_keys = [k for k in _ASSERT_KEYS if k in value]
        if assert_keys:
            raise UnreadableTests(_ASSERT_REFUSAL.format(kind=f"assertion-code ({assert_keys[0]})"))
        keys = ", ".join(sorted(map(str, value)))
        raise UnreadableTests(f"unrecognized test layout (keys: {keys})"[:300])
    if isinstance(value, list):
        return _check(_from_cases(value, fn_name and str(fn_name)))
    raise UnreadableTests(f"unrecognized test cases ({type(value).__name__})")


def _check(spec: dict[str, Any]) -> dict[str, Any]:
    if not spec["tests"]:
        raise UnreadableTests("no test cases")
    return spec


def merge_specs(specs: list[dict[str, Any]]) -> dict[str, Any]:
    """One spec from several test fields of a record (e.g. public + private tests)."""
    if len(specs) == 1:
        return specs[0]
    names = {s.get("fn_name") for s in specs}
    if len(names) > 1:
        raise UnreadableTests("test fields disagree: function-call and stdin/stdout tests")
    out: dict[str, Any] = {k: v for k, v in specs[0].items() if k != "tests"}
    out["tests"] = [t for s in specs for t in s["tests"]]
    return out
