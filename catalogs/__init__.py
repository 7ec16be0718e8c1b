"""Arrow schemas of every table, stable ids, the table registry and DuckDB views."""

from tracemill.catalogs.ids import (
    canonical_json,
    config_id,
    new_run_id,
    normalize_question,
    problem_id,
    problem_ids,
    sample_id,
    sample_ids,
)
from tracemill.catalogs.schemas import (
    DOMAINS,
    ROLES,
    TABLES,
    SchemaError,
    TableSpec,
    conform,
    empty_table,
    table_spec,
)

__all__ = [
    "DOMAINS",
    "ROLES",
    "TABLES",
    "SchemaError",
    "TableSpec",
    "canonical_json",
    "config_id",
    "conform",
    "empty_table",
    "new_run_id",
    "normalize_question",
    "problem_id",
    "problem_ids",
    "sample_id",
    "sample_ids",
    "table_spec",
]
