from datetime import UTC, datetime

import pyarrow as pa
import pytest
from tracemill.catalogs import TABLES, SchemaError, conform, empty_table

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

SAMPLE_ROWS = {
    "problems": {
        "problem_id": "p1", "source": "s", "source_id": "1", "domain": "math", "task": "t",
        "question": "q?", "answer": "4", "solution": "sol", "verifier": "math",
        "verifier_spec": "{}", "generator": None, "source_level": 3, "license": "MIT",
        "metadata": '{"x":1}', "created_at": NOW, "run_id": "r",
    },
    "samples": {
        "sample_id": "s1", "problem_id": "p1", "role": "teacher", "origin": "generate",
        "model": "m", "backend": "openai", "params": "{}", "sample_index": 0,
        "prompt": [{"role": "user", "content": "q?"}], "completion": "<think>r</think>4",
        "reasoning": "r", "final": "4", "extracted_answer": "4", "prompt_tokens": 3,
        "completion_tokens": 5, "reasoning_tokens": 1, "finish_reason": "stop",
        "latency_s": 0.5, "created_at": NOW, "run_id": "r", "cost_usd": 0.0012,
    },
    "verdicts": {
        "sample_id": "s1", "problem_id": "p1", "verifier": "math", "verifier_version": "1",
        "passed": True, "score": 1.0, "reason": "ok", "detail": "{}", "latency_s": 0.01,
        "created_at": NOW, "run_id": "r",
    },
    "dedup": {
        "problem_id": "p1", "method": "exact", "config_id": "c", "cluster": "k",
        "representative": "p0", "similarity": 1.0, "kept": False, "contamination": None,
        "detail": None, "created_at": NOW, "run_id": "r",
    },
    "grades": {
        "problem_id": "p1", "grader_model": "m", "params_id": "g", "method": "fixed_k",
        "params": "{}", "k": 8, "passes": 4, "pass_rate": 0.5, "ci_low": 0.2, "ci_high": 0.8,
        "level": 5, "mean_tokens": 100.0, "created_at": NOW, "run_id": "r",
    },
    "runs": {
        "run_id": "r", "flow": "ingest", "recipe": None, "started_at": NOW, "ended_at": NOW,
        "status": "completed", "counts": "{}", "code_version": "x", "error": None,
        "parent_run_id": "p", "label": "ingest-math", "config": '{"source": "s"}',
        "duration_s": 1.5, "prompt_tokens": 10, "completion_tokens": 20, "cost_usd": 0.5,
    },
    "datasets": {
        "name": "d", "version": 1, "kind": "sft", "query": "SELECT 1", "rows": 1,
        "snapshot_id": 3, "params": "{}", "export_target": None, "created_at": NOW,
        "run_id": "r",
    },
    "teacher_batches": {
        "job_id": "j", "event": "finished", "model": "m", "backend": "openai",
        "base_url": "http://127.0.0.1:9/v1", "params": "{}", "sample_ids": ["s1"],
        "requests": 1, "batch_id": "batch_1", "input_file_id": "file-1",
        "status": "completed", "output_file_id": "file-2", "error_file_id": None,
        "counts": "{}", "created_at": NOW, "run_id": "r",
    },
}  # fmt: skip


def test_every_table_has_a_sample_row():
    assert set(SAMPLE_ROWS) == set(TABLES)
    for name, row in SAMPLE_ROWS.items():
        assert list(row) == TABLES[name].schema.names, name


@pytest.mark.parametrize("name", sorted(TABLES))
def test_schema_round_trip_through_catalog(catalog, name):
    table = conform(name, [SAMPLE_ROWS[name]])
    assert table.schema == TABLES[name].schema
    result = catalog.append({name: table})
    assert result[name].inserted == 1
    back = catalog.read(name)
    assert back.schema == TABLES[name].schema
    assert back.to_pylist() == table.to_pylist()


def test_conform_fills_nullable_and_created_at():
    t = conform("runs", [{"run_id": "r", "flow": "f", "started_at": NOW, "status": "ok"}])
    assert t.column("ended_at").null_count == 1


def test_conform_rejects_unknown_column_null_key_and_bad_type():
    with pytest.raises(SchemaError, match="unknown column"):
        conform("runs", [{"run_id": "r", "bogus": 1}])
    with pytest.raises(SchemaError, match="problems.question"):
        conform("problems", [{"problem_id": "p", "source": "s", "domain": "math"}])
    with pytest.raises(SchemaError, match="grades.k"):
        conform("grades", pa.Table.from_pylist([{**SAMPLE_ROWS["grades"], "k": "x"}]))


def test_empty_tables():
    for name in TABLES:
        assert empty_table(name).num_rows == 0


def test_conform_rows_keeps_keys_that_only_later_rows_have():
    # regression: columns used to come from the first row only, silently dropping later keys
    rows = [
        {"problem_id": "p1", "source": "s", "domain": "math", "question": "q1"},
        {"problem_id": "p2", "source": "s", "domain": "math", "question": "q2", "source_level": 4},
    ]
    t = conform("problems", rows)
    assert t.column("source_level").to_pylist() == [None, 4]
    with pytest.raises(SchemaError, match="unknown column"):
        conform("problems", [rows[0], {**rows[1], "bogus": 1}])
    with pytest.raises(SchemaError, match="does not fit"):
        conform("problems", [{**rows[0], "source_level": "high"}])
