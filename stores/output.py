"""Writing query results to files or text: CSV, JSON (lines) and Parquet."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow as pa


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
        pcsv.write_csv(table, buf)
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
