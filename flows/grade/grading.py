"""Grading problems by a student's pass rate: choose problems, sample, grade, report."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from tracemill.flows.grade.config import (
    GradeStage,
    SamplingFields,
    method_of,
    params_json,
    sampling_params,
)
from tracemill.flows.grade.judge import BackendJudge
from tracemill.flows.grade.sampler import CatalogSampler, SamplerStats
from tracemill.flows.progress import progress
from tracemill.flows.reporting import Report, levels_plot, scatter_plot, write_report
from tracemill.flows.stages import StageContext, register_stage


def _quote_list(values: Iterable[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


def choose_problems(
    store: Any,
    *,
    source: Sequence[str] | None = None,
    domain: Sequence[str] | None = None,
    where: str | None = None,
    limit: int | None = None,
) -> pa.Table:
    """Problems to grade, in ``problem_id`` order (so a limit picks the same ones again)."""
    conds = []
    if source:
        conds.append(f"source IN ({_quote_list(source)})")
    if domain:
        conds.append(f"domain IN ({_quote_list(domain)})")
    if where:
        conds.append(f"({where})")
    query = "SELECT * FROM problems"
    if conds:
        query += " WHERE " + " AND ".join(conds)
    query += " ORDER BY problem_id"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    try:
        return store.sql(query)
    except Exception as e:
        if type(e).__module__.startswith("duckdb"):
            raise ValueError(f"cannot choose problems: {e}") from e
        raise


BackendFactory = Callable[[str, str, Mapping[str, Any]], Any]
"""``factory(kind, model, options) -> Backend`` (tests inject their own)."""


def _make_backend(kind: str, model: str, options: Mapping[str, Any]) -> Any:
    from tracemill.pipelines.generate import make_backend

    return make_backend(kind, model, **dict(options))


@dataclass
class GradeOutcome:
    """What a ``grade`` (or ``calibrate``) call did."""

    counters: dict[str, Any]
    grades: pa.Table
    """Grade rows of the chosen problems for this model and params (old and new)."""
    report: Path | None = None


def grade(
    cfg: SamplingFields,
    problems: pa.Table,
    *,
    store: Any,
    run_id: str | None,
    backend_factory: BackendFactory | None = None,
    report: Report | None = None,
    report_dir: Path | None = None,
    title: str = "grade",
    track: Callable[[Callable[[], dict[str, Any]]], None] | None = None,
) -> GradeOutcome:
    """Grade ``problems`` for ``cfg.model`` and append ``grades`` (see the package doc).

    The grading's report (notes, level table, plots) goes into ``report`` when given (a
    stage's, written by its runner), else is written to ``report_dir`` when given.
    ``tokens_in``/``tokens_out``/``cost_usd`` are what this run's student samples and
    answer-first judge replies used (reused ones cost nothing); ``track`` (a stage's
    :meth:`~tracemill.flows.stages.StageContext.track`) is handed the counters so far, so a
    run that fails partway records what it committed.
    """
    from tracemill.pipelines.grade import grade_problems, grade_rows

    factory = backend_factory or _make_backend
    method = method_of(cfg)
    params = sampling_params(cfg)
    params_text = params_json(params, cfg.system_prompt)
    judge_name = None
    if cfg.method == "answer_first":
        judge_name = f"{cfg.judge_backend or cfg.backend}:{cfg.judge_model or cfg.model}"
    params_id = method.params_id(params_text, judge=judge_name)
    params_doc = method.to_json(params_text)
    if judge_name:
        params_doc["judge"] = judge_name
    ids = problems.column("problem_id").to_pylist()
    graded = _graded_ids(store, cfg.model, params_id, ids)
    todo = [pid for pid in ids if pid not in graded]
    rows = {r["problem_id"]: r for r in problems.to_pylist() if r["problem_id"] in set(todo)}
    counters: dict[str, Any] = {
        "problems": len(ids),
        "already_graded": len(ids) - len(todo),
        "graded": 0,
        "method": cfg.method,
        "params_id": params_id,
    }
    drawn = fixed = early = judged = incomplete = 0
    stats = SamplerStats()
    judge: BackendJudge | None = None
    if track is not None:
        track(lambda: {**counters, **_usage(stats, judge, judge_name)})
    if todo:
        backend = factory(cfg.backend, cfg.model, cfg.backend_options)
        sampler = CatalogSampler(
            store, rows, backend, cfg.model, params, run_id, cfg.system_prompt, stats,
            prices=cfg.prices,
        )  # fmt: skip
        if cfg.method == "answer_first":
            judge_backend = (
                factory(cfg.judge_backend or cfg.backend, cfg.judge_model or cfg.model,
                        cfg.judge_options or cfg.backend_options)
                if (cfg.judge_backend or cfg.judge_model) else backend
            )  # fmt: skip
            judge_params = type(params).from_dict(
                {"temperature": 0.0, "max_tokens": cfg.max_tokens, "seed": cfg.seed}
            )
            judge = BackendJudge(
                judge_backend, cfg.judge_model or cfg.model, rows, judge_params,
                method.bins.hardest, store=store, run_id=run_id,
                student=f"{cfg.model}\n{params_text}", prices=cfg.judge_price_table(),
            )  # fmt: skip
        # one verifier worker pool for every round instead of one per round, when the
        # problems need one (starting and stopping a pool costs seconds)
        with _pool_for(rows.values()), progress(title, len(todo), unit="problems") as tick:
            for start in range(0, len(todo), cfg.batch_problems):
                chunk = todo[start : start + cfg.batch_problems]
                run = grade_problems(chunk, sampler, method, judge=judge)
                table = grade_rows(
                    run, grader_model=cfg.model, params_id=params_id, params=params_doc,
                    run_id=run_id,
                )  # fmt: skip
                store.append({"grades": table}, message=f"grade {cfg.model}")
                counters["graded"] += len(run.results)
                drawn += run.samples_drawn
                fixed += run.fixed_k_samples
                early += run.counters["stopped_early"]
                judged += run.counters["judged"]
                incomplete += run.counters["incomplete"]
                tick(min(start + cfg.batch_problems, len(todo)))
    counters.update(
        samples_drawn=drawn,
        fixed_k_samples=fixed,
        sample_saving=round(1 - drawn / fixed, 4) if fixed else 0.0,
        stopped_early=early,
        judged=judged,
        incomplete=incomplete,
    )
    counters.update(_usage(stats, judge, judge_name))
    grades = _grades_of(store, cfg.model, params_id, ids)
    counters["levels"] = level_histogram(grades, method.bins.hardest)
    if cfg.method in ("fixed_k", "adaptive_k"):
        counters.update(level_agreement(store, cfg.model, grades, params_doc))
    path = None
    if report is not None:
        grade_report(report, grades, counters, title=title)
    elif report_dir is not None:
        own = Report(title, counters=dict(counters))
        grade_report(own, grades, counters, title=title)
        path = write_report(own, report_dir, plots=cfg.plots)
        counters["report"] = str(path)
    return GradeOutcome(counters, grades, path)


def _usage(
    stats: SamplerStats, judge: BackendJudge | None, judge_name: str | None
) -> dict[str, Any]:
    """A grading's sample, token and cost counters so far.

    ``tokens_in``, ``tokens_out``, ``cost_usd`` (the names the ``runs`` row reads): the
    student's samples generated in this run plus the judge's replies; the judge's share
    is also on its own (``judge_tokens_in``, …).
    """
    out: dict[str, Any] = {
        "samples_reused": stats.reused,
        "samples_generated": stats.generated,
        "generation_errors": stats.failed,
        "tokens_in": stats.tokens_in,
        "tokens_out": stats.tokens_out,
    }
    cost = stats.cost_usd
    if judge is not None:
        out.update(judge.counters())
        if judge_name:
            out["judge"] = judge_name
        out["tokens_in"] += judge.tokens_in
        out["tokens_out"] += judge.tokens_out
        if judge.cost_usd is not None:
            cost = (cost or 0.0) + judge.cost_usd
    if cost is not None:
        out["cost_usd"] = round(cost, 6)
    return out


def _pool_for(problems: Iterable[Mapping[str, Any]]) -> Any:
    from contextlib import nullcontext

    from tracemill.pipelines.verify import verifier_pool
    from tracemill.pipelines.verify.batch import POOLED

    if any(p.get("verifier") in POOLED for p in problems):
        return verifier_pool()
    return nullcontext()


def _graded_ids(store: Any, model: str, params_id: str, ids: Sequence[str]) -> set[str]:
    return set(_grades_of(store, model, params_id, ids).column("problem_id").to_pylist())


def _grades_of(store: Any, model: str, params_id: str, ids: Sequence[str]) -> pa.Table:
    want = pa.table({"problem_id": pa.array(list(ids), pa.string())})
    return store.sql_with(
        "_tm_grade_ids",
        want,
        "SELECT g.* FROM grades g SEMI JOIN _tm_grade_ids w USING (problem_id) "
        "WHERE g.grader_model = ? AND g.params_id = ? ORDER BY g.problem_id",
        [model, params_id],
    )


def level_agreement(
    store: Any, model: str, grades: pa.Table, params: Mapping[str, Any]
) -> dict[str, Any]:
    """Agreement of these grades' levels with the other k method's on the same problems.

    For adaptive grades the counterpart is a fixed-k grade, and for fixed-k grades an
    adaptive one, of the same student, sampling parameters, ``k`` and bins (so both
    graded the same sample streams). Empty when no problem was graded both ways.
    """
    other = "adaptive_k" if params.get("method") == "fixed_k" else "fixed_k"
    if grades.num_rows == 0:
        return {}
    mine = dict(
        zip(grades.column("problem_id").to_pylist(), grades.column("level").to_pylist(),
            strict=True)
    )  # fmt: skip
    want = pa.table({"problem_id": pa.array(list(mine), pa.string())})
    rows = store.sql_with(
        "_tm_agree_ids",
        want,
        "SELECT g.problem_id, g.level, g.params FROM grades g "
        "SEMI JOIN _tm_agree_ids w USING (problem_id) "
        "WHERE g.grader_model = ? AND g.method = ?",
        [model, other],
    ).to_pylist()
    same = ("k", "bins", "sampling")
    theirs: dict[str, int] = {}
    for row in rows:
        doc = json.loads(row["params"] or "{}")
        if all(doc.get(key) == params.get(key) for key in same):
            theirs.setdefault(row["problem_id"], row["level"])
    if not theirs:
        return {}
    agree = sum(mine[pid] == level for pid, level in theirs.items())
    return {
        "agreement_with": other,
        "agreement_problems": len(theirs),
        "level_agreement": round(agree / len(theirs), 4),
    }


def level_histogram(grades: pa.Table, hardest: int = 10) -> dict[str, int]:
    """Problems per level (``{"1": n, …}``, every level up to ``hardest``)."""
    hist = {str(lv): 0 for lv in range(1, hardest + 1)}
    for lv in grades.column("level").to_pylist() if grades.num_rows else []:
        hist[str(lv)] = hist.get(str(lv), 0) + 1
    return hist


def grade_report(
    report: Report, grades: pa.Table, counters: Mapping[str, Any], *, title: str
) -> None:
    """Fill a grading's report: what was graded, sample savings, agreement, levels, plots."""
    drawn, fixed = counters.get("samples_drawn", 0), counters.get("fixed_k_samples", 0)
    report.note(
        f"{title}: {counters.get('problems', 0):,} problem(s), "
        f"{counters.get('graded', 0):,} graded now, "
        f"{counters.get('already_graded', 0):,} already graded",
        "bold",
    )
    if fixed:
        new, reused = counters.get("samples_generated", 0), counters.get("samples_reused", 0)
        report.note(
            f"samples drawn {drawn:,} vs fixed k {fixed:,} "
            f"({100 * (1 - drawn / fixed):.1f}% fewer); new {new:,}, reused {reused:,}"
        )
    if counters.get("agreement_problems"):
        report.note(
            f"levels agree with {counters['agreement_with']} on "
            f"{100 * counters['level_agreement']:.1f}% of the "
            f"{counters['agreement_problems']:,} problem(s) graded both ways"
        )
    elif counters.get("method") == "adaptive_k":
        report.note(
            "agreement with fixed k: grade the same problems with --method fixed_k (it "
            "reuses these samples)",
            "dim",
        )
    if counters.get("tokens_in") or counters.get("tokens_out"):
        cost = counters.get("cost_usd")
        who = "student and judge" if "judge_generated" in counters else "student"
        report.note(
            f"used {counters.get('tokens_in', 0):,} prompt + {counters.get('tokens_out', 0):,} "
            f"completion tokens in this run ({who}), "
            + ("cost unknown (no --price)" if cost is None else f"${cost:.6f}")
        )
    if counters.get("judge_generated") or counters.get("judge_reused"):
        report.note(_judge_line(counters))
    if counters.get("generation_errors") or counters.get("incomplete"):
        report.note(
            f"{counters.get('generation_errors', 0)} generation error(s); "
            f"{counters.get('incomplete', 0)} problem(s) left ungraded (rerun to retry)",
            "yellow",
        )
    levels = counters.get("levels") or level_histogram(grades)
    total = sum(levels.values()) or 1
    report.table(
        "levels (1 = easiest)",
        ["level", "problems", "share"],
        [[int(lv), n, "█" * round(30 * n / total)]
         for lv, n in sorted(levels.items(), key=lambda kv: int(kv[0]))],  # fmt: skip
        right=["level", "problems"],
    )
    report.plot("levels.png", "level histogram", levels_plot(levels, title))
    points = [
        (t, r)
        for t, r in zip(
            grades.column("mean_tokens").to_pylist(),
            grades.column("pass_rate").to_pylist(),
            strict=True,
        )
        if t is not None
    ]
    report.plot(
        "pass_rate_vs_tokens.png", "pass rate vs completion tokens",
        scatter_plot(points, x="mean completion tokens", y="pass rate", title=title,
                     ylim=(-0.05, 1.05)),
    )  # fmt: skip


