"""Reading problem datasets from files: JSONL, Parquet, CSV and ``datasets`` folders.

Readers return :class:`SourceData`: either an Arrow table (Parquet, CSV, saved datasets;
fast, columnar) or parsed JSON records with their line numbers (JSONL, where rows may
disagree on types). Every problem is reported as an :class:`IngestError` naming the
file, the line or row, and the field when there is one.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from tracemill.catalogs.records import IngestError, OnError, SourceData, raise_error

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "parquet", "csv", "hf")
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".jsonl.gz": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
}


def detect_format(path: Path) -> str:
    """The format of ``path`` from its suffix (or ``hf`` for a saved-dataset folder)."""
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            return "hf"
        raise IngestError(str(path), "a folder that is not a datasets.save_to_disk folder")
    name = path.name.lower()
    for suffix, fmt in sorted(_SUFFIXES.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(suffix):
            return fmt
    raise IngestError(
        str(path), f"unknown file type (expected {', '.join(sorted(_SUFFIXES))} or a folder)"
    )


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Expand folders of data files (not saved datasets) into their files, sorted."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise IngestError(str(path), "no such file or folder")
        if path.is_dir() and not (
            (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()
        ):
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and any(p.name.lower().endswith(s) for s in _SUFFIXES)
            )
            if not files:
                raise IngestError(str(path), "folder holds no JSONL, Parquet or CSV files")
            out.extend(files)
        else:
            out.append(path)
    return out


def read_source(
    path: Path, fmt: str | None = None, *, on_error: OnError = raise_error
) -> Iterator[SourceData]:
    """Read one input path (a saved DatasetDict yields one item per split)."""
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise IngestError(str(path), f"unknown format {fmt!r}; formats: {', '.join(FORMATS)}")
    if fmt == "jsonl":
        data = read_jsonl(path, on_error=on_error)
    elif fmt == "parquet":
        data = read_parquet(path)
    elif fmt == "csv":
        data = read_csv(path)
    else:
        yield from read_saved_dataset(path)
        return
    yield data


def _check_not_empty(name: str, n: int) -> None:
    if n == 0:
        raise IngestError(name, "no records (the file is empty)")


def read_jsonl(path: Path, *, on_error: OnError = raise_error) -> SourceData:
    """Parse a JSON Lines file (optionally gzipped); blank lines are ignored."""
    name = str(path)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    loads = json.loads
    for number, chunk in enumerate(raw.split(b"\n"), start=1):
        if not chunk.strip():
            continue
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            reason = f"not valid UTF-8 ({e.reason} at byte {e.start})"
            on_error(IngestError(name, reason, line=number))
            continue
        try:
            value = loads(text)
        except json.JSONDecodeError as e:
            on_error(IngestError(name, f"invalid JSON: {e.msg} at column {e.colno}", line=number))
            continue
        if not isinstance(value, dict):
            reason = f"expected a JSON object, got {type(value).__name__}"
            on_error(IngestError(name, reason, line=number))
            continue
        records.append(value)
        lines.append(number)
    if not records and not raw.strip():
        _check_not_empty(name, 0)
    return SourceData(name, records=records, lines=lines)


def read_parquet(path: Path) -> SourceData:
    """Read a Parquet file as an Arrow table."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as e:
        raise IngestError(str(path), f"not a readable Parquet file: {e}") from e
    _check_not_empty(str(path), table.num_rows)
    return SourceData(str(path), table=table)


def _first_bad_utf8_line(raw: bytes) -> tuple[int, str] | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return raw.count(b"\n", 0, e.start) + 1, f"{e.reason} at byte {e.start}"
    return None


def read_csv(path: Path) -> SourceData:
    """Read a CSV file with a header row; every column is read as text."""
    import pyarrow.csv as pcsv

    name = str(path)
    raw = path.read_bytes()
    bad = _first_bad_utf8_line(raw)
    if bad is not None:
        raise IngestError(name, f"not valid UTF-8 ({bad[1]})", line=bad[0])
    if not raw.strip():
        _check_not_empty(name, 0)
    header = next(csv.reader(io.StringIO(raw.decode("utf-8").split("\n", 1)[0])), [])
    try:
        table = pcsv.read_csv(
            io.BytesIO(raw),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in header}, strings_can_be_null=False
            ),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
        )
    except pa.ArrowInvalid as e:
        raise IngestError(name, f"invalid CSV: {e}") from e
    _check_not_empty(name, table.num_rows)
    # row N of the data is line N+1 of the file (after the header), without multi-line cells
    return SourceData(name, table=table, lines=None)


def read_saved_dataset(path: Path) -> Iterator[SourceData]:
    """Read a ``datasets.save_to_disk`` folder (a Dataset, or each split of a DatasetDict)."""
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        ds = load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as e:
        raise IngestError(str(path), f"not a readable saved dataset: {e}") from e
    splits: list[tuple[str, Dataset]]
    if isinstance(ds, DatasetDict):
        splits = [(f"{path}[{split}]", d) for split, d in ds.items()]
    else:
        splits = [(str(path), ds)]
    for name, d in splits:
        # select the rows through the indices mapping (if any) into a plain table
        table = d.with_format("arrow")[:] if len(d) else d.data.table
        _check_not_empty(name, table.num_rows)
        yield SourceData(name, table=pa.table(table))


def write_rejects(path: Path, rejects: list[IngestError]) -> Path:
    """Write rejected records (file, line, field, reason) as JSON Lines; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for err in rejects:
            fh.write(json.dumps(err.as_reject(), ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path
