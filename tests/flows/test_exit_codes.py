"""Every expected failure is one line on stderr with exit code 1; usage errors exit 2.

A walk through the failures users meet (issue 13): a teacher server that is down (from a
command and from a recipe), a Ray cluster that is down, training on an empty dataset, the Hub unreachable (an upload
and a model download), a bad config path, an unknown dataset; and the usage errors. Commands that write record a
``runs`` row even when they fail; a usage error records nothing (nothing ran).
"""

from __future__ import annotations

import logging
import socket

import pytest
from tracemill.flows.cli import app
from tracemill.stores.catalog import open_catalog
from typer.testing import CliRunner

runner = CliRunner()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DOWN = f"http://127.0.0.1:{closed_port()}/v1"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Files and a catalog (two math problems, an empty sft build), made once."""
    import os

    from tracemill.pipelines.build import build_dataset

    root = tmp_path_factory.mktemp("exit-codes")
    (root / "p.jsonl").write_text(
        '{"question": "What is 1+1?", "answer": "2"}\n{"question": "What is 2+2?", "answer": "4"}\n'
    )
    before = os.environ.get("TRACEMILL_CATALOG")
    os.environ["TRACEMILL_CATALOG"] = str(root / "catalog")
    try:
        result = runner.invoke(app, ["ingest", str(root / "p.jsonl"), "--source", "s",
                                     "--domain", "math"])  # fmt: skip
        assert result.exit_code == 0, result.output
    finally:
        if before is None:
            os.environ.pop("TRACEMILL_CATALOG")
        else:
            os.environ["TRACEMILL_CATALOG"] = before
    with open_catalog(root / "catalog") as store:
        build_dataset(store, "sft", "empty")  # no samples: no rows
    (root / "train.yaml").write_text("dataset: empty\nmodel: no-model\nmax_steps: 1\n")
    (root / "down.yaml").write_text(
        "name: down\nprefect: false\nstages:\n"
        f"  - {{stage: distill, name: teacher, backend: openai, model: m, base_url: '{DOWN}',"
        " backend_options: {max_retries: 0}}\n"
    )
    return root


@pytest.fixture
def workdir(template, tmp_path, monkeypatch):
    """The test's folder (with the template's files), on the module's catalog.

    The catalog is shared (a catalog cannot move: its data path is fixed); each test
    looks only at the ``runs`` rows it added.
    """
    import shutil

    for name in ("train.yaml", "down.yaml"):
        shutil.copy(template / name, tmp_path / name)
    monkeypatch.setenv("TRACEMILL_CATALOG", str(template / "catalog"))
    monkeypatch.chdir(tmp_path)
    return tmp_path, DOWN, template / "catalog"


def runs(catalog_dir):
    with open_catalog(catalog_dir, read_only=True) as store:
        return store.sql("SELECT * FROM runs ORDER BY started_at").to_pylist()


def assert_one_line(result, code, message):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert lines[0].startswith("error:")
    assert "Traceback" not in result.output


FAILURES = [
    # (args, message, the failed command's runs row flow or None)
    (["distill", "--backend", "openai", "--model", "m", "--base-url", "{down}",
      "-o", "max_retries=0"], "cannot connect to the server at {down} (is it running?)",
     "distill"),
    (["run", "down.yaml"], "stage 'teacher' (distill): cannot connect to the server", "recipe:down"),
    (["train", "sft", "--config", "train.yaml"], "dataset 'empty' has no rows", "train"),
    (["export", "empty", "--to", "hub://org/name"], "cannot upload to hub://org/name", "export"),
    (["export", "nope", "--to", "out"], "no dataset 'nope'", "export"),
    (["distill", "--backend", "openai", "--model", "m", "--base-url", "{down}", "--executor",
      "ray", "--address", "{cluster}"], "cannot connect to the Ray cluster at {cluster}",
     "distill"),
    (["distill", "--backend", "transformers", "--model", "org/name", "--allow-download"],
     "cannot download model 'org/name' from the Hugging Face Hub", "distill"),
    (["distill", "--config", "missing.yaml"], "--config: no such file missing.yaml", None),
    (["train", "sft", "--config", "missing.yaml"], "--config: no such file missing.yaml", None),
    (["run", "missing.yaml"], "missing.yaml: no such recipe file", None),
    (["sql", "SELEC 1"], "SQL error", None),
]  # fmt: skip


@pytest.mark.parametrize("args, message, flow", FAILURES, ids=lambda v: str(v)[:40])
def test_expected_failures_are_one_line_exit_1(workdir, monkeypatch, args, message, flow):
    tmp_path, down, catalog_dir = workdir
    # the Hub "reachable" at a port nothing listens on (tests run with HF_HUB_OFFLINE=1)
    import huggingface_hub.constants as hf

    monkeypatch.setattr(hf, "ENDPOINT", down.removesuffix("/v1"))
    monkeypatch.setattr(hf, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_TOKEN", "hf_test")
    before = len(runs(catalog_dir))
    cluster = down.removeprefix("http://").removesuffix("/v1")  # a Ray cluster that is down
    result = runner.invoke(app, [a.format(down=down, cluster=cluster) for a in args])
    assert_one_line(result, 1, message.format(down=down, cluster=cluster))
    new = runs(catalog_dir)[before:]
    if flow is None:  # nothing started: nothing recorded
        assert new == []
    else:  # the command's row (and a recipe's stage's) records the failure
        assert new and new[0]["flow"] == flow and new[0]["status"] == "failed"
        assert new[0]["error"] and new[0]["duration_s"] >= 0
        assert all(r["status"] == "failed" for r in new)


USAGE = [
    (["distill", "--model", "m", "--bogus"], "No such option"),
    (["distill", "--model", "m", "--samples", "0"], "--samples"),
    (["distill", "--model", "m", "--set", "nope=1"], "--set nope: unknown key"),
    (["distill", "--model", "m", "--price", "dollars=3"], "prices take 'input', 'output'"),
    (["export", "empty", "--to", "hub://just-a-name"], "hub target must look like"),
    (["sql", "SELECT 1", "--format", "xml"], "--format must be one of"),
    (["train", "sft", "--config", "train.yaml", "--set", "learning_rat=1"], "learning_rat"),
]


@pytest.mark.parametrize("args, message", USAGE, ids=lambda v: str(v)[:40])
def test_usage_errors_exit_2_and_record_nothing(workdir, args, message):
    catalog_dir = workdir[2]
    before = len(runs(catalog_dir))
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(runs(catalog_dir)) == before


def test_a_bad_recipe_is_a_usage_error(workdir):
    tmp_path = workdir[0]
    (tmp_path / "bad.yaml").write_text("name: x\nstages: [{stage: summary, sauce: 1}]\n")
    result = runner.invoke(app, ["run", "bad.yaml"])
    assert_one_line(result, 2, "sauce: unknown key")


def test_prefect_failure_reports_are_dropped_from_the_console():
    """Prefect logs a failing task's traceback twice; the CLI's one line replaces them."""
    from tracemill.flows.settings import RunFailureFilter

    quiet = RunFailureFilter()

    def record(name, level):
        return logging.LogRecord(name, level, __file__, 1, "Task run failed", None, None)

    assert not quiet.filter(record("prefect.task_runs", logging.ERROR))
    assert not quiet.filter(record("prefect.flow_runs", logging.ERROR))
    assert quiet.filter(record("prefect.task_runs", logging.WARNING))
    assert quiet.filter(record("tracemill.flows.distill", logging.ERROR))


@pytest.mark.slow
def test_recipe_with_a_server_down_under_prefect_is_one_line(workdir):
    """The real thing: a Prefect run whose teacher server is down (was ~280 lines)."""
    tmp_path = workdir[0]
    text = (tmp_path / "down.yaml").read_text().replace("prefect: false", "prefect: true")
    (tmp_path / "down.yaml").write_text(text)
    result = runner.invoke(app, ["run", "down.yaml"])
    # log lines may come first (tracemill's are forwarded to Prefect, and Prefect's own
    # show at PREFECT_LOGGING_LEVEL=INFO), but no traceback and one error line, last
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "| ERROR" not in result.stderr
    lines = result.stderr.strip().splitlines()
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert errors == [lines[-1]], result.stderr
    assert "stage 'teacher' (distill): cannot connect to the server" in errors[0]


def test_an_error_raised_in_a_ray_task_reads_as_the_task_error():
    """A stage run as a Ray task (prefect-ray) fails with a RayTaskError whose text is the
    remote traceback; the line and the runs row show the task's own error and notes."""
    from ray.exceptions import RayTaskError
    from tracemill.flows.common import error_message, exit_code_of
    from tracemill.flows.runs import error_line
    from tracemill.pipelines.generate.base import BackendError

    cause = BackendError("cannot connect to the server at X (is it running?)")
    cause.add_note("stage 'teacher' (distill)")
    remote = 'Traceback (most recent call last):\n  File "x.py", line 1\nBackendError: …'
    for wrapped in (RayTaskError("stage_task", remote, cause).as_instanceof_cause(),
                    RayTaskError("stage_task", remote, cause)):  # fmt: skip
        assert "cannot connect" not in str(wrapped).splitlines()[0]
        assert exit_code_of(wrapped) == 1
        assert error_message(wrapped) == (
            "stage 'teacher' (distill): cannot connect to the server at X (is it running?)")  # fmt: skip
        assert error_line(wrapped) == "BackendError: cannot connect to the server at X (is it running?)"


