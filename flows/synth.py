"""Synthesize problems from a registered family into the catalog (recipe stage ``synth``).

Items are generated in chunks of ``chunk_size`` and each chunk is one catalog append, so
a big run shows progress and a crash loses at most the chunk in flight. Problem ids are
content hashes, so a rerun (same family, knobs, seed and range) inserts nothing new.

With ``executor: ray`` each chunk is a Ray task that writes its rows as a data file; the
driver commits the files as they finish (chunks may land out of order; a retried or
repeated chunk adds nothing).

``levels: "1-10"`` (instead of ``level``) spreads ``count`` evenly over the levels, easy
to hard (see :func:`tracemill.pipelines.synth.base.spread_count`): ``count`` stays the total, the
lower levels take the remainder, and the levels get consecutive index ranges from
``start`` so every row has its own ``source_id``. Every row keeps its level
(``source_level``, and ``level`` and ``knobs`` in the ``generator`` JSON).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, field_validator, model_validator
from tracemill.flows.executor import ExecutorFields
from tracemill.flows.options import Flag
from tracemill.flows.stages import StageContext, register_stage

if TYPE_CHECKING:
    from tracemill.stores.catalog import CatalogStore

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``progress(items_done, items_total)``."""


class SynthStage(ExecutorFields):
    """Generate synthetic problems of one family into the catalog (reruns add nothing).

    ``level`` sets one level; ``levels`` spreads ``count`` evenly over several, easy to
    hard (lower levels take the remainder); every row keeps its level and knobs.
    """

    family: Annotated[str, Flag(argument=True)] = Field(
        description="registered task family (see `tracemill synth --list`)"
    )
    count: Annotated[int, Flag(short="-n")] = Field(
        ge=0, description="items to generate (the total with --levels)"
    )
    level: Annotated[int | None, Flag(short="-l")] = Field(
        None, ge=1, le=10, description="difficulty level 1-10 (default 1)"
    )
    levels: str | list[int] | None = Field(
        None, description="spread count evenly over levels, easy to hard: 1-10, 1,5,10 or 2-4,8"
    )
    seed: int = Field(0, description="generator seed; item i is reproducible from (seed, i)")
    start: int = Field(0, ge=0, description="index of the first item")
    knobs: Annotated[dict[str, Any], Flag(short="-k", metavar="NAME=VALUE")] = Field(
        default_factory=dict, description="config knob over the level's value"
    )
    source: str | None = Field(None, description="source name (default synth:<family>)")
    chunk_size: int = Field(10_000, ge=1, description="items per catalog append")

    @field_validator("family")
    @classmethod
    def _known_family(cls, value: str) -> str:
        from tracemill.flows.options import registered
        from tracemill.pipelines.synth import get_task

        return registered(value, get_task) or value

    @field_validator("levels")
    @classmethod
    def _parse_levels(cls, value: str | list[int] | None) -> str | list[int] | None:
        from tracemill.pipelines.synth.base import parse_levels

        return None if value is None else parse_levels(value)

    @model_validator(mode="after")
    def _one_of_level_and_levels(self) -> SynthStage:
        if self.level is not None and self.levels is not None:
            raise ValueError("give level or levels, not both")
        return self

    def plan(self) -> list[tuple[int | None, int, int]]:
        """``(level, first index, items)`` per level, easy→hard (one entry without levels)."""
        if self.levels is None:
            return [(self.level, self.start, self.count)]
        from tracemill.pipelines.synth.base import spread_count

        parts = []
        lo = self.start
        for level, n in spread_count(self.count, self.levels):
            parts.append((level, lo, n))
            lo += n
        return parts


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
    from tracemill.pipelines.synth import make_config
    from tracemill.stores.catalog import open_catalog

    for level, _, _ in cfg.plan():  # bad family/knobs fail before any write
        make_config(cfg.family, level, **cfg.knobs)
    if store is not None:
        return _synthesize(cfg, store, run_id, progress)
    with open_catalog(catalog) as opened:
        return _synthesize(cfg, opened, run_id, progress)


