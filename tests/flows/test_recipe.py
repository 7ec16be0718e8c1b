import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tracemill.flows.recipe import RecipeError, load_recipe
from tracemill.flows.runner import run_recipe
from tracemill.stores.catalog import open_catalog

ROOT = Path(__file__).resolve().parents[2]


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_keys_are_errors(tmp_path):
    bad_top = write(tmp_path / "a.yaml", "name: x\nstages: [{stage: summary}]\nextra: 1\n")
    with pytest.raises(RecipeError, match="extra: unknown key"):
        load_recipe(bad_top)
    bad_stage = write(tmp_path / "b.yaml", "name: x\nstages:\n  - stage: ingest\n"
                      "    paths: [a.jsonl]\n    source: s\n    sauce: 1\n")  # fmt: skip
    with pytest.raises(RecipeError, match=r"stages.0\(ingest\).sauce: unknown key"):
        load_recipe(bad_stage)
    unknown_stage = write(tmp_path / "c.yaml", "name: x\nstages: [{stage: teleport}]\n")
    with pytest.raises(RecipeError, match="unknown stage 'teleport'"):
        load_recipe(unknown_stage)
    dup = write(tmp_path / "d.yaml", "name: x\nstages: [{stage: summary}, {stage: summary}]\n")
    with pytest.raises(RecipeError, match="labelled 'summary'"):
        load_recipe(dup)
    with pytest.raises(RecipeError, match="no such recipe"):
        load_recipe(tmp_path / "missing.yaml")


def test_inline_run_records_a_runs_row_and_is_idempotent(tmp_path, catalog_dir):
    write(tmp_path / "p.jsonl", '{"question": "q1", "answer": "1"}\n{"question": "q2"}\n')
    recipe = write(tmp_path / "r.yaml", "name: small\nprefect: false\nstages:\n"
                   "  - {stage: ingest, paths: [p.jsonl], source: s, domain: math}\n"
                   "  - {stage: summary}\n")  # fmt: skip
    first = run_recipe(recipe)
    assert first.status == "completed"
    assert first.stages[0].counts["problems_inserted"] == 2
    second = run_recipe(recipe)
    assert second.stages[0].counts["problems_inserted"] == 0
    with open_catalog(catalog_dir) as store:
        runs = store.read("runs", where="parent_run_id IS NULL").to_pylist()
        stages = store.sql("SELECT * FROM runs WHERE parent_run_id IS NOT NULL "
                           "ORDER BY started_at").to_pylist()  # fmt: skip
        problem_runs = store.sql("SELECT DISTINCT run_id FROM problems").column(0).to_pylist()
    assert [r["run_id"] for r in runs] == [first.run_id, second.run_id]
    assert [r["status"] for r in runs] == ["completed", "completed"]
    assert json.loads(runs[0]["counts"])["ingest"]["problems_inserted"] == 2
    assert "name: small" in runs[0]["recipe"]
    assert runs[0]["flow"] == "recipe:small" and runs[0]["duration_s"] >= 0
    # one row per stage, under the recipe's run; the rows a stage wrote point at it
    assert [(r["flow"], r["parent_run_id"]) for r in stages] == [
        ("ingest", first.run_id), ("summary", first.run_id),
        ("ingest", second.run_id), ("summary", second.run_id)]  # fmt: skip
    assert problem_runs == [stages[0]["run_id"]]
    assert json.loads(stages[0]["config"])["source"] == "s"
    assert json.loads(stages[0]["counts"])["problems_inserted"] == 2
    assert all(r["code_version"] and r["status"] == "completed" for r in stages)


def test_failed_run_is_recorded(tmp_path, catalog_dir):
    write(tmp_path / "p.jsonl", '{"question": ["not text"]}\n')
    recipe = write(tmp_path / "r.yaml", "name: bad\nprefect: false\nstages:\n"
                   "  - {stage: ingest, paths: [p.jsonl], source: s}\n")  # fmt: skip
    with pytest.raises(ValueError, match="expected text"):
        run_recipe(recipe)
    with open_catalog(catalog_dir) as store:
        run, stage = store.sql("SELECT * FROM runs ORDER BY parent_run_id NULLS FIRST").to_pylist()
        assert store.count("problems") == 0
    assert run["status"] == "failed" and "expected text" in run["error"]
    assert stage["status"] == "failed" and stage["parent_run_id"] == run["run_id"]
    assert stage["flow"] == "ingest" and "expected text" in stage["error"]


@pytest.mark.slow
@pytest.mark.timeout(660)  # the run itself may take 600 s on a loaded machine
def test_quickstart_end_to_end_with_prefect(tmp_path):
    # a user's fresh shell: no PREFECT_HOME / PREFECT_API_URL left in this process's
    # environment by in-process recipe runs of earlier tests (configure_prefect sets them)
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_HOME", "PREFECT_API_URL")}
    env["TRACEMILL_CATALOG"] = str(tmp_path / "cat")
    out = subprocess.run(
        [sys.executable, "-m", "tracemill.flows.cli", "run", str(ROOT / "recipes" / "quickstart.yaml")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "completed" in out.stdout
    with open_catalog(tmp_path / "cat") as store:
        counts = store.table_counts()
        sources = dict(store.con.execute(
            "SELECT source, count(*) FROM problems GROUP BY source").fetchall())  # fmt: skip
        (run,) = store.read("runs", where="parent_run_id IS NULL").to_pylist()
        stage_rows = store.count("runs") - 1
    assert stage_rows == len(load_recipe(ROOT / "recipes" / "quickstart.yaml").recipe.stages)
    assert sources["examples-math"] >= 200
    assert sources["examples-code"] >= 20
    assert sources["synth:sat"] == 30
    assert run["status"] == "completed" and run["flow"] == "recipe:quickstart"
    stages = json.loads(run["counts"])
    assert stages["distill-gemma"]["samples"] == 4
    assert stages["grade"]["graded"] == 8
    assert counts["verdicts"] >= counts["samples"] - 1
    assert counts["dedup"] > 0 and counts["grades"] == 8 and counts["datasets"] == 2
    assert (tmp_path / "cat" / "exports" / "quickstart-sft" / "README.md").is_file()
    assert (tmp_path / "cat" / "runs" / "sft").is_dir()
    assert (tmp_path / "cat" / ".prefect").is_dir()
