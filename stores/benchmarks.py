"""Benchmark files for decontamination, listed in a YAML or JSON config.

```yaml
# benchmarks.yaml — paths are relative to this file
benchmarks:
  aime24: {path: data/aime24.jsonl, field: problem}
  math500: data/math500.parquet          # field: the first of question, problem, prompt
  gpqa: {path: data/gpqa_saved}          # a datasets.save_to_disk folder (all splits)
```

The top-level ``benchmarks:`` key may be left out (the file is then the mapping itself).
Files are JSONL, Parquet or ``datasets.save_to_disk`` folders (read by
:mod:`tracemill.stores.sources`). Empty and missing questions are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracemill.catalogs.records import IngestError

DEFAULT_FIELDS = ("question", "problem", "prompt", "Question", "Problem")


@dataclass(frozen=True)
class BenchmarkFile:
    """The questions read from one benchmark file."""

    name: str
    questions: tuple[str, ...]
    source: str
    """The file (and field) they came from."""


def _spec(name: str, value: Any) -> tuple[str, str | None]:
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict) and isinstance(value.get("path"), str):
        unknown = set(value) - {"path", "field"}
        if unknown:
            raise ValueError(f"benchmark {name!r}: unknown key(s) {', '.join(sorted(unknown))}")
        field = value.get("field")
        if field is not None and not isinstance(field, str):
            raise ValueError(f"benchmark {name!r}: field must be text")
        return value["path"], field
    raise ValueError(f"benchmark {name!r}: expected a path or {{path: ..., field: ...}}")


def read_benchmark_config(path: Path) -> dict[str, tuple[Path, str | None]]:
    """Parse a benchmark config: name → (resolved file, question field or None)."""
    import yaml

    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"benchmark config {path} does not exist")
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    if isinstance(data, dict) and isinstance(data.get("benchmarks"), dict):
        data = data["benchmarks"]
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: expected a mapping of benchmark name → file")
    out: dict[str, tuple[Path, str | None]] = {}
    for name, value in data.items():
        file, field = _spec(str(name), value)
        resolved = Path(file).expanduser()
        if not resolved.is_absolute():
            resolved = path.parent / resolved
        out[str(name)] = (resolved, field)
    return out


def _questions(data: Any, field: str | None, name: str) -> list[str]:
    if data.table is not None:
        columns = data.table.column_names
        chosen = field or next((f for f in DEFAULT_FIELDS if f in columns), None)
        if chosen is None or chosen not in columns:
            raise IngestError(
                data.name, f"no question field {field or DEFAULT_FIELDS}", field=field
            )
        values = data.table.column(chosen).to_pylist()
    else:
        records = data.records or []
        keys = set().union(*(r.keys() for r in records)) if records else set()
        chosen = field or next((f for f in DEFAULT_FIELDS if f in keys), None)
        if chosen is None or chosen not in keys:
            raise IngestError(
                data.name, f"no question field {field or DEFAULT_FIELDS}", field=field
            )
        values = [r.get(chosen) for r in records]
    return [str(v) for v in values if v is not None and str(v).strip()]


def load_benchmark(name: str, path: Path, field: str | None = None) -> BenchmarkFile:
    """Read one benchmark file (or saved dataset folder) into a :class:`BenchmarkFile`."""
    from tracemill.stores.sources import read_source

    if not path.exists():
        raise FileNotFoundError(f"benchmark {name!r}: {path} does not exist")
    questions: list[str] = []
    for data in read_source(path):
        questions.extend(_questions(data, field, name))
    return BenchmarkFile(name, tuple(questions), f"{path}" + (f"[{field}]" if field else ""))


def load_benchmarks(config: Path) -> list[BenchmarkFile]:
    """Every benchmark listed in ``config``."""
    return [load_benchmark(n, p, f) for n, (p, f) in read_benchmark_config(config).items()]