def test_object_storage_down_or_a_data_file_gone_is_one_line(tmp_path, monkeypatch):
    """DuckDB's I/O errors (an S3 endpoint that is down, a data file deleted by hand) were
    tracebacks; they are one line, exit 1, and nothing is half-written."""
    (tmp_path / "p.jsonl").write_text('{"question": "What is 1+1?", "answer": "2"}\n')
    ingest = ["ingest", str(tmp_path / "p.jsonl"), "--source", "s"]
    with monkeypatch.context() as env:
        env.setenv("TRACEMILL_DATA_PATH", "s3://bucket/prefix/")
        env.setenv("AWS_ENDPOINT_URL", DOWN.removesuffix("/v1"))
        s3 = str(tmp_path / "s3-catalog")
        result = runner.invoke(app, ["--catalog", s3, *ingest])
        assert_one_line(result, 1, "cannot write to the catalog's data path s3://bucket/prefix/")
        with open_catalog(s3, read_only=True) as store:
            assert store.count("problems") == 0

    local = str(tmp_path / "local-catalog")
    assert runner.invoke(app, ["--catalog", local, *ingest]).exit_code == 0
    for data_file in (tmp_path / "local-catalog" / "data" / "main" / "problems").glob("*"):
        data_file.unlink()
    result = runner.invoke(app, ["--catalog", local, "sql", "SELECT * FROM problems"])
    assert_one_line(result, 1, "cannot read the catalog (data path")
