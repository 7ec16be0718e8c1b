"""Synthesize problems from a registered family into the catalog (recipe stage ``synth``).

Items are generated in chunks of ``chunk_size`` and each chunk is one catalog append, so
a big run shows progress and a crash loses at most the chunk in flight. Problem ids are
content hashes, so a rerun (same family, knobs, seed and range) inserts nothing new.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import Field

from flows.stages import StageConfig, StageContext, register_stage

if TYPE_CHECKING:
    from stores.catalog import CatalogStore

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``progress(items_done, items_total)``."""


class SynthStage(StageConfig):
    """Recipe stage ``synth``: ``count`` items of one family into ``problems``."""

    family: str = Field(description="registered task family (see `tracemill families`)")
    count: int = Field(ge=0, description="items to generate")
    level: int | None = Field(None, ge=1, le=10, description="difficulty level 1-10 (default 1)")
    seed: int = Field(0, description="generator seed; item i is reproducible from (seed, i)")
    start: int = Field(0, ge=0, description="index of the first item")
    knobs: dict[str, Any] = Field(default_factory=dict, description="config knobs over the level")
    source: str | None = Field(None, description="source name (default synth:<family>)")
    chunk_size: int = Field(10_000, ge=1, description="items per catalog append")


def synthesize(
    cfg: SynthStage,
    *,
    catalog: str | None = None,
    store: CatalogStore | None = None,
    run_id: str | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Generate the configured items and append them to ``problems``; return counters.

    Writes to ``store`` when given (an open catalog), else opens ``catalog``.
    """
    from pipelines.synth import make_config
    from stores.catalog import open_catalog

    make_config(cfg.family, cfg.level, **cfg.knobs)  # bad family/knobs fail before any write
    if store is not None:
        return _synthesize(cfg, store, run_id, progress)
    with open_catalog(catalog) as opened:
        return _synthesize(cfg, opened, run_id, progress)


def _synthesize(
    cfg: SynthStage, store: CatalogStore, run_id: str | None, progress: Progress | None
) -> dict[str, Any]:
    from pipelines.synth import generate_problems

    counts: dict[str, Any] = {"generated": 0, "inserted": 0, "skipped": 0, "chunks": 0}
    began = time.monotonic()
    end = cfg.start + cfg.count
    for lo in range(cfg.start, end, cfg.chunk_size):
        n = min(cfg.chunk_size, end - lo)
        table = generate_problems(
            cfg.family,
            n,
            level=cfg.level,
            seed=cfg.seed,
            start=lo,
            source=cfg.source,
            run_id=run_id,
            **cfg.knobs,
        )
        message = f"synth {cfg.family} items {lo}-{lo + n - 1}"
        result = store.append({"problems": table}, message=message)["problems"]
        counts["generated"] += table.num_rows
        counts["inserted"] += result.inserted
        counts["skipped"] += result.skipped
        counts["chunks"] += 1
        done = lo + n - cfg.start
        log.info("synth %s: %d/%d items (%d new)", cfg.family, done, cfg.count, counts["inserted"])
        if progress is not None:
            progress(done, cfg.count)
    counts["seconds"] = round(time.monotonic() - began, 3)
    return counts


@register_stage("synth", SynthStage)
def synth_stage(ctx: StageContext, cfg: SynthStage) -> dict[str, Any]:
    """Generate synthetic problems of one family into ``problems``."""
    return synthesize(cfg, catalog=ctx.catalog, run_id=ctx.run_id)
