"""A table of math equivalence cases, verified in one worker pool, plus pathological input.

Every case is (reference, response, expected reason): ``ok`` (equivalent), ``wrong``
(not equivalent) or ``no_answer``. The table records math-verify's actual behaviour;
where it differs from what a reader would expect, a comment says why. All cases run
through one :class:`VerifierPool` call (the path ``verify_table`` uses), not one pool
start each.
"""

import time

import pytest
from tracemill.pipelines.verify.pool import PoolItem, VerifierPool

B = "\\boxed{{{}}}".format
OK, WRONG, NO_ANSWER, AMBIGUOUS = "ok", "wrong", "no_answer", "ambiguous"

CASES = [
    # --- integers, signs, spacing, decimals
    ("7", B("7"), OK),
    ("7", B(" 7 "), OK),
    ("7", B("+7"), OK),
    ("7", B("007"), OK),
    ("7", B("7.000"), OK),
    ("7", B("7.001"), WRONG),
    ("7", B("-7"), WRONG),
    ("-3", B("-3"), OK),
    ("-3", B("- 3"), OK),
    ("-3", B("(-3)"), OK),
    ("-3", B("\u22123"), OK),
    ("-3", B("3"), WRONG),
    ("0.5", B(".5"), OK),
    ("0.5", B("0.50"), OK),
    ("0.5", B("0.05"), WRONG),
    ("0", B("-0"), OK),
    ("0", B("0.0"), OK),
    # --- fractions
    ("\\frac12", B("0.5"), OK),
    ("\\frac12", B("\\frac{1}{2}"), OK),
    ("\\frac{1}{2}", B("\\dfrac{1}{2}"), OK),
    ("\\frac{1}{2}", B("\\tfrac{1}{2}"), OK),
    ("\\frac{1}{2}", B("\\dfrac12"), OK),
    ("\\frac{1}{2}", B("1/2"), OK),
    ("\\frac{1}{2}", B("2/4"), OK),
    ("\\frac{1}{2}", B("\\frac{1}{3}"), WRONG),
    ("\\frac{1}{2}", B("2"), WRONG),
    ("-\\frac{1}{2}", B("\\frac{-1}{2}"), OK),
    ("-\\frac{1}{2}", B("\\frac{1}{-2}"), OK),
    ("-\\frac{1}{2}", B("-0.5"), OK),
    ("-\\frac{1}{2}", B("\\frac{1}{2}"), WRONG),
    ("\\frac{1}{3}", B("0.333333"), OK),
    ("\\frac{1}{3}", B("0.33"), WRONG),
    ("\\frac{1}{3}", B("0.3"), WRONG),
    ("\\frac{22}{7}", B("\\pi"), WRONG),
    ("\\frac{3}{2}", B("1\\frac{1}{2}"), OK),
    ("\\frac{3}{2}", B("1.5"), OK),
    ("\\frac{7}{4}", B("\\frac{14}{8}"), OK),
    ("\\frac{a}{b}", B("a/b"), OK),
    # --- thousands separators
    ("1000", B("1,000"), OK),
    ("1000", B("1{,}000"), OK),
    # thousands written with LaTeX spacing or a plain space (math-verify alone reads 1*000)
    ("1000", B("1\\,000"), OK),
    ("1000", B("1 000"), OK),
    ("12345678", B("12,345,678"), OK),
    ("12345678", B("12,345,679"), WRONG),
    ("1000", B("100"), WRONG),
    # a decimal comma, read as one against a decimal reference (policy)
    ("1.5", B("1,5"), OK),
    # --- percentages
    ("50\\%", B("50\\%"), OK),
    ("50\\%", B("50"), OK),
    ("50\\%", B("0.5"), OK),
    ("50\\%", B("50%"), OK),
    ("50", B("50\\%"), OK),
    ("12.5\\%", B("\\frac{1}{8}"), OK),
    # percent policy: a percentage matches the bare number written with it
    ("12.5\\%", B("12.5"), OK),
    ("50\\%", B("5\\%"), WRONG),
    ("25\\%", B("0.4"), WRONG),
    # --- radicals
    ("\\sqrt{2}", B("\\sqrt2"), OK),
    ("\\sqrt{2}", B("2^{1/2}"), OK),
    ("\\sqrt{2}", B("\\sqrt{4}/\\sqrt{2}"), OK),
    ("\\sqrt{2}", B("1.414214"), OK),
    ("\\sqrt{2}", B("1.41"), WRONG),
    ("\\sqrt{2}", B("\\sqrt{3}"), WRONG),
    ("2\\sqrt{2}", B("\\sqrt{8}"), OK),
    ("\\frac{\\sqrt{2}}{2}", B("\\frac{1}{\\sqrt{2}}"), OK),
    ("\\sqrt[3]{8}", B("2"), OK),
    ("3\\sqrt{3}", B("\\sqrt{27}"), OK),
    ("3\\sqrt{3}", B("\\sqrt{9}"), WRONG),
    ("1+\\sqrt{5}", B("\\sqrt{5}+1"), OK),
    ("1+\\sqrt{5}", B("1-\\sqrt{5}"), WRONG),
    # --- pi
    ("\\pi", B("\\pi"), OK),
    ("2\\pi", B("\\pi \\cdot 2"), OK),
    ("2\\pi", B("2 \\pi"), OK),
    ("\\frac{\\pi}{2}", B("\\pi/2"), OK),
    ("\\frac{\\pi}{2}", B("1.570796"), OK),
    ("\\pi", B("3.14"), WRONG),
    ("\\frac{\\pi}{3}", B("\\frac{\\pi}{6}"), WRONG),
    ("4\\pi", B("4"), WRONG),
    # --- degrees
    ("30^\\circ", B("30"), OK),
    ("30^\\circ", B("30^{\\circ}"), OK),
    ("30^\\circ", B("30\u00b0"), OK),
    ("30", B("30^\\circ"), OK),
    ("30^\\circ", B("60^\\circ"), WRONG),
    ("90^\\circ", B("\\frac{\\pi}{2}"), WRONG),
    # --- scientific notation and powers
    ("1500", B("1.5\\times10^{3}"), OK),
    ("1500", B("1.5 \\times 10^3"), OK),
    # math-verify reads 1.5e3 as 1.5 * e * 3; the normalisation reads a number in
    # e-notation as scientific notation (nobody writes 4.5e for 1.5e3)
    ("1500", B("1.5e3"), OK),
    ("1500", B("1.5e4"), WRONG),
    ("0.03", B("3\\cdot 10^{-2}"), OK),
    ("0.03", B("3\\times10^{-3}"), WRONG),
    ("6.02\\times10^{23}", B("6.02\\times10^{23}"), OK),
    ("6.02\\times10^{23}", B("6.02\\times10^{22}"), WRONG),
    ("1000000", B("10^6"), OK),
    ("1024", B("2^{10}"), OK),
    ("1024", B("2^{11}"), WRONG),
    # --- intervals
    ("(1,2]", B("(1, 2]"), OK),
    ("(1,2]", B("\\left(1,2\\right]"), OK),
    ("(1,2]", B("(1,2)"), WRONG),
    ("[1,2]", B("[1,2)"), WRONG),
    ("(-\\infty, 3)", B("(-\\infty,3)"), OK),
    ("(-\\infty, 3)", B("(-\\infty,3]"), WRONG),
    ("(-\\infty,0)\\cup(1,\\infty)", B("(-\\infty, 0) \\cup (1, \\infty)"), OK),
    ("(-\\infty,0)\\cup(1,\\infty)", B("(1,\\infty)\\cup(-\\infty,0)"), OK),
    ("(-\\infty,0)\\cup(1,\\infty)", B("(-\\infty,0)\\cup[1,\\infty)"), WRONG),
    ("[0,\\infty)", B("[0, \\infty)"), OK),
    # --- sets
    ("\\{1,2,3\\}", B("\\{3,2,1\\}"), OK),
    ("\\{1,2,3\\}", B("\\{1, 2, 3\\}"), OK),
    ("\\{1,2,3\\}", B("\\{1,2\\}"), WRONG),
    ("\\{1,2,3\\}", B("\\{1,2,4\\}"), WRONG),
    ("\\{-1, 1\\}", B("\\{1, -1\\}"), OK),
    ("\\{\\frac12, 2\\}", B("\\{2, 0.5\\}"), OK),
    # --- tuples / points
    ("(1,2)", B("(1, 2)"), OK),
    ("(1,2)", B("\\left(1,2\\right)"), OK),
    ("(1,2)", B("\\left( 1 , 2 \\right)"), OK),
    ("(1,2)", B("(2,1)"), WRONG),
    ("(1,2,3)", B("(1,2)"), WRONG),
    ("(\\frac12, -3)", B("(0.5, -3)"), OK),
    ("(0, 0)", B("(0, 1)"), WRONG),
    # --- matrices
    (
        "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
        B("\\begin{bmatrix}1 & 2\\\\ 3 & 4\\end{bmatrix}"),
        OK,
    ),
    (
        "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
        B("\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}"),
        WRONG,
    ),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", B("\\begin{pmatrix}1\\\\2\\end{pmatrix}"), OK),
    ("\\begin{pmatrix}1\\\\2\\end{pmatrix}", B("\\begin{pmatrix}2\\\\1\\end{pmatrix}"), WRONG),
    (
        "\\begin{pmatrix}\\frac12&0\\\\0&1\\end{pmatrix}",
        B("\\begin{pmatrix}0.5&0\\\\0&1\\end{pmatrix}"),
        OK,
    ),
    # --- units text
    ("5\\text{ cm}", B("5"), OK),
    ("5\\text{ cm}", B("5 \\text{cm}"), OK),
    ("5\\text{ cm}", B("5\\,\\mathrm{cm}"), OK),
    ("5", B("5\\text{ meters}"), OK),
    ("5", B("5 \\text{ apples}"), OK),
    ("5\\text{ cm}", B("6\\text{ cm}"), WRONG),
    ("12 \\text{ km/h}", B("12"), OK),
    ("\\$10", B("10"), OK),
    ("\\$10.50", B("10.5"), OK),
    ("10 \\text{ dollars}", B("\\$10"), OK),
    ("\\$10", B("\\$11"), WRONG),
    # --- \left( and grouping
    ("\\frac{1}{4}", B("\\left(\\frac{1}{2}\\right)^2"), OK),
    ("\\frac{1}{4}", B("\\left(\\frac{1}{2}\\right)^3"), WRONG),
    ("9", B("\\left(1+2\\right)^2"), OK),
    # --- algebraic expressions
    ("x^2-1", B("(x-1)(x+1)"), OK),
    ("x^2-1", B("(x-1)^2"), WRONG),
    ("2x+2", B("2(x+1)"), OK),
    ("2x+2", B("2x+1"), WRONG),
    ("\\frac{x+1}{2}", B("\\frac{x}{2}+\\frac{1}{2}"), OK),
    ("a^2+b^2", B("b^2+a^2"), OK),
    ("\\log_2 8", B("3"), OK),
    ("\\ln(e^2)", B("2"), OK),
    ("\\sin^2x+\\cos^2x", B("1"), OK),
    # i against a plain number is the imaginary unit (math-verify alone keeps it a symbol)
    ("e^{i\\pi}", B("-1"), OK),
    ("e^{i\\pi}", B("1"), WRONG),
    ("y=2x+1", B("y=1+2x"), OK),
    ("y=2x+1", B("2x+1"), OK),
    ("y=2x+1", B("y=2x-1"), WRONG),
    ("x=2", B("x=3"), WRONG),
    # --- complex numbers
    ("1+i", B("i+1"), OK),
    # math-verify gives 'i' different assumptions in '2i' and '2 i'; the verifier retries
    # with plain symbols (and i as the imaginary unit), so the space does not matter
    ("2i", B("2 i"), OK),
    ("2i", B("i(2-i)"), WRONG),
    ("1+2i", B("i(2-i)"), OK),
    ("1+i", B("1-i"), WRONG),
    # --- multiple answers
    # a bare list is ordered unless the reference is a set or the question allows any order
    ("2, 3", B("3, 2"), WRONG),
    ("\\pm 2", B("\\{-2, 2\\}"), OK),
    ("x=2 \\text{ or } x=3", B("2, 3"), OK),
    ("2, 3", B("2, 4"), WRONG),
    # --- inequalities
    ("x>2", B("(2,\\infty)"), OK),
    ("x \\ge 2", B("x>2"), WRONG),
    # --- infinity
    ("\\infty", B("\\infty"), OK),
    ("-\\infty", B("-\\infty"), OK),
    ("\\infty", B("-\\infty"), WRONG),
    # --- text answers and choices
    ("\\text{yes}", B("yes"), OK),
    ("\\text{(C)}", B("C"), OK),
    ("C", B("\\textbf{C}"), OK),
    ("C", B("D"), WRONG),
    # --- answer markers
    ("7", "Final answer: 7", OK),
    ("7", "The final answer is $7$.", OK),
    ("7", "<answer>7</answer>", OK),
    # several different boxed answers in the final part are a hedge
    ("7", "first \\boxed{3}, then correcting: \\boxed{7}", AMBIGUOUS),
    ("7", "first \\boxed{7}, then correcting: \\boxed{3}", AMBIGUOUS),
    ("\\frac{1}{2}", "\\boxed{\\frac{1}{2}}", OK),
    ("\\frac{1}{2}", "<think>\\boxed{1/2}</think> I will say \\boxed{1/3}", WRONG),
    ("7", "$\\boxed{7}$", OK),
    ("7", "\\fbox{7}", OK),
    ("7", "no answer here", NO_ANSWER),
    ("7", "", NO_ANSWER),
    # --- repeating decimals
    # repeating decimals become exact fractions (math-verify alone reads 0)
    ("\\frac{1}{3}", B("0.\\overline{3}"), OK),
]


