from unittest import mock

import pytest
import yaml
from tracemill.pipelines.build import build_dataset, read_dataset
from tracemill.stores.hub import export_dataset, parse_hub_target

from tests.pipelines.build_rows import fill_catalog


def _front_matter(text):
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head), body


@pytest.mark.parametrize("kind", ["sft", "rl", "pairs"])
def test_folder_round_trips_through_load_dataset(catalog, tmp_path, kind):
    from datasets import Features, load_dataset

    fill_catalog(catalog)
    opts = {"per_problem": None, "roles": None, "exclude_truncated": False} if kind == "sft" else None
    build_dataset(catalog, kind, "ds", opts)
    expected = read_dataset(catalog, "ds")
    out = tmp_path / "export"
    result = export_dataset(catalog, "ds", out, shard_rows=2)
    assert result.rows == expected.num_rows
    n = -(-expected.num_rows // 2)
    names = sorted(p.name for p in (out / "data").iterdir())
    assert names == [f"train-{i:05d}-of-{n:05d}.parquet" for i in range(n)]

    meta, _ = _front_matter((out / "README.md").read_text())
    card_features = Features._from_yaml_list(meta["dataset_info"]["features"])
    ds = load_dataset(str(out), split="train", cache_dir=str(tmp_path / "cache"))
    assert ds.features == card_features
    assert ds.num_rows == expected.num_rows == meta["dataset_info"]["splits"][0]["num_examples"]
    assert ds.to_list() == expected.to_pylist()


def test_card_contents(catalog, tmp_path):
    fill_catalog(catalog)
    built = build_dataset(catalog, "sft", "ds", {"per_problem": None})
    export_dataset(catalog, "ds", tmp_path / "out")
    meta, body = _front_matter((tmp_path / "out" / "README.md").read_text())
    assert meta["license"] == "other"  # mit and cc-by-4.0 sources
    assert meta["task_categories"] == ["text-generation"]
    assert meta["configs"][0]["data_files"][0] == {"split": "train", "path": "data/train-*.parquet"}
    assert "| alpha | 2 | 50.0% |" in body and "| beta | 2 | 50.0% |" in body  # by source
    assert "| teacher-a | 2 |" in body  # by teacher
    # verdicts on p1 and p2 (problems of the dataset): version 1 has 8, 5 passed
    assert "| tm_test_exact | 1 | 8 | 0.625 |" in body
    assert "| tm_test_exact | 1.10 | 1 | 0.000 |" in body
    # the verdict policy, and the latest verdicts by role (one primary verifier here)
    assert "### Verdict policy" in body and "never remove or add a sample" in body
    assert "| tm_test_exact | primary | 8 | 5 | 0 | 8 |" in body
    assert "Samples on which verifiers disagree (`verdict_disagreements`): 0." in body
    assert "| exact | 1 | 2 | 1 | 0 |" in body  # dedup: p1 kept, p4 dropped
    assert "| decontam | 1 | 1 | 0 | 0 |" in body
    # graded levels (p1: level 1; p2 is ungraded) with the grades behind them, and the
    # source's own levels apart (p2: 3)
    graded = body[body.index("### Difficulty (graded)"):body.index("### Source levels")]
    assert "| 1 | 2 |" in graded and "| ungraded | 2 |" in graded
    assert "| student | fixed_k | 4 | 1 |" in graded  # grader model, method, k, problems
    source = body[body.index("### Source levels"):body.index("## Verification")]
    assert "| 3 | 2 |" in source and "| none | 2 |" in source
    assert "### Curriculum" not in body
    assert "| beta | cc-by-4.0 | 1 |" in body
    assert f"| catalog snapshot | {built.snapshot_id} |" in body
    assert "code version" in body and '"per_problem": null' in body


def test_single_license_and_shard_bytes(catalog, tmp_path):
    fill_catalog(catalog)
    build_dataset(catalog, "rl", "r", {"sources": ["alpha"]})
    result = export_dataset(catalog, "r", tmp_path / "o", shard_bytes=1)
    assert len(result.shards) == result.rows == 2  # one row per shard
    meta, _ = _front_matter((tmp_path / "o" / "README.md").read_text())
    assert meta["license"] == "mit"
    # a second export with bigger shards leaves no stale shard behind
    export_dataset(catalog, "r", tmp_path / "o")
    assert [p.name for p in (tmp_path / "o" / "data").iterdir()] == ["train-00000-of-00001.parquet"]


def test_hub_upload_with_mocked_api(catalog, tmp_path):
    fill_catalog(catalog)
    build_dataset(catalog, "pairs", "p")
    api = mock.Mock()
    seen = {}

    def upload_folder(**kwargs):
        from pathlib import Path

        folder = Path(kwargs["folder_path"])
        seen["files"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())

    api.upload_folder.side_effect = upload_folder
    result = export_dataset(catalog, "p", "hub://my-org/my-set", private=True, api=api)
    api.create_repo.assert_called_once_with(
        "my-org/my-set", repo_type="dataset", private=True, exist_ok=True
    )
    kwargs = api.upload_folder.call_args.kwargs
    assert kwargs["repo_id"] == "my-org/my-set" and kwargs["repo_type"] == "dataset"
    assert seen["files"] == ["README.md", "data/train-00000-of-00001.parquet"]
    assert result.url == "https://huggingface.co/datasets/my-org/my-set"
    assert result.folder is None


def test_hub_upload_uses_hfapi_by_default(catalog, monkeypatch):
    fill_catalog(catalog)
    build_dataset(catalog, "rl", "r")
    with mock.patch("huggingface_hub.HfApi") as cls:
        export_dataset(catalog, "r", "hub://org/name")
    cls.return_value.create_repo.assert_called_once()
    cls.return_value.upload_folder.assert_called_once()


def test_bad_targets(catalog):
    assert parse_hub_target("some/dir") is None
    with pytest.raises(ValueError, match="hub://ORG/NAME"):
        parse_hub_target("hub://just-a-name")
    with pytest.raises(KeyError, match="build it first"):
        export_dataset(catalog, "nope", "x")
