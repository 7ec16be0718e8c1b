"""DuckDB views over the catalog: latest verdicts, problem features, kept problems.

Each view is a SQL text (usable in ``tracemill sql`` or any DuckDB connection that has
the catalog attached as the default database); :func:`create_views` defines them as
temporary views on a connection.

``kept_problems`` is the curated problem set: every problem that no ``dedup`` row
drops (``kept = false``), under any method and config — exact, near and semantic
duplicates and benchmark-contaminated problems are all left out::

    SELECT count(*) FROM kept_problems;

:func:`kept_problems_sql` narrows that to some methods or configs (e.g. only
``decontam``).

``latest_verdicts`` holds one verdict per (sample, verifier), the highest version;
``verdict_disagreements`` lists samples whose verifiers disagree (an audit queue)::

    SELECT * FROM verdict_disagreements WHERE list_contains(failed_verifiers, 'math');
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

LATEST_GRADES_SQL = """\
SELECT * FROM grades
QUALIFY row_number() OVER (
    PARTITION BY problem_id ORDER BY created_at DESC, grader_model, params_id
) = 1"""
"""The latest grade per problem."""


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def kept_problems_sql(
    methods: Sequence[str] | None = None, config_ids: Sequence[str] | None = None
) -> str:
    """Problems that no ``dedup`` row drops (optionally counting only some methods/configs)."""
    cond = ["NOT d.kept"]
    if methods:
        cond.append(f"d.method IN ({', '.join(_quote(m) for m in methods)})")
    if config_ids:
        cond.append(f"d.config_id IN ({', '.join(_quote(c) for c in config_ids)})")
    return (
        "SELECT p.* FROM problems p WHERE NOT EXISTS "
        f"(SELECT 1 FROM dedup d WHERE d.problem_id = p.problem_id AND {' AND '.join(cond)})"
    )


def curated_problems_sql(methods: Sequence[str] | None = None) -> str:
    """The curated problem set (same as :func:`kept_problems_sql`)."""
    return kept_problems_sql(methods)


def problem_features_sql(where: str | None = None) -> str:
    """Problems with what curation's keep policy reads.

    Columns: ``problem_id``, ``question``, ``answer``, ``created_at``, ``has_passing``
    (some sample's latest verdict passed), ``level`` (latest grade, else the source's
    level). ``where`` filters ``problems`` (columns unqualified).
    """
    filt = f"WHERE {where}" if where else ""
    return f"""\
WITH pv AS (
    SELECT problem_id, bool_or(passed) AS has_passing FROM ({latest_verdicts_sql()})
    GROUP BY problem_id
), g AS ({LATEST_GRADES_SQL}),
p AS (SELECT * FROM problems {filt})
SELECT p.problem_id, p.question, p.answer, p.created_at,
       coalesce(pv.has_passing, false) AS has_passing,
       CAST(coalesce(g.level, p.source_level) AS INTEGER) AS level
FROM p LEFT JOIN pv ON pv.problem_id = p.problem_id
LEFT JOIN g ON g.problem_id = p.problem_id
ORDER BY p.problem_id"""




# --- snapshot-pinned views used by the dataset builds (tracemill.pipelines.build) --------------
#
# Each function returns a SELECT; with ``snapshot=N`` every table is read
# ``AT (VERSION => N)`` (DuckLake time travel), so a query stored with its snapshot
# re-reads exactly the same rows later. Rules the builds rely on:
#
# - latest verdict: per (sample_id, verifier) the row with the highest verifier_version,
#   versions compared as versions: split on ".", each part an integer (non-digits
#   dropped, empty parts -1), so "1.10" > "1.9" > "1"; ties fall back to text order, then
#   to the newer created_at.
# - sample status: a sample passes when it has a latest verdict and all its latest
#   verdicts (one per verifier) passed; it fails when any latest verdict failed;
#   samples without verdicts have no status (never positive, never negative).
# - level: the level of the problem's most recent grades row, else source_level.
# - dropped problem: any dedup row with kept = false (any method, any config).

INFRA_REASONS: tuple[str, ...] = ("verifier_error", "sandbox_error", "judge_error", "no_reference")
"""Failure reasons that say nothing about the response: never make a sample negative."""


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
    """Per verified sample: passed (all latest verdicts passed), score, reason, verifiers.

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


