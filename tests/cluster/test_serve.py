"""``tracemill serve`` against a real Prefect server: runs complete, SIGTERM stops cleanly.

One served process (no work pool, no worker) on an embedded catalog: a stage deployment
and a recipe deployment triggered through the Prefect client complete and land their
rows; a run still in flight when serve gets SIGTERM ends ``Cancelled`` (not ``Running``
forever), its stage records ``interrupted``, the schedules are paused and serve exits 0;
serving again resumes the schedules and Ctrl-C exits 130. A name a work-pool deployment
already has is refused first.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import httpx
import pytest
from tracemill.stores.catalog import open_catalog

from tests.cluster import services

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def rows(catalog, sql: str) -> list[dict]:
    with open_catalog(catalog, read_only=True) as store:
        return store.sql(sql).to_pylist()


def wait_state(client, run_id, done, timeout_s: float, serve=None, log=None):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = client.read_flow_run(run_id).state
        if state is not None and done(state):
            return state
        if serve is not None and serve.poll() is not None:
            break
        time.sleep(0.3)
    tail = log.read_text(errors="replace")[-3000:] if log else ""
    raise AssertionError(f"flow run {run_id} is {state}\n{tail}")


def test_serve_runs_a_stage_and_a_recipe_and_stops_on_sigterm(prefect_server, tmp_path):
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.actions import WorkPoolCreate
    from tracemill.pipelines.synth import generate_problems

    catalog = tmp_path / "catalog"
    recipe = tmp_path / "nightly.yaml"
    recipe.write_text("name: nightly\nstages:\n  - stage: synth\n    family: sat\n"
                      "    count: 5\n    level: 3\n")  # fmt: skip
    env = {**prefect_server.env, "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_RUNNER_POLL_FREQUENCY": "1"}  # fmt: skip
    command = [str(services.BIN / "tracemill"), "serve", str(recipe), "--cron", "0 3 1 1 *",
               "--timezone", "Europe/Paris", "--stage", "synth", "--catalog", str(catalog)]
    with SyncPrefectClient(prefect_server.api_url) as client:
        # a work-pool deployment of the same name (prefect deploy) is refused, not broken
        client.create_work_pool(WorkPoolCreate(name="tracemill", type="process"),
                                overwrite=True)  # fmt: skip
        taken = client.create_deployment(
            flow_id=client.create_flow_from_name("synth"), name="synth",
            work_pool_name="tracemill", entrypoint="flows/engine.py:synth_flow",
        )  # fmt: skip
        refused = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True,
                                 text=True, timeout=120)  # fmt: skip
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert refused.stderr.startswith("error: deployment 'synth/synth' is on work pool "
                                         "'tracemill'"), refused.stderr  # fmt: skip
        assert "prefect deployment delete 'synth/synth'" in refused.stderr
        client.delete_deployment(taken)
    log = tmp_path / "serve.log"
    serve = services.start(command, log, env=env, cwd=tmp_path)
    try:
        with SyncPrefectClient(prefect_server.api_url) as client:

            def served(name: str):
                try:
                    found = client.read_deployment_by_name(name)
                except Exception:  # noqa: BLE001 - not registered yet
                    return None
                return None if found.paused else found

            services.wait_until(lambda: served("synth/synth") and served("recipe/nightly"),
                                90, "tracemill serve's deployments", log, serve)  # fmt: skip
            stage, nightly = served("synth/synth"), served("recipe/nightly")
            assert stage.work_pool_name is None and stage.entrypoint.endswith(
                "flows/engine.py:synth_flow")  # fmt: skip
            (schedule,) = nightly.schedules
            assert schedule.active and schedule.schedule.cron == "0 3 1 1 *"
            assert schedule.schedule.timezone == "Europe/Paris"

            config = {"family": "sat", "count": 12, "level": 2}
            runs = [client.create_flow_run_from_deployment(stage.id, parameters={"config": config}),
                    client.create_flow_run_from_deployment(nightly.id)]  # fmt: skip
            for run in runs:
                state = wait_state(client, run.id, lambda s: s.is_final(), 120, serve, log)
                assert state.is_completed(), f"{state}\n{log.read_text()[-3000:]}"
            # tracemill's own log lines reached Prefect from the served run
            logs = httpx.post(f"{prefect_server.api_url}/logs/filter", timeout=10, json={
                "logs": {"flow_run_id": {"any_": [str(runs[0].id)]}}}).json()  # fmt: skip
            assert any(e["name"].startswith("tracemill") for e in logs), logs

            # the rows landed in the serving process's catalog, each once
            expected = set(generate_problems("sat", 12, level=2).column("problem_id").to_pylist())
            expected |= set(generate_problems("sat", 5, level=3).column("problem_id").to_pylist())
            (count,) = rows(catalog, "SELECT count(*) AS n, count(DISTINCT problem_id) AS d "
                                     "FROM problems")  # fmt: skip
            assert count == {"n": len(expected), "d": len(expected)}
            recorded = rows(catalog, "SELECT flow, status, label, parent_run_id FROM runs "
                                     "ORDER BY started_at")  # fmt: skip
            flows = sorted((r["flow"], r["status"], r["parent_run_id"] is None) for r in recorded)
            assert flows == [("recipe:nightly", "completed", True),
                             ("synth", "completed", False),  # the recipe's stage
                             ("synth", "completed", True)]  # the stage deployment's  # fmt: skip

            # a long run in flight when serve gets SIGTERM: cancelled, serve exits 0
            long = client.create_flow_run_from_deployment(stage.id, parameters={
                "config": {"family": "sat", "count": 200_000, "level": 10}})  # fmt: skip
            wait_state(client, long.id, lambda s: s.is_running(), 60, serve, log)
            time.sleep(2)  # the stage has started
            serve.send_signal(signal.SIGTERM)
            assert serve.wait(timeout=60) == 0, log.read_text()[-3000:]
            state = client.read_flow_run(long.id).state
            assert state.is_cancelled(), f"{state}\n{log.read_text()[-3000:]}"
            assert state.message == "tracemill serve stopped (SIGTERM)"
            assert client.read_deployment(stage.id).paused  # until it serves again
            assert client.read_deployment(nightly.id).paused
            # the earlier runs kept their state (cancelling touches only runs in flight)
            assert all(client.read_flow_run(r.id).state.is_completed() for r in runs)
        assert "tracemill serve: stopped (SIGTERM)" in log.read_text()
        stopped = rows(catalog, "SELECT status, error FROM runs WHERE flow = 'synth' "
                                "ORDER BY started_at DESC LIMIT 1")  # fmt: skip
        assert stopped == [{"status": "interrupted", "error": "interrupted"}]
        (dupes,) = rows(catalog, "SELECT count(*) - count(DISTINCT problem_id) AS n FROM problems")
        assert dupes["n"] == 0
        with pytest.raises(ProcessLookupError):  # no flow run process is left behind
            os.killpg(serve.pid, 0)

        # serving again resumes the schedules; Ctrl-C stops it with exit code 130
        again = services.start(command, tmp_path / "again.log", env=env, cwd=tmp_path)
        with SyncPrefectClient(prefect_server.api_url) as client:
            services.wait_until(lambda: not client.read_deployment(nightly.id).paused, 90,
                                "the schedules to resume", tmp_path / "again.log", again)  # fmt: skip
            time.sleep(1)  # serving, not only registered
            again.send_signal(signal.SIGINT)
            assert again.wait(timeout=60) == 130, (tmp_path / "again.log").read_text()[-3000:]
            assert client.read_deployment(nightly.id).paused
    finally:
        for proc in (serve, locals().get("again")):
            if proc is not None:
                services.stop(proc)
