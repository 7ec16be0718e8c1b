"""Math answer extraction and normalisation, piece by piece (the table tests the whole)."""

from __future__ import annotations

import time

import pytest
from tracemill.pipelines.extract import (
    MAX_ANSWER_CHARS,
    all_boxed,
    extract_answer,
    last_answer_tag,
    last_boxed,
)
from tracemill.pipelines.verify.math_answer import check_math, compare_answers
from tracemill.pipelines.verify.math_extract import find_math_answer, last_expression
from tracemill.pipelines.verify.math_normalize import (
    inequality_to_interval,
    normalize,
    percent_variants,
    question_allows_any_order,
    repeating_decimals,
    split_answer,
    strip_thousands,
    words_to_number,
)


def test_boxes_are_found_whole_in_order_and_nested_ones_stay_inside():
    text = r"a \boxed{1} b \boxed{\frac{1}{2}} c \boxed{\boxed{3}} \fbox{4} \boxed 5"
    assert all_boxed(text) == ["1", r"\frac{1}{2}", r"\boxed{3}", "4", "5"]
    assert last_boxed(r"\boxed{\{1, 2\}} and \boxed{") == r"\{1, 2\}"
    assert last_boxed(r"\boxed{a \\ {b}}") == r"a \\ {b}"  # a row break, then a group
    assert last_boxed(r"\boxed{2") is None


def test_answer_tag_is_the_last_complete_block():
    assert last_answer_tag("<answer>1</answer> <ANSWER>2</answer>") == "2"
    assert last_answer_tag("<answer>1</answer><answer>2") == "1"
    assert last_answer_tag("<answer>" * 1000) is None


@pytest.mark.parametrize(
    "text", ["\\boxed{" * 30_000, "<answer>" * 30_000, "$x " * 70_000, "\\( 1 " * 40_000]
)
def test_extraction_is_linear_on_unclosed_markers(text):
    """200 kB of unclosed markers: the old scan took minutes (quadratic), now well under a second."""
    start = time.perf_counter()
    extract_answer(text)
    find_math_answer(text)
    assert time.perf_counter() - start < 10


def test_long_answers_are_flagged_not_silently_cut():
    tail = " + ".join(str(i) for i in range(1, 12_000))
    ex = extract_answer(r"\boxed{" + tail + "}")
    assert ex.truncated and len(ex.answer) == MAX_ANSWER_CHARS
    wrong_last_term = tail[:-1] + "0"
    verdict = check_math(tail, r"\boxed{" + wrong_last_term + "}")
    assert (verdict.passed, verdict.reason) == (False, "too_long")
    assert compare_answers("1" * (MAX_ANSWER_CHARS + 1), "1").reason == "too_long"
    assert compare_answers("1", "1" * (MAX_ANSWER_CHARS + 1)).reason == "too_long"


@pytest.mark.parametrize(
    ("response", "answer", "method"),
    [
        ("So we get 918\\frac{1}{2}.", "918\\frac{1}{2}", "expression"),
        ("The polynomial is x^3 - 2x + 1.", "x^3 - 2x + 1", "expression"),
        ("We compute $3+3=6$, so the answer is $6$.", "6", "answer_is"),
        ("Final Answer: The final answer is $28 \\%$. I hope it is correct.", "28 \\%", "answer_is"),
        ("$$\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}$$",
         "\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "display"),  # fmt: skip
        ("Thus $x = 5$.", "x = 5", "inline"),
        ("Therefore there are 12 ways. <|im_end|>", "12", "expression"),
        ("\\boxed{3", None, "unclosed_box"),
        ("<think>\\boxed{4}</think>", None, "none"),
        ("Not sure. <!-- \\boxed{4} -->", None, "none"),
    ],
)
def test_unboxed_answers_are_taken_whole(response, answer, method):
    found = find_math_answer(response)
    assert (found.answer, found.method) == (answer, method)


def test_last_expression_skips_words_and_keeps_expressions_whole():
    assert last_expression("it is 2 and 10 apples") == "10"
    assert last_expression("the matrix \\begin{pmatrix}1&0\\\\0&1\\end{pmatrix} here").startswith(
        "\\begin{pmatrix}"
    )
    assert last_expression("no numbers at all") is None


def test_boxes_and_neighbours_are_kept_for_hedge_checks():
    found = find_math_answer("\\boxed{3} or \\boxed{4}")
    assert found.boxes == ("3", "4")
    assert find_math_answer("\\boxed{4}, or possibly 3.").nearby == "3."


@pytest.mark.parametrize(
    "spelling",
    ["1,000,000", "1{,}000{,}000", "1\\,000\\,000", "1\\!000\\!000", "1,\\!000,\\!000",
     "1\\ 000\\ 000", "1~000~000", "1 000 000", "1'000'000"],  # fmt: skip
)
def test_thousands_separators(spelling):
    assert normalize(spelling).text == "1000000"


def test_thousands_never_join_a_pair_or_a_spaced_list():
    assert strip_thousands("(12,102)") == "(12,102)"
    assert normalize("32, 349").text == "32, 349"
    assert normalize("1,000.5").text == "1000.5"
    assert normalize("100,200", comma_thousands=False).text == "100,200"


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.\\overline{3}", "\\frac{1}{3}"), ("0.1\\overline{6}", "\\frac{1}{6}"),
     ("1.\\overline{27}", "\\frac{14}{11}"), ("0.(3)", "\\frac{1}{3}"), ("0.333...", "\\frac{1}{3}"),
     ("0.1666\\ldots", "\\frac{1}{6}"), ("0.\\dot{3}", "\\frac{1}{3}"), ("3.14159...", "3.14159"),
     ("-0.\\overline{9}", "-1")],  # fmt: skip
)
def test_repeating_decimals(text, value):
    assert repeating_decimals(text) == value


