"""Explicit Arrow schemas of every catalog table.

Writers never infer a schema: every batch is cast to the table's schema before it is
stored. Structured, family-specific payloads (verifier specs, generator knobs,
sampling params, verdict details) are JSON text so that any family can add fields
without a schema migration; DuckDB's JSON functions query them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")
MESSAGE = pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())])
MESSAGES = pa.list_(MESSAGE)

DOMAINS = ("math", "code", "logic", "sat", "science", "other")
ROLES = ("teacher", "student", "reference", "judge")
"""`reference` marks a response that came with the source data (not sampled by us)."""


def _f(name: str, typ: pa.DataType, nullable: bool = True, doc: str = "") -> pa.Field:
    meta = {b"doc": doc.encode()} if doc else None
    return pa.field(name, typ, nullable=nullable, metadata=meta)


PROBLEMS = pa.schema(
    [
        _f("problem_id", pa.string(), False, "hash(domain, normalized question); see catalogs.ids"),
        _f("source", pa.string(), False, "name given at ingest or synth family"),
        _f("source_id", pa.string(), doc="the record's id in its source"),
        _f("domain", pa.string(), False, "math, code, logic, sat, science or other"),
        _f("task", pa.string(), doc="finer task or synthetic family name"),
        _f("question", pa.string(), False, "the problem statement as given"),
        _f("answer", pa.string(), doc="reference final answer"),
        _f("solution", pa.string(), doc="reference worked solution, if any"),
        _f("verifier", pa.string(), doc="registered verifier name"),
        _f("verifier_spec", pa.string(), doc="JSON: tests, puzzle metadata, tolerances"),
        _f("generator", pa.string(), doc="JSON: synthetic generator name, knobs, seed, index"),
        _f("source_level", pa.int32(), doc="difficulty level given by source/generator"),
        _f("license", pa.string()),
        _f("metadata", pa.string(), doc="JSON: other source fields kept verbatim"),
        _f("created_at", TIMESTAMP, False),
        _f("run_id", pa.string()),
    ]
)

SAMPLES = pa.schema(
    [
        _f("sample_id", pa.string(), False, "hash(problem_id, model, params, sample_index)"),
        _f("problem_id", pa.string(), False),
        _f("role", pa.string(), False, "teacher, student, reference or judge"),
        _f("origin", pa.string(), False, "generate, or ingest:<source> for existing responses"),
        _f("model", pa.string(), False),
        _f("backend", pa.string(), False, "vllm, openai, transformers, llamacpp or ingest"),
        _f("params", pa.string(), False, "JSON: sampling params (canonical, sorted keys)"),
        _f("sample_index", pa.int32(), False),
        _f("prompt", MESSAGES, doc="chat messages sent to the model"),
        _f("completion", pa.string(), False, "the full completion text"),
        _f("reasoning", pa.string(), doc="the part inside <think>…</think> or reasoning_content"),
        _f("final", pa.string(), doc="the part after the reasoning"),
        _f("extracted_answer", pa.string()),
        _f("prompt_tokens", pa.int32()),
        _f("completion_tokens", pa.int32()),
        _f("reasoning_tokens", pa.int32()),
        _f("finish_reason", pa.string(), doc="stop, length, error, …"),
        _f("latency_s", pa.float64()),
        _f("created_at", TIMESTAMP, False),
        _f("run_id", pa.string()),
        _f(
            "cost_usd",
            pa.float64(),
            doc="what the sample cost: the server's usage-reported cost, else the run's "
            "prices times its token counts; null when neither is known",
        ),
    ]
)

VERDICTS = pa.schema(
    [
        _f("sample_id", pa.string(), False),
        _f("problem_id", pa.string(), False),
        _f("verifier", pa.string(), False),
        _f("verifier_version", pa.string(), False),
        _f("passed", pa.bool_(), False),
        _f("score", pa.float64(), False, "in [0, 1]"),
        _f("reason", pa.string(), False, "ok, wrong, no_answer, timeout, runtime_error, …"),
        _f("detail", pa.string(), doc="JSON: extracted answer, failing test, …"),
        _f("latency_s", pa.float64()),
        _f("created_at", TIMESTAMP, False),
        _f("run_id", pa.string()),
    ]
)

DEDUP = pa.schema(
    [
        _f("problem_id", pa.string(), False),
        _f("method", pa.string(), False, "exact, near, semantic or decontam"),
        _f("config_id", pa.string(), False, "hash of the method's parameters (the dedup 'run')"),
        _f("cluster", pa.string(), doc="cluster id within this method/config"),
        _f("representative", pa.string(), doc="problem_id kept for the cluster"),
        _f("similarity", pa.float64(), doc="similarity to the representative or match"),
        _f("kept", pa.bool_(), False),
        _f("contamination", pa.string(), doc="benchmark name matched, for decontam"),
        _f("detail", pa.string(), doc="JSON: matched text, n-gram, params"),
        _f("created_at", TIMESTAMP, False),
        _f("run_id", pa.string()),
    ]
)

GRADES = pa.schema(
    [
        _f("problem_id", pa.string(), False),
        _f("grader_model", pa.string(), False),
        _f("params_id", pa.string(), False, "hash of grading method + sampling params"),
        _f("method", pa.string(), False, "fixed_k, adaptive_k or answer_first"),
        _f("params", pa.string(), doc="JSON: sampling params, bins, k"),
        _f("k", pa.int32(), False, "samples drawn"),
        _f("passes", pa.int32(), False),
        _f("pass_rate", pa.float64(), False),
        _f("ci_low", pa.float64(), doc="Wilson interval lower bound"),
        _f("ci_high", pa.float64(), doc="Wilson interval upper bound"),
        _f("level", pa.int32(), False),
        _f("mean_tokens", pa.float64()),
        _f("created_at", TIMESTAMP, False),
        _f("run_id", pa.string()),
    ]
)

RUNS = pa.schema(
    [
        _f("run_id", pa.string(), False, "the run_id that rows written by the run carry"),
        _f(
            "flow",
            pa.string(),
            False,
            "what ran: a CLI command (ingest, distill, …), recipe:NAME, or a recipe stage's "
            "stage name",
        ),
        _f("recipe", pa.string(), doc="the recipe (YAML text) of a recipe run"),
        _f("started_at", TIMESTAMP, False),
        _f("ended_at", TIMESTAMP),
        _f("status", pa.string(), False, "completed, failed or interrupted"),
        _f("counts", pa.string(), doc="JSON: the counters (a recipe's: per stage)"),
        _f("code_version", pa.string()),
        _f("error", pa.string(), doc="one line: why a failed run failed"),
        # added after the first release: null in rows written before (see stores.catalog)
        _f("parent_run_id", pa.string(), doc="the recipe run a stage ran in"),
        _f("label", pa.string(), doc="a recipe stage's label"),
        _f("config", pa.string(), doc="JSON: the validated config (secret values redacted)"),
        _f("duration_s", pa.float64(), doc="wall-clock seconds"),
        _f("prompt_tokens", pa.int64(), doc="prompt tokens sent to models (distill, grade)"),
        _f("completion_tokens", pa.int64(), doc="completion tokens generated by models"),
        _f(
            "cost_usd",
            pa.float64(),
            doc="what the run's model calls cost (sum of its samples' cost_usd); null "
            "when no price is known",
        ),
    ]
)

DATASETS = pa.schema(
    [
        _f("name", pa.string(), False),
        _f("version", pa.int32(), False),
        _f("kind", pa.string(), False, "sft, rl, pairs or selection"),
        _f("query", pa.string(), False, "SQL that re-reads the dataset at `snapshot_id`"),
        _f("rows", pa.int64(), False),
        _f("snapshot_id", pa.int64(), doc="catalog snapshot the query reads"),
        _f("params", pa.string(), doc="JSON: build/selection parameters"),
        _f("export_target", pa.string()),
        _f("created_at", TIMESTAMP, False),
        _f("run_id", pa.string()),
    ]
)

TEACHER_BATCHES = pa.schema(
    [
        _f("job_id", pa.string(), False, "a batch job of a distill run (random id)"),
        _f("event", pa.string(), False, "planned, submitted or finished"),
        _f("model", pa.string(), False, "model name recorded on the job's samples"),
        _f("backend", pa.string(), False, "openai"),
        _f("base_url", pa.string(), doc="the provider's API base URL"),
        _f("params", pa.string(), False, "params text hashed into the job's sample ids"),
        _f("sample_ids", pa.list_(pa.string()), doc="planned: the job's samples (custom_ids)"),
        _f("requests", pa.int64(), doc="planned: requests in the batch file"),
        _f("batch_id", pa.string(), doc="the provider's batch id"),
        _f("input_file_id", pa.string()),
        _f("status", pa.string(), doc="finished: completed, expired, failed, cancelled, lost "
           "(the provider no longer knows the batch) or superseded (its samples all exist)"),
        _f("output_file_id", pa.string()),
        _f("error_file_id", pa.string()),
        _f("counts", pa.string(), doc="JSON: finished: stored, failed, retry, provider counts"),
        _f("created_at", TIMESTAMP, False),
        _f("run_id", pa.string()),
    ]
)


@dataclass(frozen=True)
class TableSpec:
    """A catalog table: its name, schema and key columns (rows are unique on the key)."""

    name: str
    schema: pa.Schema
    key: tuple[str, ...]
    doc: str


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in (
        TableSpec("problems", PROBLEMS, ("problem_id",), "one row per distinct problem"),
        TableSpec("samples", SAMPLES, ("sample_id",), "model responses, generated or ingested"),
        TableSpec(
            "verdicts",
            VERDICTS,
            ("sample_id", "verifier", "verifier_version"),
            "verification results; views pick the latest version",
        ),
        TableSpec("dedup", DEDUP, ("problem_id", "method", "config_id"), "dedup decisions"),
        TableSpec("grades", GRADES, ("problem_id", "grader_model", "params_id"), "difficulty"),
        TableSpec("runs", RUNS, ("run_id",), "one row per flow run"),
        TableSpec("datasets", DATASETS, ("name", "version"), "built datasets and selections"),
        TableSpec(
            "teacher_batches",
            TEACHER_BATCHES,
            ("job_id", "event"),
            "Batch API jobs of distill runs: planned, submitted (batch id), finished",
        ),
    )
}


def table_spec(name: str) -> TableSpec:
    """Return the spec of table `name`, with a clear error for unknown names."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; tables are {', '.join(TABLES)}") from None


