"""Prefect flows: the recipe flow and one flow per stage (for deployments and schedules).

Import this module only after :func:`configure_prefect` (done by
:func:`tracemill.flows.runner.run_recipe`), so Prefect picks up the catalog's local home
and our start-up settings. This module imports :mod:`tracemill.flows.recipe` (reading,
validating and recording a run); the recipe module never imports this one.
By default Prefect runs on its local ephemeral engine with ``PREFECT_HOME`` under the
catalog directory (reused across runs, which halves its start-up); set
``PREFECT_API_URL`` to use a Prefect server and its work pools instead (``prefect.yaml``
has a deployment per stage and for the quickstart; README "Running on a cluster"), or
``tracemill serve`` to serve the same deployments from one process
(:mod:`tracemill.flows.serve`).

Policy lives on the task (one task per stage, passing names and configs, never tables):

* **retries**: stages that are idempotent (reruns skip existing keys) are retried on
  failures that may pass (a lock held too long, a lost connection, a dead Ray worker),
  never on a bad config or bad input;
* **caching**: a stage whose inputs are content-addressed (``synth``: family, levels,
  seed and index range; ``ingest``: the bytes of its files) is cached on those, the
  catalog's identity and the code's digest, so re-running a recipe skips it outright;
* **logs**: tracemill's loggers are forwarded to Prefect (``PREFECT_LOGGING_EXTRA_LOGGERS``);
* **artifacts**: each stage's report is published by :mod:`tracemill.flows.reporting`.

With ``executor: ray`` in the recipe, the flow runs on prefect-ray's ``RayTaskRunner``
connected to the same cluster the stages fan out over: one scheduler, not two. The stage
tasks take no CPU of their own and stay on the driver's node (where an embedded catalog
lives); their Ray actors and tasks do the work.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from prefect import flow, task
from tracemill.flows.recipe import LoadedRecipe, execute_recipe, load_recipe, resolve_catalog
from tracemill.flows.settings import configure_prefect, failures_reported_once
from tracemill.flows.stages import StageResult, run_stage

log = logging.getLogger(__name__)

IDEMPOTENT_STAGES = frozenset(
    {"ingest", "synth", "verify", "curate", "distill", "grade", "calibrate", "build", "select"}
)
"""Stages whose rerun skips what landed (content-addressed keys), so a retry is safe."""
CACHED_STAGES = frozenset({"synth", "ingest"})
"""Stages whose whole input is content-addressed: cached across runs."""
RETRIES = 2


def _retriable(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a stage only on failures that may pass (never on bad configs or inputs)."""
    try:
        state.result()
    except Exception as e:  # noqa: BLE001 - classifying the failure
        from tracemill.stores.catalog import CatalogLockedError

        if isinstance(e, CatalogLockedError | ConnectionError | TimeoutError):
            return True
        if type(e).__module__.startswith(("ray.", "duckdb")) and "Catalog" not in str(e):
            return True
        if isinstance(e, OSError) and not isinstance(e, FileNotFoundError | PermissionError):
            return True
        return False
    return False


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of tracemill's own source (a cached stage reruns after any code change)."""
    import tracemill

    root = Path(tracemill.__file__).resolve().parent
    digest = hashlib.sha256()
    folders = [root] + [root.parent / name for name in ("pipelines", "catalogs", "stores", "flows")]
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _catalog_identity(catalog: str | None) -> str | None:
    """The catalog's location and creation time (a recreated catalog is another one)."""
    from tracemill.stores.catalog import CatalogError, open_catalog

    try:
        with open_catalog(catalog, read_only=True, lock_timeout_s=10) as store:
            first = store.snapshots().slice(0, 1).to_pylist()
            return f"{store.config.metadata}|{store.config.data_path}|{first[0]['snapshot_time']}"
    except (CatalogError, IndexError):
        return None


