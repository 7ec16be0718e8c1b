"""Map source records to ``problems`` and ``samples`` rows (see the package docs)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tracemill.catalogs import DOMAINS, canonical_json, conform, problem_ids, sample_id
from tracemill.catalogs.records import IngestError, OnError, SourceData, raise_error
from tracemill.pipelines.ingest.chat import (
    Turn,
    message,
    parse_turns,
    render_transcript,
    split_exchanges,
)
from tracemill.pipelines.ingest.choices import choice_label, choice_question, parse_options
from tracemill.pipelines.ingest.testcases import UnreadableTests, normalize_joined, normalize_tests
from tracemill.pipelines.ingest.values import (
    MISSING,
    Joined,
    PathError,
    as_level,
    as_responses,
    as_text,
    get_path,
    heads,
    is_template,
    lookup,
    non_empty,
)

TEXT_FIELDS = ("question", "answer", "solution", "source_id", "task", "license", "model")
CANONICAL = (
    *TEXT_FIELDS, "domain", "source_level", "tests", "fn_name", "choices", "messages",
    "system", "responses",
)  # fmt: skip
_COMPLEX = ("tests", "messages", "responses", "choices")
DEFAULT_VERIFIERS = {"math": "math", "code": "code"}


def _alpaca_messages(record: dict[str, Any]) -> list[dict[str, str]]:
    """LLaMA-Factory's alpaca layout as chat turns (system, history, instruction + input)."""
    turns: list[dict[str, str]] = []
    if isinstance(record.get("system"), str) and record["system"].strip():
        turns.append({"role": "system", "content": record["system"]})
    history = record.get("history") or []
    if not isinstance(history, list):
        raise TypeError("expected 'history' to be a list of [question, answer] pairs")
    for pair in history:
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise TypeError("expected 'history' to be a list of [question, answer] pairs")
        turns += [{"role": "user", "content": pair[0]}, {"role": "assistant", "content": pair[1]}]
    query = [record.get("instruction"), record.get("input")]
    text = "\n".join(q for q in query if isinstance(q, str) and q)
    turns.append({"role": "user", "content": text})
    if isinstance(record.get("output"), str) and record["output"]:
        turns.append({"role": "assistant", "content": record["output"]})
    return turns


