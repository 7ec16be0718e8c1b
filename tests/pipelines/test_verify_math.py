"""The math verifier: a labeled equivalence table, hostile responses, the worker pool."""

import time

import pytest
from tracemill.pipelines.verify import get_verifier
from tracemill.pipelines.verify.math_answer import MathVerifyConfig, as_latex, check_math
from tracemill.pipelines.verify.pool import PoolItem, VerifierPool

B = "\\boxed{{{}}}".format

# (reference, response, expected passed)
CASES = [
    # plain numbers and formatting variants
    ("2", B("2"), True),
    ("2", B("2.0"), True),
    ("2", B("3"), False),
    ("12", "The final answer is 12.", True),
    ("12", "Final answer: 13", False),
    ("-7", B("-7"), True),
    ("-7", B("7"), False),
    ("1000000", B("1{,}000{,}000"), True),
    ("0.25", B("\\frac{1}{4}"), True),
    ("0.25", B("\\frac{1}{3}"), False),
    ("3.14159", B("3.14159"), True),
    ("\\pi", B("3.14159265358979"), True),
    ("\\pi", B("3"), False),
    # fractions, radicals, expressions
    ("\\frac{1}{2}", B("0.5"), True),
    ("\\frac{1}{2}", B("\\dfrac{1}{2}"), True),
    ("\\frac{1}{2}", B("1/2"), True),
    ("\\frac{1}{2}", B("\\frac{2}{4}"), True),
    ("\\frac{1}{2}", B("\\frac{1}{4}"), False),
    ("\\frac{\\sqrt{3}}{2}", B("\\sqrt{3}/2"), True),
    ("\\frac{\\sqrt{3}}{2}", B("\\frac{\\sqrt{2}}{2}"), False),
    ("2\\sqrt{2}", B("\\sqrt{8}"), True),
    ("x^2+2x+1", B("(x+1)^2"), True),
    ("x^2+2x+1", B("(x-1)^2"), False),
    ("\\frac{x}{2}", B("0.5x"), True),
    # equations, sets, intervals, tuples
    ("3", B("x = 3"), True),
    ("x=3", B("3"), True),
    ("x=3", B("4"), False),
    ("(1,2]", B("(1, 2]"), True),
    ("(1,2]", B("[1, 2]"), False),
    ("[0,\\infty)", B("[0, \\infty)"), True),
    ("\\{1,2\\}", B("\\{2, 1\\}"), True),
    ("\\{1,2\\}", B("\\{1, 3\\}"), False),
    ("(1,2,3)", B("(1, 2, 3)"), True),
    ("(1,2,3)", B("(3, 2, 1)"), False),
    ("(2, -1)", B("(2,-1)"), True),
    ("(2, -1)", B("(-1,2)"), False),
    # matrices
    (
        "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
        B("\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"),
        True,
    ),
    (
        "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
        B("\\begin{pmatrix}1&2\\\\3&5\\end{pmatrix}"),
        False,
    ),
    # percentages, units, currency, degrees
    ("50\\%", B("50\\%"), True),
    ("50%", B("50"), True),
    ("50\\%", B("0.5"), True),
    ("50\\%", B("40\\%"), False),
    ("5 \\text{ cm}", B("5"), True),
    ("5 cm", "The answer is 5 cm", True),
    ("5 \\text{ cm}", B("6 \\text{ cm}"), False),
    ("\\$10", B("10"), True),
    ("10", B("\\$10"), True),
    ("10^\\circ", B("10"), True),
    ("45^\\circ", B("30^\\circ"), False),
    # answer markers and reasoning
    ("6", "<think>maybe 5</think> so \\boxed{6}", True),
    ("6", "<think>surely \\boxed{6}</think> I think \\boxed{5}", False),
    ("6", "<answer>6</answer>", True),
    ("6", "<answer>\\boxed{7}</answer>", False),
    ("6", "We compute $3+3=6$, so the answer is $6$.", True),
    ("B", B("\\text{B}"), True),
    ("\\text{(B)}", B("B"), True),
    ("\\infty", B("\\infty"), True),
    ("\\infty", B("-\\infty"), False),
]


@pytest.mark.parametrize(("reference", "response", "expected"), CASES)
def test_labeled_math_cases(reference, response, expected):
    verdict = check_math(reference, response)
    assert verdict.passed is expected, (reference, response, verdict)
    assert verdict.reason == ("ok" if expected else "wrong")
    assert verdict.score == (1.0 if expected else 0.0)


def test_table_is_big_and_balanced():
    assert len(CASES) >= 40
    assert 15 <= sum(not c[2] for c in CASES) <= len(CASES) - 15


def test_extracted_answer_is_in_detail():
    verdict = check_math("\\frac12", "blah \\boxed{\\frac{1}{2}}")
    assert verdict.detail["extracted"] == "\\frac{1}{2}"
    assert verdict.detail["method"] == "boxed"


