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
``sample_status`` says per sample whether the verdict policy accepts it (the problem's
primary verifier decides, other verifiers are audits; see the comments above
:func:`latest_verdicts_sql`); ``verdict_disagreements`` lists samples whose verifiers
disagree (an audit queue)::

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
    (some sample is accepted by the verdict policy), ``level`` (latest grade, else the source's
    level). ``where`` filters ``problems`` (columns unqualified).
    """
    filt = f"WHERE {where}" if where else ""
    return f"""\
WITH pv AS (
    SELECT problem_id, bool_or(passed) AS has_passing FROM ({sample_status_sql()})
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
# re-reads exactly the same rows later. The verdict policy (README "Verdict policy"):
#
# - latest verdict: per (sample_id, verifier) the row with the highest verifier_version.
#   A version is ``PUBLIC[+retryN]``: PUBLIC is compared as numbers part by part (runs
#   of digits, so "1.10" > "1.9" > "1" and "2-p2" > "1-p9"); at equal PUBLIC, a retry
#   row (``--retry-timeouts``) beats the row it retried and a later retry an earlier one;
#   remaining ties fall back to text order, then to the newer created_at.
# - primary verifier: the problem's ``verifier`` column. Its latest verdict decides
#   whether a sample is accepted; the latest verdicts of every other verifier on the
#   sample are audits: recorded and listed in ``verdict_disagreements``, never a veto.
# - judge fallback: when the primary's latest verdict is one of FALLBACK_REASONS (it
#   found no answer, or had no usable reference) and a ``judge`` verdict recorded as
#   that primary's fallback (detail ``fallback_for``) exists and is not an
#   infrastructure failure, the judge's verdict decides instead.
# - infrastructure failures (INFRA_REASONS) and timeouts (unless a build asks for
#   ``timeouts_negative``) say nothing about the response: the sample is then neither
#   accepted nor a negative.
# - a problem without a named verifier: every latest verdict of its samples decides
#   together (accepted when all that are not infrastructure failures pass).
# - level: the graded level, from the problem's most recent grades row (of the grader a
#   build names, if it names one); null when ungraded. The source's own level is
#   source_level; a build filters on one of the two (``level_from``), never a mix.
# - dropped problem: any dedup row with kept = false (any method, any config).

INFRA_REASONS: tuple[str, ...] = ("verifier_error", "sandbox_error", "judge_error", "no_reference")
"""Failure reasons that say nothing about the response: never make a sample negative."""

TIMEOUT_REASONS: tuple[str, ...] = ("timeout",)
"""Reasons that are not negatives unless a build asks (``timeouts_negative``)."""

FALLBACK_REASONS: tuple[str, ...] = ("no_answer", "no_reference")
"""Primary verdict reasons an opt-in judge fallback may decide instead."""

FALLBACK_VERIFIER = "judge"
"""The verifier whose verdicts (marked ``fallback_for``) may stand in for a primary."""

RETRY_LABEL = "+retry"
"""Separates a version from its retry number: ``3+retry1`` is the first retry of ``3``."""


def retry_version(version: str, attempt: int) -> str:
    """The version recorded for the `attempt`-th retry (from 1) of a verdict at `version`.

    >>> retry_version("3+retry1", 2)
    '3+retry2'
    """
    if attempt < 1:
        raise ValueError(f"retry attempt must be >= 1, got {attempt}")
    return f"{base_version(version)}{RETRY_LABEL}{int(attempt)}"


def base_version(version: str) -> str:
    """`version` without its retry label (``3+retry2`` -> ``3``)."""
    return version.split("+", 1)[0]


def retry_attempt(version: str) -> int:
    """The retry number of `version` (0 for a first verdict)."""
    _, sep, label = version.partition(RETRY_LABEL)
    return int(label) if sep and label.isdigit() else 0


def sql_in_list(values: Sequence[str]) -> str:
    """A parenthesized list of SQL string literals, for ``IN``."""
    return "(" + ", ".join(_quote(v) for v in values) + ")"


def table_at(name: str, snapshot: int | None = None, alias: str | None = None) -> str:
    """``name [AS alias]`` for a FROM clause, ``AT (VERSION => snapshot)`` when pinned."""
    ref = name if alias is None else f"{name} AS {alias}"
    return ref if snapshot is None else f"{ref} AT (VERSION => {int(snapshot)})"


def version_sort_key(column: str) -> str:
    """A DuckDB expression ordering version strings numerically part by part.

    Only the part before ``+`` counts (see :func:`retry_sort_key` for the rest); its
    runs of digits are compared as integers, left to right.
    """
    public = f"split_part({column}, '+', 1)"
    return (
        "list_transform(list_filter(regexp_split_to_array("
        f"{public}, '[^0-9]+'), x -> x <> ''), x -> coalesce(TRY_CAST(x AS BIGINT), -1))"
    )


def retry_sort_key(column: str) -> str:
    """A DuckDB expression: the retry number of a version (0 without ``+retryN``)."""
    return f"coalesce(TRY_CAST(regexp_extract({column}, '\\+retry([0-9]+)$', 1) AS BIGINT), 0)"


def latest_verdicts_sql(snapshot: int | None = None) -> str:
    """One verdict per (sample_id, verifier): the one with the highest verifier_version."""
    return (
        f"SELECT * FROM {table_at('verdicts', snapshot)} "
        "QUALIFY row_number() OVER (PARTITION BY sample_id, verifier ORDER BY "
        f"{version_sort_key('verifier_version')} DESC, {retry_sort_key('verifier_version')} "
        "DESC, verifier_version DESC, created_at DESC) = 1"
    )


def fallback_for_sql(detail: str) -> str:
    """A DuckDB expression: the ``fallback_for`` of a verdict's detail JSON (NULL if none)."""
    return (
        f"CASE WHEN json_valid({detail}) THEN json_extract_string({detail}, '$.fallback_for') END"
    )


def _unknown_reasons(timeouts_negative: bool) -> tuple[str, ...]:
    return INFRA_REASONS if timeouts_negative else INFRA_REASONS + TIMEOUT_REASONS


def verdict_roles_sql(
    snapshot: int | None = None, *, timeouts_negative: bool = False, primary: str | None = None
) -> str:
    """Latest verdicts with the policy's view of each: who decides, and what it says.

    Columns: the ``verdicts`` columns, ``primary_verifier`` (the problem's verifier),
    ``role`` (``primary``, ``fallback`` or ``audit``; every verdict of a problem without
    a named verifier is ``primary``), ``unknown`` (an infrastructure failure or a
    timeout: says nothing about the response) and ``decisive`` (this verdict decides
    the sample's status). `primary` names the primary verifier of every problem instead
    of its ``verifier`` column (a build that verified with an override).
    """
    unknown = sql_in_list(_unknown_reasons(timeouts_negative))
    fallback = sql_in_list(FALLBACK_REASONS)
    named = "pr.verifier" if primary is None else _quote(primary)
    roles = (
        f"SELECT v.*, {named} AS primary_verifier, "
        f"CASE WHEN {named} IS NULL OR v.verifier = {named} THEN 'primary' "
        f"WHEN v.verifier = {_quote(FALLBACK_VERIFIER)} AND {fallback_for_sql('v.detail')} "
        f"= {named} THEN 'fallback' "
        "ELSE 'audit' END AS role, "
        f"v.reason IN {unknown} AS unknown "
        f"FROM ({latest_verdicts_sql(snapshot)}) AS v "
        f"LEFT JOIN {table_at('problems', snapshot, 'pr')} ON pr.problem_id = v.problem_id"
    )
    flags = (
        "SELECT *, "
        f"bool_or(role = 'primary' AND primary_verifier IS NOT NULL AND reason IN {fallback}) "
        "OVER (PARTITION BY sample_id) AS primary_fell_back, "
        "bool_or(role = 'fallback' AND NOT unknown) OVER (PARTITION BY sample_id) "
        "AS has_fallback "
        f"FROM ({roles})"
    )
    return (
        "SELECT * EXCLUDE (primary_fell_back, has_fallback), "
        "CASE role WHEN 'fallback' THEN primary_fell_back AND NOT unknown "
        "WHEN 'primary' THEN NOT (primary_fell_back AND has_fallback) "
        "ELSE false END AS decisive "
        f"FROM ({flags})"
    )


def sample_status_sql(
    snapshot: int | None = None, *, timeouts_negative: bool = False, primary: str | None = None
) -> str:
    """Per verified sample: accepted or not by the verdict policy (see above).

    Columns: ``sample_id, problem_id, primary_verifier``; ``passed`` (accepted: the
    decisive verdict passed); ``negative`` (the decisive verdict failed because of the
    response: usable as a negative); ``infra_failure`` (the decisive verdict is an
    infrastructure failure or a timeout, so the sample is neither); ``score`` and
    ``reason`` (of the decisive verdict; ``no_primary_verdict`` when only audits
    exist); ``decided_by`` (``verifier@version`` of the decisive verdicts);
    ``verifiers`` (every latest verdict, ``verifier@version``); ``audits_disagree``
    (an audit that is not an infrastructure failure disagrees with ``passed``).
    `primary` overrides every problem's primary verifier (see :func:`verdict_roles_sql`).
    """
    roles = verdict_roles_sql(snapshot, timeouts_negative=timeouts_negative, primary=primary)
    known = "decisive AND NOT unknown"
    return f"""
SELECT sample_id, problem_id, primary_verifier, passed, negative, infra_failure,
       score, reason, decided_by, verifiers,
       coalesce(audit_passes AND NOT passed OR audit_fails AND passed, false)
           AS audits_disagree
FROM (
    SELECT sample_id, any_value(problem_id) AS problem_id,
           any_value(primary_verifier) AS primary_verifier,
           coalesce(count(*) FILTER (WHERE {known}) > 0
                    AND bool_and(passed) FILTER (WHERE {known}), false) AS passed,
           coalesce(bool_or(NOT passed) FILTER (WHERE {known}), false) AS negative,
           coalesce(bool_or(unknown) FILTER (WHERE decisive), false)
               AND count(*) FILTER (WHERE {known}) = 0 AS infra_failure,
           coalesce(min(score) FILTER (WHERE {known}), 0.0) AS score,
           coalesce(min(reason) FILTER (WHERE {known} AND NOT passed),
                    min(reason) FILTER (WHERE {known}),
                    min(reason) FILTER (WHERE decisive),
                    'no_primary_verdict') AS reason,
           string_agg(verifier || '@' || verifier_version, ',' ORDER BY verifier)
               FILTER (WHERE decisive) AS decided_by,
           string_agg(verifier || '@' || verifier_version, ',' ORDER BY verifier) AS verifiers,
           bool_or(passed) FILTER (WHERE role = 'audit' AND NOT unknown) AS audit_passes,
           bool_or(NOT passed) FILTER (WHERE role = 'audit' AND NOT unknown) AS audit_fails
    FROM ({roles}) GROUP BY sample_id
)"""


def passing_samples_sql(snapshot: int | None = None, *, primary: str | None = None) -> str:
    """Samples (all ``samples`` columns) accepted by the verdict policy."""
    return (
        f"SELECT s.* FROM {table_at('samples', snapshot, 's')} "
        f"JOIN ({sample_status_sql(snapshot, primary=primary)}) AS st USING (sample_id) "
        "WHERE st.passed"
    )


def failing_samples_sql(
    snapshot: int | None = None, *, timeouts_negative: bool = False, primary: str | None = None
) -> str:
    """Samples whose deciding verdict failed because of the response itself (negatives)."""
    status = sample_status_sql(snapshot, timeouts_negative=timeouts_negative, primary=primary)
    return (
        f"SELECT s.* FROM {table_at('samples', snapshot, 's')} "
        f"JOIN ({status}) AS st USING (sample_id) WHERE st.negative"
    )


def problem_levels_sql(snapshot: int | None = None, grader_model: str | None = None) -> str:
    """Per problem: ``problem_id, level, pass_rate, grader_model, source_level``.

    ``level`` is only ever the graded level (the latest grade of the problem, by
    ``grader_model`` when given); it is null for a problem without such a grade, never
    the source's level, which stays ``source_level`` (the two are different scales).
    """
    where = "" if grader_model is None else f" WHERE grader_model = {_quote(grader_model)}"
    latest_grade = (
        "SELECT problem_id, level, pass_rate, grader_model "
        f"FROM {table_at('grades', snapshot)}{where} "
        "QUALIFY row_number() OVER (PARTITION BY problem_id "
        "ORDER BY created_at DESC, grader_model, params_id) = 1"
    )
    return (
        "SELECT p.problem_id, g.level AS level, "
        "g.pass_rate AS pass_rate, g.grader_model AS grader_model, p.source_level "
        f"FROM {table_at('problems', snapshot, 'p')} "
        f"LEFT JOIN ({latest_grade}) AS g USING (problem_id)"
    )


def dropped_problems_sql(snapshot: int | None = None) -> str:
    """``problem_id`` of problems some dedup/decontamination run did not keep."""
    return f"SELECT DISTINCT problem_id FROM {table_at('dedup', snapshot)} WHERE NOT kept"


def verdict_disagreements_sql(snapshot: int | None = None) -> str:
    """Samples whose latest verdicts (one per verifier) disagree on ``passed``: an audit queue.

    Columns: ``sample_id, problem_id, primary_verifier, accepted`` (the sample's status
    under the verdict policy), ``passed_verifiers, failed_verifiers`` (sorted lists of
    verifier names). Only samples judged by at least two verifiers, at least one passing
    and one failing, appear; infrastructure failures and timeouts are no opinion on the
    response and are left out (``latest_verdicts`` still holds them).
    """
    roles = verdict_roles_sql(snapshot)
    return (
        "SELECT d.sample_id, d.problem_id, d.primary_verifier, st.passed AS accepted, "
        "d.passed_verifiers, d.failed_verifiers FROM ("
        "SELECT sample_id, any_value(problem_id) AS problem_id, "
        "any_value(primary_verifier) AS primary_verifier, "
        "list(verifier ORDER BY verifier) FILTER (WHERE passed) AS passed_verifiers, "
        "list(verifier ORDER BY verifier) FILTER (WHERE NOT passed) AS failed_verifiers "
        f"FROM ({roles}) WHERE NOT unknown GROUP BY sample_id "
        "HAVING count(DISTINCT verifier) > 1 AND bool_or(passed) AND bool_or(NOT passed)"
        f") AS d JOIN ({sample_status_sql(snapshot)}) AS st USING (sample_id)"
    )


LATEST_VERDICTS_SQL = latest_verdicts_sql()
"""The latest verdict per (sample, verifier): highest version (see above)."""

VIEWS: dict[str, str] = {
    "latest_verdicts": LATEST_VERDICTS_SQL,
    "sample_status": sample_status_sql(),
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
