"""tracemill: turn problems into verified, deduplicated, difficulty-graded reasoning datasets.

``import tracemill`` is the public API. It is cheap: every name below is imported on first
use, so neither torch, Prefect nor DuckDB load until you touch something that needs them.
The stage folders of the repository install as sub-packages (``tracemill.pipelines``,
``tracemill.catalogs``, ``tracemill.stores``, ``tracemill.flows``, ``tracemill.trainers``).

Example:
    >>> import tracemill
    >>> row = tracemill.generate_problems("sat", 1, level=1).to_pylist()[0]
    >>> response = f"<answer>{row['answer']}</answer>"
    >>> _, verdict = tracemill.verify_one(row["verifier"], row, response)
    >>> verdict.passed
    True
    >>> tracemill.verify_one(row["verifier"], row, "no idea")[1].reason
    'no_answer'
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

# In a source checkout run without an install (or beside a non-editable one), the stage
# folders sit next to this one; installed, setuptools maps them into this package.
_here = Path(__file__).resolve().parent
if not (_here / "pipelines").is_dir() and (_here.parent / "pipelines" / "__init__.py").is_file():
    __path__.append(str(_here.parent))  # type: ignore[name-defined]  # noqa: F821

try:
    __version__ = version("tracemill")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled checkout
    __version__ = "0+unknown"

# public name -> module that defines it
_API: dict[str, str] = {
    # catalog
    "open_catalog": "tracemill.stores.catalog",
    "CatalogStore": "tracemill.stores.catalog",
    "TABLES": "tracemill.catalogs.schemas",
    "table_spec": "tracemill.catalogs.schemas",
    "problem_id": "tracemill.catalogs.ids",
    "sample_id": "tracemill.catalogs.ids",
    # ingest
    "ingest": "tracemill.flows.ingest",
    "IngestStage": "tracemill.flows.ingest",
    "IngestOptions": "tracemill.pipelines.ingest",
    "map_source": "tracemill.pipelines.ingest",
    # synthesis
    "task_names": "tracemill.pipelines.synth",
    "get_task": "tracemill.pipelines.synth",
    "make_config": "tracemill.pipelines.synth",
    "generate_item": "tracemill.pipelines.synth",
    "generate_problems": "tracemill.pipelines.synth",
    "curriculum": "tracemill.pipelines.synth",
    # verification
    "verifier_names": "tracemill.pipelines.verify",
    "get_verifier": "tracemill.pipelines.verify",
    "verify_one": "tracemill.pipelines.verify",
    "verify_table": "tracemill.pipelines.verify",
    "Verdict": "tracemill.pipelines.verify",
    # generation
    "make_backend": "tracemill.pipelines.generate",
    "SamplingParams": "tracemill.pipelines.generate",
    # builds
    "build_dataset": "tracemill.pipelines.build",
    "read_dataset": "tracemill.pipelines.build",
    # recipes and stages
    "run_recipe": "tracemill.flows.runner",
    "load_recipe": "tracemill.flows.recipe",
    "stage_names": "tracemill.flows.stages",
    "get_stage": "tracemill.flows.stages",
}

__all__ = [
    "CatalogStore",
    "IngestOptions",
    "IngestStage",
    "SamplingParams",
    "TABLES",
    "Verdict",
    "__version__",
    "build_dataset",
    "curriculum",
    "generate_item",
    "generate_problems",
    "get_stage",
    "get_task",
    "get_verifier",
    "ingest",
    "load_recipe",
    "make_backend",
    "make_config",
    "map_source",
    "open_catalog",
    "problem_id",
    "read_dataset",
    "run_recipe",
    "sample_id",
    "stage_names",
    "table_spec",
    "task_names",
    "verifier_names",
    "verify_one",
    "verify_table",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    try:
        module = _API[name]
    except KeyError:
        raise AttributeError(f"module 'tracemill' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from tracemill.catalogs.ids import problem_id, sample_id
    from tracemill.catalogs.schemas import TABLES, table_spec
    from tracemill.flows.ingest import IngestStage, ingest
    from tracemill.flows.recipe import load_recipe
    from tracemill.flows.runner import run_recipe
    from tracemill.flows.stages import get_stage, stage_names
    from tracemill.pipelines.build import build_dataset, read_dataset
    from tracemill.pipelines.generate import SamplingParams, make_backend
    from tracemill.pipelines.ingest import IngestOptions, map_source
    from tracemill.pipelines.synth import (
        curriculum,
        generate_item,
        generate_problems,
        get_task,
        make_config,
        task_names,
    )
    from tracemill.pipelines.verify import (
        Verdict,
        get_verifier,
        verifier_names,
        verify_one,
        verify_table,
    )
    from tracemill.stores.catalog import CatalogStore, open_catalog
