"""Ingest files into the catalog: read (stores) → map (pipelines) → append in batches.

Every input is read and mapped before anything is written, so bad input (without
``skip_bad``) commits nothing. Rows are then appended in batches of ``batch_rows``
records, problems and their samples together, each batch one catalog transaction:
a crash loses at most the batch in flight and a rerun skips everything already there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from catalogs.records import IngestError
from flows.stages import StageConfig, StageContext, register_stage

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``progress(records_done, records_total)``."""


class IngestStage(StageConfig):
    """Recipe stage ``ingest``: files into ``problems`` (existing responses into ``samples``)."""

    paths: list[str] = Field(min_length=1, description="JSONL / Parquet / CSV files or folders")
    source: str = Field(description="source name recorded on every row")
    preset: str | None = Field(None, description="default, messages, openr1 or code")
    map: dict[str, str] = Field(default_factory=dict, description="canonical field → source")
    format: str | None = Field(None, description="jsonl, parquet, csv or hf (default: by suffix)")
    domain: str | None = None
    verifier: str | None = None
    license: str | None = None
    model: str | None = Field(None, description="model of existing responses, if rows lack one")
    skip_bad: bool = Field(False, description="commit good rows, write bad ones to `rejects`")
    rejects: str | None = Field(None, description="rejects file (default beside the catalog)")
    batch_rows: int = Field(100_000, ge=1)
    keep_metadata: bool = True


@dataclass
class IngestReport:
    """What an ingest did."""

    files: list[str] = field(default_factory=list)
    records: int = 0
    problems_inserted: int = 0
    problems_skipped: int = 0
    samples_inserted: int = 0
    samples_skipped: int = 0
    rejected: int = 0
    batches: int = 0
    rejects_path: str | None = None

    def counts(self) -> dict[str, Any]:
        """Counters for the run summary."""
        out = asdict(self)
        out["files"] = len(self.files)
        return out


def read_and_map(
    cfg: IngestStage, *, run_id: str | None, base_dir: Path | None = None
) -> tuple[pa.Table, pa.Table, list[IngestError], IngestReport]:
    """Read and map every input (nothing is written); errors raise unless ``skip_bad``."""
    from pipelines.ingest import IngestOptions, map_source
    from stores.sources import expand_paths, read_source

    options = IngestOptions(
        source=cfg.source,
        preset=cfg.preset,
        mapping=dict(cfg.map),
        domain=cfg.domain,
        verifier=cfg.verifier,
        license=cfg.license,
        model=cfg.model,
        keep_metadata=cfg.keep_metadata,
        run_id=run_id,
    )
    rejects: list[IngestError] = []

    def on_error(err: IngestError) -> None:
        if not cfg.skip_bad:
            raise err
        rejects.append(err)

    report = IngestReport()
    problems: list[pa.Table] = []
    samples: list[pa.Table] = []
    offset = 0
    raw_paths = [
        (base_dir / p) if base_dir and not Path(p).expanduser().is_absolute() else Path(p)
        for p in cfg.paths
    ]
    for path in expand_paths(raw_paths):
        for data in read_source(path, cfg.format, on_error=on_error):
            mapped = map_source(data, options, on_error=on_error, row_offset=offset)
            offset += max(mapped.rows_read, 1)
            report.files.append(data.name)
            report.records += mapped.rows_read
            problems.append(mapped.problems)
            samples.append(mapped.samples)
    return (
        pa.concat_tables(problems) if problems else pa.table({"_row": pa.array([], pa.int64())}),
        pa.concat_tables(samples) if samples else pa.table({"_row": pa.array([], pa.int64())}),
        rejects,
        report,
    )


def ingest(
    cfg: IngestStage,
    *,
    catalog: str | None = None,
    run_id: str | None = None,
    base_dir: Path | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest ``cfg.paths`` into the catalog (see the module docstring)."""
    from stores.catalog import open_catalog
    from stores.sources import write_rejects

    problems, samples, collected, report = read_and_map(cfg, run_id=run_id, base_dir=base_dir)
    report.rejected = len(collected)
    total = problems.num_rows
    with open_catalog(catalog) as store:
        if collected:
            target = Path(cfg.rejects) if cfg.rejects else _default_rejects(store, cfg, run_id)
            report.rejects_path = str(write_rejects(target, collected))
            log.warning("%d bad record(s) skipped; see %s", len(collected), report.rejects_path)
        for start in range(0, total, cfg.batch_rows):
            part = problems.slice(start, cfg.batch_rows)
            rows = part.column("_row")
            lo, hi = pc.min(rows).as_py(), pc.max(rows).as_py()
            batch = {"problems": part.drop_columns(["_row"])}
            if samples.num_rows:
                srows = samples.column("_row")
                mask = pc.and_(pc.greater_equal(srows, lo), pc.less_equal(srows, hi))
                batch["samples"] = samples.filter(mask).drop_columns(["_row"])
            result = store.append(batch, message=f"ingest {cfg.source}")
            report.batches += 1
            report.problems_inserted += result["problems"].inserted
            report.problems_skipped += result["problems"].skipped
            if "samples" in result:
                report.samples_inserted += result["samples"].inserted
                report.samples_skipped += result["samples"].skipped
            if progress is not None:
                progress(min(start + cfg.batch_rows, total), total)
    return report


def _default_rejects(store: Any, cfg: IngestStage, run_id: str | None) -> Path:
    root = store.config.root or Path.cwd()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in cfg.source)
    return root / "rejects" / f"{safe}-{run_id or 'ingest'}.jsonl"


@register_stage("ingest", IngestStage)
def ingest_stage(ctx: StageContext, cfg: IngestStage) -> dict[str, Any]:
    """Ingest files into ``problems`` / ``samples``."""
    report = ingest(cfg, catalog=ctx.catalog, run_id=ctx.run_id, base_dir=ctx.base_dir)
    return report.counts()
