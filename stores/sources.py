"""Reading problem datasets from files: JSON Lines, JSON, Parquet, CSV and ``datasets`` folders.

Readers return :class:`SourceData`: either an Arrow table (Parquet, CSV, saved datasets;
fast, columnar) or parsed JSON records with their line numbers (JSON Lines and JSON,
where rows may disagree on types). Every problem is reported as an :class:`IngestError`
naming the file, the line or row, and the field when there is one.

JSON and JSON Lines are told apart by content, not by suffix: a file whose first value
is an array (``[{...}, ...]``) or an object holding one array of records
(``{"data": [...]}``) is read as one JSON document; otherwise every non-blank line is
one record. Files ending in ``.gz`` are decompressed (a truncated or non-gzip file is an
error naming the file). A UTF-8 byte-order mark is ignored, as for CSV.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from tracemill.catalogs.records import IngestError, OnError, SourceData, raise_error

log = logging.getLogger(__name__)

FORMATS = ("jsonl", "json", "parquet", "csv", "hf")
_SUFFIXES = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".jsonl.gz": "jsonl",
    ".json.gz": "jsonl",
    ".ndjson.gz": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".csv.gz": "csv",
}
BOM = b"\xef\xbb\xbf"
ARRAY_KEYS = ("data", "rows", "records", "examples", "instances", "items", "problems")
"""Keys preferred when a JSON object holds more than one array of records."""
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONG_NUMBER = re.compile(rb'"((?:[^"\\]|\\.){1,200})"\s*:\s*-?\d{4301,}')


def detect_format(path: Path) -> str:
    """The format of ``path`` from its suffix (or ``hf`` for a saved-dataset folder).

    ``jsonl`` covers JSON Lines and JSON documents alike: which one a file holds is
    decided from its content when it is read.
    """
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
                raise IngestError(str(path), "folder holds no JSON, Parquet or CSV files")
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
    if fmt in ("jsonl", "json"):
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


def read_bytes(path: Path) -> bytes:
    """The bytes of ``path``, gunzipped when its name ends in ``.gz``."""
    name = str(path)
    if not path.name.lower().endswith(".gz"):
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read()
    except gzip.BadGzipFile:
        raise IngestError(name, "not a gzip file (the name ends in .gz)") from None
    except EOFError:
        raise IngestError(name, "truncated gzip file: the compressed data ends early") from None
    except zlib.error as e:
        raise IngestError(name, f"corrupt gzip data ({e})") from None


def _line_of_offset(raw: bytes | str, offset: int) -> int:
    return raw.count(b"\n" if isinstance(raw, bytes) else "\n", 0, offset) + 1


def read_jsonl(path: Path, *, on_error: OnError = raise_error) -> SourceData:
    """Read JSON Lines or a JSON document of records (optionally gzipped).

    Blank lines of JSON Lines are ignored. Each record keeps the line it starts on.
    """
    name = str(path)
    raw = read_bytes(path)
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    if not raw.strip():
        _check_not_empty(name, 0)
    if _is_json_document(raw):
        return _read_json_document(name, raw, on_error)
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    for number, chunk in enumerate(raw.split(b"\n"), start=1):
        if not chunk.strip():
            continue
        try:
            value = _loads_line(chunk)
        except _LineError as e:
            on_error(IngestError(name, e.reason, line=number, field=e.field))
            continue
        if not isinstance(value, dict):
            reason = f"expected a JSON object, got {_json_type(value)}"
            on_error(IngestError(name, reason, line=number))
            continue
        records.append(value)
        lines.append(number)
    return SourceData(name, records=records, lines=lines)


class _LineError(Exception):
    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, field


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _loads_line(chunk: bytes) -> Any:
    """Parse one JSON Lines record; bad input raises :class:`_LineError`."""
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _LineError(f"not valid UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        value = _loads_text(text, 0)
    except _LineError as e:
        if "digits" in e.reason:  # an integer longer than Python converts: name its field
            m = _LONG_NUMBER.search(chunk)
            raise _LineError(
                e.reason, m.group(1).decode("utf-8", "replace") if m else None
            ) from None
        raise
    if _SURROGATE_ESCAPE.search(chunk):
        _check_surrogates(value)
    return value


def _loads_text(text: str, offset: int) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise _LineError(f"invalid JSON: {e.msg} at column {e.colno}") from None
    except RecursionError:
        raise _LineError("JSON nested too deeply to read") from None
    except ValueError as e:  # e.g. an integer with more digits than Python converts
        raise _LineError(_value_error(e)) from None


def _value_error(e: ValueError) -> str:
    text = str(e)
    m = re.search(r"value has (\d+) digits", text)
    if m:
        return f"a number with {m.group(1)} digits is too long to read (the limit is 4300)"
    return f"unreadable JSON value: {text}"


def _check_surrogates(value: Any) -> None:
    r"""Raise for a string holding a lone UTF-16 surrogate (``"\ud800"``): not text."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise _LineError(
                    "holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), not text",
                    field=path or None,
                ) from None
        elif isinstance(item, dict):
            for key, sub in item.items():
                if isinstance(key, str):
                    stack.append((key, key))  # keys must be text too
                stack.append((f"{path}.{key}" if path else str(key), sub))
        elif isinstance(item, list):
            stack.extend((f"{path}.{i}" if path else str(i), sub) for i, sub in enumerate(item))