def _synthesize(
    cfg: SynthStage, store: CatalogStore, run_id: str | None, progress: Progress | None
) -> dict[str, Any]:
    from tracemill.pipelines.synth import generate_problems

    counts: dict[str, Any] = {"generated": 0, "inserted": 0, "skipped": 0, "chunks": 0}
    plan = cfg.plan()
    if cfg.levels is not None:
        counts["per_level"] = {}
    began = time.monotonic()
    if cfg.executor == "ray":
        _synthesize_ray(cfg, store, run_id, progress, plan, counts)
        counts["seconds"] = round(time.monotonic() - began, 3)
        return counts
    done = 0
    for level, first, count in plan:
        tally = {"generated": 0, "inserted": 0, "skipped": 0}
        end = first + count
        for lo in range(first, end, cfg.chunk_size):
            n = min(cfg.chunk_size, end - lo)
            table = generate_problems(
                cfg.family,
                n,
                level=level,
                seed=cfg.seed,
                start=lo,
                source=cfg.source,
                run_id=run_id,
                **cfg.knobs,
            )
            at_level = f" level {level}" if cfg.levels is not None else ""
            message = f"synth {cfg.family}{at_level} items {lo}-{lo + n - 1}"
            result = store.append({"problems": table}, message=message)["problems"]
            tally["generated"] += table.num_rows
            tally["inserted"] += result.inserted
            tally["skipped"] += result.skipped
            counts["chunks"] += 1
            done += n
            new = counts["inserted"] + tally["inserted"]
            log.info("synth %s: %d/%d items (%d new)", cfg.family, done, cfg.count, new)
            if progress is not None:
                progress(done, cfg.count)
        for key, value in tally.items():
            counts[key] += value
        if cfg.levels is not None:
            counts["per_level"][str(level)] = tally
    counts["seconds"] = round(time.monotonic() - began, 3)
    return counts


def _synthesize_ray(
    cfg: SynthStage,
    store: CatalogStore,
    run_id: str | None,
    progress: Progress | None,
    plan: list[tuple[int | None, int, int]],
    counts: dict[str, Any],
) -> None:
    from tracemill.flows.executor import connect, default_workers, map_tasks, synth_chunk

    ray = connect(cfg.ray_address)
    calls = [
        (store.config, cfg.family, min(cfg.chunk_size, first + count - lo), level, cfg.seed,
         lo, cfg.source, run_id, dict(cfg.knobs))
        for level, first, count in plan
        for lo in range(first, first + count, cfg.chunk_size)
    ]  # fmt: skip
    in_flight = 2 * default_workers(ray, "cpu", cfg.ray_workers)
    nodes: set[str] = set()
    done = 0
    for out in map_tasks(synth_chunk, calls, address=cfg.ray_address, in_flight=in_flight):
        n = out["generated"]
        at_level = f" level {out['level']}" if cfg.levels is not None else ""
        message = f"synth {cfg.family}{at_level} items {out['start']}-{out['start'] + n - 1}"
        result = store.commit_files([out["file"]], message=message).get("problems")
        inserted = result.inserted if result else 0
        tally = {"generated": n, "inserted": inserted, "skipped": n - inserted}
        for key, value in tally.items():
            counts[key] += value
            if cfg.levels is not None:
                level = counts["per_level"].setdefault(str(out["level"]), dict.fromkeys(tally, 0))
                level[key] += value
        counts["chunks"] += 1
        if out["node"]:
            nodes.add(out["node"])
        done += n
        log.info("synth %s: %d/%d items (%d new)", cfg.family, done, cfg.count, counts["inserted"])
        if progress is not None:
            progress(done, cfg.count)
    counts["ray_nodes"] = len(nodes)


@register_stage("synth", SynthStage)
def synth_stage(ctx: StageContext, cfg: SynthStage) -> dict[str, Any]:
    """Generate synthetic problems of one family into ``problems``."""
    with ctx.progress(f"synth {cfg.family}", cfg.count, unit="items") as tick:
        from tracemill.stores.catalog import open_catalog

        # released between chunks: the catalog stays readable while synth runs
        with open_catalog(ctx.catalog, release=True) as store:
            counts = synthesize(cfg, store=store, run_id=ctx.run_id, progress=tick)
    rows = [
        [name, t["generated"], t["inserted"], t["skipped"]]
        for name, t in counts.get("per_level", {}).items()
    ]
    rows.append(["all" if cfg.levels is not None else str(cfg.level or 1),
                 counts["generated"], counts["inserted"], counts["skipped"]])  # fmt: skip
    ctx.report.table(f"synth {cfg.family}", ["level", "generated", "inserted", "skipped"], rows,
                     right=["level", "generated", "inserted", "skipped"])  # fmt: skip
    ctx.report.note(f"{counts['seconds']:.1f} s, {counts['chunks']} chunk(s)", "dim")
    return counts
