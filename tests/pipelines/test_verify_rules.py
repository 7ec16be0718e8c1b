"""Rule verifiers: exact, normalized, choice, numeric."""

import json

import pytest
from tracemill.pipelines.verify import get_verifier
from tracemill.pipelines.verify.rules import normalize_text, parse_number


def run(name, answer, response, spec=None):
    problem = {"answer": answer, "verifier_spec": json.dumps(spec) if spec else None}
    return get_verifier(name)(problem, response)


@pytest.mark.parametrize(
    ("answer", "response", "passed"),
    [
        ("42", "\\boxed{42}", True),
        ("42", "Answer: 42", True),
        ("42", "42", True),
        ("42", "\\boxed{42.0}", False),
        ("Paris", "\\boxed{paris}", False),
    ],
)
def test_exact(answer, response, passed):
    assert run("exact", answer, response).passed is passed


@pytest.mark.parametrize(
    ("answer", "response", "passed"),
    [
        ("New York", "\\boxed{\\text{new  york}}", True),
        ("New York", "Final answer: new york.", True),
        ("O(n log n)", "$O(n \\log n)$", False),
        ("O(n log n)", "\\boxed{O(n\\ log\\ n)}", True),
        ("3.5", "\\boxed{3.5}", True),
        ("3.5", "\\boxed{35}", False),
        ("-3", "\\boxed{3}", False),
        ("Boston", "\\boxed{Chicago}", False),
    ],
)
def test_normalized(answer, response, passed):
    assert run("normalized", answer, response).passed is passed


def test_normalized_aliases_and_text():
    assert run("normalized", "NYC", "\\boxed{New York City}", {"aliases": ["New York City"]}).passed
    assert normalize_text("  \\text{Hello},   World!  ") == "hello world"


OPTIONS = {"options": ["red", "green", "blue", "yellow"]}


@pytest.mark.parametrize(
    ("answer", "response", "reason"),
    [
        ("C", "\\boxed{C}", "ok"),
        ("C", "The answer is (C).", "ok"),
        ("C", "\\boxed{\\text{(C)}}", "ok"),
        ("C", "Final answer: option c", "ok"),
        ("C", "\\boxed{blue}", "ok"),
        ("blue", "\\boxed{C}", "ok"),
        ("C", "\\boxed{B}", "wrong"),
        ("C", "\\boxed{green}", "wrong"),
        ("C", "\\boxed{B or C}", "ambiguous"),
        ("C", "\\boxed{B} or \\boxed{C}", "ambiguous"),
        ("C", "The answer is **C**.", "ok"),
        ("C", "\\boxed{purple}", "format"),  # names no option
        ("C", "I don't know, really, this is hard to say\nmaybe", "no_answer"),
    ],
)
def test_choice(answer, response, reason):
    assert run("choice", answer, response, OPTIONS).reason == reason


def test_choice_with_labelled_options_and_bad_reference():
    spec = {"options": {"a": "cat", "b": "dog"}}
    assert run("choice", "B", "\\boxed{dog}", spec).passed
    assert run("choice", "fish", "\\boxed{A}", spec).reason == "no_reference"


@pytest.mark.parametrize(
    ("answer", "response", "spec", "passed"),
    [
        ("1000", "\\boxed{1,000}", None, True),
        ("0.5", "\\boxed{\\frac{1}{2}}", None, True),
        ("0.5", "\\boxed{1/2}", None, True),
        ("-0.5", "\\boxed{-\\frac{1}{2}}", None, True),
        ("1200", "\\boxed{1.2 \\times 10^{3}}", None, True),
        ("25", "\\boxed{25\\%}", None, True),
        ("3.14159", "\\boxed{3.14}", None, False),
        ("3.14159", "\\boxed{3.14}", {"abs_tol": 0.01}, True),
        ("100", "\\boxed{101}", {"rel_tol": 0.02}, True),
        ("100", "\\boxed{103}", {"rel_tol": 0.02}, False),
    ],
)
def test_numeric(answer, response, spec, passed):
    assert run("numeric", answer, response, spec).passed is passed


def test_numeric_unreadable_answers():
    assert run("numeric", "5", "\\boxed{five}").reason == "format"
    assert run("numeric", "5", "\\boxed{5} or \\boxed{6}").reason == "ambiguous"
    assert run("numeric", "five", "\\boxed{5}").reason == "no_reference"
    assert parse_number("1e999999") is None
    assert parse_number("\\frac{1}{0}") is None


@pytest.mark.parametrize("name", ["exact", "normalized", "choice", "numeric"])
@pytest.mark.parametrize("response", ["", "x" * 1_000_000, "\\boxed{", None, "\udcff"])
def test_rules_never_raise(name, response):
    verdict = get_verifier(name)({"answer": "A", "verifier_spec": "{bad json"}, response)
    assert verdict.passed is False
    assert verdict.reason != "verifier_error"


def test_rules_without_reference():
    assert run("exact", None, "\\boxed{1}").reason == "no_reference"
