"""Reusable DuckDB SQL over the catalog tables, optionally pinned to a snapshot.

Each function returns SQL text (a ``SELECT``) that can be embedded as a sub-query or a
CTE. With ``snapshot=N`` every table is read ``AT (VERSION => N)`` (DuckLake time
travel), so a query stored with its snapshot re-reads exactly the same rows later.

Rules (part of the contract of the builds):

- **Latest verdict**: per ``(sample_id, verifier)`` the row with the highest
  ``verifier_version``. Versions are strings compared *as versions*: split on ``.``,
  each part compared as an integer (non-digits dropped, empty parts count as -1), so
  ``"1.10" > "1.9" > "1"``; ties (``"2a"`` vs ``"2b"``) fall back to plain text order,
  then to the newer ``created_at``.
- **Sample status**: a sample *passes* when it has at least one latest verdict and all
  of its latest verdicts (one per verifier) passed; it *fails* when any latest verdict
  failed; samples without verdicts have no status (neither positive nor negative).
- **Level** of a problem: the ``level`` of its most recent ``grades`` row (ties: the
  grader/params with the smallest id), else the problem's ``source_level``; the pass
  rate comes from the same grades row.
- **Dropped problem**: a problem with any ``dedup`` row whose ``kept`` is false (any
  method, any config), i.e. a duplicate or a contaminated problem.
"""

from __future__ import annotations

# Failure reasons that say nothing about the response (infrastructure, missing
# reference): such verdicts never make a sample a negative example.
INFRA_REASONS: tuple[str, ...] = ("verifier_error", "sandbox_error", "judge_error", "no_reference")


def table_at(name: str, snapshot: int | None = None, alias: str | None = None) -> str:
    """``name [AS alias]`` for a FROM clause, ``AT (VERSION => snapshot)`` when pinned."""
    ref = name if alias is None else f"{name} AS {alias}"
    return ref if snapshot is None else f"{ref} AT (VERSION => {int(snapshot)})"


def version_sort_key(column: str) -> str:
    """A DuckDB expression ordering version strings numerically part by part."""
    return (
        "list_transform(string_split(regexp_replace("
        f"{column}, '[^0-9.]', '', 'g'), '.'), x -> coalesce(TRY_CAST(x AS BIGINT), -1))"
    )


def latest_verdicts_sql(snapshot: int | None = None) -> str:
    """One verdict per (sample_id, verifier): the one with the highest verifier_version."""
    return (
        f"SELECT * FROM {table_at('verdicts', snapshot)} "
        "QUALIFY row_number() OVER (PARTITION BY sample_id, verifier ORDER BY "
        f"{version_sort_key('verifier_version')} DESC, verifier_version DESC, "
        "created_at DESC) = 1"
    )


def sample_status_sql(snapshot: int | None = None) -> str:
    """Per verified sample: passed (all latest verdicts passed), score, reasons, verifiers.

    Columns: ``sample_id, problem_id, passed, score, reason, verifiers, infra_failure``.
    ``score`` is the lowest latest score; ``reason`` the failing reason (or ``ok``);
    ``infra_failure`` is true when a failing verdict has an infrastructure reason.
    """
    infra = ", ".join(f"'{r}'" for r in INFRA_REASONS)
    return (
        "SELECT sample_id, any_value(problem_id) AS problem_id, bool_and(passed) AS passed, "
        "min(score) AS score, "
        "coalesce(min(reason) FILTER (WHERE NOT passed), 'ok') AS reason, "
        "string_agg(verifier || '@' || verifier_version, ',' ORDER BY verifier) AS verifiers, "
        f"bool_or(NOT passed AND reason IN ({infra})) AS infra_failure "
        f"FROM ({latest_verdicts_sql(snapshot)}) GROUP BY sample_id"
    )


def passing_samples_sql(snapshot: int | None = None) -> str:
    """Samples (all ``samples`` columns) whose latest verdicts all passed."""
    return (
        f"SELECT s.* FROM {table_at('samples', snapshot, 's')} "
        f"JOIN ({sample_status_sql(snapshot)}) AS st USING (sample_id) WHERE st.passed"
    )


def failing_samples_sql(snapshot: int | None = None) -> str:
    """Samples whose latest verdicts include a failure caused by the response itself."""
    return (
        f"SELECT s.* FROM {table_at('samples', snapshot, 's')} "
        f"JOIN ({sample_status_sql(snapshot)}) AS st USING (sample_id) "
        "WHERE NOT st.passed AND NOT st.infra_failure"
    )


def problem_levels_sql(snapshot: int | None = None) -> str:
    """Per problem: ``problem_id, level, pass_rate, grader_model`` (grades, else source)."""
    latest_grade = (
        "SELECT problem_id, level, pass_rate, grader_model "
        f"FROM {table_at('grades', snapshot)} "
        "QUALIFY row_number() OVER (PARTITION BY problem_id "
        "ORDER BY created_at DESC, grader_model, params_id) = 1"
    )
    return (
        "SELECT p.problem_id, coalesce(g.level, p.source_level) AS level, "
        "g.pass_rate AS pass_rate, g.grader_model AS grader_model "
        f"FROM {table_at('problems', snapshot, 'p')} "
        f"LEFT JOIN ({latest_grade}) AS g USING (problem_id)"
    )


def dropped_problems_sql(snapshot: int | None = None) -> str:
    """``problem_id`` of problems some dedup/decontamination run did not keep."""
    return f"SELECT DISTINCT problem_id FROM {table_at('dedup', snapshot)} WHERE NOT kept"