@dataclass(frozen=True)
class Preset:
    """A public dataset layout: where each canonical field comes from (first present wins)."""

    name: str
    fields: dict[str, tuple[str, ...]]
    domain: str | None
    description: str
    required: tuple[str, ...] = ()
    """Canonical fields every record of this layout must have."""
    to_messages: Callable[[dict[str, Any]], list[dict[str, str]]] | None = None
    """Builds chat turns from a record (layouts that are chats in other fields)."""
    consumes: tuple[str, ...] = ()
    """Top-level fields ``to_messages`` reads (not kept in metadata)."""


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "default",
            {
                "question": ("question", "problem", "Question", "Problem"),
                "answer": ("answer", "Answer", "ground_truth", "gt"),
                "source_id": ("id",),
            },
            None,
            "fields question (or problem), answer and id",
        ),
        Preset(
            "messages",
            {
                "messages": ("messages", "conversations", "conversation"),
                "system": ("system",),
                "answer": ("answer", "reference_answer", "ground_truth"),
                "source_id": ("id", "uuid"),
                "model": ("model", "model_name", "generator"),
            },
            None,
            "chat rows (AM / OpenThoughts / ShareGPT / OpenAI messages): first exchange = "
            "question + reference responses",
        ),
        Preset(
            "alpaca",
            {"messages": ("__alpaca__",), "source_id": ("id",)},
            None,
            "alpaca rows (LLaMA-Factory): instruction + input = question, output = response",
            to_messages=_alpaca_messages,
            consumes=("instruction", "input", "output", "history", "system"),
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
                "question": (
                    "question", "problem", "question_content", "description", "content",
                    "prompt", "text",
                ),
                "tests": (
                    "test_cases", "verification_info", "input_output", "tests", "test",
                    "test_code", "public_test_cases+private_test_cases",
                    "public_tests+private_tests+generated_tests",
                    "test_setup_code+test_list+challenge_test_list",
                ),
                "fn_name": ("fn_name", "func_name", "metadata.func_name", "entry_point"),
                "solution": ("solution", "code"),
                "source_id": ("task_id", "question_id", "problem_id", "id", "name"),
                "task": ("difficulty",),
            },
            "code",
            "code rows with test cases (APPS, TACO, CodeContests, LiveCodeBench, open-r1 "
            "verification_info, SandboxFusion, KodCode pytest code, MBPP asserts, HumanEval "
            "check + entry_point)",
            required=("tests",),
        ),
        Preset(
            "verl",
            {
                "messages": ("prompt",),
                "answer": ("reward_model.ground_truth",),
                "task": ("data_source",),
            },
            None,
            "verl RL rows: prompt (chat) / reward_model.ground_truth / data_source",
        ),
    )
}  # fmt: skip


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
    answer_from: str | None = None
    """Field holding a worked solution to extract the answer from (when there is none)."""
    all_turns: bool = False
    """Chat rows: every user turn becomes a problem (default: the first exchange only)."""

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
        empty = sorted(k for k, v in self.mapping.items() if not str(v).strip())
        if empty:
            raise ValueError(f"--map {empty[0]}= names no source field")
        if self.answer_from is not None and not self.answer_from.strip():
            raise ValueError("--answer-from names no source field")
        if self.domain is not None and self.domain not in DOMAINS:
            raise ValueError(f"unknown domain {self.domain!r}; domains: {', '.join(DOMAINS)}")

    @property
    def layout(self) -> Preset:
        """The preset in use."""
        return PRESETS[self.preset or "default"]

    def field_sources(self) -> dict[str, tuple[tuple[str, ...], bool]]:
        """Canonical field → (candidate source paths, required)."""
        preset = self.layout
        out: dict[str, tuple[tuple[str, ...], bool]] = {
            k: (v, k in preset.required) for k, v in preset.fields.items()
        }
        if self.answer_from and "answer" not in self.mapping:
            out.pop("answer", None)  # the answer is extracted from the worked solution
        for canon, src in self.mapping.items():
            # a mapped answer may be absent when answer_from can stand in for it
            out[canon] = ((src,), not (canon == "answer" and self.answer_from))
            if canon == "messages" and "question" in out and "question" not in self.mapping:
                del out["question"]  # the chat's first user turn is the question
        if "choices" in out and "question" not in out and "messages" not in out:
            out["question"] = PRESETS["default"].fields["question"], False
        return out

    @property
    def resolved_domain(self) -> str:
        """The domain for records without a per-record one."""
        return self.domain or self.layout.domain or "other"


@dataclass
class Mapped:
    """The result of mapping one source: catalog rows plus rejected records."""

    problems: pa.Table
    samples: pa.Table
    rows_read: int
    rejects: list[IngestError] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    """``answer_not_found``, ``turns_dropped``, ``duplicate_rows``."""


@dataclass
class SeenIds:
    """``source_id``s (with their content) mapped so far in one ingest.

    A later row with the same ``source_id`` and the same content (problem id, answer,
    verifier spec) is a duplicate row (counted, then skipped by the key check); one
    with different content is an error naming both places.
    """

    tables: list[pa.Table] = field(default_factory=list)
    """Earlier rows: source_id, problem_id, answer, verifier_spec, file, line."""


