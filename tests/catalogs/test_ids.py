import pyarrow as pa
import pytest
from tracemill.catalogs import (
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


def test_vectorized_fast_path_edges_and_parallel_slices_keep_order(monkeypatch):
    import tracemill.catalogs.ids as ids

    # printable-ASCII rows skip normalization unless they hold a double space or a space
    # at either end; every other row takes the full path; big inputs are cut into slices
    # hashed on several threads, and the ids must come back in input order
    edge = [
        "a b", "a  b", " a", "a ", " ", "", "a\tb", "a\x1fb", "a\x7fb", "caf\u00e9",
        "Cafe\u0301", "x\u00a0y", "\u3000z", "a\u2028b", "tab\t", "ok?", None,
    ]
    questions = [q if q is None else f"{q} #{i}" if i % 3 else q for i, q in enumerate(edge * 40)]
    questions = [q for q in questions if q is not None]
    domains = ["math", "code", "chat"] * (len(questions) // 3) + ["math"] * (len(questions) % 3)
    monkeypatch.setattr(ids, "_PARALLEL_MIN_ROWS", 50)
    monkeypatch.setattr(ids, "_WORKERS", 4)
    got = problem_ids(pa.array(domains), pa.chunked_array([questions[:100], questions[100:]]))
    assert got.to_pylist() == [problem_id(d, q) for d, q in zip(domains, questions, strict=True)]


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


def _ids_in_child(queue, domains, questions):
    queue.put(problem_ids(pa.array(domains), pa.array(questions)).to_pylist())


def test_parallel_ids_work_in_a_forked_child(monkeypatch):
    import multiprocessing

    import tracemill.catalogs.ids as ids

    monkeypatch.setattr(ids, "_PARALLEL_MIN_ROWS", 20)
    monkeypatch.setattr(ids, "_WORKERS", 2)
    questions = [f"question {i}" for i in range(100)]
    domains = ["math"] * 100
    expected = problem_ids(pa.array(domains), pa.array(questions)).to_pylist()  # parent pool
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_ids_in_child, args=(queue, domains, questions))
    child.start()
    try:
        assert queue.get(timeout=60) == expected  # the parent's pool threads are gone there
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()


def test_the_listed_whitespace_is_exactly_what_str_isspace_says():
    # the list spares every process a scan of all of Unicode at import; this is that scan
    from tracemill.catalogs.ids import WHITESPACE

    assert WHITESPACE == tuple(c for c in range(0x110000) if chr(c).isspace())
