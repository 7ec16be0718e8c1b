"""A run that fails partway records the usage it reached in its ``runs`` row.

A teacher (or student) server that goes down after some requests: the samples generated
before are committed, and the failed run's row says what they used (tokens, cost), as
the counters a completed run would have had so far.
"""

from __future__ import annotations

import json

import pytest
from tracemill.flows.cli import app
from tracemill.stores.catalog import open_catalog
from typer.testing import CliRunner

from tests.flows.test_distill_flow import QUESTIONS, seed_problems
from tests.pipelines.openai_stub import OpenAIStub, StubScript

runner = CliRunner()


def dying_server(after: int) -> OpenAIStub:
    """A server that answers ``after`` requests, then only 503s (as if it went down)."""
    return OpenAIStub(StubScript(max_requests=after))


def committed(catalog_dir, run_id: str) -> dict:
    with open_catalog(catalog_dir, read_only=True) as store:
        return store.sql(
            "SELECT count(*) AS n, coalesce(sum(prompt_tokens), 0)::BIGINT AS i, "
            "coalesce(sum(completion_tokens), 0)::BIGINT AS o, sum(cost_usd) AS c "
            "FROM samples WHERE run_id = ?",
            [run_id],
        ).to_pylist()[0]


def runs(catalog_dir) -> list[dict]:
    with open_catalog(catalog_dir, read_only=True) as store:
        return store.sql("SELECT * FROM runs ORDER BY started_at").to_pylist()


def assert_failed_with_usage(row: dict, catalog_dir, flow: str) -> dict:
    assert row["flow"] == flow and row["status"] == "failed"
    assert row["error"].startswith("BackendError:") and "giving up" in row["error"]
    done = committed(catalog_dir, row["run_id"])
    assert done["n"] > 0 and done["i"] > 0 and done["o"] > 0
    assert (row["prompt_tokens"], row["completion_tokens"]) == (done["i"], done["o"])
    assert row["cost_usd"] == pytest.approx(done["c"]) and done["c"] > 0
    return json.loads(row["counts"])


def test_failed_distill_records_what_it_committed(catalog_dir):
    """Regression: a distill whose server died recorded a failed row with no counts."""
    seed_problems(catalog_dir, QUESTIONS)
    with dying_server(4) as stub:
        result = runner.invoke(app, [
            "distill", "--backend", "openai", "--model", "served", "--base-url", stub.base_url,
            "-o", "max_retries=0", "-o", "concurrency=1", "--samples", "2", "--batch-size",
            "3", "--no-verify", "--price", "input=1", "--price", "output=2",
            "--catalog", str(catalog_dir),
        ])  # fmt: skip
    assert result.exit_code == 1, result.output
    (row,) = runs(catalog_dir)
    counts = assert_failed_with_usage(row, catalog_dir, "distill")
    assert counts["samples"] == committed(catalog_dir, row["run_id"])["n"] == 4  # a batch of 3, then 1


def test_failed_recipe_stage_records_what_it_committed(catalog_dir, tmp_path):
    """The same through a recipe: its stage's row (``run_stage``, what Prefect runs too)
    and the recipe's row."""
    from tracemill.flows.runner import run_recipe
    from tracemill.pipelines.generate import BackendError

    seed_problems(catalog_dir, QUESTIONS)
    recipe = tmp_path / "r.yaml"
    with dying_server(3) as stub:
        recipe.write_text(
            f"name: dies\nprefect: false\ncatalog: {catalog_dir}\nstages:\n"
            f"  - {{stage: distill, name: teacher, backend: openai, model: served, n: 1, "
            f"base_url: '{stub.base_url}', batch_size: 2, verify: false, "
            "prices: {input: 1, output: 1}, backend_options: {max_retries: 0, concurrency: 1}}\n",
            encoding="utf-8",
        )  # fmt: skip
        with pytest.raises(BackendError):
            run_recipe(recipe)
    stage = next(r for r in runs(catalog_dir) if r["flow"] == "distill")
    assert stage["label"] == "teacher" and stage["parent_run_id"]
    assert assert_failed_with_usage(stage, catalog_dir, "distill")["samples"] == 3
    # the recipe's row sums its stages' rows, the failed one's counters so far included
    (whole,) = [r for r in runs(catalog_dir) if r["flow"] == "recipe:dies"]
    assert whole["status"] == "failed" and whole["run_id"] == stage["parent_run_id"]
    assert json.loads(whole["counts"])["teacher"]["samples"] == 3
    for key in ("prompt_tokens", "completion_tokens", "cost_usd"):
        assert whole[key] == pytest.approx(stage[key])


def test_failed_grade_records_what_it_committed(catalog_dir):
    """A grade whose student server dies: its committed samples' usage is in the row."""
    from tracemill.catalogs import problem_id

    questions = [f"What is {i}+{i}?" for i in range(4)]
    with open_catalog(catalog_dir) as store:
        store.append({"problems": [
            {"problem_id": problem_id("math", q), "source": "s", "domain": "math",
             "question": q, "answer": "0", "verifier": "exact"} for q in questions
        ]})  # fmt: skip
    with dying_server(3) as stub:
        result = runner.invoke(app, [
            "grade", "--model", "served", "--backend", "openai", "-o", f"base_url={stub.base_url}",
            "-o", "max_retries=0", "-o", "concurrency=1", "--fixed", "--samples", "2",
            "--batch-problems", "1", "--price", "input=1", "--no-plots",
            "--catalog", str(catalog_dir),
        ])  # fmt: skip
    assert result.exit_code == 1, result.output
    row = next(r for r in runs(catalog_dir) if r["flow"] == "grade")
    counts = assert_failed_with_usage(row, catalog_dir, "grade")
    assert counts["samples_generated"] == committed(catalog_dir, row["run_id"])["n"]
    assert counts["graded"] >= 1