_NORMALIZERS: dict[str, Callable[[Any], Any]] = {
    "question": lambda v: as_text(v, "question", numbers=False),
    "answer": lambda v: non_empty(as_text(v, "answer", numbers=True)),
    "solution": lambda v: non_empty(_solution_text(v)),
    "source_id": lambda v: non_empty(as_text(v, "source_id", numbers=True)),
    "task": lambda v: non_empty(as_text(v, "task", numbers=True)),
    "license": lambda v: non_empty(as_text(v, "license", numbers=False)),
    "model": lambda v: non_empty(as_text(v, "model", numbers=False)),
    "domain": lambda v: non_empty(as_text(v, "domain", numbers=False)),
    "fn_name": lambda v: non_empty(as_text(v, "fn_name", numbers=False)),
    "system": lambda v: non_empty(as_text(v, "system", numbers=False)),
    "source_level": as_level,
    "responses": as_responses,
}


# --- answers from worked solutions -----------------------------------------------------

_GSM8K = re.compile(r"^\s*####\s*(.+?)\s*$", re.MULTILINE)
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def extract_reference_answer(text: str | None) -> str | None:
    r"""The final answer of a worked solution (see the module doc), or None."""
    from tracemill.pipelines.extract import extract_answer, last_boxed

    if not text or not text.strip():
        return None
    boxed = last_boxed(text)
    if boxed:
        return boxed
    marks = _GSM8K.findall(text)
    if marks:
        answer = marks[-1].strip()
        return answer.replace(",", "") if _THOUSANDS.match(answer) else answer
    found = extract_answer(text)
    if found.method in ("tag", "line") and found.answer:
        return found.answer
    return None


def _solution_text(value: Any) -> str | None:
    """A worked solution's text; a list of solutions gives its first one."""
    if isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
        return value[0]
    return as_text(value, "solution", numbers=True)


# --- mapping one record ---------------------------------------------------------------


class _FieldError(Exception):
    def __init__(self, path: str, canon: str, reason: str) -> None:
        self.path, self.canon, self.reason = path, canon, reason
        shown = path if path == canon else f"{path} (as {canon})"
        super().__init__(shown)


_ORDER = ("fn_name", *[c for c in CANONICAL if c != "fn_name"])


def _record_fields(
    record: dict[str, Any], sources: dict[str, tuple[tuple[str, ...], bool]]
) -> tuple[dict[str, Any], dict[str, str], set[str]]:
    """Canonical values of one record, the path each came from, and the keys it used."""
    values: dict[str, Any] = {}
    paths: dict[str, str] = {}
    used: set[str] = set()
    for canon in sorted(sources, key=_ORDER.index):
        candidates, required = sources[canon]
        for path in candidates:
            try:
                raw = lookup(record, path, canon)
            except (PathError, TypeError) as e:
                raise _FieldError(path, canon, str(e)) from None
            if raw is MISSING:
                continue
            used |= heads(path)
            paths[canon] = path
            try:
                values[canon] = _normalize(canon, raw, values)
            except (TypeError, UnreadableTests) as e:
                raise _FieldError(path, canon, str(e)) from None
            break
        else:
            if required:
                raise _FieldError(candidates[0], canon, "missing")
    return values, paths, used


def _normalize(canon: str, raw: Any, values: dict[str, Any]) -> Any:
    if canon == "tests":
        question = values.get("question")
        if not isinstance(raw, Joined):
            return normalize_tests(raw, values.get("fn_name"), question)
        return normalize_joined(list(raw), values.get("fn_name"), question)
    if canon == "messages":
        return parse_turns(raw)
    if canon == "choices":
        return raw  # resolved with the answer once both are known
    if canon == "answer":
        values["_raw_answer"] = raw
    return _NORMALIZERS[canon](raw)


