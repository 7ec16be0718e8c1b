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

Assertion-code tests become ``{"assert": {...}}`` specs (see
:mod:`tracemill.pipelines.verify.asserts`, which runs them and says what they guarantee):

- Python test code as text: pytest modules (KodCode ``test_code`` / ``test``, code-r1
  ``{"pytest": ...}``: each ``test_*`` function or ``Test*`` method is a test), HumanEval
  ``def check(candidate)`` (needs the function name: ``fn_name``, e.g. ``entry_point``;
  when the question is Python code defining that function, it is kept as the prelude
  run before the program, as HumanEval's harness runs prompt + completion), or plain
  asserts (code-r1 ``{"functional": ...}``: leading setup statements, then one test per
  assert);
- a list of assert statements (MBPP ``test_list``, open-r1 style ``test_cases``), and
  MBPP records or joined fields ``test_setup_code+test_list+challenge_test_list``
  (the setup code runs before the asserts).

The code must parse and hold a test, and pytest tests may only ask for fixtures the
test code defines or the sandbox's pytest subset provides; otherwise the field is
unreadable. Anything else raises :class:`UnreadableTests` with the reason; callers turn
it into an error naming the record and field. Tests that call for files or checkers are
refused with a reason.
"""

from __future__ import annotations

import ast
import base64
import binascii
import io
import json
import pickle
import re
import zlib
from typing import Any

from tracemill.pipelines.verify.asserts import (
    AssertSpec,
    BadAssertTests,
    discover,
    parse_module,
    seal,
)

MAX_DECOMPRESSED_BYTES = 256 << 20
"""Compressed test fields larger than this when inflated are refused (zip bombs)."""
MAX_DECODED_ITEMS = 5_000_000
"""Values a decoded pickle may hold, counting shared ones each time (no quadratic blowup)."""
MAX_DECODED_DEPTH = 64
_B64 = re.compile(r"[A-Za-z0-9+/=\s]+")
_FUNCTIONAL = ("functional", "function", "call", "fn_call")
_CODE_KEYS = ("test_code", "test", "pytest", "functional")
"""Keys of a test object that hold Python test code (KodCode, HumanEval, code-r1)."""


class UnreadableTests(ValueError):
    """Test cases that cannot be read into the code verifier's spec."""


class PythonCode(str):
    """Text that is Python test code (asserts, test functions or ``check``)."""


def _python_tests(text: str) -> bool:
    """Whether `text` parses as Python holding an assert, a test function or ``check``."""
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for node in ast.walk(module):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.FunctionDef) and (
            node.name.startswith("test") or node.name == "check"
        ):
            return True
    return False


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
    if _python_tests(value):
        return PythonCode(value)
    if "assert" in stripped or "def test" in stripped or "def check" in stripped:
        try:
            ast.parse(value)
        except SyntaxError as e:
            raise UnreadableTests(f"test code is not valid Python ({e})"[:300]) from None
    raise UnreadableTests(
        "test field is text that is neither JSON, compressed tests nor Python test code"
    )


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


def normalize_tests(
    value: Any, fn_name: str | None = None, question: str | None = None
) -> dict[str, Any]:
    """Turn one test field (any layout in the module doc) into a code verifier spec.

    `question` is the problem's text: HumanEval-style ``check`` tests keep it as their
    prelude when it is Python code defining `fn_name`.
    """
    language: str | None = None
    for _ in range(4):  # unwrap JSON text / compressed text / wrapper objects
        if isinstance(value, PythonCode):
            break
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
    spec = _normalize(value, fn_name, question)
    if language:
        spec["language"] = language
    return spec


def _normalize(value: Any, fn_name: str | None, question: str | None) -> dict[str, Any]:
    if isinstance(value, PythonCode):
        return code_tests(value, fn_name, question)
    if isinstance(value, dict):
        name = value.get("fn_name") or value.get("entry_point") or fn_name or None
        if "inputs" in value and "outputs" in value:
            return _check(_from_lists(value["inputs"], value["outputs"], name and str(name)))
        if "input" in value and "output" in value and isinstance(value["input"], list):
            return _check(_from_lists(value["input"], value["output"], name and str(name)))
        if "test_list" in value:
            challenge = value.get("challenge_test_list") or []
            items = _assert_items(value["test_list"], "test_list") + _assert_items(
                challenge, "challenge_test_list"
            )
            return asserts_tests(items, _text_or_empty(value.get("test_setup_code"), "setup"))
        for key in _CODE_KEYS:
            if isinstance(value.get(key), str) and value[key].strip():
                return code_tests(value[key], name and str(name), question)
        keys = ", ".join(sorted(map(str, value)))
        raise UnreadableTests(f"unrecognized test layout (keys: {keys})"[:300])
    if isinstance(value, list):
        if value and all(isinstance(v, str) for v in value):
            return asserts_tests(_assert_items(value, "test list"), "")
        return _check(_from_cases(value, fn_name and str(fn_name)))
    raise UnreadableTests(f"unrecognized test cases ({type(value).__name__})")


