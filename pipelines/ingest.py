r"""Ingest: map source records to ``problems`` rows and existing responses to ``samples``.

Canonical fields a record can supply (``--map FIELD=SOURCE`` sets where each comes from;
``SOURCE`` may be a dotted path into nested objects, e.g. ``info.answer``):

================  ===========================================================
``question``      problem statement (required, non-empty text)
``answer``        reference final answer (text; numbers are turned into text)
``solution``      reference worked solution (text)
``source_id``     the record's id in its source (text or integer)
``task``          finer task label (text)
``domain``        per-record domain, one of ``catalogs.DOMAINS``
``source_level``  difficulty level given by the source (integer)
``license``       license of the record (text)
``tests``         code test cases (see :func:`normalize_tests`)
``messages``      chat turns (``role``/``content`` or ``from``/``value``)
``responses``     existing model responses (text or list of texts)
``model``         the model that wrote the responses
================  ===========================================================

Presets fill the mapping for public layouts (:data:`PRESETS`); explicit ``--map`` entries
override them. With no preset and no mapping, ``question``, ``answer`` and ``id`` (as
``source_id``) are read. Fields a record has that no canonical field reads are kept
verbatim as JSON in ``problems.metadata``.

Existing responses become ``samples`` rows with role ``reference``, origin
``ingest:<source>``, backend ``ingest`` and params ``{"origin": …, "completion_md5": …}``:
the id is content-addressed, so re-ingesting is idempotent and two different responses to
the same question never collide. Reasoning is split on ``<think>…</think>`` (and on
OpenThoughts' ``<|begin_of_thought|>`` markers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tracemill.catalogs import DOMAINS, canonical_json, conform, problem_ids, sample_id
from tracemill.catalogs.records import IngestError, OnError, SourceData, raise_error

TEXT_FIELDS = ("question", "answer", "solution", "source_id", "task", "license", "model")
CANONICAL = (*TEXT_FIELDS, "domain", "source_level", "tests", "messages", "responses")
_COMPLEX = ("tests", "messages", "responses")
DEFAULT_VERIFIERS = {"math": "math", "code": "code"}


@dataclass(frozen=True)
class Preset:
    """A public dataset layout: where each canonical field comes from (first present wins)."""

    name: str
    fields: dict[str, tuple[str, ...]]
    domain: str | None
    description: str


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "default",
            {"question": ("question",), "answer": ("answer",), "source_id": ("id",)},
            None,
            "fields question, answer and id",
        ),
        Preset(
            "messages",
            {
                "messages": ("messages", "conversations"),
                "answer": ("answer", "reference_answer", "ground_truth"),
                "source_id": ("id", "uuid"),
                "model": ("model", "model_name", "generator"),
            },
            None,
            "chat rows (AM / OpenThoughts): user turn = question, assistant turn = response",
        ),
        Preset(
            "openr1",
            {
                "question": ("problem",),
                "solution": ("solution",),
                "answer": ("answer",),
                "source_id": ("uuid", "id"),
                "task": ("problem_type",),
                "responses": ("generations",),
            },
            "math",
            "OpenR1-Math rows: problem / solution / answer (+ generations as responses)",
        ),
        Preset(
            "code",
            {
                "question": ("question", "problem", "prompt", "description"),
                "tests": ("test_cases", "verification_info", "input_output", "tests"),
                "solution": ("solution",),
                "source_id": ("id", "problem_id", "task_id"),
                "task": ("difficulty",),
            },
            "code",
            "code rows with test cases (test_cases, verification_info or input_output)",
        ),
    )
}


@dataclass(frozen=True)
class IngestOptions:
    """How to read one ingest: source name, preset, field mapping, constants."""

    source: str
    preset: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    domain: str | None = None
    verifier: str | None = None
    license: str | None = None
    model: str | None = None
    keep_metadata: bool = True
    run_id: str | None = None

    def __post_init__(self) -> None:
        if not self.source or not self.source.strip():
            raise ValueError("a source name is required (--source NAME)")
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; presets: {', '.join(PRESETS)}")
        unknown = sorted(set(self.mapping) - set(CANONICAL))
        if unknown:
            raise ValueError(
                f"cannot map {', '.join(unknown)}: mappable fields are {', '.join(CANONICAL)}"
            )
        if self.domain is not None and self.domain not in DOMAINS:
            raise ValueError(f"unknown domain {self.domain!r}; domains: {', '.join(DOMAINS)}")

    def field_sources(self) -> dict[str, tuple[tuple[str, ...], bool]]:
        """Canonical field → (candidate source paths, required)."""
        preset = PRESETS[self.preset or "default"]
        out: dict[str, tuple[tuple[str, ...], bool]] = {
            k: (v, False) for k, v in preset.fields.items()
        }
        for canon, src in self.mapping.items():
            out[canon] = ((src,), True)
        return out

    @property
    def resolved_domain(self) -> str:
        """The domain for records without a per-record one."""
        preset = PRESETS[self.preset or "default"]
        return self.domain or preset.domain or "other"


@dataclass
class Mapped:
    """The result of mapping one source: catalog rows plus rejected records."""

    problems: pa.Table
    samples: pa.Table
    rows_read: int
    rejects: list[IngestError] = field(default_factory=list)


# --- value normalization (Python path) ---------------------------------------------


def _get(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


class _Missing:
    pass


_MISSING = _Missing()


def _text(value: Any, canon: str, *, numbers: bool) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"expected text, got {type(value).__name__}")


def _level(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("expected an integer level, got bool")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise TypeError(f"expected an integer level, got {value!r}"[:120])


def _loads_maybe(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise TypeError(f"expected JSON text: {e.msg}") from None
    return value


def normalize_tests(value: Any) -> dict[str, Any] | None:
    """Turn a source's test cases into the ``code`` verifier spec.

    Accepted: a list of ``{"input", "output"}`` objects; ``{"inputs": [...], "outputs":
    [...], "fn_name"?}`` (APPS / TACO); ``{"test_cases": [...], "language"?}`` (open-r1
    ``verification_info``); any of these as JSON text. Function-call cases keep
    ``fn_name`` and turn into ``{"args", "expected"}`` tests.
    """
    value = _loads_maybe(value)
    if value is None:
        return None
    if isinstance(value, dict) and "test_cases" in value:
        spec = normalize_tests(value["test_cases"])
        if spec is not None and value.get("language"):
            spec["language"] = str(value["language"])
        return spec
    if isinstance(value, dict) and "inputs" in value and "outputs" in value:
        inputs, outputs = value["inputs"], value["outputs"]
        if not isinstance(inputs, list) or not isinstance(outputs, list):
            raise TypeError("inputs and outputs must be lists")
        if len(inputs) != len(outputs):
            raise TypeError(f"{len(inputs)} inputs but {len(outputs)} outputs")
        fn_name = value.get("fn_name")
        if fn_name:
            tests = [
                {"args": i if isinstance(i, list) else [i], "expected": o}
                for i, o in zip(inputs, outputs, strict=True)
            ]
            return {"fn_name": str(fn_name), "tests": tests}
        return {"tests": [_io_case(i, o) for i, o in zip(inputs, outputs, strict=True)]}
    if isinstance(value, list):
        tests = []
        for case in value:
            if not isinstance(case, dict) or "input" not in case or "output" not in case:
                raise TypeError("each test case needs 'input' and 'output'")
            tests.append(_io_case(case["input"], case["output"]))
        return {"tests": tests}
    raise TypeError(f"unrecognized test cases ({type(value).__name__})")


def _io_case(inp: Any, out: Any) -> dict[str, str]:
    def text(v: Any) -> str:
        if isinstance(v, list):
            return "\n".join(str(x) for x in v)
        return v if isinstance(v, str) else str(v)

    return {"input": text(inp), "output": text(out)}


def _turns(value: Any) -> list[tuple[str, str, dict[str, Any]]]:
    value = _loads_maybe(value)
    if not isinstance(value, list):
        raise TypeError(f"expected a list of chat turns, got {type(value).__name__}")
    turns = []
    for turn in value:
        if not isinstance(turn, dict):
            raise TypeError("each chat turn must be an object")
        role = turn.get("role", turn.get("from"))
        content = turn.get("content", turn.get("value"))
        if not isinstance(role, str) or not isinstance(content, str):
            raise TypeError("each chat turn needs text 'role' and 'content' (or 'from'/'value')")
        role = {"human": "user", "gpt": "assistant"}.get(role, role)
        info = turn.get("info") if isinstance(turn.get("info"), dict) else {}
        turns.append((role, content, info))
    return turns


def _responses(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise TypeError("expected a response text or a list of texts")


_NORMALIZERS: dict[str, Callable[[Any], Any]] = {
    "question": lambda v: _text(v, "question", numbers=False),
    "answer": lambda v: _text(v, "answer", numbers=True),
    "solution": lambda v: _text(v, "solution", numbers=False),
    "source_id": lambda v: _text(v, "source_id", numbers=True),
    "task": lambda v: _text(v, "task", numbers=True),
    "license": lambda v: _text(v, "license", numbers=False),
    "model": lambda v: _text(v, "model", numbers=False),
    "domain": lambda v: _text(v, "domain", numbers=False),
    "source_level": _level,
    "tests": normalize_tests,
    "messages": _turns,
    "responses": _responses,
}


def _record_fields(
    record: dict[str, Any], sources: dict[str, tuple[tuple[str, ...], bool]]
) -> tuple[dict[str, Any], set[str]]:
    """Canonical values of one record, and the top-level keys they were read from."""
    values: dict[str, Any] = {}
    used: set[str] = set()
    for canon, (paths, required) in sources.items():
        found = False
        for path in paths:
            raw = _get(record, path)
            if raw is _MISSING:
                continue
            found = True
            used.add(path.split(".", 1)[0])
            try:
                values[canon] = _NORMALIZERS[canon](raw)
            except TypeError as e:
                raise _FieldError(path, canon, str(e)) from None
            break
        if not found and required:
            raise _FieldError(paths[0], canon, "missing")
    return values, used


class _FieldError(Exception):
    def __init__(self, path: str, canon: str, reason: str) -> None:
        self.path, self.canon, self.reason = path, canon, reason
        shown = path if path == canon else f"{path} (as {canon})"
        super().__init__(shown)


# --- the mapping itself --------------------------------------------------------------


@dataclass
class _Rows:
    """Column lists being built for problems and samples."""

    p: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in _P_COLS})
    s: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in _S_COLS})


_P_COLS = (
    "_row", "question", "answer", "solution", "source_id", "task", "domain",
    "source_level", "license", "verifier_spec", "metadata",
)  # fmt: skip
_S_COLS = ("_row", "completion", "model", "prompt")


def map_source(
    data: SourceData,
    options: IngestOptions,
    *,
    on_error: OnError = raise_error,
    row_offset: int = 0,
) -> Mapped:
    """Map one source's records to problems and samples (pure; nothing is written).

    ``on_error`` receives each bad record's :class:`IngestError`; the default raises, so the
    first bad record stops the ingest. ``row_offset`` numbers records across sources so
    problems and samples of one record stay together in later batching (``_row``).
    """
    sources = options.field_sources()
    if data.table is not None and not any(c in sources for c in _COMPLEX):
        return _map_table(data, options, sources, on_error, row_offset)
    records = data.records if data.records is not None else data.table.to_pylist()
    return _map_records(data, records, options, sources, on_error, row_offset)


def _reject(data: SourceData, index: int, err: _FieldError, on_error: OnError) -> IngestError:
    error = IngestError(
        data.name, err.reason, line=data.line_of(index), field=err.path, mapped_to=err.canon
    )
    on_error(error)  # raises unless bad records are skipped
    return error


def _map_records(
    data: SourceData,
    records: list[dict[str, Any]],
    options: IngestOptions,
    sources: dict[str, tuple[tuple[str, ...], bool]],
    on_error: OnError,
    row_offset: int,
) -> Mapped:
    rows = _Rows()
    rejects: list[IngestError] = []
    default_domain = options.resolved_domain
    for i, record in enumerate(records):
        try:
            values, used = _record_fields(record, sources)
            question, responses, model = _question_and_responses(values)
            domain = values.get("domain") or default_domain
            if domain not in DOMAINS:
                raise _FieldError("domain", "domain", f"unknown domain {domain!r}")
            if question is None or not question.strip():
                path = sources.get("question", (("question",), False))[0][0]
                if "messages" in values:
                    path = sources["messages"][0][0]
                raise _FieldError(path, "question", "missing or empty question")
        except _FieldError as e:
            rejects.append(_reject(data, i, e, on_error))
            continue
        row = row_offset + i
        spec = values.get("tests")
        extra = {k: v for k, v in record.items() if k not in used}
        p = rows.p
        p["_row"].append(row)
        p["question"].append(question)
        p["answer"].append(values.get("answer"))
        p["solution"].append(values.get("solution"))
        p["source_id"].append(values.get("source_id"))
        p["task"].append(values.get("task"))
        p["domain"].append(domain)
        p["source_level"].append(values.get("source_level"))
        p["license"].append(values.get("license") or options.license)
        p["verifier_spec"].append(canonical_json(spec) if spec is not None else None)
        p["metadata"].append(
            json.dumps(extra, ensure_ascii=False, default=str)
            if options.keep_metadata and extra
            else None
        )
        for text in responses:
            rows.s["_row"].append(row)
            rows.s["completion"].append(text)
            rows.s["model"].append(model or values.get("model") or options.model or "unknown")
            rows.s["prompt"].append([{"role": "user", "content": question}])
    problems = _problems_table(pa.table(rows.p), options)
    samples = _samples_table(rows.s, problems, options)
    return Mapped(problems, samples, len(records), rejects)


def _question_and_responses(values: dict[str, Any]) -> tuple[str | None, list[str], str | None]:
    question = values.get("question")
    responses = list(values.get("responses") or [])
    model = None
    turns = values.get("messages")
    if turns:
        users = [t for t in turns if t[0] == "user"]
        if question is None and users:
            question = users[0][1]
            info = users[0][2]
            if values.get("answer") is None and info.get("reference_answer") is not None:
                values["answer"] = _text(info["reference_answer"], "answer", numbers=True)
            if values.get("tests") is None and info.get("test_case"):
                values["tests"] = normalize_tests(info["test_case"])
        for role, content, info in turns:
            if role == "assistant":
                responses.append(content)
                model = model or (info.get("model_name") if info else None)
    return question, responses, model


def _table_column(
    data: SourceData, canon: str, paths: tuple[str, ...], required: bool
) -> tuple[pa.ChunkedArray | None, str | None]:
    table = data.table
    assert table is not None
    for path in paths:
        head, *rest = path.split(".")
        if head not in table.column_names:
            continue
        col = table.column(head)
        for part in rest:
            if not pa.types.is_struct(col.type) or col.type.get_field_index(part) < 0:
                col = None
                break
            col = pc.struct_field(col, part)
        if col is not None:
            return col, path
    if required:
        raise IngestError(
            data.name, "missing (no such column)", line=1, field=paths[0], mapped_to=canon
        )
    return None, None


def _map_table(
    data: SourceData,
    options: IngestOptions,
    sources: dict[str, tuple[tuple[str, ...], bool]],
    on_error: OnError,
    row_offset: int,
) -> Mapped:
    """Columnar mapping for tables whose fields are all scalars (the fast path)."""
    table = data.table
    assert table is not None
    n = table.num_rows
    cols: dict[str, pa.ChunkedArray | pa.Array] = {}
    used: set[str] = set()
    bad = pa.repeat(False, n)
    rejects: list[IngestError] = []

    def flag(mask: pa.Array | pa.ChunkedArray, canon: str, path: str, reason: str) -> None:
        nonlocal bad
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():
            return
        indexes = pc.indices_nonzero(mask).to_pylist()
        for i in indexes:
            err = IngestError(
                data.name, reason, line=data.line_of(i), field=path, mapped_to=canon
            )
            on_error(err)  # raises unless bad rows are skipped
            rejects.append(err)
        bad = pc.or_(bad, mask)

    for canon, (paths, required) in sources.items():
        col, path = _table_column(data, canon, paths, required)
        if col is None or path is None:
            continue
        used.add(path.split(".", 1)[0])
        t = col.type
        if canon == "source_level":
            if pa.types.is_integer(t):
                col = col.cast(pa.int32())
            elif pa.types.is_string(t) or pa.types.is_large_string(t):
                digits = pc.match_substring_regex(col, r"^\s*-?\d+\s*$")
                flag(pc.and_(pc.invert(digits), pc.not_equal(col, "")), canon, path,
                     "expected an integer level")  # fmt: skip
                col = pc.if_else(digits, col, None).cast(pa.int32())
            else:
                flag(pc.is_valid(col), canon, path, f"expected an integer level, got {t}")
                col = pa.nulls(n, pa.int32())
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            col = col.cast(pa.string())
        elif pa.types.is_null(t):
            col = pa.nulls(n, pa.string())
        elif canon in ("answer", "source_id", "task") and (
            pa.types.is_integer(t) or pa.types.is_floating(t)
        ):
            col = col.cast(pa.string())
        else:
            flag(pc.is_valid(col), canon, path, f"expected text, got {t}")
            col = pa.nulls(n, pa.string())
        cols[canon] = col

    question = cols.get("question")
    if question is None:
        raise IngestError(data.name, "missing (no such column)", line=1, field="question")
    qpath = next(p for p in sources["question"][0] if p.split(".")[0] in used)
    # null, "" or whitespace only (any Unicode whitespace: it normalizes to "")
    blank = pc.or_(pc.equal(pc.binary_length(question), 0), pc.utf8_is_space(question))
    empty = pc.or_kleene(pc.is_null(question), blank)
    flag(empty, "question", qpath, "missing or empty question")
    if "domain" in cols:
        domain = pc.fill_null(cols["domain"], options.resolved_domain)
        flag(pc.invert(pc.is_in(domain, pa.array(DOMAINS))), "domain", "domain", "unknown domain")
    else:
        domain = pa.repeat(options.resolved_domain, n)

    out: dict[str, Any] = {
        "_row": pa.array(np.arange(row_offset, row_offset + n, dtype=np.int64)),
        "question": question,
        "domain": domain,
    }
    for canon in ("answer", "solution", "source_id", "task", "source_level", "license"):
        if canon in cols:
            out[canon] = cols[canon]
    if "license" not in out and options.license:
        out["license"] = pa.repeat(options.license, n)
    extra = [c for c in table.column_names if c not in used]
    if options.keep_metadata and extra:
        out["metadata"] = _json_rows(table.select(extra))
    mapped = pa.table(out)
    if rejects:
        mapped = mapped.filter(pc.invert(bad))
    problems = _problems_table(mapped, options)
    return Mapped(problems, _samples_table({c: [] for c in _S_COLS}, problems, options), n, rejects)


def _json_rows(table: pa.Table) -> pa.Array:
    """Each row of ``table`` as JSON text (vectorized in DuckDB)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("_meta", table)
        out = con.execute("SELECT to_json(_meta)::VARCHAR AS j FROM _meta").to_arrow_table()
    finally:
        con.close()
    return out.column("j").combine_chunks()


