"""The build/export/train stages, recipes and CLI commands on a small catalog."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from tests.pipelines.build_rows import PARAMS


def _reference_catalog(catalog_dir):
    """Only problems, reference samples and verdicts (what the quickstart has)."""
    from tracemill.stores.catalog import open_catalog

    problems, samples, verdicts = [], [], []
    for i in range(4):
        pid = f"q{i}"
        problems.append({"problem_id": pid, "source": "examples", "domain": "math",
                         "question": f"What is {i} + {i}?", "answer": str(2 * i),
                         "verifier": "tm_test_exact", "license": "Apache-2.0"})
        sid = f"r{i}"
        samples.append({"sample_id": sid, "problem_id": pid, "role": "reference",
                        "origin": "ingest:examples", "model": "reference", "backend": "ingest",
                        "params": PARAMS, "sample_index": 0,
                        "completion": f"{i} + {i} = {2 * i}. The answer is {2 * i}."})
        verdicts.append({"sample_id": sid, "problem_id": pid, "verifier": "tm_test_exact",
                         "verifier_version": "1", "passed": True, "score": 1.0, "reason": "ok"})
    with open_catalog(catalog_dir) as store:
        store.append({"problems": problems, "samples": samples, "verdicts": verdicts})


def _app():
    from tracemill.flows.cli import app

    return app


def test_stages_are_registered():
    from tracemill.flows.stages import stage_names

    assert {"build", "export", "train", "tiny_model"} <= set(stage_names())


def test_build_stage_validates_options():
    from pydantic import ValidationError
    from tracemill.flows.build import BuildStage

    with pytest.raises(ValidationError, match="unknown sft build option"):
        BuildStage(kind="sft", dataset="x", options={"bogus": 1})
    with pytest.raises(ValidationError):
        BuildStage(kind="cooking", dataset="x")


def test_cli_build_datasets_export(catalog_dir, tmp_path):
    _reference_catalog(catalog_dir)
    runner = CliRunner()
    app = _app()
    res = runner.invoke(app, ["build", "sft", "--name", "ref-sft", "--per-problem", "0",
                              "--system-prompt", "Be brief."])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["build", "rl", "--name", "ref-rl", "--min-pass-rate", "0.5"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["build", "pairs", "--name", "bad", "--model", "x", "--order",
                              "shortest"])
    assert res.exit_code == 2 and "unknown pairs build option" in res.output
    res = runner.invoke(app, ["datasets"])
    assert res.exit_code == 0 and "ref-sft" in res.output and "ref-rl" in res.output
    out = tmp_path / "export"
    res = runner.invoke(app, ["export", "ref-sft", "--to", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "README.md").exists()
    assert (out / "data" / "train-00000-of-00001.parquet").exists()
    # the datasets row records where it went (the latest export; earlier ones by snapshot)
    from tracemill.stores.catalog import open_catalog

    def target():
        with open_catalog(catalog_dir, read_only=True) as store:
            rows = store.read("datasets", where="name = 'ref-sft'").to_pylist()
        return [r["export_target"] for r in rows]

    assert target() == [str(out.resolve())]
    again = tmp_path / "again"
    assert runner.invoke(app, ["export", "ref-sft", "--to", str(again)]).exit_code == 0
    assert target() == [str(again.resolve())]
    with open_catalog(catalog_dir, read_only=True) as store:
        assert store.count("datasets") == 2  # updated in place, not appended
    res = runner.invoke(app, ["export", "missing", "--to", str(out)])
    assert res.exit_code == 1 and "build it first" in res.output


@pytest.mark.slow
def test_recipe_build_export_train(catalog_dir, tmp_path):
    from tracemill.flows.runner import run_recipe
    from tracemill.stores.catalog import open_catalog

    _reference_catalog(catalog_dir)
    recipe = {
        "name": "mini",
        "catalog": str(catalog_dir),
        "prefect": False,
        "stages": [
            {"stage": "build", "name": "sft", "kind": "sft", "dataset": "mini-sft"},
            {"stage": "build", "name": "rl", "kind": "rl", "dataset": "mini-rl"},
            {"stage": "export", "dataset": "mini-sft", "to": "exports/mini-sft"},
            {"stage": "tiny_model", "path": "models/tiny"},
            {"stage": "train", "trainer": "sft",
             "config": {"dataset": "mini-sft", "model": "models/tiny",
                        "output_dir": "runs/sft", "max_steps": 1, "bf16": False,
                        "max_length": 64}},
        ],
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    result = run_recipe(path, use_prefect=False)
    assert result.status == "completed"
    counts = {s.label: s.counts for s in result.stages}
    assert counts["sft"]["rows"] == 4
    assert (tmp_path / "exports" / "mini-sft" / "README.md").exists()
    assert (tmp_path / "runs" / "sft" / "config.json").exists()
    # a second run reuses the datasets and the model
    again = run_recipe(path, use_prefect=False)
    labels = [s.label for s in again.stages]
    assert labels[:2] == ["sft", "rl"]
    assert all(s.counts.get("reused") for s in again.stages if s.stage == "build")
    assert [s.counts["built"] for s in again.stages if s.stage == "tiny_model"] == [False]
    with open_catalog(catalog_dir, read_only=True) as store:
        assert store.count("datasets") == 2


@pytest.mark.slow
def test_cli_train_from_config_file(catalog_dir, tmp_path):
    from tracemill.trainers.tiny import build_tiny_model

    _reference_catalog(catalog_dir)
    runner = CliRunner()
    app = _app()
    assert runner.invoke(app, ["build", "rl", "--name", "rl"]).exit_code == 0
    model = build_tiny_model(tmp_path / "tiny")
    cfg = tmp_path / "grpo.json"
    cfg.write_text(json.dumps({
        "dataset": "rl", "model": str(model), "output_dir": str(tmp_path / "out"),
        "max_steps": 1, "num_generations": 2, "max_completion_length": 6, "bf16": False,
        "per_device_train_batch_size": 2, "length_reward": "laser", "target_length": 4,
    }))
    res = runner.invoke(app, ["train", "grpo", "--config", str(cfg)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "model.safetensors").exists()
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog_dir, read_only=True) as store:  # train records its run
        (run,) = store.sql("SELECT * FROM runs WHERE flow = 'train'").to_pylist()
    assert run["status"] == "completed" and json.loads(run["config"])["trainer"] == "grpo"
    assert json.loads(run["counts"])["steps"] == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: rl\nmodel: x\nlearning_rat: 1\n")
    res = runner.invoke(app, ["train", "sft", "--config", str(bad)])
    assert res.exit_code == 2 and "learning_rat" in res.output
    res = runner.invoke(app, ["train", "ppo", "--config", str(bad)])
    assert res.exit_code == 2 and "unknown trainer" in res.output