def _is_json_document(raw: bytes) -> bool:
    """Whether ``raw`` is one JSON document (array / object of records), not JSON Lines."""
    head = raw.lstrip()
    if head[:1] == b"[":
        return True
    if head[:1] != b"{":
        return False
    first = head.split(b"\n", 1)[0]
    try:
        value = json.loads(first)
    except (ValueError, RecursionError):
        return True  # an object that spans lines: a pretty-printed document
    rest = head[len(first) :].strip()
    try:
        return not rest and isinstance(value, dict) and _records_key(value) is not None
    except _SeveralArrays:
        return True


_RECORD_FIELDS = frozenset(
    {"messages", "conversations", "tests", "test_cases", "generations", "choices", "options",
     "history", "prompt", "public_tests", "private_tests", "solutions", "final_answer"}
)  # fmt: skip


def _records_key(doc: dict[str, Any]) -> str | None:
    """The key of ``doc`` that holds its list of records, if ``doc`` is a container."""
    lists = [
        k
        for k, v in doc.items()
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
    ]
    for key in ARRAY_KEYS:
        if key in lists:
            return key
    if len(doc) == 1 and len(lists) == 1 and lists[0] not in _RECORD_FIELDS:
        return lists[0]
    if len(lists) > 1 and not set(lists) & _RECORD_FIELDS:
        raise _SeveralArrays(lists)
    return None


