"""Recipe stages: a name, a pydantic config (unknown keys are errors) and a function.

A stage function takes a :class:`StageContext` and its validated config and returns a
dict of counters for the run summary. It calls ``pipelines``/``stores`` functions and
is the one place the recipe runner and the Prefect flows share, so ``tracemill run``
with or without Prefect does the same work.

Stage modules live in ``flows`` (``flows/ingest.py``, ``flows/synth.py``, …) and
register themselves with :func:`register_stage`; :data:`STAGE_MODULES` lists them so the
recipe runner can import them lazily.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

log = logging.getLogger(__name__)


class StageConfig(BaseModel):
    """Base of every stage's config: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class StageContext:
    """What a stage needs besides its config."""

    catalog: str | None
    """Catalog location (None: $TRACEMILL_CATALOG or ./tracemill-data)."""
    run_id: str
    base_dir: Path = field(default_factory=Path.cwd)
    """Relative paths in a recipe resolve against this (the recipe's directory)."""

    def path(self, value: str | Path) -> Path:
        """Resolve a path from a recipe against the recipe's directory."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)


C = TypeVar("C", bound=StageConfig)
StageFn = Callable[[StageContext, Any], dict[str, Any]]


@dataclass(frozen=True)
class StageSpec:
    """A registered stage."""

    name: str
    config: type[StageConfig]
    fn: StageFn
    doc: str


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
    """Decorator: register ``fn(ctx, cfg) -> counters`` as recipe stage ``name``."""

    def deco(fn: StageFn) -> StageFn:
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
