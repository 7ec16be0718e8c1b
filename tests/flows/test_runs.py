"""The ``runs`` table: a row for every command that writes, none for read-only ones."""

from __future__ import annotations

import doctest
import json

import pytest
from tracemill.flows.cli import app
from tracemill.flows.runs import redact, usage_of
from tracemill.stores.catalog import open_catalog
from typer.testing import CliRunner

runner = CliRunner()


def test_module_examples():
    import tracemill.flows.runs as runs_module
    import tracemill.pipelines.generate.cost as cost_module

    for module in (runs_module, cost_module):
        result = doctest.testmod(module, verbose=False)
        assert result.attempted and not result.failed, module.__name__


@pytest.mark.parametrize(
    "config, stored",
    [
        ({"backend_options": {"api_key": "sk-live-1", "api_key_env": "OPENAI_API_KEY"}},
         {"backend_options": {"api_key": "***", "api_key_env": "OPENAI_API_KEY"}}),
        ({"hf_token": "hf_x", "max_tokens": 64, "HF-TOKEN": "y", "Password": "p"},
         {"hf_token": "***", "max_tokens": 64, "HF-TOKEN": "***", "Password": "***"}),
        ({"judge_options": {"Authorization": "Bearer x", "secret": None}},
         {"judge_options": {"Authorization": "***", "secret": None}}),
        ({"base_url": "https://user:s3cret@host.example/v1", "paths": ["a@b", "s3://k:v@b/x"]},
         {"base_url": "https://***@host.example/v1", "paths": ["a@b", "s3://***@b/x"]}),
        ({"tokens": 5, "tokenizer": "t", "passwords_file": "f"},
         {"tokens": 5, "tokenizer": "t", "passwords_file": "f"}),
    ],
)  # fmt: skip
def test_secrets_never_reach_the_runs_table(config, stored):
    assert redact(config) == stored


def test_usage_of_flat_and_recipe_counters():
    assert usage_of({"tokens_in": 10, "tokens_out": 5, "cost_usd": 0.5}) == (10, 5, 0.5)
    assert usage_of({"rows": 3}) == (None, None, None)
    recipe = {"distill": {"tokens_in": 10, "tokens_out": 5, "cost_usd": 0.25},
              "grade": {"tokens_in": 1, "tokens_out": 2}, "build": {"rows": 4}}  # fmt: skip
    assert usage_of(recipe) == (11, 7, 0.25)
    assert usage_of({"a": {"cost_usd": float("nan")}}) == (None, None, None)


def rows(catalog_dir):
    with open_catalog(catalog_dir, read_only=True) as store:
        return store.sql("SELECT * FROM runs ORDER BY started_at").to_pylist()


def interrupt(request, index):
    """A fake teacher that is stopped by Ctrl-C."""
    raise KeyboardInterrupt


