"""Commands over the catalog: ``ingest``, ``sql``, ``tables``, ``snapshots``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tracemill.flows.command import invocation, stage_command
from tracemill.flows.common import CatalogOption, UsageError
from tracemill.flows.listing import Format, FormatOption, emit

SQL_FORMATS = ("table", "csv", "json", "parquet")


def sql_command(
    query: Annotated[str, typer.Argument(help="DuckDB SQL; catalog tables are available by name.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, csv, json or parquet.")
    ] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    limit: Annotated[int, typer.Option(help="Rows shown by --format table.")] = 50,
    catalog: CatalogOption = None,
    old_out: Annotated[Path | None, typer.Option("-o", hidden=True)] = None,
) -> None:
    """Run DuckDB SQL over the catalog (read-only)."""
    with invocation("sql", catalog=catalog) as run:
        from tracemill.catalogs.views import create_views
        from tracemill.stores.catalog import open_catalog

        out = out or old_out
        if fmt not in SQL_FORMATS:
            raise UsageError(f"--format must be one of {', '.join(SQL_FORMATS)}")
        if fmt == "parquet" and out is None:
            raise UsageError("--format parquet needs --out FILE")
        import duckdb

        with open_catalog(run.catalog, read_only=True) as store:
            create_views(store.con)
            try:
                result = store.sql(query)
            except duckdb.Error as e:
                raise ValueError(f"SQL error: {e}") from e
        emit(result, fmt, limit=limit, out=out)


def tables_command(fmt: FormatOption = Format.table, catalog: CatalogOption = None) -> None:
    """List catalog tables with their row counts."""
    with invocation("tables", catalog=catalog) as run:
        from tracemill.catalogs import TABLES
        from tracemill.stores.catalog import open_catalog

        with open_catalog(run.catalog, read_only=True) as store:
            counts = store.table_counts()
            snapshot = store.current_snapshot()
        rows = [{"table": name, "rows": n, "holds": TABLES[name].doc} for name, n in counts.items()]
        emit(rows, fmt, title=f"tables (snapshot {snapshot})")


def snapshots_command(
    limit: Annotated[int, typer.Option(help="Show the last N snapshots.")] = 50,
    fmt: FormatOption = Format.table,
    catalog: CatalogOption = None,
) -> None:
    """List catalog snapshots (read a table as of one: SELECT … AT (VERSION => id))."""
    with invocation("snapshots", catalog=catalog) as run:
        from tracemill.stores.catalog import open_catalog

        with open_catalog(run.catalog, read_only=True) as store:
            snaps = store.snapshots()
        start = max(0, snaps.num_rows - limit)
        emit(snaps.slice(start), fmt, title="snapshots")


def register(app: typer.Typer) -> None:
    """Add the catalog commands."""
    stage_command(app, "ingest", config="tracemill.flows.ingest:IngestStage")
    app.command("sql")(sql_command)
    app.command("tables")(tables_command)
    app.command("snapshots")(snapshots_command)
