import json
import subprocess
import sys

import pytest
from tracemill.flows.cli import app
from typer.testing import CliRunner

runner = CliRunner()
HEAVY = ("torch", "prefect", "transformers", "datasets", "sentence_transformers", "duckdb",
         "pyarrow", "vllm", "trl", "math_verify")  # fmt: skip


def test_cli_start_up_imports_nothing_heavy():
    code = (
        "import sys; from tracemill.flows.cli import app; "
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def command_names():
    import typer.main

    group = typer.main.get_command(app)
    return group.list_commands(None)


def test_every_command_has_help():
    names = command_names()
    assert {"ingest", "sql", "tables", "snapshots", "run"} <= set(names)
    for name in names:
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage" in result.output


def test_ingest_sql_tables_snapshots(tmp_path, catalog_dir):
    src = tmp_path / "p.jsonl"
    src.write_text('{"id": 1, "question": "What is 2+2?", "answer": "4"}\n'
                   '{"id": 2, "question": "What is 3+3?", "answer": "6"}\n')  # fmt: skip
    r = runner.invoke(app, ["ingest", str(src), "--source", "demo", "--domain", "math"])
    assert r.exit_code == 0, r.output
    assert "problems_inserted" in r.output
    r = runner.invoke(app, ["sql", "SELECT source_id, answer FROM problems ORDER BY 1",
                            "--format", "json"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert [json.loads(x) for x in r.output.splitlines()] == [
        {"source_id": "1", "answer": "4"}, {"source_id": "2", "answer": "6"}]  # fmt: skip
    out = tmp_path / "out.parquet"
    r = runner.invoke(app, ["sql", "SELECT * FROM problems", "--format", "parquet", "--out", str(out)])
    assert r.exit_code == 0 and out.exists()
    r = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM problems", "--format", "csv"])
    assert r.output.splitlines() == ['"n"', "2"]
    r = runner.invoke(app, ["tables"])
    assert r.exit_code == 0 and "problems" in r.output
    r = runner.invoke(app, ["snapshots"])
    assert r.exit_code == 0 and "problems+2" in r.output


def test_catalog_option_overrides_env(tmp_path):
    src = tmp_path / "p.jsonl"
    src.write_text('{"question": "q1"}\n')
    other = tmp_path / "other"
    r = runner.invoke(app, ["--catalog", str(other), "ingest", str(src), "--source", "s"])
    assert r.exit_code == 0, r.output
    assert (other / "catalog.ducklake").exists()


@pytest.mark.parametrize(
    "args, message, code",
    [
        (["sql", "SELEC nonsense"], "SQL error", 1),
        (["sql", "SELECT 1", "--format", "xml"], "--format must be one of", 2),
        (["ingest", "missing.jsonl", "--source", "s"], "no such file", 1),
        (["ingest", "x.jsonl", "--source", "s", "--map", "question"], "FIELD=SOURCE", 2),
    ],
)
def test_expected_errors_are_one_line(tmp_path, monkeypatch, args, message, code):
    """Failures exit 1, usage errors 2; either way one line, no traceback."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.jsonl").write_text('{"question": "q"}\n')
    runner.invoke(app, ["ingest", "x.jsonl", "--source", "seed"])  # create the catalog
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output