@dataclass
class _Problem:
    """One problem built from a record, with its reference samples (completion, prompt)."""

    question: str
    values: dict[str, Any]
    samples: list[tuple[str, list[dict[str, str]], str | None]]
    verifier: str | None = None
    spec: Any = None
    answer: str | None = None
    source_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _build(
    record: dict[str, Any],
    values: dict[str, Any],
    paths: dict[str, str],
    options: IngestOptions,
    counters: dict[str, int],
) -> list[_Problem]:
    """The problems of one mapped record (several for chats with ``all_turns``)."""
    question = values.get("question")
    answer = values.get("answer")
    solution = values.get("solution")
    responses = list(values.get("responses") or [])
    spec = values.get("tests")

    if answer is None and options.answer_from:
        try:
            raw = get_path(record, options.answer_from)
            text = None if raw is MISSING else _solution_text(raw)
        except (PathError, TypeError) as e:
            raise _FieldError(options.answer_from, "answer", str(e)) from None
        answer = extract_reference_answer(text)
        if answer is None:
            counters["answer_not_found"] = counters.get("answer_not_found", 0) + 1
        if solution is None and text:
            solution = text

    turns: list[Turn] = values.get("messages") or []
    if turns and values.get("system") and not any(t.role == "system" for t in turns):
        turns = [Turn("system", values["system"], {}), *turns]  # e.g. OpenThoughts' field
    problems: list[_Problem] = []
    if turns:
        exchanges = split_exchanges(turns)
        if not exchanges:
            path = paths.get("messages", "messages")
            raise _FieldError(path, "messages", "the conversation has no user turn")
        keep = exchanges if options.all_turns else exchanges[:1]
        if not options.all_turns:
            dropped = sum(1 + len(x.replies) for x in exchanges[1:])
            if dropped:
                counters["turns_dropped"] = counters.get("turns_dropped", 0) + dropped
        base_id = values.get("source_id")
        for k, ex in enumerate(keep, start=1):
            q = question if (k == 1 and question is not None) else None
            if q is None:
                q = ex.user.content if k == 1 else render_transcript(ex.context, ex.user)
            samples = []
            history = [message(t) for t in ex.context if k > 1 or t.role == "system"]
            prompt = [*history, {"role": "user", "content": q if k == 1 else ex.user.content}]
            for reply in ex.replies:
                if reply.role == "assistant" and reply.content.strip():
                    model = reply.info.get("model_name") if reply.info else None
                    samples.append((reply.content, list(prompt), model))
                prompt.append(message(reply))
            p_answer = answer if k == 1 else None
            if p_answer is None and ex.user.info.get("reference_answer") is not None:
                p_answer = non_empty(
                    as_text(ex.user.info["reference_answer"], "answer", numbers=True)
                )
            p_spec = spec if k == 1 else None
            if p_spec is None and ex.user.info.get("test_case"):
                try:
                    p_spec = normalize_tests(ex.user.info["test_case"], values.get("fn_name"))
                except UnreadableTests as e:
                    raise _FieldError(paths.get("messages", "messages"), "tests", str(e)) from None
            sid = base_id if (k == 1 or base_id is None) else f"{base_id}#{k}"
            extra = {"turn": k} if options.all_turns and len(exchanges) > 1 else {}
            problems.append(
                _Problem(
                    q, values, samples, spec=p_spec, answer=p_answer, source_id=sid, extra=extra
                )
            )
    else:
        sid = values.get("source_id")
        problems.append(
            _Problem(question or "", values, [], spec=spec, answer=answer, source_id=sid)
        )
        prompt = [{"role": "user", "content": question or ""}]
        problems[0].samples = [(text, list(prompt), None) for text in responses]

    if "choices" in values:
        _make_choice(problems, values, paths, answer, options)
    problems[0].values = {**values, "solution": solution}
    for p in problems[1:]:
        p.values = {**values, "solution": None, "answer": None}
    if responses and turns:
        prompt = [{"role": "user", "content": problems[0].question}]
        problems[0].samples += [(text, list(prompt), None) for text in responses]
    return problems


