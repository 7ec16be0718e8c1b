"""``tracemill serve`` without a server: arguments, the Prefect API check, the deployments.

The served process itself (a server, a deployment run, a stop) is tested in
``tests/cluster/test_serve.py``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from tracemill.flows.cli import app
from typer.testing import CliRunner

runner = CliRunner()
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _prefect_env(monkeypatch, tmp_path):
    """No Prefect server or profile of the user's; what serve sets is undone after."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    for key in ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_LOGGING_LEVEL",
                "PREFECT_LOGGING_EXTRA_LOGGERS", "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW",
                "PREFECT_SERVER_ANALYTICS_ENABLED", "PREFECT_UI_ENABLED",
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"):  # fmt: skip
        monkeypatch.delenv(key, raising=False)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recipe(tmp_path: Path, name: str = "nightly", file: str = "r.yaml", **keys: str) -> Path:
    path = tmp_path / file
    extra = "".join(f"{k}: {v}\n" for k, v in keys.items())
    path.write_text(f"name: {name}\n{extra}stages:\n  - stage: synth\n    family: sat\n"
                    "    count: 3\n")  # fmt: skip
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cron", "0 2 * * *"], "schedule a RECIPE"),
        (["--interval", "60"], "schedule a RECIPE"),
        (["RECIPE", "--cron", "0 2 * * *", "--interval", "60"], "--cron or --interval"),
        (["RECIPE", "--timezone", "Europe/Paris"], "--timezone applies to --cron"),
        (["--stage", "synth", "--stage", "nope"], "unknown stage 'nope': the stage flows are"),
        (["--stage", "calibrate"], "unknown stage 'calibrate'"),
        (["--no-stages"], "nothing to serve"),
        (["RECIPE", "--no-stages", "--stage", "synth"], "--stage or --no-stages"),
        (["RECIPE", "--cron", "61 * * * *"], "Invalid cron string"),
        (["RECIPE", "--cron", "0 2 * * *", "--timezone", "Mars/Olympus"], "Invalid timezone"),
        (["RECIPE", "--interval", "0"], "--interval"),
        (["--limit", "-1"], "--limit"),
    ],
)
def test_usage_errors_exit_2_before_anything_is_served(args, message, tmp_path):
    path = str(recipe(tmp_path))
    result = runner.invoke(app, ["serve", *[path if a == "RECIPE" else a for a in args]])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_recipes_are_validated_and_need_distinct_names(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstages:\n  - stage: synth\n    famly: sat\n")
    result = runner.invoke(app, ["serve", str(bad)])
    assert result.exit_code == 2 and "famly" in result.output, result.output
    missing = runner.invoke(app, ["serve", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "no such recipe file" in missing.output
    a, b = recipe(tmp_path, file="a.yaml"), recipe(tmp_path, file="b.yaml")
    twice = runner.invoke(app, ["serve", str(a), str(b)])
    assert twice.exit_code == 2 and "two recipes are named 'nightly'" in twice.output


def test_no_prefect_api_configured_is_one_line_exit_1(tmp_path):
    result = runner.invoke(app, ["serve", "--stage", "synth"])
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith("error: no Prefect API configured: set PREFECT_API_URL")


def test_a_prefect_server_that_is_down_is_one_line_exit_1(monkeypatch):
    url = f"http://127.0.0.1:{closed_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", url)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1, result.output
    (line,) = [x for x in result.output.splitlines() if x.strip()]
    assert line.startswith(f"error: the Prefect API at {url} does not answer")
    assert "prefect server start" in line


def test_the_api_url_of_the_users_profile_counts(monkeypatch, tmp_path):
    """`prefect config set PREFECT_API_URL=…` (a profile, not the environment) is read."""
    url = f"http://127.0.0.1:{closed_port()}/api"
    home = Path(os.environ["PREFECT_HOME"])
    home.mkdir(parents=True)
    (home / "profiles.toml").write_text(
        f'active = "mine"\n[profiles.mine]\nPREFECT_API_URL = "{url}"\n'
    )
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1 and f"the Prefect API at {url} does not answer" in result.output


@pytest.mark.parametrize(("status", "hint"), [(401, "PREFECT_API_KEY"), (404, "PREFECT_API_URL")])
def test_an_api_that_refuses_its_health_check_is_exit_1(status, hint, monkeypatch):
    import httpx

    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("PREFECT_API_KEY", "pnu_secret")
    seen = {}

    def fake_get(url, **kwargs):
        seen.update(url=url, **kwargs)
        return httpx.Response(status, request=httpx.Request("GET", url))

    monkeypatch.setattr(httpx, "get", fake_get)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1, result.output
    assert f"HTTP {status}" in result.output and hint in result.output
    assert seen["url"] == "http://127.0.0.1:9/api/health"
    assert seen["headers"] == {"Authorization": "Bearer pnu_secret"}
    assert "pnu_secret" not in result.output


def test_deployments_have_prefect_yamls_names_and_entrypoints(tmp_path, monkeypatch):
    """`prefect deployment run 'synth/synth'` means the same flow under serve or a worker."""
    from tracemill.flows.engine import STAGE_FLOWS
    from tracemill.flows.serve import (
        SERVED_STAGES,
        Schedule,
        build_deployments,
        recipe_to_serve,
    )

    monkeypatch.chdir(REPO)  # entrypoints are relative to the working directory
    assert tuple(STAGE_FLOWS) == SERVED_STAGES
    yaml_stages = {d["name"]: d["entrypoint"]
                   for d in yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]
                   if not d["entrypoint"].endswith("recipe_file_flow")}  # fmt: skip
    assert set(yaml_stages) == set(SERVED_STAGES)
    nightly = recipe_to_serve(recipe(tmp_path), Schedule(cron="0 2 * * *", timezone="Europe/Paris"))
    hourly = recipe_to_serve(recipe(tmp_path, "hourly", "h.yaml"), Schedule(interval_s=3600))
    plain = recipe_to_serve(recipe(tmp_path, "adhoc", "p.yaml"), Schedule())
    found = build_deployments(SERVED_STAGES, [nightly, hourly, plain])
    stages = {f"{d.flow_name}/{d.name}": d for d in found[: len(SERVED_STAGES)]}
    assert set(stages) == {f"{s}/{s}" for s in SERVED_STAGES}
    for stage, entrypoint in yaml_stages.items():
        d = stages[f"{stage}/{stage}"]
        assert d.entrypoint == entrypoint  # flows/engine.py:<stage>_flow
        assert d.parameters == {} and "config" in d._parameter_openapi_schema.required
        assert not d.schedules and d.work_pool_name is None
    by_name = {d.name: d for d in found[len(SERVED_STAGES) :]}
    assert {d.flow_name for d in by_name.values()} == {"recipe"}
    assert by_name["nightly"].parameters == {"path": str((tmp_path / "r.yaml").resolve())}
    assert by_name["nightly"].entrypoint == "flows/engine.py:recipe_file_flow"
    (cron,) = by_name["nightly"].schedules
    assert (cron.schedule.cron, cron.schedule.timezone) == ("0 2 * * *", "Europe/Paris")
    (every,) = by_name["hourly"].schedules
    assert every.schedule.interval.total_seconds() == 3600
    assert by_name["adhoc"].schedules == []
    # the catalog is never a parameter (a catalog URI may hold a password)
    assert all("catalog" not in d.parameters for d in found)


def test_a_recipe_that_names_its_catalog_keeps_it(tmp_path):
    from tracemill.flows.serve import recipe_catalog

    assert recipe_catalog(recipe(tmp_path)) is None  # runs use the serving process's
    own = recipe(tmp_path, file="own.yaml", catalog="elsewhere")
    assert recipe_catalog(own) == str((tmp_path / "elsewhere").resolve())
    uri = recipe(tmp_path, file="uri.yaml", catalog='"postgres:dbname=tm host=db"')
    assert recipe_catalog(uri) == "postgres:dbname=tm host=db"


def test_catalog_shown_masks_passwords():
    from tracemill.flows.serve import catalog_shown

    assert catalog_shown("postgres:dbname=tm host=db user=tm password=s3cret") == (
        "postgres:dbname=tm host=db user=tm password=***")  # fmt: skip
    assert "s3cret" not in catalog_shown("postgres:dbname=tm password='s3 cret' host=db")
    assert catalog_shown("postgres:postgresql://tm:s3cret@db/tm") == "postgres:postgresql://***@db/tm"
    assert catalog_shown("/data/catalog") == "/data/catalog"


def test_a_cancelled_flow_runs_stage_records_interrupted():
    from prefect.exceptions import TerminationSignal
    from tracemill.flows.runs import error_line, status_of

    assert status_of(TerminationSignal(15)) == "interrupted"
    assert error_line(TerminationSignal(15)) == "interrupted"
    assert status_of(KeyboardInterrupt()) == "interrupted"
    assert status_of(RuntimeError("x")) == "failed"


def _runner_with(states: dict) -> object:
    """A serve runner whose runs in flight have these Prefect states (no server)."""
    from tracemill.flows.serve import _runner_class

    runner_ = _runner_class()(name="t", limit=1)
    cancelled = []

    class Client:
        async def read_flow_run(self, flow_run_id):
            if states[flow_run_id] is None:
                raise RuntimeError("API hiccup")
            return SimpleNamespace(id=flow_run_id, state=states[flow_run_id])

    class Cancellations:
        async def cancel(self, flow_run, state_msg=None):
            cancelled.append((flow_run.id, state_msg))

    runner_._client = Client()
    runner_._cancellation_manager = Cancellations()
    runner_._process_manager = SimpleNamespace(flow_run_ids=lambda: set(states))
    runner_.cancelled = cancelled
    return runner_


def test_stopping_cancels_running_runs_and_leaves_ended_ones_be():
    from prefect.states import Completed, Running

    done, running, flaky = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    runner_ = _runner_with({done: Completed(), running: Running(), flaky: None})
    runner_.stopped_by = "SIGTERM"
    asyncio.run(runner_.cancel_all())
    # the run that just completed keeps its state; one run's API error stops no other
    assert runner_.cancelled == [(running, "tracemill serve stopped (SIGTERM)")]


def test_a_signal_before_serving_starts_ends_it_without_serving():
    from tracemill.flows.serve import _runner_class

    async def signalled() -> object:
        runner_ = _runner_class()(name="t", limit=1)
        runner_.request_stop("SIGINT")
        runner_.request_stop("SIGTERM")  # a second signal: still the first one's stop
        runner_.serving_done = True  # what _serve sets when it ends without starting
        await asyncio.sleep(0.3)  # the pending stop gives up instead of waiting on
        return runner_

    runner_ = asyncio.run(signalled())
    assert runner_.stopped_by == "SIGINT" and not runner_.started
