import pyarrow as pa
import pytest

from catalogs import (
    canonical_json,
    normalize_question,
    problem_id,
    problem_ids,
    sample_id,
    sample_ids,
)


@pytest.mark.parametrize(
    "variant",
    [
        "What is 1 + 1?",
        "  What is 1 + 1?  ",
        "What  is\t1 +\n1?",
        "What\u00a0is 1 + 1?\r\n",
        "\u2003What is\u3000 1 + 1?",
    ],
)
def test_whitespace_variants_share_problem_id(variant):
    assert problem_id("math", variant) == problem_id("math", "What is 1 + 1?")


def test_nfc_normalization():
    composed = "Caf\u00e9 costs $3$."
    decomposed = "Cafe\u0301 costs $3$."
    assert composed != decomposed
    assert normalize_question(decomposed) == composed
    assert problem_id("math", composed) == problem_id("math", decomposed)


def test_case_latex_and_domain_matter():
    assert problem_id("math", "Solve for X") != problem_id("math", "Solve for x")
    assert problem_id("math", r"\frac12") != problem_id("math", r"\frac{1}{2}")
    assert problem_id("math", "q") != problem_id("code", "q")


def test_problem_id_is_documented_md5():
    import hashlib

    expected = hashlib.md5(b"math\nWhat is 2?").hexdigest()
    assert problem_id("math", " What  is 2? ") == expected
    assert len(expected) == 32


def test_vectorized_problem_ids_match_scalar():
    questions = [
        "a  b",
        " x\u00a0y ",
        "Cafe\u0301",
        "tab\tand\nnewline",
        "",
        "plain text",
        "\u2028line sep",
        "ünïcödé  ✓",
    ]
    domains = ["math", "code"] * 4
    got = problem_ids(pa.array(domains), pa.array(questions)).to_pylist()
    assert got == [problem_id(d, q) for d, q in zip(domains, questions, strict=True)]
    assert problem_ids(pa.array([], pa.string()), pa.array([], pa.string())).to_pylist() == []


def test_sample_ids_stable_and_vectorized():
    params = {"temperature": 0.7, "max_tokens": 10}
    a = sample_id("p1", "m", params, 0)
    assert a == sample_id("p1", "m", {"max_tokens": 10, "temperature": 0.7}, 0)
    assert a != sample_id("p1", "m", params, 1)
    assert a != sample_id("p1", "m2", params, 0)
    got = sample_ids(
        pa.array(["p1", "p1"]), pa.array(["m", "m"]),
        pa.array([canonical_json(params)] * 2), pa.array([0, 1], pa.int32()),
    )
    assert got.to_pylist() == [a, sample_id("p1", "m", params, 1)]


def test_canonical_json_sorted_and_compact():
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
