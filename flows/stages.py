"""Recipe stages: a name, a pydantic config (unknown keys are errors) and a function.

A stage function takes a :class:`StageContext` and its validated config and returns a
dict of counters for the run summary. It calls ``pipelines``/``stores`` functions and
is the one place the recipe runner, the Prefect flows and the CLI share, so
``tracemill grade …`` and a recipe's ``grade`` stage do the same work.

:func:`execute_stage` is where every stage starts and ends, whoever calls it: it times
the stage, hands it a :class:`~tracemill.flows.reporting.Report` (``ctx.report``) to
fill, and writes that report (``summary.md``, ``summary.json``, plots, a Prefect
artifact) through :mod:`tracemill.flows.reporting`.
A stage that calls models hands its counters so far to :meth:`StageContext.track`, so
a run that fails partway records the usage it reached (:func:`run_stage` and the CLI's
stage commands read :meth:`StageContext.counters_so_far` when the stage raises).

The config is declared once: its fields (type, default, ``description``) are the recipe
keys, the ``--config FILE`` / ``--set KEY=VALUE`` keys and the CLI flags
(:mod:`tracemill.flows.options` generates those; a field's
:class:`~tracemill.flows.options.Flag` annotation renames or hides one).

Stage modules live in ``flows`` (``flows/ingest.py``, ``flows/grade/``, …) and register
themselves with :func:`register_stage`; :data:`STAGE_MODULES` lists them so the recipe
runner can import them lazily.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from tracemill.flows.options import Flag
from tracemill.flows.reporting import Report

log = logging.getLogger(__name__)


class StageConfig(BaseModel):
    """Base of every stage's config: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    report_dir: Annotated[str | None, Flag(panel="Output")] = Field(
        None, description="where the report goes (default: <catalog>/reports/<stage>-<run>)"
    )


@dataclass
class StageContext:
    """What a stage needs besides its config."""

    catalog: str | None
    """Catalog location (None: $TRACEMILL_CATALOG or ./tracemill-data)."""
    run_id: str
    """This stage's run: the ``run_id`` of every row it writes and of its ``runs`` row."""
    base_dir: Path = field(default_factory=Path.cwd)
    """Relative paths in a recipe resolve against this (the recipe's directory)."""
    label: str = ""
    """The stage's label (its recipe name, or the command); names its report."""
    report: Report = field(default_factory=Report)
    """The stage's report: counters are added by :func:`execute_stage`; stages add
    notes, tables and plots."""
    parent_run_id: str | None = None
    """The recipe run this stage runs in (its reports are named after that run)."""
    running: Callable[[], Mapping[str, Any]] | None = None
    """The stage's counters so far (set by the stage through :meth:`track`): what a run
    that fails partway records in its ``runs`` row."""

    def track(self, counters: Callable[[], Mapping[str, Any]]) -> None:
        """Let the runner read the stage's counters so far if the stage fails partway.

        ``counters`` returns the counters of the work done up to now (at least the
        ``tokens_in``/``tokens_out``/``cost_usd`` of what was committed), the same keys
        the stage returns when it ends.
        """
        self.running = counters

    def counters_so_far(self) -> dict[str, Any]:
        """The tracked counters (empty when the stage tracks none); never raises."""
        if self.running is None:
            return {}
        try:
            return dict(self.running())
        except Exception as e:  # noqa: BLE001 - a failing run's row must still be written
            log.warning("could not read the %s stage's counters so far: %s", self.label, e)
            return {}

    def path(self, value: str | Path) -> Path:
        """Resolve a path from a recipe against the recipe's directory."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def progress(self, label: str, total: int | None = None, *, unit: str = "") -> Any:
        """A progress bar context (see :func:`tracemill.flows.progress.progress`)."""
        from tracemill.flows.progress import progress

        return progress(label, total, unit=unit)

    def report_dir(self, cfg: StageConfig) -> Path:
        """Where this stage's report goes."""
        from tracemill.flows.reporting import default_report_dir

        if cfg.report_dir:
            return self.path(cfg.report_dir)
        run = self.parent_run_id or self.run_id
        return default_report_dir(self.catalog, self.label or "stage", run)


C = TypeVar("C", bound=StageConfig)
StageFn = Callable[[StageContext, Any], dict[str, Any]]


@dataclass(frozen=True)
class StageSpec:
    """A registered stage."""

    name: str
    config: type[StageConfig]
    fn: StageFn
    doc: str


@dataclass
class StageResult:
    """One stage's outcome in a run."""

    label: str
    stage: str
    seconds: float
    counts: dict[str, Any]


_STAGES: dict[str, StageSpec] = {}

STAGE_MODULES: tuple[str, ...] = (
    "tracemill.flows.ingest",
    "tracemill.flows.summary",
    "tracemill.flows.synth",
    "tracemill.flows.verify",
    "tracemill.flows.curate",
    "tracemill.flows.distill",
    "tracemill.flows.grade",
    "tracemill.flows.build",
    "tracemill.flows.train",
)
"""Modules that register stages (missing ones are skipped: features land over time)."""


