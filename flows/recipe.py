"""Recipes: a YAML file listing stages, validated with pydantic, run as one flow.

```yaml
name: quickstart
catalog: ../tracemill-data      # optional; relative to this file
prefect: true                   # run as a Prefect flow (false: the same stages in-process)
stages:
  - stage: ingest               # a registered stage (tracemill.flows.stages)
    name: ingest-math           # optional label, unique within the recipe
    paths: [../examples/math.jsonl]
    source: examples-math
  - stage: summary
```

Scaling out is configuration too (see README "Running on a cluster")::

    catalog: "postgres:dbname=tracemill host=db.internal user=tm"
    data_path: s3://my-bucket/tracemill/      # where data files go ($TRACEMILL_DATA_PATH)
    object_storage: {endpoint: "http://minio:9000", region: us-east-1, url_style: path}
    executor: ray                             # default of every stage that can fan out
    ray_address: auto                         # default $RAY_ADDRESS, else a local Ray

Object-storage credentials never go in a recipe: they come from ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` (or the nodes' own credentials).

Unknown keys are errors, at the top level and inside every stage. Strings may use
``${catalog}`` (the catalog's directory: a place for models, exports and reports that
belong with the data) and ``${recipe_dir}``. A run records one
``runs`` row for the recipe (status, per-stage counters, the recipe text, the code
version, tokens and cost summed over its stages) and one per stage (its config and
counters, ``parent_run_id`` = the recipe's run; the rows a stage writes carry the
stage's run id), and returns a :class:`RunResult` for the summary table. A recipe that
does not validate is a usage error (:class:`RecipeError`, exit code 2); a missing recipe
file is a failure (exit code 1), as is a stage that fails (its label is named).

This module reads, validates and runs recipes in this process
(:func:`execute_recipe`); :mod:`tracemill.flows.engine` runs the same stages as Prefect
tasks, and :func:`tracemill.flows.runner.run_recipe` chooses between the two (so neither
of these imports the other's caller).
"""


from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from tracemill.flows.options import OptionError
from tracemill.flows.stages import (
    StageConfig,
    StageResult,
    config_variables,
    get_stage,
    run_stage,
    substitute,
)

__all__ = [
    "Executor",
    "LoadedRecipe",
    "Recipe",
    "RecipeError",
    "RunResult",
    "StageEntry",
    "StageResult",
    "execute_recipe",
    "load_recipe",
    "recipe_variables",
    "resolve_catalog",
    "run_stages_inline",
    "substitute",
]

log = logging.getLogger(__name__)


class StageEntry(BaseModel):
    """One stage of a recipe: ``stage`` names it; the other keys are its config."""

    model_config = ConfigDict(extra="allow", frozen=True)

    stage: str
    name: str | None = None

    def config(self, defaults: dict[str, Any] | None = None) -> StageConfig:
        """The stage's validated config (unknown keys are errors).

        ``defaults`` fill fields the stage has and the entry leaves out (the recipe's
        ``executor`` and ``ray_address``).
        """
        spec = get_stage(self.stage)
        values = dict(self.model_extra or {})
        for key, value in (defaults or {}).items():
            if key in spec.config.model_fields and key not in values and value is not None:
                values[key] = value
        return spec.config.model_validate(values)

    @property
    def label(self) -> str:
        """The stage's label in summaries and Prefect task names."""
        return self.name or self.stage


class ObjectStorageConfig(BaseModel):
    """Where an S3-compatible object store is (credentials come from the environment)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: str | None = None
    """URL of a non-AWS S3 server, e.g. http://127.0.0.1:8333 ($TRACEMILL_S3_ENDPOINT)."""
    region: str | None = None
    """$AWS_REGION."""
    url_style: Literal["path", "vhost"] | None = None
    """$TRACEMILL_S3_URL_STYLE (path by default when an endpoint is given)."""

    def env(self) -> dict[str, str]:
        """The environment variables these settings stand for."""
        pairs = (
            ("TRACEMILL_S3_ENDPOINT", self.endpoint), ("AWS_REGION", self.region),
            ("TRACEMILL_S3_URL_STYLE", self.url_style),
        )  # fmt: skip
        return {k: v for k, v in pairs if v is not None}


