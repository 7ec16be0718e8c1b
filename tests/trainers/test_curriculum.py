"""Curriculum order survives build → export → train (no training steps: see test_trainers)."""

import pytest
from tracemill.flows.grade.config import SelectStage
from tracemill.flows.grade.selection import select
from tracemill.pipelines.build import build_dataset, read_dataset
from tracemill.stores.hub import export_dataset
from tracemill.trainers.common import TrainConfig, read_training_table
from tracemill.trainers.sft import curriculum_column, curriculum_stages

from tests.pipelines.build_rows import fill_catalog


def _regrade(store):
    """Newer grades: p3 easiest (2), then p2 (3), then p1 (5): not problem-id order."""
    store.append({"grades": [
        {"problem_id": pid, "grader_model": "student", "params_id": "g2", "method": "fixed_k",
         "k": 4, "passes": passes, "pass_rate": passes / 4, "level": level}
        for pid, passes, level in (("p3", 3, 2), ("p2", 2, 3), ("p1", 1, 5))
    ]})  # fmt: skip


def test_curriculum_order_survives_build_export_and_training_input(catalog, tmp_path):
    fill_catalog(catalog)
    _regrade(catalog)
    select(SelectStage(dataset="easy-first", curriculum=True), store=catalog, run_id="r")
    build_dataset(catalog, "sft", "cur", {"selection": "easy-first", "per_problem": None,
                                          "exclude_truncated": False, "roles": None})  # fmt: skip
    built = read_dataset(catalog, "cur")
    order = [(r["problem_id"], r["position"], r["stage"], r["level"])
             for r in built.select(["problem_id", "position", "stage", "level"]).to_pylist()]
    assert [o[0] for o in order][:1] == ["p3"] and order[-1][0] == "p1"
    assert sorted(set(order), key=lambda o: o[1]) == [
        ("p3", 0, 1, 2), ("p2", 1, 2, 3), ("p1", 2, 3, 5)]  # fmt: skip

    # the export keeps columns and order (several shards), and so does reading it back
    out = tmp_path / "export"
    export_dataset(catalog, "cur", out, shard_rows=2)
    card = (out / "README.md").read_text()
    assert "### Curriculum" in card and "| 3 | " in card
    exported = read_training_table(TrainConfig(dataset=str(out), model="m"))
    assert exported.to_pylist() == built.to_pylist()

    # the SFT trainer's curriculum: the dataset's stages, in order, rows in position order
    assert curriculum_column(exported) == "stage"
    stages = curriculum_stages(exported)
    assert [(s, sorted(set(t.column("problem_id").to_pylist()))) for s, t in stages] == [
        (1, ["p3"]), (2, ["p2"]), (3, ["p1"])]  # fmt: skip
    by_level = curriculum_stages(exported, "graded")
    assert [s for s, _ in by_level] == [2, 3, 5]


def test_curriculum_without_stages_follows_the_level_asked_for(catalog):
    fill_catalog(catalog)
    build_dataset(catalog, "sft", "plain", {"per_problem": None, "exclude_truncated": False})
    table = read_dataset(catalog, "plain")
    assert "stage" not in table.column_names
    # auto falls back to the graded level; p2 has no grade and comes first
    assert [s for s, _ in curriculum_stages(table)] == [None, 1, 2]
    assert [s for s, _ in curriculum_stages(table, "source")] == [None, 3]
    with pytest.raises(ValueError, match="no stage column"):
        curriculum_stages(table, "stage")


def test_training_on_an_empty_dataset_is_a_clear_error(catalog, catalog_dir):
    fill_catalog(catalog)
    build_dataset(catalog, "rl", "none", {"min_level": 9})
    catalog.close()
    with pytest.raises(ValueError, match="dataset 'none' has no rows: nothing to train on"):
        read_training_table(TrainConfig(dataset="none", model="m", catalog=str(catalog_dir)))
