"""The ``summary`` stage and the tables printed at the end of commands and runs."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from tracemill.flows.reporting import counts_table
from tracemill.flows.stages import StageConfig, StageContext, register_stage

__all__ = ["SummaryStage", "arrow_to_rich", "catalog_summary", "counts_table", "print_counts"]


class SummaryStage(StageConfig):
    """Recipe stage ``summary``: catalog counts by table, source and domain."""


def catalog_summary(catalog: str | None) -> dict[str, Any]:
    """Row counts per table, problems per source/domain and verdict pass rates."""
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog, read_only=True) as store:
        counts: dict[str, Any] = {f"rows.{k}": v for k, v in store.table_counts().items()}
        for source, domain, n in store.con.execute(
            "SELECT source, domain, count(*) FROM problems GROUP BY ALL ORDER BY ALL"
        ).fetchall():
            counts[f"problems.{source}.{domain}"] = n
        for verifier, n, passed in store.con.execute(
            "SELECT verifier, count(*), sum(passed::INT) FROM verdicts GROUP BY ALL ORDER BY ALL"
        ).fetchall():
            counts[f"verdicts.{verifier}.pass_rate"] = round(passed / n, 4) if n else None
        counts["snapshot"] = store.current_snapshot()
    return counts


@register_stage("summary", SummaryStage)
def summary_stage(ctx: StageContext, cfg: SummaryStage) -> dict[str, Any]:
    """Summarize the catalog (read-only)."""
    return catalog_summary(ctx.catalog)


def print_counts(title: str, counts: dict[str, Any]) -> None:
    """Print counters as a table on the console."""
    from tracemill.flows.common import console

    console.print(counts_table(title, counts))


def arrow_to_rich(table: pa.Table, *, limit: int = 50, title: str | None = None) -> Any:
    """The first ``limit`` rows of an Arrow table as a rich table (cells are plain text)."""
    from tracemill.flows.listing import rich_table

    return rich_table(table, title=title, limit=limit)