def _make_choice(
    problems: list[_Problem],
    values: dict[str, Any],
    paths: dict[str, str],
    answer: str | None,
    options: IngestOptions,
) -> None:
    """Turn the record's first problem into a multiple-choice problem (the others go)."""
    try:
        opts, keys = parse_options(values["choices"])
    except TypeError as e:
        raise _FieldError(paths["choices"], "choices", str(e)) from None
    raw = values.get("_raw_answer")
    try:
        label = choice_label(raw if raw is not None else answer, opts, keys)
    except TypeError as e:
        where = paths.get("answer") or options.answer_from or "answer"
        raise _FieldError(where, "answer", str(e)) from None
    p = problems[0]
    del problems[1:]
    old, p.question = p.question, choice_question(p.question, opts)
    for i, (text, prompt, model) in enumerate(p.samples):
        prompt = [
            {"role": "user", "content": p.question} if m == {"role": "user", "content": old} else m
            for m in prompt
        ]
        p.samples[i] = (text, prompt, model)
    p.answer, p.spec, p.verifier = label, {"options": opts}, "choice"


# --- the mapping itself --------------------------------------------------------------


@dataclass
class _Rows:
    """Column lists being built for problems and samples."""

    p: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in _P_COLS})
    s: dict[str, list[Any]] = field(default_factory=lambda: {k: [] for k in _S_COLS})


_P_COLS = (
    "_row", "question", "answer", "solution", "source_id", "task", "domain",
    "source_level", "license", "verifier", "verifier_spec", "metadata",
)  # fmt: skip
_S_COLS = ("_row", "_p", "completion", "model", "prompt")


def map_source(
    data: SourceData,
    options: IngestOptions,
    *,
    on_error: OnError = raise_error,
    row_offset: int = 0,
    seen: SeenIds | None = None,
) -> Mapped:
    """Map one source's records to problems and samples (pure; nothing is written).

    ``on_error`` receives each bad record's :class:`IngestError`; the default raises, so the
    first bad record stops the ingest. ``row_offset`` numbers records across sources so
    problems and samples of one record stay together in later batching (``_row``).
    ``seen`` carries the ``source_id``s of earlier sources of the same ingest.
    """
    sources = options.field_sources()
    seen = seen if seen is not None else SeenIds()
    if data.table is not None and _columnar(data.table, sources, options):
        return _map_table(data, options, sources, on_error, row_offset, seen)
    records = data.records if data.records is not None else data.table.to_pylist()
    return _map_records(data, records, options, sources, on_error, row_offset, seen)


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
    seen: SeenIds,
) -> Mapped:
    rows = _Rows()
    rejects: list[IngestError] = []
    counters: dict[str, int] = {}
    default_domain = options.resolved_domain
    layout = options.layout
    for i, record in enumerate(records):
        local: dict[str, int] = {}
        try:
            if layout.to_messages is not None:
                try:
                    record = {**record, "__alpaca__": layout.to_messages(record)}
                except TypeError as e:
                    raise _FieldError(layout.consumes[0], "messages", str(e)) from None
            values, paths, used = _record_fields(record, sources)
            used |= set(layout.consumes)
            if options.answer_from:
                used |= heads(options.answer_from)
            domain = values.get("domain") or default_domain
            if domain not in DOMAINS:
                raise _FieldError(
                    paths.get("domain", "domain"), "domain", f"unknown domain {domain!r}"
                )
            problems = _build(record, values, paths, options, local)
            for p in problems:
                if not p.question or not p.question.strip():
                    path = paths.get("question") or paths.get("messages") or "question"
                    raise _FieldError(path, "question", "missing or empty question")
        except _FieldError as e:
            rejects.append(_reject(data, i, e, on_error))
            continue
        for key, n in local.items():
            counters[key] = counters.get(key, 0) + n
        row = row_offset + i
        extra = {k: v for k, v in record.items() if k not in used and k != "__alpaca__"}
        for p in problems:
            _add_problem(rows, row, p, domain, extra, options)
    problems_table = _problems_table(pa.table(rows.p), options)
    samples = _samples_table(rows.s, problems_table, options)
    problems_table, samples = check_source_ids(
        data, problems_table, samples, row_offset, seen, on_error, rejects, counters,
        sources.get("source_id", (("source_id",), False))[0][0],
    )  # fmt: skip
    return Mapped(problems_table, samples, len(records), rejects, counters)