def _file_digest(paths: list[Path]) -> str | None:
    digest = hashlib.sha256()
    for base in paths:
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        for path in files:
            if not path.is_file():
                return None
            digest.update(str(path).encode())
            with path.open("rb") as fh:
                for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def stage_cache_key(context: Any, parameters: dict[str, Any]) -> str | None:
    """Cache key of a content-addressed stage run (None: not cached)."""
    stage = parameters["stage"]
    if stage not in CACHED_STAGES:
        return None
    from tracemill.flows.stages import config_variables, substitute

    catalog, base_dir = parameters["catalog"], parameters["base_dir"]
    config = substitute(parameters["config"], config_variables(catalog, base_dir))
    if config.get("executor") == "ray":
        config = {k: v for k, v in config.items() if not k.startswith("ray_")}
    identity = _catalog_identity(catalog)
    if identity is None:
        return None
    parts = [stage, json.dumps(config, sort_keys=True, default=str), identity, code_digest()]
    if stage == "ingest":
        paths = [Path(base_dir, p).resolve() for p in config.get("paths", [])]
        files = _file_digest(paths)
        if files is None:
            return None
        parts.append(files)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@contextmanager
def _tracemill_logs_at_info() -> Iterator[None]:
    """Let tracemill's INFO lines through to Prefect's handlers for the stage's duration."""
    logger = logging.getLogger("tracemill")
    before = logger.level
    if before == logging.NOTSET or before > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(before)


@task(name="stage", persist_result=True, cache_key_fn=stage_cache_key)
def stage_task(
    stage: str,
    config: dict[str, Any],
    catalog: str | None,
    parent_run_id: str | None,
    base_dir: str,
    label: str | None = None,
) -> dict[str, Any]:
    """Run one registered stage (the flow passes names and configs, never tables).

    The stage records its own ``runs`` row; ``parent_run_id`` is the recipe's run.
    """
    with _tracemill_logs_at_info():
        return run_stage(
            stage, config, catalog=catalog, parent_run_id=parent_run_id, base_dir=base_dir,
            label=label,
        )  # fmt: skip


def _stage_options(label: str, stage: str) -> dict[str, Any]:
    options: dict[str, Any] = {"name": label}
    if stage in IDEMPOTENT_STAGES:
        options.update(retries=RETRIES, retry_delay_seconds=[5, 30], retry_condition_fn=_retriable)
    return options


def ray_task_runner(address: str | None) -> Any:
    """prefect-ray's task runner on the cluster the stages fan out over."""
    from prefect_ray.task_runners import RayTaskRunner
    from tracemill.flows.executor import check_reachable, init_kwargs

    if address:
        check_reachable(address)  # a cluster that is down: one line, not minutes of retries
    return RayTaskRunner(address=address, init_kwargs=init_kwargs())


@contextmanager
def _on_driver_node(ray_runner: bool) -> Iterator[None]:
    """Ray options for stage tasks: no CPU of their own, on the driver's node."""
    if not ray_runner:
        yield
        return
    import ray
    from prefect_ray.context import remote_options
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
    from tracemill.flows.executor import runtime_env

    node = ray.get_runtime_context().get_node_id()
    strategy = NodeAffinitySchedulingStrategy(node_id=node, soft=False)
    # the driver's catalog and storage settings as they are now (Prefect retries, not Ray)
    with remote_options(num_cpus=0, scheduling_strategy=strategy, max_retries=0,
                        **({"runtime_env": runtime_env()} if runtime_env() else {})):
        yield


def _stage_entries(loaded: LoadedRecipe) -> list[dict[str, Any]]:
    return [
        {"label": e.label, "stage": e.stage, "config": c.model_dump(mode="json")}
        for e, c in zip(loaded.recipe.stages, loaded.configs, strict=True)
    ]


def _run_entries(
    entries: list[dict[str, Any]], catalog: str | None, run_id: str, base_dir: str,
    ray_runner: bool = False,
) -> list[dict[str, Any]]:  # fmt: skip
    out = []
    for entry in entries:
        t0 = time.perf_counter()
        runner = stage_task.with_options(**_stage_options(entry["label"], entry["stage"]))
        with _on_driver_node(ray_runner):
            future = runner.submit(
                entry["stage"], entry["config"], catalog, run_id, base_dir, entry["label"]
            )
        future.wait()
        state = future.state
        counts = dict(state.result())
        if state.name == "Cached":
            counts["cached"] = True  # an identical earlier run's counters; nothing redone
        out.append({**entry, "seconds": time.perf_counter() - t0, "counts": counts})
    return out


