"""Output of listing commands: ``--format table|json|csv`` over rows, one way everywhere.

``table`` is a rich table on the console whose cells are plain text (``[math]`` shows
as ``[math]``, never as markup); ``json`` is one JSON object per line; ``csv`` has a
header row and list/struct cells as JSON text. Rows are an Arrow table or a list of
mappings (column order: the first row's keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

FORMATS = ("table", "json", "csv")


class Format(StrEnum):
    """Output formats of listing commands."""

    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format", "-f", case_sensitive=False,
        help="Output: table (for people), json (one object per line) or csv.",
    ),
]  # fmt: skip


def to_arrow(rows: Any) -> Any:
    """An Arrow table from an Arrow table or a list of mappings."""
    import pyarrow as pa

    if isinstance(rows, pa.Table):
        return rows
    rows = [dict(r) for r in rows]
    if not rows:
        return pa.table({})
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    return pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows])


def rich_table(rows: Any, *, title: str | None = None, limit: int | None = None) -> Any:
    """Rows as a rich table; every cell is plain text (markup is shown, not applied)."""
    from rich.table import Table
    from rich.text import Text

    names, records, numeric = _records(rows, limit)
    view = Table(title=Text(title) if title else None)
    for name in names:
        view.add_column(Text(name), overflow="fold", justify="right" if name in numeric else "left")
    for record in records:
        view.add_row(*(Text(_clip(_cell(record.get(n)))) for n in names))
    return view


def _records(rows: Any, limit: int | None) -> tuple[list[str], list[dict[str, Any]], set[str]]:
    """Column names, records (at most ``limit``) and the numeric columns of rows."""
    import pyarrow as pa

    if isinstance(rows, pa.Table):
        shown = rows if limit is None else rows.slice(0, limit)
        numeric = {
            f.name for f in rows.schema
            if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
        }  # fmt: skip
        return list(rows.column_names), shown.to_pylist(), numeric
    records = [dict(r) for r in rows]
    names: list[str] = []
    for r in records:
        names.extend(k for k in r if k not in names)
    numeric = {
        n for n in names
        if any(r.get(n) is not None for r in records)
        and all(isinstance(r.get(n), int | float) and not isinstance(r.get(n), bool)
                for r in records if r.get(n) is not None)
    }  # fmt: skip
    return names, records if limit is None else records[:limit], numeric


def _cell(value: Any) -> str:
    from tracemill.flows.reporting import format_value

    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return format_value(value)


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def emit(
    rows: Any,
    fmt: str | Format = "table",
    *,
    title: str | None = None,
    limit: int | None = None,
    out: Path | None = None,
) -> None:
    """Print (or write to ``out``) rows in ``fmt``; ``limit`` caps the table view only."""
    from tracemill.flows.common import UsageError, console
    from tracemill.stores.output import write_result

    fmt = fmt.value if isinstance(fmt, Format) else str(fmt).lower()
    if fmt not in (*FORMATS, "parquet"):
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    if fmt in ("json", "csv") and not _is_arrow(rows):
        text = records_text([dict(r) for r in rows], fmt)
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
        return
    if fmt == "table" and out is None:
        console.print(rich_table(rows, title=title, limit=limit))
        total = len(rows) if not _is_arrow(rows) else rows.num_rows
        if limit is not None and total > limit:
            console.print(f"[dim]{total:,} rows, {limit:,} shown[/]")
        return
    table = to_arrow(rows)
    text = write_result(table, "json" if fmt == "table" else fmt, out)
    if text is not None:
        typer.echo(text, nl=False)


def _is_arrow(rows: Any) -> bool:
    import pyarrow as pa

    return isinstance(rows, pa.Table)


def records_text(records: list[dict[str, Any]], fmt: str) -> str:
    """Records as JSON lines or CSV (header row; list and mapping cells as JSON text)."""
    import csv
    import io
    import json

    if fmt == "json":
        return "".join(
            json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records
        )
    names: list[str] = []
    for r in records:
        names.extend(k for k in r if k not in names)
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerow(names)
    for r in records:
        writer.writerow([_csv_cell(r.get(k)) for k in names])
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    import json

    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value).lower()
    return value


def rows_of(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Records reduced to ``columns``, in that order."""
    return [{c: r.get(c) for c in columns} for r in records]
