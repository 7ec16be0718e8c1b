import json

from tracemill.catalogs.views import sample_status_sql
from tracemill.pipelines.build import build_dataset, read_dataset

from tests.pipelines.build_rows import fill_catalog


def test_rl_rows(catalog):
    fill_catalog(catalog)
    build_dataset(catalog, "rl", "r")
    rows = {r["problem_id"]: r for r in read_dataset(catalog, "r").to_pylist()}
    assert sorted(rows) == ["p1", "p2", "p3"]  # p4 dropped by dedup, p5 has no verifier
    p1 = rows["p1"]
    assert p1["prompt"] == [{"role": "user", "content": "question p1"}]
    assert (p1["verifier"], p1["answer"], p1["level"], p1["pass_rate"]) == (
        "tm_test_exact", "answer-p1", 1, 0.75,
    )
    assert json.loads(rows["p3"]["verifier_spec"]) == {"k": 1}
    # level is the graded level only; p2 is ungraded and keeps its source's level apart
    assert (p1["grader_model"], p1["source_level"]) == ("student", None)
    assert (rows["p2"]["level"], rows["p2"]["source_level"]) == (None, 3)

    build_dataset(catalog, "rl", "band", {"min_pass_rate": 0.2, "max_pass_rate": 0.5})
    assert read_dataset(catalog, "band").column("problem_id").to_pylist() == ["p3"]
    build_dataset(catalog, "rl", "hard", {"min_level": 2})
    assert read_dataset(catalog, "hard").column("problem_id").to_pylist() == ["p3"]
    build_dataset(catalog, "rl", "src", {"min_level": 2, "level_from": "source"})
    assert read_dataset(catalog, "src").column("problem_id").to_pylist() == ["p2"]
    build_dataset(catalog, "rl", "other", {"grader_model": "nobody"})
    assert set(read_dataset(catalog, "other").column("level").to_pylist()) == {None}
    build_dataset(catalog, "rl", "any", {"require_verifier": False})
    assert read_dataset(catalog, "any").num_rows == 4


def test_pairs_shortest_correct_vs_longest_wrong(catalog):
    fill_catalog(catalog)
    build_dataset(catalog, "pairs", "p", {"roles": ["teacher", "reference"]})
    rows = read_dataset(catalog, "p").to_pylist()
    got = [(r["problem_id"], r["chosen_sample_id"], r["rejected_sample_id"]) for r in rows]
    # s1d (longest failure) is truncated and excluded by default; p3's only failure is
    # an infrastructure error, so p3 has no pair
    assert got == [("p1", "s1a", "s1c"), ("p2", "s2a", "s2c")]
    assert rows[0]["prompt"] == [{"role": "user", "content": "question p1"}]
    assert rows[0]["chosen"][0]["role"] == "assistant"

    build_dataset(catalog, "pairs", "t", {"roles": None, "exclude_truncated": False})
    rows = read_dataset(catalog, "t").to_pylist()
    assert [(r["chosen_sample_id"], r["rejected_sample_id"]) for r in rows][0] == ("s1e", "s1d")


def test_passing_sample_never_negative(catalog):
    fill_catalog(catalog)
    passed = {
        r["sample_id"]
        for r in catalog.sql(sample_status_sql()).to_pylist()
        if r["passed"]
    }
    for seed in range(5):
        name = f"r{seed}"
        build_dataset(
            catalog, "pairs", name,
            {"pairing": "random", "seed": seed, "per_problem": 3, "roles": None,
             "exclude_truncated": False},
        )
        rows = read_dataset(catalog, name).to_pylist()
        assert rows
        for r in rows:
            assert r["rejected_sample_id"] not in passed
            assert r["chosen_sample_id"] in passed
        # no sample is reused within a problem
        assert len({r["chosen_sample_id"] for r in rows}) == len(rows)
        assert len({r["rejected_sample_id"] for r in rows}) == len(rows)


def test_random_pairing_is_seeded(catalog):
    fill_catalog(catalog)
    opts = {"pairing": "random", "seed": 3, "roles": None, "exclude_truncated": False}
    a = read_dataset(catalog, build_dataset(catalog, "pairs", "a", opts).name)
    b = read_dataset(catalog, build_dataset(catalog, "pairs", "b", opts).name)
    assert a.equals(b)