def _problems_table(mapped: pa.Table, options: IngestOptions) -> pa.Table:
    n = mapped.num_rows
    cols = {name: mapped.column(name) for name in mapped.column_names}
    ids = problem_ids(cols["domain"], cols["question"])
    domains = cols["domain"]
    single = pc.unique(domains) if n else pa.array([], pa.string())
    if options.verifier is not None:
        verifier: Any = pa.repeat(options.verifier, n)
    elif len(single) == 1:  # the usual case: one domain for the whole source
        verifier = pa.repeat(pa.scalar(DEFAULT_VERIFIERS.get(single[0].as_py()), pa.string()), n)
    else:
        verifier = pa.nulls(n, pa.string())
        for domain, name in DEFAULT_VERIFIERS.items():
            verifier = pc.if_else(pc.equal(domains, domain), name, verifier)
    rows_col = cols.pop("_row")
    table = pa.table(
        {
            "problem_id": ids,
            "source": pa.repeat(options.source, n),
            **{k: v for k, v in cols.items() if v is not None},
            "verifier": verifier,
            "run_id": pa.repeat(pa.scalar(options.run_id, pa.string()), n),
        }
    )
    table = conform("problems", table)
    return table.append_column("_row", rows_col)


def _think_split(text: str) -> tuple[str | None, str]:
    from tracemill.pipelines.extract import split_reasoning

    begin, end = "<|begin_of_thought|>", "<|end_of_thought|>"
    if begin in text and end in text:
        reasoning = text.split(begin, 1)[1].split(end, 1)[0].strip()
        final = text.rsplit(end, 1)[1]
        final = final.replace("<|begin_of_solution|>", "").replace("<|end_of_solution|>", "")
        return reasoning, final.strip()
    return split_reasoning(text)


