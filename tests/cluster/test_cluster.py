"""tracemill on a cluster: two Ray nodes, a PostgreSQL catalog, data files in S3, Prefect.

All services run on this machine (see ``services.py``); the assertions are the ones a
cluster must keep: work spreads over both nodes, lands exactly once, survives a killed
worker and a second driver, and a Prefect deployment run completes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from tracemill.stores.catalog import open_catalog, process_owner
from tracemill.stores.gc import no_clean_on_open, remove_catalog_debris

from tests.cluster import services

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def counts(sql: str) -> tuple:
    with open_catalog(read_only=True) as store:
        return tuple(store.sql(sql).to_pylist()[0].values())


def synth(count: int, *, start: int = 0, level: int = 2, chunk: int = 10) -> dict:
    from tracemill.flows.synth import SynthStage, synthesize

    cfg = SynthStage(family="sat", count=count, start=start, level=level, chunk_size=chunk,
                     executor="ray")  # fmt: skip
    with open_catalog(release=True) as store:
        return synthesize(cfg, store=store, run_id="cluster-test")


def runs_of(parent: str) -> list[dict]:
    """The ``runs`` rows of the stages of recipe run ``parent``."""
    with open_catalog(read_only=True) as store:
        return store.sql(
            "SELECT * FROM runs WHERE parent_run_id = ? ORDER BY started_at", [parent]
        ).to_pylist()


def test_synth_distill_verify_spread_over_both_nodes_and_land_once(shared_catalog):
    from tracemill.flows.distill import DistillStage, distill
    from tracemill.flows.stages import StageContext
    from tracemill.flows.verify import VerifyStage, verify_stage

    out = synth(40)
    assert out["ray_nodes"] == 2
    assert counts("SELECT count(*), count(DISTINCT problem_id) FROM problems") == (
        out["inserted"], out["inserted"])  # fmt: skip
    # the data files are in object storage and registered by the driver; the workers
    # named this process (the driver) as their owner, for gc
    assert counts("SELECT count(*) FROM __ducklake_metadata_tm.ducklake_data_file "
                  f"WHERE path LIKE '%tracemill-worker-{process_owner()}-%'")[0] >= 1  # fmt: skip

    # distill (no verification) on one engine actor per node, then verify on the pool
    cfg = DistillStage(backend="fake", model="fake-teacher", n=2, batch_size=16, verify=False,
                       executor="ray", ray_workers=2)  # fmt: skip
    report = distill(cfg, run_id="cluster-test")
    problems = out["inserted"]
    assert report.samples == 2 * problems and report.ray_nodes == 2
    verified = verify_stage(StageContext(None, "cluster-test"),
                            VerifyStage(executor="ray", batch_size=16))  # fmt: skip
    assert verified["inserted"] == 2 * problems and verified["ray_nodes"] == 2
    assert counts("SELECT count(*), count(DISTINCT sample_id) FROM samples") == (
        2 * problems, 2 * problems)  # fmt: skip
    assert counts("SELECT count(*), count(DISTINCT (sample_id, verifier, verifier_version)) "
                  "FROM verdicts") == (2 * problems, 2 * problems)  # fmt: skip

    # reruns find nothing to do
    assert synth(40)["inserted"] == 0
    assert distill(cfg, run_id="again").samples == 0
    again = verify_stage(StageContext(None, "again"), VerifyStage(executor="ray"))
    assert again["verified"] == 0


def test_a_worker_killed_mid_task_loses_nothing_and_duplicates_nothing(
    shared_catalog, ray_cluster
):
    from tracemill.flows.distill import DistillStage, distill

    problems = synth(24, level=3, chunk=12)["inserted"]
    cfg = DistillStage(backend="fake", model="slow-teacher", n=4, batch_size=16,
                       backend_options={"delay_s": 0.25, "batch_size": 4},
                       executor="ray", ray_workers=2)  # fmt: skip
    result: dict = {}

    def run() -> None:
        try:
            result["report"] = distill(cfg, run_id="kill-test")
        except BaseException as e:  # noqa: BLE001 - reported by the test
            result["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    killed = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not killed and thread.is_alive():
        alive = engine_actors("ALIVE")
        if alive and counts("SELECT count(*) FROM samples WHERE model = 'slow-teacher'")[0]:
            # an engine actor is never idle while shards are left (each takes ~1 s), so
            # this kill lands mid-shard, after at least one commit
            os.kill(alive[0]["Pid"], signal.SIGKILL)
            killed.append(alive[0]["Pid"])
        time.sleep(0.1)
    thread.join(timeout=300)
    restarts = max((a["NumRestarts"] for a in engine_actors(None)), default=0)
    assert killed, "no engine actor was caught mid-run"
    assert restarts >= 1  # Ray restarted the actor and retried its shard
    assert "error" not in result, result.get("error")
    want = 4 * problems
    assert result["report"].samples == want
    assert counts("SELECT count(*), count(DISTINCT sample_id) FROM samples "
                  "WHERE model = 'slow-teacher'") == (want, want)  # fmt: skip
    assert counts("SELECT count(*) FROM verdicts v JOIN samples s USING (sample_id) "
                  "WHERE s.model = 'slow-teacher'") == (want,)  # fmt: skip
    # whatever the killed attempt wrote is this (running) driver's: gc keeps it, even
    # with no grace period, and takes no in-flight file for a killed worker's
    with no_clean_on_open(), open_catalog() as store:
        debris = remove_catalog_debris(store, dry_run=True, older_than_s=0)
    assert not debris.worker_files, debris
    assert all(f"tracemill-worker-{process_owner()}-" in p for p in debris.in_flight_files)


def test_semantic_curation_encodes_on_ray_actors(shared_catalog, tmp_path, monkeypatch):
    from tracemill.flows.curate import CurateStage, curate

    monkeypatch.setenv("TRACEMILL_EMBEDDINGS", str(tmp_path / "vectors"))  # no local catalog dir
    problems = synth(12, level=1, chunk=12)["inserted"]
    cfg = CurateStage(methods=["semantic"], encoder="minilm", executor="ray", ray_workers=1)
    report = curate(cfg, run_id="cluster-test")
    assert report.methods["encode"]["ray_nodes"] >= 1  # one pool per encode call (warm-up too)
    assert report.methods["semantic"]["encoded"] == problems
    assert report.inserted == problems  # one dedup row per problem, as on one machine
    again = curate(cfg, run_id="again")
    assert again.inserted == 0 and again.methods["semantic"]["encoded"] == 0


def engine_actors(state: str | None) -> list[dict]:
    """This driver's DistillWorker actors (from the GCS; no dashboard needed)."""
    import ray._private.state

    return [a for a in ray._private.state.actors().values()
            if a["ActorClassName"] == "DistillWorker" and a["Pid"]
            and (state is None or a["State"] == state)]  # fmt: skip


