"""The code verifier: program extraction, test formats, comparison and reasons."""

import json
import shutil

import pytest
from tracemill.pipelines.verify import get_verifier
from tracemill.pipelines.verify.code import Compare, extract_program, parse_tests

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")

ADD_SPEC = json.dumps(
    {
        "tests": [
            {"input": "1 2\n", "output": "3\n"},
            {"input": "10 20\n", "output": "30"},
            {"input": "-5 5\n", "output": "0\n"},
        ],
        "time_limit_s": 1,
    }
)
CALL_SPEC = json.dumps(
    {
        "fn_name": "pair_sum",
        "tests": [
            {"args": [[1, 2, 3]], "expected": 6},
            {"args": [[0.1, 0.2]], "expected": 0.3},
            {"args": [], "kwargs": {"xs": [4]}, "expected": 4},
        ],
    }
)


def fenced(code, lang="python"):
    return f"Here you go:\n```{lang}\n{code}\n```\n"


def verify(spec, response):
    return get_verifier("code")({"verifier_spec": spec}, response)


def test_extract_program_prefers_last_python_block_after_reasoning():
    response = (
        "<think>```python\nprint('draft')\n```</think>"
        "```text\nnot code\n```\n```python\nprint('a')\n```\n```python\nprint('b')\n```\n"
    )
    assert extract_program(response) == "print('b')\n"
    assert extract_program("```\nprint(1)\n```") == "print(1)\n"
    assert extract_program("<think>```python\nprint(1)\n```") is None
    assert extract_program("no code") is None
    assert extract_program("") is None


def test_compare_tokens_floats_and_modes():
    c = Compare()
    assert c.text_equal("1 2\n3", "1  2 3\n\n")
    assert c.text_equal("0.3333333", "0.33333331")
    assert not c.text_equal("0.3333", "0.3334")
    assert not c.text_equal("12345678901234567890", "12345678901234567891")
    assert not c.text_equal("YES", "yes")
    assert Compare(case_sensitive=False).text_equal("YES", "yes")
    assert not Compare(mode="exact").text_equal("1\n", "1")
    assert Compare(mode="lines").text_equal("a b\nc\n", "a b  \nc\n\n")
    assert not Compare(mode="lines").text_equal("a b\nc", "a\nb c")
    assert Compare(abs_tol=0.1, rel_tol=0).text_equal("1.0", "1.05")
    assert c.value_equal([1, [2.0000001]], [1, [2]])
    assert not c.value_equal(True, 1)
    assert not c.value_equal({"a": 1}, {"a": 1, "b": 2})


def test_parse_tests_formats():
    assert parse_tests(ADD_SPEC).mode == "stdio"
    call = parse_tests(CALL_SPEC)
    assert call.mode == "call" and call.fn_name == "pair_sum"
    apps = parse_tests(json.dumps({"inputs": ["1\n"], "outputs": ["1\n"]}))
    assert apps.inputs == ["1\n"] and apps.expected == ["1\n"]
    assert parse_tests(None) is None
    assert parse_tests(json.dumps({"tests": []})) is None
    assert parse_tests(json.dumps({"tests": [{}], "time_limit_s": 999})).time_limit_s == 30


def test_bad_spec_and_no_code_never_raise():
    assert verify("not json", fenced("print(1)")).reason == "no_reference"
    assert verify(None, fenced("print(1)")).reason == "no_reference"
    assert verify(ADD_SPEC, "I cannot write code").reason == "no_answer"
    assert verify(ADD_SPEC, "").reason == "no_answer"


def test_missing_bwrap_is_sandbox_error_and_nothing_runs(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACEMILL_BWRAP", str(tmp_path / "missing" / "bwrap"))
    marker = tmp_path / "ran"
    verdict = verify(ADD_SPEC, fenced(f"open({str(marker)!r}, 'w').write('x')"))
    assert verdict.reason == "sandbox_error"
    assert "bubblewrap" in verdict.detail["error"]
    assert not marker.exists()


@needs_bwrap
def test_correct_program_passes():
    verdict = verify(ADD_SPEC, fenced("a, b = map(int, input().split())\nprint(a + b)"))
    assert verdict.passed and verdict.reason == "ok" and verdict.score == 1.0
    assert verdict.detail["passed"] == 3


@needs_bwrap
def test_partially_wrong_program_scores_fraction():
    code = "a, b = map(int, input().split())\nprint(a + b if a > 0 else 1)"
    verdict = verify(ADD_SPEC, fenced(code))
    assert not verdict.passed and verdict.reason == "wrong"
    assert verdict.score == pytest.approx(2 / 3)
    failure = verdict.detail["first_failure"]
    assert failure["index"] == 2 and failure["expected"] == "0\n" and failure["got"] == "1\n"


@needs_bwrap
def test_crashing_and_non_compiling_programs():
    verdict = verify(ADD_SPEC, fenced("raise SystemExit(3)"))
    assert verdict.reason == "runtime_error" and verdict.score == 0.0
    verdict = verify(ADD_SPEC, fenced("print(1/0)"))
    assert verdict.reason == "runtime_error"
    assert "ZeroDivisionError" in verdict.detail["first_failure"]["stderr"]
    verdict = verify(ADD_SPEC, fenced("def (:"))
    assert verdict.reason == "compile_error"


@needs_bwrap
def test_timeout_memory_and_output_reasons():
    assert verify(ADD_SPEC, fenced("while True: pass")).reason == "timeout"
    spec = json.dumps({"tests": [{"input": "", "output": ""}], "memory_mb": 128})
    assert verify(spec, fenced("x = [0] * (10**9)")).reason == "memory_limit"
    assert verify(spec, fenced("while True: print('x' * 10000)")).reason == "output_limit"


@needs_bwrap
def test_function_call_cases():
    good = "def pair_sum(xs):\n    return sum(xs)\n"
    verdict = verify(CALL_SPEC, fenced(good))
    assert verdict.passed, verdict
    bad = "def pair_sum(xs):\n    return len(xs)\n"
    verdict = verify(CALL_SPEC, fenced(bad))
    assert verdict.reason == "wrong" and verdict.score == 0.0
    missing = "def other(xs):\n    return 0\n"
    assert verify(CALL_SPEC, fenced(missing)).reason == "runtime_error"
