"""The ``synth`` stage and CLI: problems land in the catalog, reruns add nothing."""

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from flows.stages import StageContext, get_stage
from flows.synth import SynthStage, synthesize
from pipelines.verify import get_verifier
from stores.catalog import open_catalog


def test_stage_writes_problems_in_chunks_and_reruns_insert_nothing(catalog):
    cfg = SynthStage(family="sudoku", count=5, level=1, seed=3, chunk_size=2)
    counts = synthesize(cfg, store=catalog, run_id="run-1")
    assert (counts["generated"], counts["inserted"], counts["skipped"]) == (5, 5, 0)
    assert counts["chunks"] == 3
    again = synthesize(cfg, store=catalog, run_id="run-2")
    assert (again["generated"], again["inserted"], again["skipped"]) == (5, 0, 5)
    rows = catalog.read("problems").to_pylist()
    assert len(rows) == 5
    assert {r["source_id"] for r in rows} == {f"sudoku/3/{i}" for i in range(5)}
    assert {r["run_id"] for r in rows} == {"run-1"}
    verifier = get_verifier("sudoku")
    for row in rows:
        assert row["task"] == "sudoku" and row["verifier"] == "sudoku"
        assert row["source_level"] == 1 and row["domain"] == "logic"
        assert verifier(row, f"<answer>{row['answer']}</answer>").passed
        assert json.loads(row["generator"])["knobs"] == {"size": 4, "extra_givens": 4}
    # one snapshot per chunk that added rows
    messages = [m for m in catalog.snapshots().column("commit_message").to_pylist() if m]
    assert sum("synth sudoku" in m for m in messages) == 3


def test_extending_a_run_adds_only_the_new_items(catalog):
    synthesize(SynthStage(family="sat", count=4, level=2), store=catalog)
    counts = synthesize(SynthStage(family="sat", count=6, level=2), store=catalog)
    assert (counts["inserted"], counts["skipped"]) == (2, 4)
    assert catalog.count("problems") == 6


def test_registered_stage_with_knobs(catalog_dir):
    spec = get_stage("synth")
    cfg = spec.config(family="minesweeper", count=3, level=2, knobs={"mines": 2})
    counts = spec.fn(StageContext(catalog=str(catalog_dir), run_id="r"), cfg)
    assert counts["inserted"] == 3
    with open_catalog(catalog_dir) as store:
        rows = store.read("problems").to_pylist()
    assert all(len(json.loads(r["verifier_spec"])["mines"]) == 2 for r in rows)


def test_bad_config_fails_before_writing(catalog):
    with pytest.raises(KeyError):
        synthesize(SynthStage(family="no_such_family", count=2), store=catalog)
    with pytest.raises(ValueError):
        synthesize(SynthStage(family="sat", count=2, knobs={"n": -1}), store=catalog)
    with pytest.raises(ValidationError):
        SynthStage(family="sat", count=2, level=11)
    with pytest.raises(ValidationError):
        SynthStage(family="sat", count=2, colour="blue")
    assert catalog.count("problems") == 0


def test_cli_synth_and_families(catalog_dir):
    from flows.cli import app

    runner = CliRunner()
    result = runner.invoke(
        app, ["synth", "sat", "--count", "3", "--level", "2", "--seed", "4", "--knob", "m=5"]
    )
    assert result.exit_code == 0, result.output
    assert "inserted" in result.output
    with open_catalog(catalog_dir) as store:
        rows = store.read("problems").to_pylist()
    assert len(rows) == 3
    assert all(len(json.loads(r["verifier_spec"])["clauses"]) == 5 for r in rows)
    again = runner.invoke(app, ["synth", "sat", "-n", "3", "-l", "2", "--seed", "4", "-k", "m=5"])
    assert again.exit_code == 0, again.output
    with open_catalog(catalog_dir) as store:
        assert store.count("problems") == 3
    bad = runner.invoke(app, ["synth", "sat", "-n", "1", "--knob", "oops"])
    assert bad.exit_code == 2 and "NAME=VALUE" in bad.output
    unknown = runner.invoke(app, ["synth", "nope", "-n", "1"])
    assert unknown.exit_code == 2 and "unknown task family" in unknown.output
    listing = runner.invoke(app, ["families"])
    assert listing.exit_code == 0
    for name in ("sat_decision", "sudoku", "campsite"):
        assert name in listing.output
