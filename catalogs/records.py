"""Input records in memory, and the error that names a bad record's file, line and field.

Readers in ``tracemill.stores.sources`` produce :class:`SourceData`;
``tracemill.pipelines.ingest`` maps it
to catalog rows. Both report bad input as :class:`IngestError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa


class IngestError(ValueError):
    """Bad input: names the file, the line/row and the field."""

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        line: int | None = None,
        field: str | None = None,
        mapped_to: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        self.mapped_to = mapped_to
        self.reason = reason
        where = file
        if line is not None:
            where += f": line {line}"
        if field is not None:
            where += f": field '{field}'"
            if mapped_to is not None and mapped_to != field:
                where += f" (mapped to '{mapped_to}')"
        super().__init__(f"{where}: {reason}")

    def as_reject(self) -> dict[str, Any]:
        """A JSON-able record for a rejects file."""
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "mapped_to": self.mapped_to,
            "reason": self.reason,
        }


OnError = Callable[[IngestError], None]


def raise_error(err: IngestError) -> None:
    """The default error handler: raise."""
    raise err


@dataclass
class SourceData:
    """The records of one input: a table, or parsed JSON records with line numbers."""

    name: str
    """The file (and split) the records came from, for error messages."""
    table: pa.Table | None = None
    records: list[dict[str, Any]] | None = None
    lines: list[int] | None = None
    """1-based line (JSONL) or row (table formats) number of each record."""

    @property
    def num_rows(self) -> int:
        """Number of records."""
        return self.table.num_rows if self.table is not None else len(self.records or [])

    def line_of(self, index: int) -> int:
        """The line/row number of record ``index``."""
        if self.lines is not None:
            return self.lines[index]
        return index + 1
