import json
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from tracemill.pipelines.curate import (
    ExactConfig,
    KeepPolicy,
    NearConfig,
    NormalizeConfig,
    connected_clusters,
    edges_table,
    run_exact,
    run_near,
    select_representatives,
)

BASE = (
    "A farmer has a rectangular field whose length is three times its width and whose "
    "perimeter is {p} metres; find the area of the field in square metres"
)


def problems(questions: list[str], **cols: list) -> pa.Table:
    data = {"problem_id": [f"p{i}" for i in range(len(questions))], "question": questions}
    data.update(cols)
    return pa.table(data)


def clusters_of(result) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for row in result.rows.to_pylist():
        groups.setdefault(row["cluster"], set()).add(row["problem_id"])
    return {frozenset(g) for g in groups.values()}


def test_exact_finds_planted_duplicates() -> None:
    t = problems(
        [
            "What is 2 + 2?",
            "what is 2+2 ?",  # p1 = p0
            r"Solve \left( x \right) = 4",
            r"solve (x)=4",  # p3 = p2
            "What is 2 + 3?",  # differs in a number
            "Something else",
        ]
    )
    result = run_exact(t)
    assert clusters_of(result) == {frozenset({"p0", "p1"}), frozenset({"p2", "p3"})}
    assert result.dropped == 2 and result.clusters == 2 and result.input_rows == 6
    assert set(result.rows.column("method").to_pylist()) == {"exact"}
    assert result.rows.column("similarity").to_pylist() == [1.0] * 4


def test_exact_digit_stripping_merges_renumbered() -> None:
    t = problems(["What is 2 + 2?", "What is 7 + 5?"])
    assert run_exact(t).dropped == 0
    cfg = ExactConfig(normalize=NormalizeConfig(strip_digits=True))
    result = run_exact(t, cfg)
    assert result.dropped == 1
    assert result.config_id != run_exact(t).config_id


def test_near_finds_rewordings_but_not_renumbered() -> None:
    q = BASE.format(p=64)
    t = problems(
        [
            q,
            q.replace("A farmer has", "A farmer owns"),  # reworded
            q.replace(" metres;", " metres ;").upper(),  # reformatted
            BASE.format(p=80),  # renumbered: a different problem
            "Prove that there are infinitely many primes of the form 4k + 3 in the integers",
        ]
    )
    result = run_near(t, NearConfig(threshold=0.6, ngram=3))
    assert clusters_of(result) == {frozenset({"p0", "p1", "p2"})}
    unguarded = run_near(t, NearConfig(threshold=0.6, ngram=3, number_guard=False))
    assert frozenset({"p0", "p1", "p2", "p3"}) in clusters_of(unguarded)
    for row in result.rows.to_pylist():
        assert 0.6 <= row["similarity"] <= 1.0
        detail = json.loads(row["detail"])
        assert detail["params"]["threshold"] == 0.6 and detail["cluster_size"] == 3


def test_near_is_deterministic_and_char_ngrams_work() -> None:
    q = BASE.format(p=64)
    t = problems([q, q + " please", "unrelated text about graphs and colourings of planar maps"])
    a = run_near(t, NearConfig(threshold=0.7, ngram=3))
    b = run_near(t, NearConfig(threshold=0.7, ngram=3))
    assert a.rows.drop_columns(["created_at"]).equals(b.rows.drop_columns(["created_at"]))
    c = run_near(t, NearConfig(threshold=0.7, ngram=10, unit="char"))
    assert clusters_of(c) == {frozenset({"p0", "p1"})}


def test_near_config_is_validated() -> None:
    with pytest.raises(ValueError, match="threshold"):
        NearConfig(threshold=0)
    with pytest.raises(ValueError, match="unit"):
        NearConfig(unit="line")  # type: ignore[arg-type]


def test_connected_components_chain() -> None:
    edges = edges_table(["b", "c", "x"], ["a", "b", "y"], [0.9, 0.8, 0.95])
    clusters = connected_clusters(edges).to_pylist()
    by_id = {r["problem_id"]: r for r in clusters}
    assert {r["cluster"] for r in clusters} == {"a", "x"}
    assert by_id["c"]["cluster"] == "a" and by_id["c"]["neighbour"] == "b"
    assert by_id["b"]["neighbour"] == "a" and by_id["b"]["similarity"] == 0.9