def _judge_line(counters: Mapping[str, Any]) -> str:
    """The judge's line in grade's summary.

    ``judge openai:m: 3 reply(ies) generated, 5 reused, 1,204 prompt + 57 completion
    tokens, $0.000213``.
    """
    from tracemill.flows.reporting import JUDGE_UNPRICED, usage_text

    who = f"judge {counters['judge']}" if counters.get("judge") else "judge"
    used = usage_text(
        counters.get("judge_tokens_in", 0), counters.get("judge_tokens_out", 0),
        counters.get("judge_cost_usd"), JUDGE_UNPRICED,
    )  # fmt: skip
    return (
        f"{who}: {counters.get('judge_generated', 0):,} reply(ies) generated, "
        f"{counters.get('judge_reused', 0):,} reused, {used}"
    )


@register_stage("grade", GradeStage)
def grade_stage(ctx: StageContext, cfg: GradeStage) -> dict[str, Any]:
    """Grade problems by a student model's pass rate (adaptive k by default)."""
    from tracemill.stores.catalog import open_catalog

    # locked only while it reads or commits: readers get in while the student samples
    with open_catalog(ctx.catalog, release=True) as store:
        problems = choose_problems(
            store, source=cfg.source, domain=cfg.domain, where=cfg.where, limit=cfg.limit
        )
        out = grade(
            cfg, problems, store=store, run_id=ctx.run_id, report=ctx.report,
            title=f"grade {cfg.model}", track=ctx.track,
        )  # fmt: skip
    return out.counters
