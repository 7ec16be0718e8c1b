"""Recipe stages ``build`` (sft / rl / pairs datasets) and ``export`` (folder or Hub).

```yaml
  - stage: build
    kind: sft
    dataset: quickstart-sft
    options: {per_problem: 1, exclude_truncated: true}
  - stage: export
    dataset: quickstart-sft
    to: ../exports/quickstart-sft      # or hub://ORG/NAME
```

(``name`` is taken by the recipe for a stage's label, hence ``dataset``.) Both are
resumable: a build whose inputs and options did not change reuses the latest
version, and an export rewrites the same folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from tracemill.flows.options import Flag
from tracemill.flows.stages import StageConfig, StageContext, register_stage


class BuildStage(StageConfig):
    """Build a versioned sft, rl or pairs dataset from verified samples."""

    kind: Annotated[Literal["sft", "rl", "pairs"], Flag(argument=True)] = Field(
        description="sft (chat messages), rl (prompts + verifier) or pairs (passing vs "
        "failing sample)"
    )
    dataset: Annotated[str, Flag("--name", old=("-n",))] = Field(
        min_length=1, description="dataset name (versions auto-increment)"
    )
    options: Annotated[dict[str, Any], Flag(cli=False)] = Field(
        default_factory=dict, description="build options (see tracemill.pipelines.build.options)"
    )
    reuse: bool = Field(True, description="reuse the latest version when nothing changed")

    @model_validator(mode="after")
    def _options_valid(self) -> BuildStage:
        from tracemill.pipelines.build import options_from_dict

        options_from_dict(self.kind, dict(self.options))
        return self


def build_option_flags() -> type[Any]:
    """The build options as flags: every field of the option dataclasses, declared there.

    ``tracemill build`` takes them as ``--min-level 3`` etc. and puts the ones given into
    ``options``; a recipe writes ``options: {min_level: 3}``.
    """
    from tracemill.flows.options import model_from_dataclasses
    from tracemill.pipelines.build.options import (
        PairsOptions,
        ProblemFilter,
        RlOptions,
        SampleFilter,
        SftOptions,
    )

    return model_from_dataclasses(
        "BuildOptionFlags",
        {
            "sft": [ProblemFilter, SampleFilter, SftOptions],
            "rl": [ProblemFilter, RlOptions],
            "pairs": [ProblemFilter, SampleFilter, PairsOptions],
        },
        panel="Build options",
    )


class ExportStage(StageConfig):
    """Write Hub-ready Parquet shards and a dataset card (and upload to hub://ORG/NAME)."""

    dataset: Annotated[str, Flag(argument=True)] = Field(
        min_length=1, description="a built dataset's name"
    )
    to: str = Field(description="folder (relative to the recipe) or hub://ORG/NAME")
    version: int | None = Field(None, description="dataset version (default: latest)")
    shard_rows: int | None = Field(None, ge=1, description="most rows per shard")
    shard_bytes: int | None = Field(256 * 1024 * 1024, ge=1, description="~most bytes per shard")
    private: bool = Field(False, description="create the Hub repository private")
    license: str | None = Field(None, description="license id for the card (default: sources')")

    @field_validator("to")
    @classmethod
    def _target(cls, value: str) -> str:
        from tracemill.stores.hub import parse_hub_target

        parse_hub_target(value)  # a malformed hub://… target is a usage error
        return value


def run_build(cfg: BuildStage, *, catalog: str | None, run_id: str | None) -> dict[str, Any]:
    """Build one dataset; returns its counters."""
    from tracemill.pipelines.build import build_dataset
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog) as store:
        built = build_dataset(
            store, cfg.kind, cfg.dataset, dict(cfg.options), run_id=run_id, reuse=cfg.reuse
        )
    return built.counts()


def run_export(cfg: ExportStage, *, catalog: str | None, to: str) -> dict[str, Any]:
    """Export one dataset; returns its counters."""
    from tracemill.stores.catalog import open_catalog
    from tracemill.stores.hub import export_dataset

    with open_catalog(catalog, read_only=True) as store:
        result = export_dataset(
            store,
            cfg.dataset,
            to,
            version=cfg.version,
            shard_rows=cfg.shard_rows,
            shard_bytes=cfg.shard_bytes,
            private=cfg.private,
            license=cfg.license,
        )
    # recorded after the export succeeded (a Hub upload never holds the writer lock)
    target = result.url or (str(Path(to).resolve()) if result.folder else to)
    with open_catalog(catalog) as store:
        store.record_export(cfg.dataset, result.version, target)
    counts = result.counts()
    if result.url:
        counts["url"] = result.url
    counts["export_target"] = target
    return counts


@register_stage("build", BuildStage)
def build_stage(ctx: StageContext, cfg: BuildStage) -> dict[str, Any]:
    """Build an sft, rl or pairs dataset from the catalog."""
    with ctx.progress(f"build {cfg.kind} {cfg.dataset}"):
        return run_build(cfg, catalog=ctx.catalog, run_id=ctx.run_id)


@register_stage("export", ExportStage)
def export_stage(ctx: StageContext, cfg: ExportStage) -> dict[str, Any]:
    """Export a built dataset as Hub-ready Parquet shards and a dataset card."""
    from tracemill.stores.hub import parse_hub_target

    to = cfg.to if parse_hub_target(cfg.to) else str(ctx.path(cfg.to))
    with ctx.progress(f"export {cfg.dataset}"):
        return run_export(cfg, catalog=ctx.catalog, to=to)