def _add_problem(
    rows: _Rows, row: int, p: _Problem, domain: str, extra: dict[str, Any], options: IngestOptions
) -> None:
    values = p.values
    position = len(rows.p["_row"])
    meta = {**extra, **p.extra}
    cols = rows.p
    cols["_row"].append(row)
    cols["question"].append(p.question)
    cols["answer"].append(p.answer)
    cols["solution"].append(values.get("solution"))
    cols["source_id"].append(p.source_id)
    cols["task"].append(values.get("task"))
    cols["domain"].append(domain)
    cols["source_level"].append(values.get("source_level"))
    cols["license"].append(values.get("license") or options.license)
    cols["verifier"].append(p.verifier)
    cols["verifier_spec"].append(canonical_json(p.spec) if p.spec is not None else None)
    cols["metadata"].append(metadata_json(meta) if options.keep_metadata and meta else None)
    for text, prompt, model in p.samples:
        rows.s["_row"].append(row)
        rows.s["_p"].append(position)
        rows.s["completion"].append(text)
        rows.s["model"].append(model or values.get("model") or options.model or "unknown")
        rows.s["prompt"].append(prompt)


def metadata_json(value: dict[str, Any]) -> str:
    """Unmapped fields as JSON text; NaN and infinities (not JSON) become null."""
    try:
        return json.dumps(value, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), ensure_ascii=False, default=str, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# --- the columnar fast path ----------------------------------------------------------


def _column_path(table: pa.Table, path: str) -> pa.DataType | None:
    """The type at ``path`` when it is a column or struct field of ``table``, else None."""
    if is_template(path) or "+" in path:
        return None
    if path in table.column_names:
        return table.schema.field(path).type
    head, *rest = path.split(".")
    if head not in table.column_names:
        return None
    t = table.schema.field(head).type
    for part in rest:
        if not pa.types.is_struct(t) or t.get_field_index(part) < 0:
            return None
        t = t.field(part).type
    return t


_SCALAR = (pa.types.is_string, pa.types.is_large_string, pa.types.is_integer,
           pa.types.is_floating, pa.types.is_null)  # fmt: skip


def _columnar(
    table: pa.Table, sources: dict[str, tuple[tuple[str, ...], bool]], options: IngestOptions
) -> bool:
    """Whether every mapped field is a scalar column (or struct field): the fast path."""
    if options.answer_from or options.layout.to_messages or any(c in sources for c in _COMPLEX):
        return False
    for paths, _ in sources.values():
        for path in paths:
            if is_template(path) or "+" in path:
                return False
            head = path.split(".", 1)[0]
            if head in table.column_names or path in table.column_names:
                t = _column_path(table, path)
                if t is None or not any(check(t) for check in _SCALAR):
                    return False
                break  # the first present candidate is the one used
    return True


