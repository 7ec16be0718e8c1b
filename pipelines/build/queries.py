r"""The SQL of the three builds, pinned to a catalog snapshot.

Definitions (see :mod:`tracemill.catalogs.views` for "passing", "failing", "level", "dropped"):
a sample is passing when the verdict policy accepts it: the latest verdict of its
problem's primary verifier passed (or, where that verifier found no answer, an opt-in
judge fallback did); other verifiers' verdicts are audits and never remove a sample.

- ``sft``: one row per kept passing sample: ``messages`` = optional system, the user
  question, the assistant turn (``<think>\nREASONING\n</think>\n\nFINAL`` when the
  sample has a reasoning part, else its completion). ``per_problem`` samples per
  problem in ``order`` (shortest first by default, ties by sample id).
- ``rl``: one row per kept problem: ``prompt`` messages, verifier name and spec,
  reference answer/solution, levels and pass rate.
- ``pairs``: per problem up to ``per_problem`` (positive, negative) pairs, positives
  from accepted samples and negatives from samples whose deciding verdict failed
  because of the response (infrastructure failures never count, timeouts only with
  ``timeouts_negative``), the i-th positive meeting the i-th negative;
  ``shortest_longest`` orders positives shortest first and negatives longest first,
  ``random`` orders both by a seeded hash.

Every build carries ``level`` (the graded level, null when ungraded), ``source_level``
(the source's or generator's own level), ``pass_rate`` and ``grader_model`` (whose grade
gave ``level``); ``level_from`` says which level ``min_level``/``max_level`` filter on.

With ``selection`` set, only the problems of that recorded selection (a ``datasets`` row
of kind ``selection``, itself pinned to its own snapshot) are read, and the rows keep its
order: they carry the selection's ``position`` (0, 1, … per problem, easy → hard for a
curriculum) and curriculum ``stage`` and are ordered by ``position``.

Token counts fall back to ``ceil(chars / 4)`` where a sample has none. Every query
ends in an ``ORDER BY`` so a re-read returns the rows in the same order.
"""

from __future__ import annotations

from tracemill.catalogs.views import (
    dropped_problems_sql,
    failing_samples_sql,
    passing_samples_sql,
    problem_levels_sql,
    table_at,
)
from tracemill.pipelines.build.options import (
    PairsOptions,
    ProblemFilter,
    RlOptions,
    SampleFilter,
    SftOptions,
    sql_literal,
)

_N_TOKENS = "coalesce(completion_tokens, CAST(ceil(length(completion) / 4) AS INTEGER))"
_ASSISTANT = (
    "CASE WHEN coalesce(reasoning, '') <> '' THEN "
    "'<think>\n' || reasoning || '\n</think>\n\n' || coalesce(final, '') "
    "ELSE completion END"
)


def _where(conditions: list[str]) -> str:
    return (" WHERE " + " AND ".join(conditions)) if conditions else ""


def _problems_cte(
    filt: ProblemFilter,
    snapshot: int | None,
    extra: list[str] | None = None,
    selection_sql: str | None = None,
) -> str:
    conditions = filt.conditions("p") + list(extra or [])
    if filt.exclude_dropped:
        conditions.append(f"p.problem_id NOT IN ({dropped_problems_sql(snapshot)})")
    levels = problem_levels_sql(snapshot, filt.grader_model)
    inner = (
        "SELECT p.*, l.level, l.pass_rate, l.grader_model"
        + (", sel.position, sel.stage" if selection_sql is not None else "")
        + f" FROM {table_at('problems', snapshot, 'p')} "
        f"JOIN ({levels}) AS l USING (problem_id)"
    )
    if selection_sql is not None:
        inner += (
            f" JOIN (SELECT problem_id, position, stage FROM ({selection_sql})) AS sel "
            "USING (problem_id)"
        )
    return f"SELECT * FROM ({inner}) AS p" + _where(conditions)


_LEVELS = "p.level, p.source_level, p.pass_rate, p.grader_model"
"""Difficulty columns of every build."""


def _order(selection_sql: str | None, then: str = "") -> tuple[str, str]:
    """(extra columns, ORDER BY keys): a selection's order, else problem id order."""
    first = "p.position" if selection_sql is not None else "p.problem_id"
    columns = ", p.position, p.stage" if selection_sql is not None else ""
    return columns, first + (f", {then}" if then else "")


def _samples_cte(source_sql: str, filt: SampleFilter) -> str:
    inner = f"SELECT *, {_N_TOKENS} AS n_tokens, {_ASSISTANT} AS assistant FROM ({source_sql})"
    return f"SELECT * FROM ({inner}) AS s" + _where(filt.conditions("s"))


def _prompt(system_prompt: str | None, question: str = "p.question") -> str:
    turns = []
    if system_prompt is not None:
        turns.append(f"{{'role': 'system', 'content': {sql_literal(system_prompt)}}}")
    turns.append(f"{{'role': 'user', 'content': {question}}}")
    return "[" + ", ".join(turns) + "]"


