"""Prefect flows: the recipe flow and one flow per stage (for deployments and schedules).

Import this module only after :func:`configure_prefect` (done by
:func:`tracemill.flows.runner.run_recipe`), so Prefect picks up the catalog's local home
and our start-up settings. This module imports :mod:`tracemill.flows.recipe` (reading,
validating and recording a run); the recipe module never imports this one.
By default Prefect runs on its local ephemeral engine with ``PREFECT_HOME`` under the
catalog directory (reused across runs, which halves its start-up); set
``PREFECT_API_URL`` to use a Prefect server and its work pools instead.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, task
from tracemill.flows.recipe import LoadedRecipe, execute_recipe, load_recipe, resolve_catalog
from tracemill.flows.settings import configure_prefect
from tracemill.flows.stages import StageResult, run_stage


@task(name="stage", persist_result=False)
def stage_task(
    stage: str,
    config: dict[str, Any],
    catalog: str | None,
    run_id: str,
    base_dir: str,
    label: str | None = None,
) -> dict[str, Any]:
    """Run one registered stage (the flow passes names and configs, never tables)."""
    return run_stage(
        stage, config, catalog=catalog, run_id=run_id, base_dir=base_dir, label=label
    )


def _stage_entries(loaded: LoadedRecipe) -> list[dict[str, Any]]:
    return [
        {"label": e.label, "stage": e.stage, "config": c.model_dump(mode="json")}
        for e, c in zip(loaded.recipe.stages, loaded.configs, strict=True)
    ]


def _run_entries(
    entries: list[dict[str, Any]], catalog: str | None, run_id: str, base_dir: str
) -> list[dict[str, Any]]:
    out = []
    for entry in entries:
        t0 = time.perf_counter()
        counts = stage_task.with_options(name=entry["label"])(
            entry["stage"], entry["config"], catalog, run_id, base_dir, entry["label"]
        )
        out.append({**entry, "seconds": time.perf_counter() - t0, "counts": counts})
    return out


@flow(name="tracemill-recipe", persist_result=False)
def recipe_flow(
    recipe: str, stages: list[dict[str, Any]], catalog: str | None, run_id: str, base_dir: str
) -> list[dict[str, Any]]:
    """Run a recipe's stages in order, one Prefect task each."""
    return _run_entries(stages, catalog, run_id, base_dir)


def run_stages_in_prefect(
    loaded: LoadedRecipe, catalog: str | None, run_id: str
) -> list[StageResult]:
    """Executor: run a loaded recipe's stages through :func:`recipe_flow`."""
    configure_prefect(catalog)
    named = recipe_flow.with_options(flow_run_name=f"{loaded.recipe.name}-{run_id}")
    done = named(loaded.recipe.name, _stage_entries(loaded), catalog, run_id, str(loaded.base_dir))
    return [StageResult(d["label"], d["stage"], d["seconds"], d["counts"]) for d in done]


def _in_this_flow(loaded: LoadedRecipe, catalog: str | None, run_id: str) -> list[StageResult]:
    """Executor for a flow already running: the stages become its tasks."""
    done = _run_entries(_stage_entries(loaded), catalog, run_id, str(loaded.base_dir))
    return [StageResult(d["label"], d["stage"], d["seconds"], d["counts"]) for d in done]


def stage_flow(stage: str) -> Any:
    """A Prefect flow named ``stage`` that runs that stage with a config mapping."""

    @flow(name=stage, persist_result=False)
    def _flow(config: dict[str, Any], catalog: str | None = None, base_dir: str = ".") -> Any:
        from tracemill.catalogs import new_run_id

        return stage_task.with_options(name=stage)(
            stage, config, catalog, new_run_id(), base_dir
        )

    _flow.__doc__ = f"Run the {stage!r} stage (see `tracemill {stage} --help`)."
    return _flow


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


@flow(name="recipe", persist_result=False)
def recipe_file_flow(path: str, catalog: str | None = None) -> dict[str, Any]:
    """Run a recipe file (the entry point for deployments and schedules)."""
    loaded = load_recipe(path)
    result = execute_recipe(
        loaded, catalog=resolve_catalog(loaded, catalog), executor=_in_this_flow
    )
    return {"run_id": result.run_id, "status": result.status,
            "stages": {s.label: s.counts for s in result.stages}}  # fmt: skip