def _table_column(
    data: SourceData, canon: str, paths: tuple[str, ...], required: bool
) -> tuple[pa.ChunkedArray | None, str | None]:
    table = data.table
    assert table is not None
    for path in paths:
        if path in table.column_names:
            return table.column(path), path
        head, *rest = path.split(".")
        if head not in table.column_names:
            continue
        col = table.column(head)
        for part in rest:
            col = pc.struct_field(col, part)
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
    seen: SeenIds,
) -> Mapped:
    """Columnar mapping for tables whose fields are all scalars (the fast path)."""
    table = data.table
    assert table is not None
    n = table.num_rows
    cols: dict[str, pa.ChunkedArray | pa.Array] = {}
    paths: dict[str, str] = {}
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
            err = IngestError(data.name, reason, line=data.line_of(i), field=path, mapped_to=canon)
            on_error(err)  # raises unless bad rows are skipped
            rejects.append(err)
        bad = pc.or_(bad, mask)

    for canon, (candidates, required) in sources.items():
        col, path = _table_column(data, canon, candidates, required)
        if col is None or path is None:
            continue
        paths[canon] = path
        used.add(path if path in table.column_names else path.split(".", 1)[0])
        t = col.type
        if canon == "source_level":
            if pa.types.is_integer(t):
                col = col.cast(pa.int32())
            elif pa.types.is_floating(t):
                whole = pc.equal(pc.floor(col), col)
                flag(pc.invert(whole), canon, path, "expected an integer level")
                col = pc.if_else(whole, col, None).cast(pa.int32())
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
        elif canon in ("answer", "source_id", "task") and pa.types.is_integer(t):
            col = col.cast(pa.string())
        elif canon in ("answer", "source_id", "task") and pa.types.is_floating(t):
            finite = pc.is_finite(col)  # NaN and infinities are no answer
            col = pc.if_else(finite, col, None).cast(pa.string())
        else:
            flag(pc.is_valid(col), canon, path, f"expected text, got {t}")
            col = pa.nulls(n, pa.string())
        cols[canon] = col

    question = cols.get("question")
    if question is None:
        raise IngestError(data.name, "missing (no such column)", line=1, field="question")
    qpath = paths["question"]
    # null, "" or whitespace only (any Unicode whitespace: it normalizes to "")
    blank = pc.or_(pc.equal(pc.binary_length(question), 0), pc.utf8_is_space(question))
    empty = pc.or_kleene(pc.is_null(question), blank)
    flag(empty, "question", qpath, "missing or empty question")
    if "answer" in cols:  # "" and whitespace-only answers are no answer
        ans = cols["answer"]
        cols["answer"] = pc.if_else(
            pc.utf8_is_space(pc.utf8_replace_slice(ans, 0, 0, " ")), None, ans
        )
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
    counters: dict[str, int] = {}
    problems = _problems_table(mapped, options)
    empty_samples = _samples_table({c: [] for c in _S_COLS}, problems, options)
    problems, empty_samples = check_source_ids(
        data, problems, empty_samples, row_offset, seen, on_error, rejects, counters,
        paths.get("source_id", "source_id"),
    )  # fmt: skip
    return Mapped(problems, empty_samples, n, rejects, counters)