def _keep_fixture() -> pa.Table:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    # one cluster of five; each criterion separates exactly one candidate
    return pa.table(
        {
            "problem_id": ["p0", "p1", "p2", "p3", "p4"],
            "question": ["q" * 50, "q" * 10, "q" * 30, "q" * 30, "q" * 30],
            "answer": [None, None, "7", "7", "7"],
            "has_passing": [False, True, False, True, True],
            "level": [9, 9, 2, 3, 3],
            "created_at": [now, now, now, now + timedelta(days=1), now],
        }
    )


def _rep(features: pa.Table, policy: KeepPolicy | None = None) -> str:
    clusters = pa.table(
        {
            "problem_id": features.column("problem_id"),
            "cluster": ["p0"] * features.num_rows,
            "neighbour": ["p0"] * features.num_rows,
            "similarity": [1.0] * features.num_rows,
        }
    )
    decisions = select_representatives(clusters, features, policy)
    kept = [r["problem_id"] for r in decisions.to_pylist() if r["kept"]]
    assert len(kept) == 1
    assert set(decisions.column("representative").to_pylist()) == set(kept)
    return kept[0]


def test_keep_policy_default_order() -> None:
    f = _keep_fixture()
    # answer → {p2,p3,p4}; passing → {p3,p4}; level 3 both; same length; oldest → p4
    assert _rep(f) == "p4"
    assert _rep(f, KeepPolicy.of(["level", "shortest"])) == "p1"
    assert _rep(f, KeepPolicy.of(["longest"])) == "p0"
    assert _rep(f, KeepPolicy.of(["answer", "passing", "newest"])) == "p3"
    # ties broken by problem id
    assert _rep(f, KeepPolicy.of([])) == "p0"


def test_prior_kept_ranks_first() -> None:
    f = _keep_fixture().append_column("prior_kept", pa.array([True, False, False, False, False]))
    assert _rep(f) == "p0"


def test_keep_policy_rejects_unknown() -> None:
    with pytest.raises(ValueError, match="unknown keep criteria"):
        KeepPolicy.of(["answer", "prettiest"])


def test_run_exact_uses_features() -> None:
    t = problems(["What is 1+1?", "what is 1 + 1?"], answer=[None, "2"])
    result = run_exact(t)
    kept = [r["problem_id"] for r in result.rows.to_pylist() if r["kept"]]
    assert kept == ["p1"] and result.dropped_ids == ["p0"]


def test_unclustered_rows_record_kept_singletons() -> None:
    from tracemill.pipelines.curate import unclustered_rows

    rows = unclustered_rows(
        ["p1", "p2"], method="near", config_id="c", detail={"params": {}}, run_id="r"
    ).to_pylist()
    assert [(r["problem_id"], r["cluster"], r["representative"], r["kept"]) for r in rows] == [
        ("p1", None, "p1", True),
        ("p2", None, "p2", True),
    ]
    assert json.loads(rows[0]["detail"])["cluster_size"] == 1
    clean = unclustered_rows(["p3"], method="decontam", config_id="d", representative=False)
    assert clean.column("representative").to_pylist() == [None]
    assert unclustered_rows([], method="exact", config_id="e").num_rows == 0


def test_decided_by_names_the_deciding_criterion() -> None:
    f = _keep_fixture()
    clusters = pa.table(
        {
            "problem_id": [f"p{i}" for i in range(5)],
            "cluster": ["c"] * 5,
            "neighbour": ["p4"] * 5,
            "similarity": [0.9] * 5,
        }
    )
    decisions = {r["problem_id"]: r for r in select_representatives(clusters, f).to_pylist()}
    # p4 is kept; p0/p1 lack an answer, p2 a passing verdict, p3 is newer than p4
    assert decisions["p4"]["kept"] and decisions["p4"]["decided_by"] == "oldest"  # over p3
    assert [decisions[p]["decided_by"] for p in ("p0", "p1", "p2", "p3")] == [
        "answer", "answer", "passing", "oldest",
    ]  # fmt: skip
    prior = f.append_column("prior_kept", pa.array([False, True, False, False, False]))
    decisions = {r["problem_id"]: r for r in select_representatives(clusters, prior).to_pylist()}
    assert decisions["p1"]["kept"] and decisions["p4"]["decided_by"] == "prior"
    same = pa.table({"problem_id": ["p0", "p1"], "question": ["a", "b"]})
    ties = select_representatives(clusters.slice(0, 2), same, KeepPolicy.of(["shortest"]))
    assert ties.column("decided_by").to_pylist() == ["id", "id"]
    rows = run_exact(problems(["What is 1+1?", "what is 1 + 1?"], answer=[None, "2"])).rows
    assert {json.loads(d)["decided_by"] for d in rows.column("detail").to_pylist()} == {"answer"}