def test_cli_commands_record_what_they_write(tmp_path, catalog_dir, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.jsonl").write_text('{"question": "What is 2+2?", "answer": "4"}\n')
    result = runner.invoke(app, ["ingest", "p.jsonl", "--source", "s", "--domain", "math"])
    assert result.exit_code == 0, result.output
    (ingest,) = rows(catalog_dir)
    assert (ingest["flow"], ingest["status"], ingest["parent_run_id"]) == ("ingest", "completed",
                                                                          None)  # fmt: skip
    assert json.loads(ingest["config"])["source"] == "s"
    assert json.loads(ingest["counts"])["problems_inserted"] == 1
    assert ingest["code_version"] and ingest["duration_s"] > 0
    with open_catalog(catalog_dir, read_only=True) as store:
        assert store.sql("SELECT DISTINCT run_id FROM problems").column(0).to_pylist() == [
            ingest["run_id"]]  # fmt: skip

    # read-only commands and modes record nothing
    for args in (["tables"], ["snapshots"], ["sql", "SELECT 1"], ["datasets"], ["verifiers"],
                 ["stages"], ["synth", "--list"], ["ingest", "p.jsonl", "--source", "s",
                                                   "--print-config"],
                 ["curate", "--method", "exact", "--dry-run"]):  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    assert len(rows(catalog_dir)) == 1

    # a distill with prices: tokens and cost on the samples and on its row
    result = runner.invoke(app, ["distill", "--backend", "fake", "--model", "t", "--samples",
                                 "2", "--no-verify", "--price", "input=2", "--price",
                                 "output=10"])  # fmt: skip
    assert result.exit_code == 0, result.output
    distill = rows(catalog_dir)[-1]
    with open_catalog(catalog_dir, read_only=True) as store:
        samples = store.read("samples").to_pylist()
    assert {s["run_id"] for s in samples} == {distill["run_id"]}
    assert distill["prompt_tokens"] == sum(s["prompt_tokens"] for s in samples) > 0
    assert distill["completion_tokens"] == sum(s["completion_tokens"] for s in samples) > 0
    assert distill["cost_usd"] == pytest.approx(sum(s["cost_usd"] for s in samples))
    assert distill["cost_usd"] == pytest.approx(
        (distill["prompt_tokens"] * 2 + distill["completion_tokens"] * 10) / 1e6)  # fmt: skip
    assert json.loads(distill["config"])["prices"] == {"input": 2.0, "output": 10.0}

    # Ctrl-C: the run is recorded as interrupted, exit code 130
    result = runner.invoke(app, ["distill", "--backend", "fake", "--model", "t2", "-o",
                                 "respond=tests.flows.test_runs:interrupt"])  # fmt: skip
    assert result.exit_code == 130, result.output
    stopped = rows(catalog_dir)[-1]
    assert (stopped["flow"], stopped["status"], stopped["error"]) == ("distill", "interrupted",
                                                                      "interrupted")  # fmt: skip


WRITING_COMMANDS = [
    ["ingest", "p.jsonl", "--source", "s", "--domain", "math"],
    ["synth", "sat", "--count", "3"],
    ["distill", "--backend", "fake", "--model", "t", "--samples", "2", "--no-verify"],
    ["verify"],
    ["curate", "--method", "exact"],
    ["grade", "--backend", "fake", "--model", "g", "--samples", "2", "--no-plots"],
    ["select", "--name", "sel", "--size", "2"],
    ["calibrate", "sat", "--backend", "fake", "--model", "g", "--samples", "2", "--levels", "1",
     "--per-level", "2", "--no-plots"],
    ["build", "sft", "--name", "ds"],
    ["export", "ds", "--to", "out"],
    ["gc"],
]  # fmt: skip


@pytest.mark.slow
def test_every_writing_command_records_one_row(tmp_path, catalog_dir, monkeypatch):
    """One completed row per command, flow = the command, with its config and counters."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.jsonl").write_text(
        '{"question": "What is 2+2?", "answer": "4"}\n{"question": "What is 3+3?", "answer": "6"}\n'
    )
    for args in WRITING_COMMANDS:
        before = len(rows(catalog_dir)) if (catalog_dir / "catalog.ducklake").exists() else 0
        result = runner.invoke(app, ["-q", *args])
        assert result.exit_code == 0, (args, result.output)
        new = rows(catalog_dir)[before:]
        assert [(r["flow"], r["status"]) for r in new] == [(args[0], "completed")], args
        assert new[0]["counts"] and new[0]["duration_s"] >= 0 and new[0]["code_version"]
        if args[0] != "gc":
            assert json.loads(new[0]["config"]), args


def test_every_command_says_whether_it_records_a_row():
    """A new command must join RECORDING_COMMANDS or READ_ONLY_COMMANDS (flows/runs.py)."""
    import click
    import typer
    from tracemill.flows.runs import READ_ONLY_COMMANDS, RECORDING_COMMANDS

    group = typer.main.get_command(app)
    names = set(group.list_commands(click.Context(group)))
    assert not RECORDING_COMMANDS & READ_ONLY_COMMANDS
    assert names == RECORDING_COMMANDS | READ_ONLY_COMMANDS
    assert {args[0] for args in WRITING_COMMANDS} | {"train", "run", "serve"} == RECORDING_COMMANDS