def _text_or_empty(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise UnreadableTests(f"{what} code is {type(value).__name__}, expected text")
    return value


def _assert_items(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UnreadableTests(f"{what} must be a list of assert statements")
    return [v for v in value if v.strip()]


def _assert_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Check that the verifier can run `spec` (parses, has a test, known fixtures)."""
    try:
        seal(AssertSpec.from_json(spec))
    except BadAssertTests as e:
        raise UnreadableTests(str(e)) from None
    return {"assert": spec}


def asserts_tests(items: list[str], setup: str) -> dict[str, Any]:
    """MBPP-style tests: `setup` code, then each assert statement as its own test."""
    if not items:
        raise UnreadableTests("no test cases")
    for n, item in enumerate(items):
        try:
            parse_module(item, f"assert {n}")
        except BadAssertTests as e:
            raise UnreadableTests(str(e)) from None
    spec: dict[str, Any] = {"style": "asserts", "asserts": items}
    if setup.strip():
        spec["setup"] = setup
    return _assert_spec(spec)


def code_tests(text: str, fn_name: str | None, question: str | None = None) -> dict[str, Any]:
    """Python test code → pytest, ``check(candidate)`` or assert tests (see the module doc)."""
    try:
        module = parse_module(text, "the test code")
    except BadAssertTests as e:
        raise UnreadableTests(str(e)) from None
    if discover(module):
        return _assert_spec({"style": "pytest", "code": str(text)})
    if any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in module.body):
        if not fn_name:
            raise UnreadableTests(
                "check(candidate) tests need the function's name: map fn_name "
                "(e.g. --map fn_name=entry_point)"
            )
        spec: dict[str, Any] = {"style": "check", "code": str(text), "entry_point": fn_name}
        if question and _defines(question, fn_name):
            spec["prelude"] = question
        return _assert_spec(spec)
    if not any(isinstance(n, ast.Assert) for n in ast.walk(module)):
        raise UnreadableTests(
            "Python test code without a test in it (no test_ function, check(candidate) "
            "or assert)"
        )
    body = module.body
    setup_kinds = ast.Import | ast.ImportFrom | ast.Assign | ast.FunctionDef | ast.ClassDef
    first = 0
    while first < len(body) and isinstance(body[first], setup_kinds):
        first += 1
    rest = body[first:]
    if rest and all(isinstance(s, ast.Assert) for s in rest):
        setup = "\n".join(ast.get_source_segment(text, s) or "" for s in body[:first])
        return asserts_tests([ast.get_source_segment(text, s) or "" for s in rest], setup)
    return asserts_tests([str(text)], "")


def _defines(code: str, name: str) -> bool:
    try:
        module = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(isinstance(n, ast.FunctionDef) and n.name == name for n in module.body)


def _check(spec: dict[str, Any]) -> dict[str, Any]:
    if not spec["tests"]:
        raise UnreadableTests("no test cases")
    return spec


def normalize_joined(
    parts: list[Any], fn_name: str | None = None, question: str | None = None
) -> dict[str, Any]:
    """One spec from ``+``-joined test fields.

    E.g. public + private tests, or MBPP's setup + ``test_list`` + ``challenge_test_list``.
    Empty fields are fine; a text field that is Python code without tests (MBPP's
    ``test_setup_code``) is setup for the asserts.
    """
    setup: list[str] = []
    specs = []
    for part in parts:
        if isinstance(part, str) and not part.strip() or part == []:
            continue
        if isinstance(part, str) and part.strip()[:1] not in "[{" and _setup_code(part):
            setup.append(part)
            continue
        try:
            specs.append(normalize_tests(part, fn_name, question))
        except UnreadableTests as e:
            if str(e) != "no test cases":
                raise
    if not specs:
        raise UnreadableTests("no test cases")
    return merge_specs(specs, "\n".join(setup))


_SETUP_KINDS = (
    ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.FunctionDef,
    ast.AsyncFunctionDef, ast.ClassDef,
)  # fmt: skip


def _setup_code(text: str) -> bool:
    """Whether joined text is setup code (MBPP ``test_setup_code``).

    That is Python that defines or imports something and holds no test; compressed tests
    (base64 text, which can parse as one bare name) and other bare expressions are not.
    """
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return any(isinstance(s, _SETUP_KINDS) for s in module.body) and not _python_tests(text)


def merge_specs(specs: list[dict[str, Any]], setup: str = "") -> dict[str, Any]:
    """One spec from several test fields of a record (e.g. public + private tests)."""
    asserts = [s["assert"] for s in specs if "assert" in s]
    if asserts:
        if len(asserts) != len(specs) or any(a["style"] != "asserts" for a in asserts):
            raise UnreadableTests(
                "test fields disagree: only lists of asserts can be joined with other fields"
            )
        items = [item for a in asserts for item in a["asserts"]]
        code = "\n".join(x for x in [setup, *(a.get("setup", "") for a in asserts)] if x.strip())
        return asserts_tests(items, code)
    if setup.strip():
        raise UnreadableTests("setup code joined with tests that are not asserts")
    if len(specs) == 1:
        return specs[0]
    names = {s.get("fn_name") for s in specs}
    if len(names) > 1:
        raise UnreadableTests("test fields disagree: function-call and stdin/stdout tests")
    out: dict[str, Any] = {k: v for k, v in specs[0].items() if k != "tests"}
    out["tests"] = [t for s in specs for t in s["tests"]]
    return out