def verdict_disagreements_sql(snapshot: int | None = None) -> str:
    """Samples whose latest verdicts (one per verifier) disagree on ``passed``: an audit queue.

    Columns: ``sample_id, problem_id, passed_verifiers, failed_verifiers`` (sorted lists
    of verifier names). Only samples judged by at least two verifiers, at least one
    passing and one failing, appear; infrastructure failures (``judge_error`` …) count
    as failures here, filter on ``latest_verdicts.reason`` to leave them out.
    """
    return (
        "SELECT sample_id, any_value(problem_id) AS problem_id, "
        "list(verifier ORDER BY verifier) FILTER (WHERE passed) AS passed_verifiers, "
        "list(verifier ORDER BY verifier) FILTER (WHERE NOT passed) AS failed_verifiers "
        f"FROM ({latest_verdicts_sql(snapshot)}) GROUP BY sample_id "
        "HAVING count(DISTINCT verifier) > 1 AND bool_or(passed) AND bool_or(NOT passed)"
    )


LATEST_VERDICTS_SQL = latest_verdicts_sql()
"""The latest verdict per (sample, verifier): highest version (see above)."""

VIEWS: dict[str, str] = {
    "latest_verdicts": LATEST_VERDICTS_SQL,
    "latest_grades": LATEST_GRADES_SQL,
    "kept_problems": kept_problems_sql(),
    "verdict_disagreements": verdict_disagreements_sql(),
}
"""View name → SQL."""


def create_views(con: Any) -> list[str]:
    """Define :data:`VIEWS` as temporary views on a DuckDB connection; returns their names."""
    for name, sql in VIEWS.items():
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")
    return list(VIEWS)


# --- knob calibration (tracemill.pipelines.grade.calibrate) ----------------------------------


def calibration_sql(
    family: str | None = None,
    model: str | None = None,
    *,
    params_id: str | None = None,
    method: str | None = None,
    snapshot: int | None = None,
    confidence: float = 0.95,
) -> str:
    """Measured pass rate per nominal level of synthetic families, per grader model.

    Problems of a family are those whose ``generator`` JSON names it (``$.family``);
    their nominal level is ``source_level``. Each problem counts once per grader model,
    with its latest grade (among ``params_id`` / ``method`` when given). Per (family,
    grader_model, level): ``items``, ``samples`` (sum of k), ``passes``, ``pass_rate``
    (passes / samples) with its Wilson interval ``ci_low``/``ci_high`` at
    ``confidence``, ``mean_item_pass_rate``, ``mean_graded_level`` and ``mean_tokens``
    (the columns of ``tracemill.pipelines.grade.CALIBRATION_SCHEMA`` after the first two)::

        SELECT level, pass_rate FROM calibration
        WHERE family = 'sat' AND grader_model = 'Qwen/Qwen3-0.6B' ORDER BY level;
    """
    from statistics import NormalDist

    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    z2 = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0) ** 2
    pairs = (("grader_model", model), ("params_id", params_id), ("method", method))
    grade_cond = [f"{col} = {_quote(v)}" for col, v in pairs if v]
    problem_cond = ["p.source_level IS NOT NULL"]
    if family is not None:
        problem_cond.append(f"json_extract_string(p.generator, '$.family') = {_quote(family)}")
    where = f"WHERE {' AND '.join(grade_cond)} " if grade_cond else ""
    return f"""\
WITH g AS (
    SELECT * FROM {table_at("grades", snapshot)} {where}
    QUALIFY row_number() OVER (
        PARTITION BY problem_id, grader_model ORDER BY created_at DESC, params_id) = 1
), per_level AS (
    SELECT json_extract_string(p.generator, '$.family') AS family, g.grader_model,
           CAST(p.source_level AS INTEGER) AS level, count(*) AS items,
           CAST(sum(g.k) AS BIGINT) AS samples, CAST(sum(g.passes) AS BIGINT) AS passes,
           avg(CASE WHEN g.k > 0 THEN g.passes / g.k ELSE 0.0 END) AS mean_item_pass_rate,
           avg(g.level) AS mean_graded_level, avg(g.mean_tokens) AS mean_tokens
    FROM g JOIN {table_at("problems", snapshot, "p")} USING (problem_id)
    WHERE {" AND ".join(problem_cond)}
    GROUP BY ALL
), w AS (
    SELECT *, CASE WHEN samples > 0 THEN passes / samples END AS pass_rate,
           (passes / samples + {z2!r} / (2 * samples)) / (1 + {z2!r} / samples) AS center,
           sqrt({z2!r}) / (1 + {z2!r} / samples) * sqrt(
               (passes / samples) * (1 - passes / samples) / samples
               + {z2!r} / (4 * samples * samples)) AS half
    FROM per_level WHERE samples > 0
)
SELECT family, grader_model, level, items, samples, passes, pass_rate,
       CASE WHEN passes = 0 THEN 0.0 ELSE greatest(0.0, center - half) END AS ci_low,
       CASE WHEN passes = samples THEN 1.0 ELSE least(1.0, center + half) END AS ci_high,
       mean_item_pass_rate, mean_graded_level, mean_tokens
FROM w ORDER BY family, grader_model, level"""


VIEWS["calibration"] = calibration_sql()