def test_two_drivers_on_the_shared_catalog(shared_catalog, ray_cluster, tmp_path):
    env = {**os.environ, **shared_catalog}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tracemill.flows.cli", "synth", "sat", "--count", "40",
             "--start", str(start), "--level", "4", "--chunk-size", "10", "--executor", "ray",
             "--address", ray_cluster.address, "--report-dir", str(tmp_path / f"r{start}")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        for start in (0, 20)
    ]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), "\n".join(outs)
    from tracemill.pipelines.synth import generate_problems

    expected = len(set(generate_problems("sat", 60, level=4).column("problem_id").to_pylist()))
    assert counts("SELECT count(*), count(DISTINCT problem_id) FROM problems") == (
        expected, expected)  # fmt: skip


def test_a_recipe_on_the_ray_task_runner_is_cached_when_rerun(
    shared_catalog, ray_cluster, prefect_server, tmp_path, monkeypatch
):
    from tracemill.flows.runner import run_recipe

    monkeypatch.setenv("PREFECT_API_URL", prefect_server.api_url)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: ray-recipe\nexecutor: ray\nray_address: {ray_cluster.address}\n"
        "stages:\n  - stage: synth\n    family: sat\n    count: 30\n    level: 5\n"
        f"    chunk_size: 10\n    report_dir: {tmp_path / 'report'}\n"
    )
    first = run_recipe(recipe)
    assert first.status == "completed"
    (stage,) = first.stages
    assert stage.counts["inserted"] > 0 and stage.counts["ray_nodes"] >= 1
    # the stage ran as a Ray task and recorded its own runs row under the recipe's
    rows = runs_of(first.run_id)
    assert [(r["flow"], r["status"]) for r in rows] == [("synth", "completed")]
    assert rows[0]["duration_s"] > 0 and '"ray_nodes"' in rows[0]["counts"]
    assert counts("SELECT count(*) FROM problems WHERE run_id = "
                  f"'{rows[0]['run_id']}'")[0] == stage.counts["inserted"]  # fmt: skip
    second = run_recipe(recipe)
    assert second.stages[0].counts.get("cached") is True
    assert runs_of(second.run_id) == []  # served from the cache: nothing ran
    assert counts(f"SELECT count(*) FROM runs WHERE run_id = '{second.run_id}'") == (1,)


