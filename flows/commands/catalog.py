"""Commands over the catalog: ``ingest``, ``sql``, ``tables``, ``snapshots``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tracemill.flows.common import CatalogOption, catalog_location, console, user_errors

OUTPUT_FORMATS = ("table", "csv", "json", "parquet")


def _parse_map(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        if "=" not in item:
            raise ValueError(f"--map expects FIELD=SOURCE, got {item!r}")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def ingest_command(
    paths: Annotated[list[Path], typer.Argument(help="JSONL, Parquet, CSV files, folders of "
                                                "them, or datasets.save_to_disk folders.")],
    source: Annotated[str, typer.Option("--source", "-s", help="Source name for every row.")],
    preset: Annotated[
        str | None,
        typer.Option(help="Layout preset: default, messages (chat rows), alpaca, openr1 "
                     "(problem/solution/answer), code (test cases) or verl (RL rows)."),
    ] = None,
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", "-m", help="FIELD=SOURCE, e.g. question=problem, "
                     "answer=final_answer.0, source_id=labels.task_id, choices=options, "
                     "question='{Body} {Question}' (repeatable)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="jsonl (JSON Lines or JSON, told apart by content), "
                     "parquet, csv or hf (default: suffix)."),
    ] = None,
    answer_from: Annotated[
        str | None,
        typer.Option("--answer-from", help="Extract missing answers from this worked-solution "
                     "field (last \\boxed{}, GSM8K '#### n', 'The answer is ...')."),
    ] = None,
    all_turns: Annotated[
        bool,
        typer.Option("--all-turns", help="Chat rows: every user turn becomes a problem with "
                     "the earlier turns as context (default: the first exchange only)."),
    ] = False,
    update: Annotated[
        bool,
        typer.Option("--update", help="Update the changed fields of this source's existing "
                     "problems (one transaction; old values stay readable by snapshot)."),
    ] = False,
    domain: Annotated[
        str | None, typer.Option(help="math, code, logic, sat, science or other.")
    ] = None,
    verifier: Annotated[str | None, typer.Option(help="Verifier name for every problem.")] = None,
    license_: Annotated[str | None, typer.Option("--license", help="License of the rows.")] = None,
    model: Annotated[
        str | None, typer.Option(help="Model name of existing responses lacking one.")
    ] = None,
    skip_bad: Annotated[
        bool, typer.Option(help="Commit the good rows; write bad ones with reasons to a file.")
    ] = False,
    rejects: Annotated[Path | None, typer.Option(help="Where --skip-bad writes rejects.")] = None,
    batch_rows: Annotated[int, typer.Option(help="Records per committed batch.")] = 100_000,
    no_metadata: Annotated[
        bool, typer.Option("--no-metadata", help="Do not keep unmapped fields as JSON.")
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Bring a problem dataset into the catalog (idempotent: reruns skip existing rows)."""
    with user_errors():
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
        from tracemill.catalogs import new_run_id
        from tracemill.flows.ingest import IngestStage, ingest
        from tracemill.flows.summary import print_counts

        cfg = IngestStage(
            paths=[str(p) for p in paths],
            source=source,
            preset=preset,
            map=_parse_map(map_ or []),
            format=fmt,
            domain=domain,
            verifier=verifier,
            license=license_,
            model=model,
            skip_bad=skip_bad,
            rejects=str(rejects) if rejects else None,
            batch_rows=batch_rows,
            keep_metadata=not no_metadata,
            answer_from=answer_from,
            all_turns=all_turns,
            update=update,
        )
        with Progress(
            TextColumn("ingest"), BarColumn(), TextColumn("{task.completed}/{task.total} rows"),
            TimeRemainingColumn(), console=console, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("ingest", total=None)
            report = ingest(
                cfg,
                catalog=catalog_location(catalog),
                run_id=new_run_id(),
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        print_counts("ingest", report.counts())


def sql_command(
    query: Annotated[str, typer.Argument(help="DuckDB SQL; catalog tables are available by name.")],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="table, csv, json or parquet.")
    ] = "table",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    limit: Annotated[int, typer.Option(help="Rows shown by --format table.")] = 50,
    catalog: CatalogOption = None,
) -> None:
    """Run DuckDB SQL over the catalog (read-only)."""
    with user_errors():
        from tracemill.catalogs.views import create_views
        from tracemill.stores.catalog import open_catalog
        from tracemill.stores.output import write_result

        if fmt not in OUTPUT_FORMATS:
            raise ValueError(f"--format must be one of {', '.join(OUTPUT_FORMATS)}")
        if fmt == "parquet" and out is None:
            raise ValueError("--format parquet needs --out FILE")
        import duckdb

        with open_catalog(catalog_location(catalog), read_only=True) as store:
            create_views(store.con)
            try:
                result = store.sql(query)
            except duckdb.Error as e:
                raise ValueError(f"SQL error: {e}") from e
        if fmt == "table" and out is None:
            from tracemill.flows.summary import arrow_to_rich

            console.print(arrow_to_rich(result, limit=limit))
            if result.num_rows > limit:
                console.print(f"[dim]{result.num_rows} rows, {limit} shown[/]")
            return
        text = write_result(result, fmt, out)
        if text is not None:
            console.file.write(text)


def tables_command(catalog: CatalogOption = None) -> None:
    """List catalog tables with their row counts."""
    with user_errors():
        from rich.table import Table
        from tracemill.catalogs import TABLES
        from tracemill.stores.catalog import open_catalog

        with open_catalog(catalog_location(catalog), read_only=True) as store:
            counts = store.table_counts()
            snapshot = store.current_snapshot()
        view = Table(title=f"tables (snapshot {snapshot})")
        view.add_column("table")
        view.add_column("rows", justify="right")
        view.add_column("holds")
        for name, n in counts.items():
            view.add_row(name, f"{n:,}", TABLES[name].doc)
        console.print(view)


def snapshots_command(
    limit: Annotated[int, typer.Option(help="Show the last N snapshots.")] = 50,
    catalog: CatalogOption = None,
) -> None:
    """List catalog snapshots (read any table as of one with ``AT (VERSION => id)``)."""
    with user_errors():
        from tracemill.flows.summary import arrow_to_rich
        from tracemill.stores.catalog import open_catalog

        with open_catalog(catalog_location(catalog), read_only=True) as store:
            snaps = store.snapshots()
        start = max(0, snaps.num_rows - limit)
        console.print(arrow_to_rich(snaps.slice(start), limit=limit, title="snapshots"))


def register(app: typer.Typer) -> None:
    """Add the catalog commands."""
    app.command("ingest")(ingest_command)
    app.command("sql")(sql_command)
    app.command("tables")(tables_command)
    app.command("snapshots")(snapshots_command)