def _rank_order(order: str, seed: int, prefix: str = "") -> str:
    if order == "shortest":
        return f"{prefix}n_tokens ASC, {prefix}sample_id"
    if order == "longest":
        return f"{prefix}n_tokens DESC, {prefix}sample_id"
    return f"md5({prefix}sample_id || ':' || {int(seed)}), {prefix}sample_id"


def sft_query(
    options: SftOptions, snapshot: int | None = None, selection_sql: str | None = None
) -> str:
    """SQL of an ``sft`` build."""
    limit = "" if options.per_problem is None else f" WHERE r.rank <= {int(options.per_problem)}"
    passing = passing_samples_sql(snapshot, primary=options.primary_verifier)
    messages = (
        _prompt(options.system_prompt)[:-1] + ", {'role': 'assistant', 'content': r.assistant}]"
    )
    columns, order = _order(selection_sql, "r.rank")
    return (
        f"WITH p AS ({_problems_cte(options.problems, snapshot, None, selection_sql)}), "
        f"s AS ({_samples_cte(passing, options.samples)}), "
        "r AS (SELECT s.*, row_number() OVER (PARTITION BY s.problem_id ORDER BY "
        f"{_rank_order(options.order, options.seed, 's.')}) AS rank "
        "FROM s JOIN p USING (problem_id)) "
        f"SELECT p.problem_id, r.sample_id, {messages} AS messages, "
        f"p.source, p.domain, p.task, r.model, r.role, {_LEVELS}{columns}, "
        "r.n_tokens AS completion_tokens, r.finish_reason "
        f"FROM r JOIN p USING (problem_id){limit} ORDER BY {order}"
    )


def rl_query(
    options: RlOptions, snapshot: int | None = None, selection_sql: str | None = None
) -> str:
    """SQL of an ``rl`` build."""
    extra = []
    if options.require_verifier:
        extra.append("coalesce(p.verifier, '') <> ''")
    if options.min_pass_rate is not None:
        extra.append(f"p.pass_rate >= {float(options.min_pass_rate)!r}")
    if options.max_pass_rate is not None:
        extra.append(f"p.pass_rate <= {float(options.max_pass_rate)!r}")
    columns, order = _order(selection_sql)
    return (
        f"WITH p AS ({_problems_cte(options.problems, snapshot, extra, selection_sql)}) "
        f"SELECT p.problem_id, {_prompt(options.system_prompt)} AS prompt, p.question, "
        "p.answer, p.solution, p.verifier, p.verifier_spec, p.generator, "
        f"p.source, p.domain, p.task, {_LEVELS}{columns} "
        f"FROM p ORDER BY {order}"
    )


def pairs_query(
    options: PairsOptions, snapshot: int | None = None, selection_sql: str | None = None
) -> str:
    """SQL of a ``pairs`` build."""
    if options.pairing == "shortest_longest":
        pos_order, neg_order = "shortest", "longest"
    else:
        pos_order = neg_order = "random"
    seed = options.seed
    primary = options.primary_verifier
    passing = passing_samples_sql(snapshot, primary=primary)
    failing = failing_samples_sql(
        snapshot, timeouts_negative=options.timeouts_negative, primary=primary
    )
    columns, order = _order(selection_sql, "pos.rank")
    return (
        f"WITH p AS ({_problems_cte(options.problems, snapshot, None, selection_sql)}), "
        f"pos AS (SELECT s.*, row_number() OVER (PARTITION BY s.problem_id ORDER BY "
        f"{_rank_order(pos_order, seed, 's.')}) AS rank FROM "
        f"({_samples_cte(passing, options.samples)}) AS s "
        "WHERE s.problem_id IN (SELECT problem_id FROM p)), "
        f"neg AS (SELECT s.*, row_number() OVER (PARTITION BY s.problem_id ORDER BY "
        f"{_rank_order(neg_order, seed, 's.')}) AS rank FROM "
        f"({_samples_cte(failing, options.samples)}) AS s "
        "WHERE s.problem_id IN (SELECT problem_id FROM p)) "
        f"SELECT p.problem_id, {_prompt(options.system_prompt)} AS prompt, "
        "[{'role': 'assistant', 'content': pos.assistant}] AS chosen, "
        "[{'role': 'assistant', 'content': neg.assistant}] AS rejected, "
        "pos.sample_id AS chosen_sample_id, neg.sample_id AS rejected_sample_id, "
        "pos.model AS chosen_model, neg.model AS rejected_model, "
        "pos.n_tokens AS chosen_tokens, neg.n_tokens AS rejected_tokens, "
        f"p.source, p.domain, p.task, {_LEVELS}{columns} "
        "FROM pos JOIN neg ON pos.problem_id = neg.problem_id AND pos.rank = neg.rank "
        f"JOIN p ON p.problem_id = pos.problem_id WHERE pos.rank <= {int(options.per_problem)} "
        f"ORDER BY {order}"
    )


QUERIES = {"sft": sft_query, "rl": rl_query, "pairs": pairs_query}