@pytest.mark.parametrize(
    ("words", "number"),
    [("five", "5"), ("twenty-one", "21"), ("one hundred and five", "105"),
     ("two thousand three hundred", "2300"), ("minus three", "-3"), ("one half", "\\frac{1}{2}"),
     ("three quarters", "\\frac{3}{4}"), ("apples", None), ("and", None)],  # fmt: skip
)
def test_number_words(words, number):
    assert words_to_number(words) == number


@pytest.mark.parametrize(
    ("inequality", "interval"),
    [("x \\ge 2", "[2, \\infty)"), ("x<3", "(-\\infty, 3)"), ("-1 \\le x < 3", "[-1, 3)"),
     ("5 > x > 2", "(2, 5)"), ("3 \\geq t", "(-\\infty, 3]"),
     ("x < -1 \\text{ or } x > 3", "(-\\infty, -1) \\cup (3, \\infty)"),
     ("x > 0 and x < 1", "(0, 1)"), ("x = 3", None), ("x > 1 or y < 2", None)],  # fmt: skip
)
def test_inequalities_become_intervals(inequality, interval):
    assert inequality_to_interval(inequality) == interval


def test_units_text_degrees_percent_and_punctuation():
    assert normalize("5\\text{ cm}^2").text == "5"
    assert normalize("12 km/h").text == "12"
    assert normalize("2x").text == "2x"  # a product, not a unit
    assert normalize("2 m").text == "2 m"  # one letter: a unit only against a number
    assert normalize("2 m", letter_units=True).text == "2"
    assert normalize("45^{\\circ}").text == "45"
    assert normalize("\\text{Evelyn}").text == "Evelyn"
    assert normalize("185\\").text == "185"
    assert normalize("\\dfrac{1}{2}.").text == "\\frac{1}{2}"
    assert normalize("3!").text == "3!"
    assert normalize("no solution").text == "\\emptyset"
    pct = normalize("25 percent")
    assert pct.percent and pct.text == "25\\%"
    assert percent_variants("25\\%") == ["25", "0.25"]
    assert normalize("\\left( 4").malformed
    assert normalize("\\cancel{3} 4").malformed


def test_shapes_of_answers():
    assert split_answer("\\{1, 2\\}").kind == "set"
    assert split_answer("(1, 2]").kind == "interval"
    assert split_answer("(1, 2)").kind == "seq"
    assert split_answer("1, 2, 3").items == ("1", "2", "3")
    assert split_answer("x = 2 or x = 3").kind == "set"
    assert split_answer("(-\\infty, 0) \\cup (1, \\infty)").kind == "union"
    assert split_answer("f(1, 2)").kind == "scalar"


@pytest.mark.parametrize(
    ("question", "free"),
    [("Enter all the solutions, separated by commas.", True), ("Find all real x.", True),
     ("List them in any order.", True), ("Enter the ordered pair (a, b).", False),
     ("Compute a, b and c, in order to check.", False), (None, False),
     ("f(x + y) = f(x) + y for all real numbers x. Find f(2), f(3).", False),
     ("Find all ordered pairs (a, b) of integers.", True)],  # fmt: skip
)
def test_question_wording_frees_the_order(question, free):
    assert question_allows_any_order(question) is free
