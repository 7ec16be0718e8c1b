"""The ``summary`` stage and the tables printed at the end of commands and runs."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from rich.table import Table
from tracemill.flows.stages import StageConfig, StageContext, register_stage


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


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def counts_table(title: str, counts: dict[str, Any]) -> Table:
    """A two-column rich table of counters."""
    view = Table(title=title, show_header=False)
    view.add_column("counter")
    view.add_column("value", justify="right")
    for key, value in counts.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                view.add_row(f"{key}.{sub}", _fmt(v))
        elif isinstance(value, list):
            view.add_row(key, _fmt(len(value)))
        else:
            view.add_row(key, _fmt(value))
    return view


def print_counts(title: str, counts: dict[str, Any]) -> None:
    """Print counters as a table on the console."""
    from tracemill.flows.common import console

    console.print(counts_table(title, counts))


def arrow_to_rich(table: pa.Table, *, limit: int = 50, title: str | None = None) -> Table:
    """The first ``limit`` rows of an Arrow table as a rich table."""
    view = Table(title=title)
    for name in table.column_names:
        view.add_column(name, overflow="fold")
    for row in table.slice(0, limit).to_pylist():
        view.add_row(*(_cell(v) for v in row.values()))
    return view


def _cell(value: Any) -> str:
    text = _fmt(value)
    return text if len(text) <= 200 else text[:197] + "..."