@flow(name="tracemill-recipe", persist_result=False)
def recipe_flow(
    recipe: str,
    stages: list[dict[str, Any]],
    catalog: str | None,
    run_id: str,
    base_dir: str,
    ray_runner: bool = False,
) -> list[dict[str, Any]]:
    """Run a recipe's stages in order, one Prefect task each."""
    return _run_entries(stages, catalog, run_id, base_dir, ray_runner)


def run_stages_in_prefect(
    loaded: LoadedRecipe, catalog: str | None, run_id: str
) -> list[StageResult]:
    """Executor: run a loaded recipe's stages through :func:`recipe_flow`.

    A recipe with ``executor: ray`` runs on prefect-ray's task runner on its cluster. A
    failing stage's error propagates as itself (noted with the stage's label); Prefect's
    console copies of it are dropped (:func:`~tracemill.flows.settings.failures_reported_once`).
    """
    configure_prefect(catalog)
    options: dict[str, Any] = {"flow_run_name": f"{loaded.recipe.name}-{run_id}"}
    on_ray = loaded.recipe.executor == "ray"
    if on_ray:
        options["task_runner"] = ray_task_runner(loaded.recipe.ray_address)
    named = recipe_flow.with_options(**options)
    with failures_reported_once():
        done = named(loaded.recipe.name, _stage_entries(loaded), catalog, run_id,
                     str(loaded.base_dir), on_ray)  # fmt: skip
    return [StageResult(d["label"], d["stage"], d["seconds"], d["counts"]) for d in done]


def _in_this_flow(loaded: LoadedRecipe, catalog: str | None, run_id: str) -> list[StageResult]:
    """Executor for a flow already running: the stages become its tasks."""
    done = _run_entries(_stage_entries(loaded), catalog, run_id, str(loaded.base_dir))
    return [StageResult(d["label"], d["stage"], d["seconds"], d["counts"]) for d in done]


def stage_flow(stage: str) -> Any:
    """A Prefect flow named ``stage`` that runs that stage with a config mapping.

    Its function is named ``<stage>_flow``, the module attribute it is bound to, so a
    deployment made from it in code (``tracemill serve``) names the same entrypoint as
    ``prefect.yaml`` (``flows/engine.py:<stage>_flow``).
    """

    def run(config: dict[str, Any], catalog: str | None = None, base_dir: str = ".") -> Any:
        return stage_task.with_options(**_stage_options(stage, stage))(
            stage, config, catalog, None, str(Path(base_dir).resolve()), stage
        )

    run.__name__ = run.__qualname__ = f"{stage}_flow"
    run.__doc__ = f"Run the {stage!r} stage (see `tracemill {stage} --help`)."
    return flow(name=stage, persist_result=False)(run)


ingest_flow = stage_flow("ingest")
synth_flow = stage_flow("synth")
verify_flow = stage_flow("verify")
curate_flow = stage_flow("curate")
distill_flow = stage_flow("distill")
grade_flow = stage_flow("grade")
select_flow = stage_flow("select")
build_flow = stage_flow("build")
export_flow = stage_flow("export")
train_flow = stage_flow("train")

STAGE_FLOWS: dict[str, Any] = {
    f.name: f
    for f in (ingest_flow, synth_flow, verify_flow, curate_flow, distill_flow, grade_flow,
              select_flow, build_flow, export_flow, train_flow)
}  # fmt: skip
"""The stage flows by name (``prefect.yaml`` deploys each as ``<stage>/<stage>``)."""


@flow(name="recipe", persist_result=False)
def recipe_file_flow(path: str, catalog: str | None = None) -> dict[str, Any]:
    """Run a recipe file (the entry point for deployments and schedules)."""
    loaded = load_recipe(path)
    result = execute_recipe(
        loaded, catalog=resolve_catalog(loaded, catalog), executor=_in_this_flow
    )
    return {"run_id": result.run_id, "status": result.status,
            "stages": {s.label: s.counts for s in result.stages}}  # fmt: skip
