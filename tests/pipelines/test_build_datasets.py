import json

import pytest
from tracemill.pipelines.build import build_dataset, dataset_info, list_datasets, read_dataset

from tests.pipelines.build_rows import PARAMS, fill_catalog


def _more_rows():
    return {
        "samples": [
            {
                "sample_id": "s1z", "problem_id": "p1", "role": "teacher", "origin": "generate",
                "model": "teacher-a", "backend": "vllm", "params": PARAMS, "sample_index": 9,
                "completion": "short", "completion_tokens": 1, "finish_reason": "stop",
            }
        ],
        "verdicts": [
            {
                "sample_id": "s1z", "problem_id": "p1", "verifier": "tm_test_exact",
                "verifier_version": "1", "passed": True, "score": 1.0, "reason": "ok",
            }
        ],
    }


@pytest.mark.parametrize("kind", ["sft", "rl", "pairs"])
def test_rebuild_from_datasets_row_is_identical(catalog, kind):
    fill_catalog(catalog)
    built = build_dataset(catalog, kind, "d", {"per_problem": None} if kind == "sft" else None)
    before = read_dataset(catalog, "d")
    catalog.append(_more_rows())
    catalog.append({"problems": [{"problem_id": "p9", "source": "alpha", "domain": "math",
                                  "question": "q9", "verifier": "tm_test_exact"}]})
    after = read_dataset(catalog, "d", version=built.version)
    assert after.equals(before)
    assert after.num_rows == built.rows
    # the live catalog does see the new rows
    rebuilt = build_dataset(catalog, kind, "d", {"per_problem": None} if kind == "sft" else None)
    assert rebuilt.version == built.version + 1
    latest = read_dataset(catalog, "d")
    assert latest.num_rows == rebuilt.rows
    assert not latest.equals(before)
    assert read_dataset(catalog, "d", version=1).equals(before)


def test_datasets_row_and_reuse(catalog):
    fill_catalog(catalog)
    first = build_dataset(catalog, "sft", "d", run_id="run-1")
    again = build_dataset(catalog, "sft", "d")
    assert again.reused and again.version == first.version == 1
    row = catalog.sql("SELECT * FROM datasets").to_pylist()
    assert len(row) == 1
    row = row[0]
    assert (row["name"], row["version"], row["kind"], row["rows"]) == ("d", 1, "sft", 2)
    assert row["snapshot_id"] == first.snapshot_id
    assert f"AT (VERSION => {first.snapshot_id})" in row["query"]
    params = json.loads(row["params"])
    assert params["kind"] == "sft" and params["per_problem"] == 1
    assert row["run_id"] == "run-1"
    # other options make a new version even without new rows
    assert build_dataset(catalog, "sft", "d", {"per_problem": 2}).version == 2
    assert list_datasets(catalog).num_rows == 2
    assert dataset_info(catalog, "d").version == 2


def test_unknown_dataset(catalog):
    fill_catalog(catalog)
    build_dataset(catalog, "rl", "known")
    with pytest.raises(KeyError, match="known"):
        read_dataset(catalog, "missing")
    with pytest.raises(KeyError, match="version 7"):
        read_dataset(catalog, "known", version=7)


def test_build_restricted_to_a_selection(catalog):
    from tracemill.pipelines.grade import selection_query

    fill_catalog(catalog)
    snap = catalog.current_snapshot()
    # a curriculum selection: p3 first (stage 1), then p2 (stage 2)
    order = [{"problem_id": "p3", "position": 0, "stage": 1, "level": 2},
             {"problem_id": "p2", "position": 1, "stage": 2, "level": 5}]  # fmt: skip
    catalog.append(
        {
            "datasets": [
                {
                    "name": "hard", "version": 1, "kind": "selection", "rows": 2,
                    "snapshot_id": snap, "params": "{}",
                    "query": selection_query(order, snap),
                }
            ]
        }
    )  # fmt: skip
    built = build_dataset(catalog, "rl", "r", {"selection": "hard"})
    rows = read_dataset(catalog, "r").select(["problem_id", "position", "stage"]).to_pylist()
    assert rows == [{"problem_id": "p3", "position": 0, "stage": 1},
                    {"problem_id": "p2", "position": 1, "stage": 2}]  # fmt: skip
    assert built.params["problems"]["selection_version"] == 1
    with pytest.raises(ValueError, match="not a selection"):
        build_dataset(catalog, "rl", "x", {"selection": "r"})
    with pytest.raises(KeyError, match="nope"):
        build_dataset(catalog, "rl", "x", {"selection": "nope"})
