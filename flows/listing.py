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
    from tracemill.flows.reporting import format_value

    table = to_arrow(rows)
    view = Table(title=Text(title) if title else None)
    shown = table if limit is None else table.slice(0, limit)
    for name, column in zip(table.column_names, table.columns, strict=True):
        numeric = _numeric(column.type)
        view.add_column(Text(name), overflow="fold", justify="right" if numeric else "left")
    for row in shown.to_pylist():
        view.add_row(*(Text(_clip(format_value(v) if not isinstance(v, dict) else str(v)))
                       for v in row.values()))  # fmt: skip
    return view


def _numeric(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


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
    from tracemill.flows.common import console
    from tracemill.stores.output import write_result

    fmt = fmt.value if isinstance(fmt, Format) else str(fmt).lower()
    if fmt not in (*FORMATS, "parquet"):
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}")
    table = to_arrow(rows)
    if fmt == "table" and out is None:
        console.print(rich_table(table, title=title, limit=limit))
        if limit is not None and table.num_rows > limit:
            console.print(f"[dim]{table.num_rows:,} rows, {limit:,} shown[/]")
        return
    text = write_result(table, "json" if fmt == "table" else fmt, out)
    if text is not None:
        typer.echo(text, nl=False)


def rows_of(records: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """Records reduced to ``columns``, in that order."""
    return [{c: r.get(c) for c in columns} for r in records]