class Recipe(BaseModel):
    """A recipe file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str | None = None
    catalog: str | None = None
    data_path: str | None = None
    """Data files' location for a database catalog ($TRACEMILL_DATA_PATH)."""
    object_storage: ObjectStorageConfig | None = None
    executor: Literal["local", "ray"] = "local"
    """Default executor of the stages that can fan out (each stage may override it)."""
    ray_address: str | None = None
    prefect: bool = True
    stages: list[StageEntry]

    def env(self) -> dict[str, str]:
        """Environment variables a run of this recipe sets (data path, object storage)."""
        env = dict(self.object_storage.env()) if self.object_storage else {}
        if self.data_path:
            env["TRACEMILL_DATA_PATH"] = self.data_path
        return env

    @field_validator("stages")
    @classmethod
    def _labels_unique(cls, stages: list[StageEntry]) -> list[StageEntry]:
        if not stages:
            raise ValueError("a recipe needs at least one stage")
        seen: set[str] = set()
        for entry in stages:
            if entry.label in seen:
                raise ValueError(f"two stages are labelled {entry.label!r}; give them names")
            seen.add(entry.label)
        return stages


class RecipeError(OptionError):
    """A recipe file that cannot be read or does not validate."""


class RecipeNotFoundError(RecipeError, FileNotFoundError):
    """No recipe file at the path given."""


def _describe(err: ValidationError, prefix: str) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        lines.append(f"{loc}: {msg}")
    return "; ".join(lines)


@dataclass
class LoadedRecipe:
    """A validated recipe with its stages' configs and where it came from."""

    recipe: Recipe
    configs: list[StageConfig]
    text: str
    base_dir: Path


def load_recipe(path: str | os.PathLike[str]) -> LoadedRecipe:
    """Read and validate a recipe; every problem is reported with its location."""
    path = Path(path)
    if not path.is_file():
        raise RecipeNotFoundError(f"{path}: no such recipe file")
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RecipeError(f"{path}: invalid YAML: {e}") from e
    if not isinstance(raw, dict):
        raise RecipeError(f"{path}: a recipe is a mapping with 'name' and 'stages'")
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as e:
        raise RecipeError(f"{path}: {_describe(e, '')}") from e
    configs = []
    defaults = {"executor": recipe.executor, "ray_address": recipe.ray_address}
    for i, entry in enumerate(recipe.stages):
        try:
            configs.append(entry.config(defaults))
        except KeyError as e:
            raise RecipeError(f"{path}: stages.{i}: {e.args[0]}") from e
        except ValidationError as e:
            raise RecipeError(f"{path}: {_describe(e, f'stages.{i}({entry.label})')}") from e
    return LoadedRecipe(recipe, configs, text, path.resolve().parent)


@dataclass
class RunResult:
    """A recipe run's outcome."""

    run_id: str
    recipe: str
    status: str
    stages: list[StageResult] = field(default_factory=list)
    error: str | None = None
    catalog: str | None = None


Executor = Callable[["LoadedRecipe", "str | None", str], list[StageResult]]
"""``executor(loaded, catalog, run_id) -> results``: runs a recipe's stages in order
(:func:`run_stages_inline` here; :func:`tracemill.flows.engine.run_stages_in_prefect`
as Prefect tasks)."""


def resolve_catalog(loaded: LoadedRecipe, catalog: str | None) -> str | None:
    """The catalog a run uses: the caller's, else the recipe's (relative to it), else env."""
    if catalog:
        return catalog
    if loaded.recipe.catalog:
        value = loaded.recipe.catalog
        if "://" in value or value.startswith(("postgres:", "sqlite:", "mysql:", "duckdb:")):
            return value
        p = Path(value).expanduser()
        return str(p if p.is_absolute() else loaded.base_dir / p)
    return os.environ.get("TRACEMILL_CATALOG") or None


