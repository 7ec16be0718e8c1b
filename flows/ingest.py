"""Ingest files into the catalog: read (stores) → map (pipelines) → append in batches.

Every input is read and mapped before anything is written, so bad input (without
``skip_bad``) commits nothing, and ``skip_bad`` that rejects every record is an error
too. Rows are then appended in batches of ``batch_rows`` records, problems and their
samples together, each batch one catalog transaction: a crash loses at most the batch in
flight and a rerun skips everything already there.

With ``update``, problems of this source that the catalog already holds (same problem
id) and whose other fields now map differently (answer, solution, tests, metadata, …)
are updated in one transaction before the appends; the old values stay readable at
earlier snapshots.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field
from tracemill.catalogs.records import IngestError
from tracemill.flows.options import Flag
from tracemill.flows.stages import StageConfig, StageContext, register_stage

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``progress(records_done, records_total)``."""


class IngestStage(StageConfig):
    """Bring a problem dataset into the catalog (idempotent: reruns skip existing rows)."""

    paths: Annotated[list[str], Flag(argument=True)] = Field(
        min_length=1,
        description="JSON Lines, JSON, Parquet, CSV files, folders of them, or "
        "datasets.save_to_disk folders",
    )
    source: Annotated[str, Flag(short="-s")] = Field(description="source name for every row")
    preset: str | None = Field(
        None,
        description="layout preset: default, messages (AM / OpenThoughts chat), alpaca, openr1 "
        "(problem/solution/answer), code (test cases) or verl",
    )
    map: Annotated[dict[str, str], Flag(old=("-m",), metavar="FIELD=SOURCE")] = Field(
        default_factory=dict, description="canonical field from a source field, e.g. "
        "question=problem, answer=final_answer.0, source_id=labels.task_id, choices=options, "
        "question='{Body} {Question}'",
    )  # fmt: skip
    format: Annotated[str | None, Flag("--input-format", old=("--format",))] = Field(
        None, description="jsonl (JSON Lines or JSON), parquet, csv or hf (default: by suffix)"
    )
    answer_from: str | None = Field(
        None, description="field with a worked solution to extract missing answers from"
    )
    all_turns: bool = Field(
        False, description="chat rows: every user turn is a problem (default: first exchange)"
    )
    update: bool = Field(
        False, description="update changed fields of this source's existing problems"
    )
    domain: Annotated[str | None, Flag(short="-d")] = Field(
        None, description="math, code, logic, sat, science or other"
    )
    verifier: str | None = Field(None, description="verifier name for every problem")
    license: str | None = Field(None, description="license of the rows")
    # no -m here: it has long meant --map for ingest (and is kept, hidden, for that)
    model: str | None = Field(None, description="model of existing responses, if rows lack one")
    skip_bad: bool = Field(
        False, description="commit the good rows; write bad ones with reasons to rejects"
    )
    rejects: str | None = Field(None, description="rejects file (default beside the catalog)")
    batch_rows: int = Field(100_000, ge=1, description="records per committed batch")
    keep_metadata: Annotated[bool, Flag(off="--no-metadata")] = Field(
        True, description="keep unmapped fields as JSON"
    )


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
    updated: int = 0
    answer_not_found: int = 0
    turns_dropped: int = 0
    duplicate_rows: int = 0
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
    from tracemill.pipelines.ingest import IngestOptions, SeenIds, map_source
    from tracemill.stores.sources import expand_paths, read_source

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
        answer_from=cfg.answer_from,
        all_turns=cfg.all_turns,
    )
    rejects: list[IngestError] = []
    seen = SeenIds()

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
            mapped = map_source(data, options, on_error=on_error, row_offset=offset, seen=seen)
            offset += max(mapped.rows_read, 1)
            report.files.append(data.name)
            report.records += mapped.rows_read
            for key, n in mapped.counters.items():
                setattr(report, key, getattr(report, key) + n)
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
    from tracemill.stores.catalog import open_catalog
    from tracemill.stores.sources import write_rejects

    problems, samples, collected, report = read_and_map(cfg, run_id=run_id, base_dir=base_dir)
    report.rejected = len(collected)
    if report.answer_not_found:
        log.warning(
            "%d record(s) have no answer: nothing could be extracted from %r",
            report.answer_not_found, cfg.answer_from,
        )  # fmt: skip
    if report.turns_dropped:
        log.info("%d chat turn(s) after the first exchange dropped", report.turns_dropped)
    with open_catalog(catalog) as store:
        if collected:
            target = Path(cfg.rejects) if cfg.rejects else _default_rejects(store, cfg, run_id)
            report.rejects_path = str(write_rejects(target, collected))
            log.warning("%d bad record(s) skipped; see %s", len(collected), report.rejects_path)
            if problems.num_rows == 0:
                raise IngestError(
                    ", ".join(report.files) or cfg.source,
                    f"every record was rejected ({len(collected)}); nothing was ingested; "
                    f"see {report.rejects_path}",
                )
        if cfg.update and problems.num_rows:
            report.updated = _update_existing(store, problems, cfg.source)
        # one key check over the whole input (we hold the catalog's write lock), then
        # batches that only add rows
        problems, report.problems_skipped = _keep_new(store, "problems", problems)
        samples, report.samples_skipped = _keep_new(store, "samples", samples)
        n_batches = max(1, -(-max(problems.num_rows, samples.num_rows) // cfg.batch_rows))
        rows_p = problems.column("_row")
        rows_s = samples.column("_row") if samples.num_rows else None
        bounds = _row_bounds(problems, samples, n_batches)
        end = bounds[-1][1] if bounds else 0
        ends: list[int] = []

        def batches() -> Iterator[dict[str, pa.Table]]:
            for lo, hi in bounds:
                batch = {"problems": _rows_between(problems, rows_p, lo, hi)}
                if rows_s is not None:
                    batch["samples"] = _rows_between(samples, rows_s, lo, hi)
                if any(t.num_rows for t in batch.values()):
                    ends.append(hi)
                    yield batch

        # batches commit in order; the next ones' files are written while one commits
        committed = store.append_many(batches(), message=f"ingest {cfg.source}", check_keys=False)
        for i, result in enumerate(committed):
            report.batches += 1
            report.problems_inserted += result["problems"].inserted
            if "samples" in result:
                report.samples_inserted += result["samples"].inserted
            if progress is not None:
                progress(ends[i], end)
        if progress is not None and not report.batches:
            progress(end, end)
    return report


UPDATABLE = (
    "answer", "solution", "source_id", "task", "source_level", "license", "verifier",
    "verifier_spec", "metadata",
)  # fmt: skip
"""Problem columns ``update`` may change (the id, question and domain define the row)."""


def _update_existing(store: Any, problems: pa.Table, source: str) -> int:
    """Update this source's existing problems whose fields now differ; rows updated."""
    rows = problems.drop_columns(["_row"])
    # first row of each problem id (the key check keeps the first as well)
    first = pc.equal(pc.index_in(rows.column("problem_id"), rows.column("problem_id")),
                     pa.array(range(rows.num_rows)))  # fmt: skip
    rows = rows.filter(first)
    differs = " OR ".join(f"p.{c} IS DISTINCT FROM u.{c}" for c in UPDATABLE)
    changed = store.sql_with(
        "_ingest_rows", rows,
        f"SELECT u.problem_id, {', '.join('u.' + c for c in UPDATABLE)} FROM problems p "
        f"JOIN _ingest_rows u USING (problem_id) WHERE p.source = ? AND ({differs})",
        [source],
    )  # fmt: skip
    if changed.num_rows == 0:
        return 0
    updated = store.update(
        "problems", changed, list(UPDATABLE), message=f"ingest --update {source}"
    )
    log.info("updated %d existing problem(s) of source %s", updated, source)
    return updated


def _keep_new(store: Any, name: str, table: pa.Table) -> tuple[pa.Table, int]:
    """Rows whose key the catalog lacks, first of repeated keys; and how many were dropped."""
    if table.num_rows == 0:
        return table, 0
    key_name = f"{name[:-1]}_id"  # problems → problem_id, samples → sample_id
    total = table.num_rows
    positions = store.new_positions(name, table.column(key_name))
    if len(positions) < total:
        table = table.take(positions)
    return table, total - table.num_rows


def _rows_between(table: pa.Table, rows: pa.ChunkedArray, lo: int, hi: int) -> pa.Table:
    """The rows whose record number is in ``[lo, hi)``, without ``_row``.

    Record numbers are ascending (rows keep input order), so the range is one slice; a
    table that is not sorted falls back to a filter.
    """
    import numpy as np

    values = rows.to_numpy()
    if len(values) < 2 or bool(np.all(values[1:] >= values[:-1])):
        start, stop = np.searchsorted(values, [lo, hi], side="left")
        return table.slice(int(start), int(stop - start)).drop_columns(["_row"])
    mask = pc.and_(pc.greater_equal(rows, lo), pc.less(rows, hi))
    return table.filter(mask).drop_columns(["_row"])


def _row_bounds(problems: pa.Table, samples: pa.Table, n_batches: int) -> list[tuple[int, int]]:
    """Split the record numbers into ``n_batches`` ranges of about equal row counts."""
    rows = problems.column("_row")
    if samples.num_rows:
        rows = pa.chunked_array([*rows.chunks, *samples.column("_row").chunks])
    if len(rows) == 0:
        return []
    ordered = pc.sort_indices(rows)
    values = pc.take(rows, ordered).to_numpy()
    cuts = [int(values[(len(values) * i) // n_batches]) for i in range(1, n_batches)]
    edges = sorted({int(values[0]), *cuts, int(values[-1]) + 1})
    return list(zip(edges[:-1], edges[1:], strict=False))


def _default_rejects(store: Any, cfg: IngestStage, run_id: str | None) -> Path:
    root = store.config.root or Path.cwd()
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in cfg.source)
    return root / "rejects" / f"{safe}-{run_id or 'ingest'}.jsonl"


@register_stage("ingest", IngestStage)
def ingest_stage(ctx: StageContext, cfg: IngestStage) -> dict[str, Any]:
    """Ingest files into ``problems`` / ``samples``."""
    with ctx.progress(f"ingest {cfg.source}", unit="rows") as tick:
        report = ingest(
            cfg, catalog=ctx.catalog, run_id=ctx.run_id, base_dir=ctx.base_dir, progress=tick
        )
    return report.counts()
