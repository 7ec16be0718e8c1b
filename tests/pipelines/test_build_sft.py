import pytest
from tracemill.pipelines.build import build_dataset, read_dataset

from tests.pipelines.build_rows import fill_catalog


def _ids(table, column="sample_id"):
    return table.column(column).to_pylist()


def test_default_one_shortest_correct_per_problem(catalog):
    fill_catalog(catalog)
    built = build_dataset(catalog, "sft", "s")
    rows = read_dataset(catalog, "s").to_pylist()
    assert built.rows == len(rows) == 2
    # p1: the shortest passing teacher sample (s1e is a student); p2: the reference;
    # p3 only has a truncated pass; p4 is a dedup drop
    assert [r["sample_id"] for r in rows] == ["s1a", "s2a"]
    assert rows[0]["messages"] == [
        {"role": "user", "content": "question p1"},
        {"role": "assistant", "content": "<think>\nreason s1a\n</think>\n\nfinal s1a"},
    ]
    assert rows[1]["messages"][-1]["content"] == "the answer is 4"
    assert rows[0]["level"] == 1 and rows[1]["level"] is None  # p2 is not graded
    assert rows[1]["source_level"] == 3


def test_all_passing_and_options(catalog):
    fill_catalog(catalog)
    t = read_dataset(catalog, build_dataset(catalog, "sft", "all", {"per_problem": None}).name)
    assert _ids(t) == ["s1a", "s1b", "s2a", "s2b"]
    failing = {"s1c", "s1d", "s2c", "s3b"}
    assert not failing & set(_ids(t))

    t = read_dataset(
        catalog,
        build_dataset(catalog, "sft", "trunc", {"per_problem": None, "exclude_truncated": False}).name,
    )
    assert "s3a" in _ids(t)

    t = read_dataset(catalog, build_dataset(catalog, "sft", "b", {"models": ["teacher-b"]}).name)
    assert _ids(t) == ["s1b"]

    t = read_dataset(
        catalog, build_dataset(catalog, "sft", "short", {"per_problem": None, "max_tokens": 10}).name
    )
    assert _ids(t) == ["s1a", "s2a"]

    t = read_dataset(catalog, build_dataset(catalog, "sft", "long", {"order": "longest"}).name)
    assert _ids(t) == ["s1b", "s2b"]

    t = read_dataset(
        catalog, build_dataset(catalog, "sft", "sys", {"system_prompt": "Think.", "domains": "math"}).name
    )
    assert t.column("messages")[0].as_py()[0] == {"role": "system", "content": "Think."}

    t = read_dataset(
        catalog, build_dataset(catalog, "sft", "dup", {"exclude_dropped": False}).name
    )
    assert "s4a" in _ids(t)


def test_bad_options_raise(catalog):
    with pytest.raises(ValueError, match="unknown sft build option"):
        build_dataset(catalog, "sft", "x", {"nope": 1})
    with pytest.raises(ValueError, match="order"):
        build_dataset(catalog, "sft", "x", {"order": "nope"})
    with pytest.raises(ValueError, match="kind"):
        build_dataset(catalog, "cooking", "x")
    with pytest.raises(ValueError, match="no sample options"):
        build_dataset(catalog, "rl", "x", {"models": ["a"]})