def empty_table(name: str) -> pa.Table:
    """An empty Arrow table with the schema of `name`."""
    return table_spec(name).schema.empty_table()


class SchemaError(ValueError):
    """A batch does not fit its table's schema."""


def _from_rows(name: str, schema: pa.Schema, rows: list[dict]) -> pa.Table:
    """Rows → table with the declared types of the keys any row uses (not just the first)."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    extra = [k for k in keys if schema.get_field_index(k) < 0]
    if extra:
        raise SchemaError(f"{name}: unknown column(s) {', '.join(extra)}")
    present = pa.schema([schema.field(k) for k in keys]).remove_metadata()
    present = pa.schema([f.with_nullable(True) for f in present])
    try:
        return pa.Table.from_pylist(rows, schema=present)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as e:
        raise SchemaError(f"{name}: a value does not fit its column: {e}") from e


def conform(name: str, data: pa.Table | list[dict]) -> pa.Table:
    """Return `data` as a table with exactly the schema of `name`.

    Rows (dicts) or a table may omit nullable columns (filled with nulls) and
    ``created_at`` (filled with the current time); extra columns are an error, as are
    nulls in non-nullable columns and values that do not cast to the declared type.
    """
    from datetime import UTC, datetime

    spec = table_spec(name)
    schema = spec.schema
    table = _from_rows(name, schema, data) if isinstance(data, list) else data
    if table.schema.equals(schema) and not any(
        table.column(f.name).null_count for f in schema if not f.nullable
    ):
        return table  # already conformed: nothing to cast or fill
    n = table.num_rows
    extra = [c for c in table.column_names if schema.get_field_index(c) < 0]
    if extra:
        raise SchemaError(f"{name}: unknown column(s) {', '.join(extra)}")
    columns = []
    for field in schema:
        if field.name in table.column_names:
            col = table.column(field.name)
            try:
                col = col.cast(field.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
                raise SchemaError(f"{name}.{field.name}: cannot store as {field.type}: {e}") from e
        elif field.name == "created_at":
            col = pa.repeat(pa.scalar(datetime.now(UTC), field.type), n)
        else:
            col = pa.nulls(n, field.type)
        if not field.nullable and col.null_count:
            raise SchemaError(f"{name}.{field.name}: {col.null_count} null value(s) not allowed")
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=schema)
