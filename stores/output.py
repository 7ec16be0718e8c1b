"""Writing query results to files or text: CSV, JSON (lines) and Parquet."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa


def flat_for_csv(table: pa.Table) -> pa.Table:
    """``table`` with list, struct and map columns as JSON text (CSV cells are flat)."""
    columns = []
    for column in table.columns:
        kind = column.type
        if pa.types.is_nested(kind):
            text = [
                None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                for v in column.to_pylist()
            ]
            column = pa.chunked_array([pa.array(text, pa.string())], pa.string())
        elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            column = pa.chunked_array(
                [pa.array([None if v is None else v.hex() for v in column.to_pylist()])],
                pa.string(),
            )
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_result(table: pa.Table, fmt: str, out: Path | None) -> str | None:
    """Write ``table`` as ``fmt`` to ``out``; with no ``out`` return the text instead."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        if out is None:
            raise ValueError("parquet output needs a file")
        pq.write_table(table, out)
        return None
    if fmt == "csv":
        import pyarrow.csv as pcsv

        buf = io.BytesIO()
        pcsv.write_csv(flat_for_csv(table), buf)
        text = buf.getvalue().decode("utf-8")
    elif fmt in ("json", "table"):
        text = "".join(
            json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in table.to_pylist()
        )
    else:
        raise ValueError(f"unknown output format {fmt!r}")
    if out is None:
        return text
    out.write_text(text, encoding="utf-8")
    return None