class _SeveralArrays(Exception):
    """A JSON object holding several arrays of records (e.g. train and test)."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(", ".join(keys))
        self.keys = keys


def _decode_error(name: str, text: str, pos: int, err: BaseException) -> IngestError:
    line = _line_of_offset(text, pos)
    if isinstance(err, json.JSONDecodeError):
        return IngestError(name, f"invalid JSON: {err.msg} at column {err.colno}", line=err.lineno)
    if isinstance(err, RecursionError):
        return IngestError(name, "JSON nested too deeply to read", line=line)
    return IngestError(name, _value_error(err), line=line)  # type: ignore[arg-type]


_DECODER = json.JSONDecoder()


def _decode_at(name: str, text: str, pos: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, pos)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise _decode_error(name, text, pos, e) from None


def _read_json_document(name: str, raw: bytes, on_error: OnError) -> SourceData:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = _line_of_offset(raw, e.start)
        raise IngestError(name, f"not valid UTF-8 ({e.reason})", line=line) from None
    start = _skip_ws(text, 0)
    if text[start] == "[":
        items, positions, end = _decode_array(name, text, start)
    else:
        doc, end = _decode_at(name, text, start)
        try:
            key = _records_key(doc) if isinstance(doc, dict) else None
        except _SeveralArrays as e:
            raise IngestError(
                name, f"the JSON object holds several arrays of records ({e}); "
                "ingest one at a time, e.g. after splitting the file", line=1,
            ) from None  # fmt: skip
        if key is None:  # one record
            items, positions = [doc], [start]
        else:
            items, positions = doc[key], _element_positions(text, start, key)
    tail = _skip_ws(text, end)
    if tail < len(text):
        raise IngestError(
            name, "extra data after the JSON document", line=_line_of_offset(text, tail)
        )
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    line, at = 1, 0
    for item, pos in zip(items, positions, strict=True):
        line += text.count("\n", at, pos)
        at = pos
        if not isinstance(item, dict):
            on_error(
                IngestError(name, f"expected a JSON object, got {_json_type(item)}", line=line)
            )
            continue
        try:
            _check_surrogates(item)
        except _LineError as e:
            on_error(IngestError(name, e.reason, line=line, field=e.field))
            continue
        records.append(item)
        lines.append(line)
    if not items:
        _check_not_empty(name, 0)
    return SourceData(name, records=records, lines=lines)


def _decode_array(name: str, text: str, start: int) -> tuple[list[Any], list[int], int]:
    """Decode a JSON array element by element: (elements, their offsets, end offset)."""
    items: list[Any] = []
    positions: list[int] = []
    i = _skip_ws(text, start + 1)
    while True:
        if i >= len(text):
            raise IngestError(
                name, "invalid JSON: the array is not closed", line=_line_of_offset(text, i)
            )
        if text[i] == "]":
            return items, positions, i + 1
        value, end = _decode_at(name, text, i)
        items.append(value)
        positions.append(i)
        i = _skip_ws(text, end)
        if i < len(text) and text[i] == ",":
            i = _skip_ws(text, i + 1)
        elif i < len(text) and text[i] != "]":
            raise IngestError(name, "invalid JSON: expected ',' or ']' between records",
                              line=_line_of_offset(text, i))  # fmt: skip


_WS = " \t\r\n"


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _element_positions(text: str, start: int, key: str | None) -> list[int]:
    """Offsets where the elements of the records array start (``key``: inside an object)."""
    decoder = _DECODER
    i = start
    if key is not None:  # walk the object's members to the array under ``key``
        i = _skip_ws(text, i + 1)
        while True:
            member, i = decoder.raw_decode(text, i)
            i = _skip_ws(text, _skip_ws(text, i) + 1)  # past ':'
            if member == key:
                break
            _, i = decoder.raw_decode(text, i)
            i = _skip_ws(text, _skip_ws(text, i) + 1)  # past ','
    positions: list[int] = []
    i = _skip_ws(text, i + 1)  # past '['
    while i < len(text) and text[i] != "]":
        positions.append(i)
        _, i = decoder.raw_decode(text, i)
        i = _skip_ws(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip_ws(text, i + 1)
    return positions


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


def _ragged_csv_row(text: str) -> tuple[int, int, int] | None:
    """(line, fields, header fields) of the first row whose field count differs."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return None
    start = reader.line_num
    for row in reader:
        if row and len(row) != len(header):
            return start + 1, len(row), len(header)
        start = reader.line_num
    return None


def read_csv(path: Path) -> SourceData:
    """Read a CSV file with a header row (optionally gzipped); every column is text."""
    import pyarrow.csv as pcsv

    name = str(path)
    raw = read_bytes(path)
    bad = _first_bad_utf8_line(raw)
    if bad is not None:
        raise IngestError(name, f"not valid UTF-8 ({bad[1]})", line=bad[0])
    if raw.startswith(BOM):
        raw = raw[len(BOM) :]
    if not raw.strip():
        _check_not_empty(name, 0)
    text = raw.decode("utf-8")
    header = next(csv.reader(io.StringIO(text, newline="")), [])
    ragged = _ragged_csv_row(text)
    if ragged is not None:
        line, got, want = ragged
        raise IngestError(name, f"row has {got} fields but the header has {want}", line=line)
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