def check_source_ids(
    data: SourceData, problems: pa.Table, samples: pa.Table, row_offset: int, seen: SeenIds,
    on_error: OnError, rejects: list[IngestError], counters: dict[str, int], path: str,
) -> tuple[pa.Table, pa.Table]:  # fmt: skip
    """Report rows whose ``source_id`` an earlier row used for different content.

    Vectorized: only ids that repeat (within this source or against ``seen``) are looked
    at one by one. Rejected rows leave ``problems`` and their samples leave ``samples``.
    """
    n = problems.num_rows
    sids = problems.column("source_id")
    if n == 0 or sids.null_count == n:
        return problems, samples
    index = problems.column("_row").to_numpy() - row_offset
    lines = index + 1 if data.lines is None else np.asarray(data.lines, dtype=np.int64)[index]
    files = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([data.name]))
    here = pa.table(
        {
            "source_id": sids,
            "problem_id": problems.column("problem_id"),
            "answer": problems.column("answer"),
            "verifier_spec": problems.column("verifier_spec"),
            "file": files,
            "line": pa.array(lines, pa.int64()),
        }
    )
    repeated = _repeated(pc.drop_null(sids).combine_chunks())
    earlier = pa.concat_tables(seen.tables) if seen.tables else None
    suspects = repeated
    if earlier is not None:
        present = pc.drop_null(sids).combine_chunks()
        known = earlier.column("source_id").combine_chunks()
        again = pc.unique(present.filter(pc.is_in(present, value_set=known)))
        suspects = pa.concat_arrays([repeated, again.cast(repeated.type)])
    keep = np.ones(n, dtype=bool)
    if len(suspects):
        first: dict[str, tuple[str, int, tuple[Any, ...]]] = {}
        if earlier is not None:
            mask = pc.is_in(earlier.column("source_id"), value_set=suspects)
            for row in earlier.filter(mask).to_pylist():
                first.setdefault(row["source_id"], _content(row))
        mask = pc.fill_null(pc.is_in(sids, value_set=suspects), False)
        for i in pc.indices_nonzero(mask).to_pylist():
            row = here.slice(i, 1).to_pylist()[0]
            sid, mine = row["source_id"], _content(row)
            if sid not in first:
                first[sid] = mine
            elif first[sid][2] == mine[2]:
                counters["duplicate_rows"] = counters.get("duplicate_rows", 0) + 1
            else:
                file, line = first[sid][0], first[sid][1]
                where = f"line {line}" if file == data.name else f"{file} line {line}"
                err = IngestError(
                    data.name, f"source_id {sid!r} was already used by {where} for different "
                    "content", line=row["line"], field=path, mapped_to="source_id",
                )  # fmt: skip
                on_error(err)  # raises unless bad rows are skipped
                rejects.append(err)
                keep[i] = False
    if not keep.all():  # a rejected row takes its whole record (problems and samples)
        gone = pc.filter(problems.column("_row"), pa.array(~keep))
        mask = pc.invert(pc.is_in(problems.column("_row"), value_set=gone))
        problems, here = problems.filter(mask), here.filter(mask)
        if samples.num_rows:
            samples = samples.filter(pc.invert(pc.is_in(samples.column("_row"), value_set=gone)))
    seen.tables.append(here.filter(pc.is_valid(here.column("source_id"))))
    return problems, samples


def _repeated(values: pa.Array) -> pa.Array:
    """The values that occur more than once (sorting: cheaper than counting each)."""
    if len(values) < 2:
        return values.slice(0, 0)
    ordered = values.take(pc.sort_indices(values))
    same = pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
    if not pc.any(same).as_py():
        return values.slice(0, 0)
    return pc.unique(ordered.slice(1).filter(same))


def _content(row: dict[str, Any]) -> tuple[str, int, tuple[Any, ...]]:
    return row["file"], row["line"], (row["problem_id"], row["answer"], row["verifier_spec"])


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
    given = cols.pop("verifier", None)
    single = pc.unique(domains) if n else pa.array([], pa.string())
    if options.verifier is not None:
        verifier: Any = pa.repeat(options.verifier, n)
    elif len(single) == 1:  # the usual case: one domain for the whole source
        verifier = pa.repeat(pa.scalar(DEFAULT_VERIFIERS.get(single[0].as_py()), pa.string()), n)
    else:
        verifier = pa.nulls(n, pa.string())
        for domain, name in DEFAULT_VERIFIERS.items():
            verifier = pc.if_else(pc.equal(domains, domain), name, verifier)
    if given is not None and options.verifier is None and given.null_count < n:
        verifier = pc.coalesce(given, verifier)  # per-record verifiers (multiple choice)
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


def _samples_table(s: dict[str, list[Any]], problems: pa.Table, options: IngestOptions) -> pa.Table:
    from tracemill.pipelines.extract import extract_answer

    if not s["_row"]:
        return conform("samples", []).append_column("_row", pa.array([], pa.int64()))
    pids = problems.column("problem_id").to_pylist()
    origin = f"ingest:{options.source}"
    out: dict[str, list[Any]] = {k: [] for k in (
        "sample_id", "problem_id", "model", "params", "sample_index", "prompt", "completion",
        "reasoning", "final", "extracted_answer", "_row")}  # fmt: skip
    position: dict[int, int] = {}
    for row, p, text, model, prompt in zip(
        s["_row"], s["_p"], s["completion"], s["model"], s["prompt"], strict=True
    ):
        pid = pids[p]
        index = position.get(p, 0)
        position[p] = index + 1
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