@pytest.mark.parametrize(
    "response",
    [
        "",
        "   ",
        "no answer here at all",
        "<think>never closed \\boxed{2}",
        "\\boxed{",
        "\\boxed{2",
        "}}}}{{{{\\\\\\",
        "\x00\udcff\ufffd garbage",
        "x" * 2_000_000,
        "\\boxed{" + "(" * 5000 + "}",
    ],
)
def test_garbage_never_raises(response):
    verdict = get_verifier("math")({"answer": "2"}, response)
    assert verdict.passed is False
    assert verdict.reason in {"no_answer", "wrong", "timeout", "invalid_answer", "too_long"}


def test_enormous_latex_is_bounded():
    big = "\\boxed{" + "+".join(f"\\frac{{{i}}}{{{i + 1}}}" for i in range(8000)) + "}"
    assert len(big) > 100_000
    start = time.monotonic()
    verdict = check_math("2", big)
    assert time.monotonic() - start < 15
    assert verdict.passed is False


def test_missing_reference_is_no_reference():
    assert check_math(None, "\\boxed{1}").reason == "no_reference"
    assert get_verifier("math")({"answer": "  "}, "\\boxed{1}").reason == "no_reference"


def test_spec_tunes_math_verify():
    problem = {"answer": "0.3333", "verifier_spec": '{"float_rounding": 2}'}
    assert get_verifier("math")(problem, "\\boxed{1/3}").passed
    assert not get_verifier("math")({"answer": "0.3333"}, "\\boxed{1/3}").passed


def test_as_latex_wraps_bare_answers_only():
    assert as_latex("50%") == "$50\\%$"
    assert as_latex("$x$") == "$x$"
    assert as_latex("\\$5") == "$5$"


def test_in_process_timeout_reason():
    cfg = MathVerifyConfig(compare_timeout_s=1)
    start = time.monotonic()
    verdict = check_math("2", B("10^{10^{10^{10}}}"), cfg)
    assert verdict.reason == "timeout"
    assert time.monotonic() - start < 5


def test_pool_kills_a_stuck_item_and_keeps_going():
    ok = PoolItem("math", {"answer": "2"}, B("2"))
    stuck = PoolItem("math", {"answer": "2"}, B("10^{10^{10^{10}}}"))  # 3 s alarm per compare
    wrong = PoolItem("math", {"answer": "2"}, B("3"))
    with VerifierPool(2, deadline_s=1.5) as pool:
        start = time.monotonic()
        results = pool.verify([ok, stuck, wrong, ok])
        elapsed = time.monotonic() - start
        assert [r.verdict.reason for r in results] == ["ok", "timeout", "wrong", "ok"]
        assert pool.kills == 1
        assert results[1].latency_s < 3.0
        assert elapsed < 20  # includes the replacement worker's start-up
        # the replacement worker serves later calls
        assert [r.verdict.passed for r in pool.verify([ok, wrong])] == [True, False]


def test_pool_items_queued_behind_a_stuck_one_run_on_the_replacement():
    """One worker with items sent ahead: the stuck one times out, those behind it are
    re-sent to the replacement and are not charged the stuck one's time."""
    ok = PoolItem("math", {"answer": "2"}, B("2"))
    stuck = PoolItem("math", {"answer": "2"}, B("10^{10^{10^{10}}}"))
    wrong = PoolItem("math", {"answer": "2"}, B("3"))
    with VerifierPool(1, deadline_s=1.5, queued=3) as pool:
        results = pool.verify([ok, stuck, wrong, ok])
        assert [r.verdict.reason for r in results] == ["ok", "timeout", "wrong", "ok"]
        assert pool.kills == 1
        assert results[2].latency_s < 1.5 and results[3].latency_s < 1.5


def test_pool_worker_killed_mid_item_fails_only_that_item():
    """A worker that dies (here: killed from outside) costs the running item a
    ``verifier_error``; the items queued behind it are verified by the replacement."""
    import threading

    ok = PoolItem("math", {"answer": "2"}, B("2"))
    stuck = PoolItem("math", {"answer": "2"}, B("10^{10^{10^{10}}}"))
    wrong = PoolItem("math", {"answer": "2"}, B("3"))
    with VerifierPool(1, deadline_s=30, queued=3) as pool:
        victim = pool._workers[0]

        def kill_when_running() -> None:
            deadline = time.monotonic() + 60
            while not victim.ready or not victim.jobs:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.01)
            time.sleep(0.3)
            victim.proc.kill()

        killer = threading.Thread(target=kill_when_running)
        killer.start()
        results = pool.verify([stuck, ok, wrong])
        killer.join()
        assert [r.verdict.reason for r in results] == ["verifier_error", "ok", "wrong"]
        assert "died" in results[0].verdict.detail["error"]