def recipe_variables(catalog: str | None, base_dir: str) -> dict[str, str]:
    """Variables a recipe may use (see :func:`tracemill.flows.stages.config_variables`)."""
    return config_variables(catalog, base_dir)


def run_stages_inline(
    loaded: LoadedRecipe, catalog: str | None, run_id: str
) -> list[StageResult]:
    """Run the recipe's stages in this process, in order (``run_id``: the recipe's run)."""
    results = []
    for entry, cfg in zip(loaded.recipe.stages, loaded.configs, strict=True):
        t0 = time.perf_counter()
        counts = run_stage(
            entry.stage, cfg.model_dump(), catalog=catalog, parent_run_id=run_id,
            base_dir=str(loaded.base_dir), label=entry.label,
        )  # fmt: skip
        results.append(StageResult(entry.label, entry.stage, time.perf_counter() - t0, counts))
    return results


def execute_recipe(
    loaded: LoadedRecipe,
    *,
    catalog: str | None,
    executor: Executor = run_stages_inline,
    run_id: str | None = None,
) -> RunResult:
    """Run a loaded recipe with ``executor`` and record its ``runs`` row (also on failure).

    ``catalog`` is the one the run uses (see :func:`resolve_catalog`); it is created (and
    a bad location fails) before any stage runs. ``run_id`` is the run's id (default: a
    new one; ``tracemill run`` passes its own).
    """
    from tracemill.catalogs import new_run_id
    from tracemill.flows.runs import error_line, status_of
    from tracemill.stores.catalog import open_catalog

    with recipe_environment(loaded.recipe.env()):
        run_id = run_id or new_run_id()
        started = datetime.now(UTC)
        result = RunResult(run_id, loaded.recipe.name, "running", catalog=catalog)
        with open_catalog(catalog):
            pass  # create the catalog (and fail early on a bad location) before any stage runs
        try:
            result.stages = executor(loaded, catalog, run_id)
            result.status = "completed"
        except BaseException as e:
            result.status = status_of(e)
            result.error = error_line(e)
            result.stages = _stages_recorded(catalog, run_id, e)
            _record(result, loaded, started)
            raise
        _record(result, loaded, started)
        return result


@contextmanager
def recipe_environment(env: dict[str, str]) -> Iterator[None]:
    """Set a recipe's environment variables for its run (restored afterwards)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _stages_recorded(catalog: str | None, run_id: str, err: BaseException) -> list[StageResult]:
    """The stages of a recipe run that failed, as their own ``runs`` rows recorded them.

    Whatever the executor (inline, Prefect, Ray): the stages that completed and the
    failed one's counters so far, so the recipe's row sums what was spent. The latest row
    of each label counts (Prefect records a row per attempt). Empty when the catalog
    cannot be read (locked, storage down).
    """
    import json

    from tracemill.stores.catalog import CatalogLockedError, CatalogStorageError, open_catalog

    if isinstance(err, CatalogLockedError | CatalogStorageError):
        return []
    try:
        with open_catalog(catalog, read_only=True) as store:
            rows = store.sql(
                "SELECT label, flow, duration_s, counts FROM runs WHERE parent_run_id = ? "
                "ORDER BY started_at",
                [run_id],
            ).to_pylist()
    except Exception as e:  # noqa: BLE001 - the run's own error matters more
        log.debug("could not read the stage rows of run %s: %s", run_id, e)
        return []
    latest: dict[str, StageResult] = {}
    for row in rows:
        label = row["label"] or row["flow"]
        counts = json.loads(row["counts"] or "{}")
        latest[label] = StageResult(label, row["flow"], row["duration_s"] or 0.0, counts)
    return list(latest.values())


def _record(result: RunResult, loaded: LoadedRecipe, started: datetime) -> None:
    from tracemill.flows.runs import RunRecord, save_run

    counts = {s.label: {"seconds": round(s.seconds, 3), **s.counts} for s in result.stages}
    record = RunRecord(
        result.run_id, f"recipe:{loaded.recipe.name}", started, result.status, counts,
        recipe=loaded.text, error=result.error,
    )  # fmt: skip
    save_run(result.catalog, record)