def register_stage(name: str, config: type[C]) -> Callable[[StageFn], StageFn]:
    """Decorator: register ``fn(ctx, cfg) -> counters`` as recipe stage ``name``.

    A stage name is taken once: another function under it raises ``ValueError``
    (re-running the same definition, e.g. a module reload, replaces it).
    """

    def deco(fn: StageFn) -> StageFn:
        old = _STAGES.get(name)
        where = f"{fn.__module__}.{fn.__qualname__}"
        if old is not None and f"{old.fn.__module__}.{old.fn.__qualname__}" != where:
            raise ValueError(
                f"stage {name!r} is already registered by {old.fn.__module__}."
                f"{old.fn.__qualname__}; {where} must choose another name"
            )
        _STAGES[name] = StageSpec(name, config, fn, (fn.__doc__ or "").strip())
        return fn

    return deco


def _load() -> None:
    for mod in STAGE_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name != mod:
                raise
            log.debug("stage module %s not present", mod)


def get_stage(name: str) -> StageSpec:
    """The stage registered as ``name``, with an error naming the known ones."""
    _load()
    try:
        return _STAGES[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; stages are {', '.join(sorted(_STAGES))}") from None


def stage_names() -> list[str]:
    """Names of all registered stages."""
    _load()
    return sorted(_STAGES)


# --- running ---------------------------------------------------------------------------------


def execute_stage(
    spec: StageSpec, ctx: StageContext, cfg: StageConfig, *, fn: StageFn | None = None
) -> dict[str, Any]:
    """Run one stage and write its report; returns its counters (``report``: summary.md).

    ``fn`` replaces the stage's function (a command's variant, e.g. a dry run).
    """
    if not ctx.label:
        ctx.label = spec.name
    if not ctx.report.title:
        ctx.report.title = ctx.label if ctx.label == spec.name else f"{ctx.label} ({spec.name})"
    t0 = time.perf_counter()
    log.info("stage %s starting", ctx.label)
    counters = (fn or spec.fn)(ctx, cfg)
    seconds = round(time.perf_counter() - t0, 3)
    log.info("stage %s done in %.1f s", ctx.label, seconds)
    ctx.report.counters = {**counters, "seconds": counters.get("seconds", seconds)}
    try:
        from tracemill.flows.reporting import write_report

        path = write_report(
            ctx.report, ctx.report_dir(cfg), plots=bool(getattr(cfg, "plots", True)),
            key=ctx.label,
        )  # fmt: skip
    except OSError as e:  # the work is done and stored: a report must not undo that
        log.warning("could not write the %s report: %s", ctx.label, e)
    else:
        counters = {**counters, "report": str(path)}
        ctx.report.counters["report"] = str(path)
    return counters


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """Replace ``${name}`` in every string of a config (lists and mappings included)."""
    if isinstance(value, str):
        for name, text in variables.items():
            value = value.replace("${" + name + "}", text)
        return value
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def config_variables(catalog: str | None, base_dir: str) -> dict[str, str]:
    """Variables a config may use: ``${catalog}`` and ``${recipe_dir}``.

    ``${catalog}`` is the catalog's local directory, for models, exports and reports
    that belong with the data.
    """
    from tracemill.stores.catalog import CatalogConfig

    root = CatalogConfig.resolve(catalog).root
    return {"catalog": str(root) if root is not None else base_dir, "recipe_dir": base_dir}


def run_stage(
    stage: str,
    config: dict[str, Any],
    *,
    catalog: str | None,
    base_dir: str,
    label: str | None = None,
    parent_run_id: str | None = None,
) -> dict[str, Any]:
    """Validate and run one stage from plain values (what a Prefect task receives).

    The stage runs under a run id of its own and records its ``runs`` row (config,
    counters, status; ``parent_run_id`` = the recipe's run; a stage that fails records
    the counters it tracked so far, :meth:`StageContext.track`). An error leaves with a note
    naming the stage (``stage 'distill-gemma' (distill)``), which the CLI's one-line
    message shows first.
    """
    from tracemill.catalogs import new_run_id
    from tracemill.flows.runs import RunRecord, error_line, save_run, status_of

    spec = get_stage(stage)
    cfg = spec.config.model_validate(substitute(config, config_variables(catalog, base_dir)))
    ctx = StageContext(
        catalog=catalog, run_id=new_run_id(), base_dir=Path(base_dir), label=label or "",
        parent_run_id=parent_run_id,
    )  # fmt: skip
    record = RunRecord(
        ctx.run_id, stage, config=cfg.model_dump(mode="json"), parent_run_id=parent_run_id,
        label=label,
    )  # fmt: skip
    try:
        counts = execute_stage(spec, ctx, cfg)
    except BaseException as e:
        from tracemill.stores.catalog import CatalogLockedError, CatalogStorageError

        record.status, record.error = status_of(e), error_line(e)
        record.counts = ctx.counters_so_far()
        # a locked catalog, or its storage down: trying to store the row would only delay
        if not isinstance(e, CatalogLockedError | CatalogStorageError):
            save_run(catalog, record, lock_timeout_s=5.0)
        if isinstance(e, Exception):
            named = f"{label!r} ({stage})" if label and label != stage else repr(stage)
            e.add_note(f"stage {named}")
        raise
    record.status, record.counts = "completed", counts
    save_run(catalog, record)
    return counts