def _samples_table(
    s: dict[str, list[Any]], problems: pa.Table, options: IngestOptions
) -> pa.Table:
    from tracemill.pipelines.extract import extract_answer

    if not s["_row"]:
        return conform("samples", []).append_column("_row", pa.array([], pa.int64()))
    pid_of = dict(
        zip(problems.column("_row").to_pylist(), problems.column("problem_id").to_pylist(),
            strict=True)
    )  # fmt: skip
    origin = f"ingest:{options.source}"
    out: dict[str, list[Any]] = {k: [] for k in (
        "sample_id", "problem_id", "model", "params", "sample_index", "prompt", "completion",
        "reasoning", "final", "extracted_answer", "_row")}  # fmt: skip
    position: dict[int, int] = {}
    for row, text, model, prompt in zip(
        s["_row"], s["completion"], s["model"], s["prompt"], strict=True
    ):
        pid = pid_of.get(row)
        if pid is None:  # the problem row was rejected
            continue
        index = position.get(row, 0)
        position[row] = index + 1
        digest = hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()
        params = canonical_json({"origin": origin, "completion_md5": digest})
        reasoning, final = _think_split(text)
        out["sample_id"].append(sample_id(pid, model, params, index))
        out["problem_id"].append(pid)
        out["model"].append(model)
        out["params"].append(params)
        out["sample_index"].append(index)
        out["prompt"].append(prompt)
        out["completion"].append(text)
        out["reasoning"].append(reasoning)
        out["final"].append(final)
        out["extracted_answer"].append(extract_answer(text).answer)
        out["_row"].append(row)
    n = len(out["sample_id"])
    rows = out.pop("_row")
    table = conform(
        "samples",
        pa.table(
            {
                **out,
                "role": ["reference"] * n,
                "origin": [origin] * n,
                "backend": ["ingest"] * n,
                "finish_reason": ["stop"] * n,
                "run_id": pa.array([options.run_id] * n, pa.string()),
            }
        ),
    )
    return table.append_column("_row", pa.array(rows, pa.int64()))