STAGE_ROWS = ("SELECT count(*) FROM runs WHERE flow = 'synth' AND status = 'completed' "
              "AND parent_run_id IS NULL AND label = 'synth'")
"""Completed runs rows of synth stage flows (a deployment's; CLI commands have no label)."""


def test_a_deployment_run_completes(shared_catalog, ray_cluster, prefect_server, tmp_path):
    env = {**prefect_server.env, **shared_catalog, "PREFECT_WORKER_QUERY_SECONDS": "1",
           "PREFECT_WORKER_PREFETCH_SECONDS": "1"}  # fmt: skip
    prefect = str(services.BIN / "prefect")

    def cli(*args: str) -> str:
        out = subprocess.run([prefect, *args], env=env, cwd=services.REPO, capture_output=True,
                             text=True, timeout=180)  # fmt: skip
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    cli("work-pool", "create", "tracemill", "--type", "process", "--overwrite")
    cli("--no-prompt", "deploy", "--name", "synth")
    worker = services.start([prefect, "worker", "start", "--pool", "tracemill", "--limit", "1"],
                            tmp_path / "worker.log", env=env, cwd=services.REPO)  # fmt: skip
    try:
        api = prefect_server.api_url
        deployment = httpx.get(f"{api}/deployments/name/synth/synth", timeout=10).json()
        config = {"family": "sat", "count": 20, "level": 6, "chunk_size": 10,
                  "executor": "ray", "ray_address": ray_cluster.address,
                  "report_dir": str(tmp_path / "report")}  # fmt: skip
        run = httpx.post(f"{api}/deployments/{deployment['id']}/create_flow_run",
                         json={"parameters": {"config": config}}, timeout=10).json()  # fmt: skip
        state = None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=10).json()["state"]
            if state and state["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                break
            time.sleep(1)
        log = (tmp_path / "worker.log").read_text(errors="replace")[-4000:]
        assert state and state["type"] == "COMPLETED", f"{state}\n{log}"
        # tracemill's own log lines reached Prefect, and the stage left its artifact
        logs = httpx.post(f"{api}/logs/filter", timeout=10, json={
            "logs": {"flow_run_id": {"any_": [run["id"]]}}}).json()  # fmt: skip
        assert any(entry["name"].startswith("tracemill") for entry in logs), logs
        artifacts = httpx.post(f"{api}/artifacts/filter", timeout=10, json={
            "artifacts": {"key": {"any_": ["synth"]}}}).json()  # fmt: skip
        assert artifacts and "inserted" in artifacts[0]["data"], artifacts
        # the deployment's stage flow recorded its runs row (no recipe above it; the
        # catalog is this test's own)
        assert counts(STAGE_ROWS) == (1,)
    finally:
        services.stop(worker)
    from tracemill.pipelines.synth import generate_problems

    expected = len(set(generate_problems("sat", 20, level=6).column("problem_id").to_pylist()))
    assert counts("SELECT count(*), count(DISTINCT problem_id) FROM problems") == (
        expected, expected)  # fmt: skip