@pytest.fixture(scope="module")
def table_results():
    """Verdicts of every case, from one pool call."""
    items = [PoolItem("math", {"answer": ref}, resp) for ref, resp, _ in CASES]
    with VerifierPool(2, deadline_s=20.0) as pool:
        return pool.verify(items)


def _case_id(case):
    ref, resp, expected = case
    text = f"{ref} | {resp} -> {expected}"
    return text if len(text) <= 60 else text[:57] + "..."


@pytest.mark.parametrize("index", range(len(CASES)), ids=[_case_id(c) for c in CASES])
def test_math_equivalence_table(table_results, index):
    reference, response, expected = CASES[index]
    verdict = table_results[index].verdict
    assert verdict.reason == expected, (reference, response, verdict)
    assert verdict.passed is (expected == OK)
    assert verdict.score == (1.0 if expected == OK else 0.0)


def test_table_size_and_balance():
    assert len(CASES) >= 150
    assert len({(ref, resp) for ref, resp, _ in CASES}) == len(CASES), "duplicate case"
    unequal = sum(expected != OK for *_, expected in CASES)
    assert 40 <= unequal <= len(CASES) - 40


PATHOLOGICAL = [
    ("2", B("10^{10^{10^{10}}}")),
    ("10^{10^{10^{10}}}", B("2")),
    ("2", B("+".join(f"\\frac{{{i}}}{{{i + 1}}}" for i in range(8000)))),
    ("2", ("Consider $" + "x^{" * 2000 + "2" + "}" * 2000 + "$. ") * 13),
    ("2", "$" + " + ".join(f"\\sqrt{{{i}}}" for i in range(12000)) + "$"),
]


def test_pathological_math_returns_within_the_deadline():
    deadline = 2.0
    assert all(len(resp) >= 100_000 for _, resp in PATHOLOGICAL[2:])  # 100 KB of LaTeX
    items = [PoolItem("math", {"answer": ref}, resp) for ref, resp in PATHOLOGICAL]
    with VerifierPool(2, deadline_s=deadline) as pool:
        start = time.monotonic()
        results = pool.verify([*items, PoolItem("math", {"answer": "2"}, B("2"))])
        elapsed = time.monotonic() - start
    for (ref, resp), res in zip(PATHOLOGICAL, results, strict=False):
        assert not res.verdict.passed, (ref[:40], resp[:40], res.verdict)
        assert res.verdict.reason in {"timeout", "wrong", "no_answer", "too_long", "invalid_answer"}, (
            res.verdict
        )
        assert res.latency_s < deadline + 1.0, (ref[:40], resp[:40], res.latency_s)
    assert results[0].verdict.reason == "timeout"
    assert results[-1].verdict.reason == "ok"  # the pool still works afterwards
    assert elapsed < 60  # replacement workers' start-ups included
