"""Recipe stages ``grade``, ``select`` and ``calibrate``: difficulty for a student model.

``grade`` chooses problems (source, domain, a SQL ``where``, a limit), samples them with
a student backend through a catalog-backed sampler (existing samples are reused, new
ones are stored in ``samples`` with role ``student`` and verified into ``verdicts``),
grades them with :mod:`tracemill.pipelines.grade` and writes ``grades``. Problems that already
have a grade for the same grader model and ``params_id`` are skipped, and a rerun asks
for the very same sample ids, so it samples nothing new.

``select`` chooses graded problems by level distribution / pass-rate band and writes a
``datasets`` row (kind ``selection``) whose query lists the chosen problem ids against
the snapshot it read, so the selection re-reads exactly even after more data arrives.

``calibrate`` generates items of a synthetic family per nominal level, grades them and
writes the measured pass rate per level for that model (Parquet + Markdown report).
The catalog needs nothing more to answer it later: the ``calibration`` view
(:func:`tracemill.catalogs.views.calibration_sql`) pools the stored grades per family, model and
nominal level, and with ``target_pass_rate`` the stage also reports the level whose
measured pass rate is nearest (:func:`tracemill.pipelines.grade.level_for_target`).

Each writes a Markdown report with PNG plots (level histogram; pass rate against
completion tokens) when matplotlib is importable, and publishes the Markdown as a
Prefect artifact when running inside a Prefect flow run.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import Field
from tracemill.flows.stages import StageConfig, StageContext, register_stage

log = logging.getLogger(__name__)

Method = Literal["fixed_k", "adaptive_k", "answer_first"]


class SamplingFields(StageConfig):
    """Student sampling settings shared by ``grade`` and ``calibrate``."""

    model: str = Field(description="student (grader) model")
    backend: str = Field("transformers", description="openai, transformers, vllm or fake")
    backend_options: dict[str, Any] = Field(default_factory=dict)
    method: Method = "adaptive_k"
    k: int = Field(16, ge=1, description="samples per problem (most, for adaptive_k)")
    first_round: int = Field(4, ge=1, description="adaptive_k: first round size")
    round_size: int = Field(4, ge=1, description="adaptive_k: later round size")
    confidence: float = Field(0.95, gt=0, lt=1, description="confidence of stored intervals")
    stop_rule: Literal["predictive", "interval"] = Field(
        "predictive", description="adaptive_k: when a problem's level is settled"
    )
    stop_confidence: float | None = Field(
        None, gt=0, lt=1, description="adaptive_k: default 0.95 (predictive), 0.8 (interval)"
    )
    bins: list[float] | None = Field(None, description="lower pass-rate bound of levels 1, 2, …")
    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = Field(4096, ge=1)
    seed: int = 0
    sampling: dict[str, Any] = Field(default_factory=dict, description="other SamplingParams")
    system_prompt: str | None = None
    judge_model: str | None = Field(None, description="answer_first: the judge model")
    judge_backend: str | None = Field(None, description="answer_first: judge backend")
    judge_options: dict[str, Any] = Field(default_factory=dict)
    batch_problems: int = Field(256, ge=1, description="problems graded per committed batch")
    report_dir: str | None = Field(None, description="default: <catalog>/reports/<stage>-<run>")
    plots: bool = True


class GradeStage(SamplingFields):
    """Recipe stage ``grade``: student samples → verdicts → ``grades``."""

    source: list[str] | None = None
    domain: list[str] | None = None
    where: str | None = Field(None, description="SQL condition over problems columns")
    limit: int | None = Field(None, ge=1, description="at most this many problems")


class SelectStage(StageConfig):
    """Recipe stage ``select``: graded problems → a ``datasets`` row of kind ``selection``.

    (``name`` is taken by the recipe for a stage's label, hence ``dataset``.)
    """

    dataset: str = Field(min_length=1, description="selection name (versions auto-increment)")
    size: int | None = Field(None, ge=0)
    distribution: str | dict[int, float] | None = Field(None, description='"1:0.1,2:0.2,…"')
    band: str | None = Field(None, description='pass-rate band "LO:HI"')
    model: str | None = Field(None, description="grader model (needed if several)")
    params_id: str | None = None
    method: Method | None = None
    source: list[str] | None = None
    domain: list[str] | None = None
    seed: int = 0
    fill: Literal["nearest", "none"] = "nearest"
    curriculum: bool = False
    stages: int | None = Field(None, ge=1)
    report_dir: str | None = None


class CalibrateStage(SamplingFields):
    """Recipe stage ``calibrate``: measured pass rate per level of a synthetic family."""

    family: str
    levels: str = "1-10"
    per_level: int = Field(20, ge=1)
    item_seed: int = 0
    target_pass_rate: float | None = Field(
        None, ge=0, le=1, description="also report the level nearest this pass rate"
    )


# --- sampling through the catalog ----------------------------------------------------


def method_of(cfg: SamplingFields) -> Any:
    """The :class:`~tracemill.pipelines.grade.GradingMethod` a config describes."""
    from tracemill.pipelines.grade import DEFAULT_BINS, GradingMethod, LevelBins

    return GradingMethod(
        method=cfg.method,
        k=cfg.k,
        first_round=cfg.first_round,
        round_size=cfg.round_size,
        confidence=cfg.confidence,
        stop_confidence=cfg.stop_confidence,
        stop_rule=cfg.stop_rule,
        bins=LevelBins(tuple(cfg.bins)) if cfg.bins else DEFAULT_BINS,
    )


def sampling_params(cfg: SamplingFields) -> Any:
    """The student's ``SamplingParams``."""
    from tracemill.pipelines.generate import SamplingParams

    values = {
        "temperature": cfg.temperature,
        "top_p": cfg.top_p,
        "max_tokens": cfg.max_tokens,
        "seed": cfg.seed,
        **cfg.sampling,
    }
    return SamplingParams.from_dict(values)


def _params_json(params: Any, system_prompt: str | None = None) -> str:
    """The params text hashed into the student's sample ids (prompt included if custom)."""
    from tracemill.pipelines.generate import params_text

    return params_text(params, system_prompt=system_prompt)


@dataclass
class SamplerStats:
    """What a catalog sampler did."""

    requested: int = 0
    reused: int = 0
    generated: int = 0
    verified: int = 0
    failed: int = 0
    """Generation errors (not stored; the problem stays ungraded until a rerun)."""


@dataclass
class CatalogSampler:
    """A :data:`tracemill.pipelines.grade.Sampler` over the catalog and a student backend.

    Existing samples (same sample id) are reused with their latest verdict; only the
    missing ones are generated, stored with role ``student`` and verified, one catalog
    transaction per call, so a crash loses at most the round in flight.
    """

    store: Any
    problems: Mapping[str, dict[str, Any]]
    backend: Any
    model: str
    params: Any
    run_id: str | None = None
    system_prompt: str | None = None
    stats: SamplerStats = field(default_factory=SamplerStats)

    def __call__(self, wanted: Mapping[str, Sequence[int]]) -> list[Any]:
        """Outcomes for ``{problem_id: [sample indexes]}``."""
        from tracemill.catalogs import sample_id

        params_json = _params_json(self.params, self.system_prompt)
        ids = {
            sample_id(pid, self.model, params_json, i): (pid, i)
            for pid, idx in wanted.items()
            for i in idx
        }
        self.stats.requested += len(ids)
        existing = self._existing(list(ids))
        self.stats.reused += len(existing)
        missing = {sid: key for sid, key in ids.items() if sid not in existing}
        unverified = [sid for sid, row in existing.items() if row["passed"] is None]
        if missing:
            for row in self._generate(missing, params_json):
                existing[row["sample_id"]] = row
        if unverified:
            for row in self._verify_existing(unverified):
                existing[row["sample_id"]] = row
        # a sample whose generation failed is not stored and gets no outcome: its problem
        # stays ungraded (``incomplete``) and a rerun generates it again
        return [_outcome(existing[sid], *ids[sid]) for sid in ids if sid in existing]

    def _existing(self, sample_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not sample_ids:
            return {}
        want = pa.table({"sample_id": pa.array(sample_ids, pa.string())})
        rows = self.store.sql_with(
            "_tm_grade_want",
            want,
            "SELECT s.sample_id, s.completion_tokens, s.final, s.completion, v.passed "
            "FROM samples s JOIN _tm_grade_want w USING (sample_id) "
            "LEFT JOIN (SELECT sample_id, passed FROM verdicts WHERE sample_id IN "
            "(SELECT sample_id FROM _tm_grade_want) QUALIFY row_number() OVER "
            "(PARTITION BY sample_id ORDER BY created_at DESC, verifier_version DESC) = 1"
            ") v USING (sample_id)",
        ).to_pylist()
        return {r["sample_id"]: r for r in rows}

    def _generate(
        self, missing: Mapping[str, tuple[str, int]], params_json: str
    ) -> list[dict[str, Any]]:
        from tracemill.catalogs import conform, sample_id
        from tracemill.pipelines.generate import plan_requests, samples_table

        per_problem: dict[str, set[int]] = {}
        for pid, i in missing.values():
            per_problem.setdefault(pid, set()).add(i)
        pids = sorted(per_problem)
        n = max(max(idx) for idx in per_problem.values()) + 1
        # every index below n that is not missing counts as existing, so the plan asks
        # for exactly the missing samples
        skip = {
            sample_id(pid, self.model, params_json, i)
            for pid in pids
            for i in range(n)
            if i not in per_problem[pid]
        }
        problems = conform("problems", [self.problems[pid] for pid in pids])
        kwargs: dict[str, Any] = {}
        if self.system_prompt is not None:
            kwargs["system_prompt"] = self.system_prompt
        requests = plan_requests(
            problems,
            model=self.model,
            params=self.params,
            n=n,
            existing_sample_ids=skip,
            **kwargs,
        )
        generated = list(self.backend.generate(requests))
        self.stats.failed += sum(1 for g in generated if g.finish_reason == "error")
        samples = samples_table(
            generated,
            requests,
            model=self.model,
            backend=getattr(self.backend, "name", "unknown"),
            params=self.params,
            role="student",
            origin="generate",
            run_id=self.run_id,
        )
        verdicts = self._verdicts(problems, samples)
        self.store.append({"samples": samples, "verdicts": verdicts}, message=f"grade {self.model}")
        self.stats.generated += samples.num_rows
        return _joined(samples, verdicts)

    def _verify_existing(self, sample_ids: list[str]) -> list[dict[str, Any]]:
        from tracemill.catalogs import conform

        quoted = ", ".join("'" + s.replace("'", "''") + "'" for s in sample_ids)
        samples = self.store.read("samples", where=f"sample_id IN ({quoted})")
        pids = sorted(set(samples.column("problem_id").to_pylist()))
        problems = conform("problems", [self.problems[pid] for pid in pids])
        verdicts = self._verdicts(problems, samples)
        self.store.append({"verdicts": verdicts}, message=f"grade verify {self.model}")
        return _joined(samples, verdicts)

    def _verdicts(self, problems: pa.Table, samples: pa.Table) -> pa.Table:
        from tracemill.pipelines.verify import verify_table

        verdicts = verify_table(problems, samples, run_id=self.run_id)
        self.stats.verified += verdicts.num_rows
        return verdicts


def _joined(samples: pa.Table, verdicts: pa.Table) -> list[dict[str, Any]]:
    passed: dict[str, bool] = {}
    for sid, ok in zip(
        verdicts.column("sample_id").to_pylist(),
        verdicts.column("passed").to_pylist(),
        strict=True,
    ):
        passed[sid] = bool(ok) or passed.get(sid, False)
    rows = samples.select(["sample_id", "completion_tokens", "final", "completion"]).to_pylist()
    for r in rows:
        r["passed"] = passed.get(r["sample_id"], False)
    return rows


def _outcome(row: Mapping[str, Any], problem_id: str, index: int) -> Any:
    from tracemill.pipelines.grade import Outcome

    answer = row.get("final") or row.get("completion")
    return Outcome(problem_id, index, bool(row.get("passed")), row.get("completion_tokens"),
                   answer)  # fmt: skip


# --- the answer-first judge ------------------------------------------------------------

JUDGE_PROMPT = """You grade how hard a problem is for a student model.
The student answered the problem below wrongly.

Problem:
{question}

Reference answer:
{answer}

Student's answer:
{student}

Rate the difficulty of this problem for the student from 2 (almost solved it) to
{hardest} (far beyond it). Reply with only the number inside <answer></answer>."""


@dataclass
class BackendJudge:
    """An answer-first judge: any generation backend prompted as a grader.

    With a ``store`` its replies are kept as samples of role ``judge`` (index 0), whose
    id covers the judge model, its params, this prompt and the student whose answer it
    read; a later grading of the same problems reads them back instead of asking again.
    """

    backend: Any
    model: str
    problems: Mapping[str, dict[str, Any]]
    params: Any
    hardest: int = 10
    failures: int = 0
    store: Any = None
    run_id: str | None = None
    student: str = ""
    """Identity of the answers judged (student model and sampling params)."""
    generated: int = 0
    reused: int = 0

    def key_params(self) -> str:
        """The params text hashed into judge sample ids."""
        from tracemill.catalogs import canonical_json, config_id

        data = self.params.to_dict()
        data["judge"] = {"prompt": config_id(JUDGE_PROMPT)[:16], "student": self.student}
        return canonical_json(data)

    def __call__(self, cases: Sequence[Any]) -> dict[str, int]:
        """Levels for wrongly answered problems (unparsable replies → hardest)."""
        from tracemill.catalogs import sample_id
        from tracemill.pipelines.generate import GenerationRequest

        key = self.key_params()
        ids = {case.problem_id: sample_id(case.problem_id, self.model, key, 0) for case in cases}
        replies = self._stored(list(ids.values()))
        self.reused += len(replies)
        requests = []
        for case in cases:
            if ids[case.problem_id] in replies:
                continue
            p = self.problems[case.problem_id]
            text = JUDGE_PROMPT.format(
                question=p.get("question") or "",
                answer=p.get("answer") or "(none given)",
                student=(case.answer or "(no answer)")[-4000:],
                hardest=self.hardest,
            )
            requests.append(
                GenerationRequest(
                    case.problem_id, [{"role": "user", "content": text}], (0,), self.params,
                    params_text=key,
                )
            )  # fmt: skip
        generated = list(self.backend.generate(requests)) if requests else []
        for s in generated:
            if s.finish_reason != "error":
                replies[ids[s.problem_id]] = s.final or s.completion or ""
        self._keep(generated, requests)
        out: dict[str, int] = {}
        for pid, sid in ids.items():
            level = _judged_level(replies.get(sid))
            if level is None:
                self.failures += 1
            else:
                out[pid] = level
        return out

    def _stored(self, sample_ids: list[str]) -> dict[str, str]:
        if self.store is None or not sample_ids:
            return {}
        want = pa.table({"sample_id": pa.array(sample_ids, pa.string())})
        rows = self.store.sql_with(
            "_tm_judge_want",
            want,
            "SELECT s.sample_id, s.final, s.completion FROM samples s "
            "SEMI JOIN _tm_judge_want w USING (sample_id)",
        ).to_pylist()
        return {r["sample_id"]: r["final"] or r["completion"] or "" for r in rows}

    def _keep(self, generated: list[Any], requests: list[Any]) -> None:
        from tracemill.pipelines.generate import samples_table

        if self.store is None or not generated:
            return
        table = samples_table(
            generated, requests, model=self.model,
            backend=getattr(self.backend, "name", "unknown"), params=self.params,
            role="judge", origin="judge", run_id=self.run_id,
        )  # fmt: skip
        if table.num_rows:
            self.store.append({"samples": table}, message=f"grade judge {self.model}")
            self.generated += table.num_rows


def _judged_level(reply: str | None) -> int | None:
    """The level in a judge's reply (None when missing or unreadable)."""
    from tracemill.pipelines.extract import extract_answer

    if reply is None:
        return None
    found = extract_answer(reply).answer
    try:
        return int(str(found).strip())
    except (TypeError, ValueError):
        return None


# --- stages -------------------------------------------------------------------------------


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
    report_dir: Path | None = None,
    title: str = "grade",
) -> GradeOutcome:
    """Grade ``problems`` for ``cfg.model`` and append ``grades`` (see the module doc)."""
    from tracemill.pipelines.grade import grade_problems, grade_rows

    factory = backend_factory or _make_backend
    method = method_of(cfg)
    params = sampling_params(cfg)
    params_json = _params_json(params, cfg.system_prompt)
    judge_name = None
    if cfg.method == "answer_first":
        judge_name = f"{cfg.judge_backend or cfg.backend}:{cfg.judge_model or cfg.model}"
    params_id = method.params_id(params_json, judge=judge_name)
    params_doc = method.to_json(params_json)
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
    judge = None
    if todo:
        backend = factory(cfg.backend, cfg.model, cfg.backend_options)
        sampler = CatalogSampler(
            store, rows, backend, cfg.model, params, run_id, cfg.system_prompt, stats
        )
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
                student=f"{cfg.model}\n{params_json}",
            )  # fmt: skip
        # one verifier worker pool for every round instead of one per round, when the
        # problems need one (starting and stopping a pool costs seconds)
        with _pool_for(rows.values()):
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
    counters.update(
        samples_drawn=drawn,
        fixed_k_samples=fixed,
        sample_saving=round(1 - drawn / fixed, 4) if fixed else 0.0,
        stopped_early=early,
        judged=judged,
        samples_reused=stats.reused,
        samples_generated=stats.generated,
        generation_errors=stats.failed,
        incomplete=incomplete,
    )
    if judge is not None:
        counters["judge_unparsed"] = judge.failures
        counters["judge_generated"] = judge.generated
        counters["judge_reused"] = judge.reused
    grades = _grades_of(store, cfg.model, params_id, ids)
    counters["levels"] = level_histogram(grades, method.bins.hardest)
    if cfg.method in ("fixed_k", "adaptive_k"):
        counters.update(level_agreement(store, cfg.model, grades, params_doc))
    report = None
    if report_dir is not None:
        report = write_grade_report(grades, report_dir, title=title, counters=counters,
                                    plots=cfg.plots)  # fmt: skip
        counters["report"] = str(report)
    return GradeOutcome(counters, grades, report)


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


def _report_dir(store: Any, cfg_dir: str | None, ctx: StageContext, kind: str) -> Path:
    if cfg_dir:
        return ctx.path(cfg_dir)
    root = getattr(store.config, "root", None) or Path.cwd() / "tracemill-reports"
    return Path(root) / "reports" / f"{kind}-{ctx.run_id}"


@register_stage("grade", GradeStage)
def grade_stage(ctx: StageContext, cfg: GradeStage) -> dict[str, Any]:
    """Grade problems by a student model's pass rate (adaptive k by default)."""
    from tracemill.stores.catalog import open_catalog

    with open_catalog(ctx.catalog) as store:
        problems = choose_problems(
            store, source=cfg.source, domain=cfg.domain, where=cfg.where, limit=cfg.limit
        )
        out = grade(
            cfg,
            problems,
            store=store,
            run_id=ctx.run_id,
            report_dir=_report_dir(store, cfg.report_dir, ctx, "grade"),
            title=f"grade {cfg.model}",
        )
    return out.counters


# --- select -------------------------------------------------------------------------------


def selection_candidates(
    store: Any,
    *,
    model: str | None = None,
    params_id: str | None = None,
    method: str | None = None,
    snapshot: int | None = None,
) -> pa.Table:
    """One grade per problem (the latest) joined with domain and source, at ``snapshot``."""
    at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
    conds, args = [], []
    for col, value in (("grader_model", model), ("params_id", params_id), ("method", method)):
        if value is not None:
            conds.append(f"{col} = ?")
            args.append(value)
    where = (" WHERE " + " AND ".join(conds)) if conds else ""
    grades = store.sql(f"SELECT * FROM grades{at}{where}", args)
    models = sorted(set(grades.column("grader_model").to_pylist()))
    if len(models) > 1:
        raise ValueError(
            f"grades from several grader models ({', '.join(models)}); choose one with model"
        )
    return store.sql_with(
        "_tm_sel_grades",
        grades,
        "SELECT g.problem_id, g.level, g.pass_rate, g.k, g.grader_model, g.params_id, "
        "g.method, p.domain, p.source FROM (SELECT * FROM _tm_sel_grades QUALIFY "
        "row_number() OVER (PARTITION BY problem_id ORDER BY created_at DESC, params_id) "
        f"= 1) g JOIN problems AS p{at} USING (problem_id) ORDER BY g.problem_id",
    )


def select(cfg: SelectStage, *, store: Any, run_id: str | None) -> tuple[dict[str, Any], Any]:
    """Choose problems and record the selection as a ``datasets`` row."""
    from tracemill.catalogs import config_id
    from tracemill.pipelines.grade import (
        parse_band,
        parse_distribution,
        select_by_difficulty,
        selection_query,
    )

    distribution = cfg.distribution
    if isinstance(distribution, str):
        distribution = parse_distribution(distribution)
    if cfg.size is None and distribution is not None:
        raise ValueError("a distribution needs a size")
    band = parse_band(cfg.band) if cfg.band else None
    snapshot = store.current_snapshot()
    candidates = selection_candidates(
        store, model=cfg.model, params_id=cfg.params_id, method=cfg.method, snapshot=snapshot
    )
    if candidates.num_rows == 0:
        raise ValueError("no graded problems to select from (run `tracemill grade` first)")
    sel = select_by_difficulty(
        candidates,
        size=cfg.size,
        distribution=distribution,
        band=band,
        domains=cfg.domain,
        sources=cfg.source,
        seed=cfg.seed,
        fill=cfg.fill,
        curriculum=cfg.curriculum,
        stages=cfg.stages,
    )
    order = [(r["problem_id"], r["stage"]) for r in sel.rows]
    selection_id = config_id(order)
    params = {
        "size": cfg.size,
        "distribution": {str(k): v for k, v in (distribution or {}).items()} or None,
        "band": list(band) if band else None,
        "model": sorted(set(candidates.column("grader_model").to_pylist())),
        "params_id": cfg.params_id,
        "method": cfg.method,
        "source": cfg.source,
        "domain": cfg.domain,
        "seed": cfg.seed,
        "fill": cfg.fill,
        "curriculum": cfg.curriculum,
        "stages": cfg.stages,
        "selection_id": selection_id,
        **sel.report(),
    }
    latest = store.sql(
        "SELECT version, params FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1",
        [cfg.dataset],
    ).to_pylist()
    counters: dict[str, Any] = {"rows": len(sel.rows), "shortfall": sel.shortfall}
    if latest and json.loads(latest[0]["params"] or "{}").get("selection_id") == selection_id:
        counters.update(version=latest[0]["version"], new_version=False)
    else:
        version = (latest[0]["version"] + 1) if latest else 1
        row = {
            "name": cfg.dataset,
            "version": version,
            "kind": "selection",
            "query": selection_query(sel.rows, snapshot),
            "rows": len(sel.rows),
            "snapshot_id": snapshot,
            "params": json.dumps(params, sort_keys=True),
            "run_id": run_id,
        }
        store.append({"datasets": [row]}, message=f"select {cfg.dataset} v{version}")
        counters.update(version=version, new_version=True)
    counters["snapshot"] = snapshot
    counters["levels"] = {str(k): v for k, v in sel.taken.items()}
    if sel.requested:
        counters["requested"] = {str(k): v for k, v in sel.requested.items()}
    if sel.fills:
        counters["fills"] = [f"{a}<-{b}:{n}" for a, b, n in sel.fills]
    if cfg.curriculum:
        counters["stages"] = [f"{s.stage}:L{','.join(map(str, s.levels))}[{s.start}:{s.stop})"
                              for s in sel.stages]  # fmt: skip
    return counters, sel


def read_selection(store: Any, name: str, version: int | None = None) -> pa.Table:
    """Re-read a recorded selection (latest version unless given) with its query."""
    args: list[Any] = [name]
    query = "SELECT query FROM datasets WHERE name = ? AND kind = 'selection'"
    if version is not None:
        query += " AND version = ?"
        args.append(version)
    found = store.sql(query + " ORDER BY version DESC LIMIT 1", args).to_pylist()
    if not found:
        raise KeyError(f"no selection named {name!r}" + (f" v{version}" if version else ""))
    return store.sql(found[0]["query"])


@register_stage("select", SelectStage)
def select_stage(ctx: StageContext, cfg: SelectStage) -> dict[str, Any]:
    """Select graded problems by difficulty into a versioned ``datasets`` row."""
    from tracemill.stores.catalog import open_catalog

    with open_catalog(ctx.catalog) as store:
        counters, sel = select(cfg, store=store, run_id=ctx.run_id)
        out_dir = _report_dir(store, cfg.report_dir, ctx, "select")
    counters["report"] = str(write_selection_report(sel, cfg.dataset, out_dir, counters))
    return counters


# --- calibrate ----------------------------------------------------------------------------


def calibrate(
    cfg: CalibrateStage,
    *,
    store: Any,
    run_id: str | None,
    report_dir: Path,
    backend_factory: BackendFactory | None = None,
) -> tuple[dict[str, Any], pa.Table]:
    """Generate items per level, grade them and tabulate measured pass rate per level."""
    from tracemill.pipelines.grade import calibration_problems, calibration_table, parse_levels

    levels = parse_levels(cfg.levels)
    problems = calibration_problems(
        cfg.family, levels, cfg.per_level, seed=cfg.item_seed, run_id=run_id
    )
    added = store.append({"problems": problems}, message=f"calibrate {cfg.family}")
    out = grade(
        cfg,
        problems,
        store=store,
        run_id=run_id,
        backend_factory=backend_factory,
        report_dir=report_dir,
        title=f"calibrate {cfg.family} for {cfg.model}",
    )
    table = calibration_table(problems, out.grades, cfg.confidence)
    report_dir.mkdir(parents=True, exist_ok=True)
    import pyarrow.parquet as pq

    pq.write_table(table, report_dir / "calibration.parquet")
    md = _calibration_markdown(cfg, table)
    (report_dir / "calibration.md").write_text(md, encoding="utf-8")
    publish_markdown(f"calibrate-{cfg.family}", md)
    counters = dict(out.counters)
    counters["problems_added"] = added["problems"].inserted
    counters["calibration"] = {
        str(r["level"]): round(r["pass_rate"], 4) if r["pass_rate"] is not None else None
        for r in table.to_pylist()
    }
    counters["calibration_table"] = str(report_dir / "calibration.parquet")
    if cfg.target_pass_rate is not None:
        from tracemill.pipelines.grade import catalog_calibration, level_for_pass_rate

        # the catalog's view: this run's grades plus any earlier ones of the model
        pooled = catalog_calibration(store, cfg.family, cfg.model, confidence=cfg.confidence)
        level = level_for_pass_rate(pooled, cfg.target_pass_rate)
        measured = {r["level"]: r["pass_rate"] for r in pooled.to_pylist()}[level]
        counters["target_pass_rate"] = cfg.target_pass_rate
        counters["target_level"] = level
        counters["target_level_pass_rate"] = round(measured, 4)
    return counters, table


def _calibration_markdown(cfg: CalibrateStage, table: pa.Table) -> str:
    lines = [
        f"# Calibration of `{cfg.family}` for `{cfg.model}`",
        "",
        f"{cfg.per_level} item(s) per level, method `{cfg.method}`, k = {cfg.k}.",
        "",
        "| level | items | samples | pass rate | 95% CI | mean item pass rate | mean graded "
        "level | mean tokens |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in table.to_pylist():
        ci = f"{r['ci_low']:.3f}–{r['ci_high']:.3f}" if r["ci_low"] is not None else ""
        tok = f"{r['mean_tokens']:.0f}" if r["mean_tokens"] is not None else ""
        rate = f"{r['pass_rate']:.3f}" if r["pass_rate"] is not None else ""
        lines.append(
            f"| {r['level']} | {r['items']} | {r['samples']} | {rate} | {ci} | "
            f"{r['mean_item_pass_rate']:.3f} | {r['mean_graded_level']:.2f} | {tok} |"
        )
    family, model = cfg.family.replace("'", "''"), cfg.model.replace("'", "''")
    lines += [
        "",
        "The catalog answers the same from its grades (all of this model's, latest per "
        "problem), e.g. in `tracemill sql`:",
        "",
        "```sql",
        "SELECT level, items, samples, pass_rate, ci_low, ci_high FROM calibration",
        f"WHERE family = '{family}' AND grader_model = '{model}' ORDER BY level;",
        "```",
    ]
    return "\n".join(lines) + "\n"


@register_stage("calibrate", CalibrateStage)
def calibrate_stage(ctx: StageContext, cfg: CalibrateStage) -> dict[str, Any]:
    """Measure a model's pass rate per nominal level of a synthetic family."""
    from tracemill.stores.catalog import open_catalog

    with open_catalog(ctx.catalog) as store:
        out_dir = _report_dir(store, cfg.report_dir, ctx, f"calibrate-{cfg.family}")
        counters, _ = calibrate(cfg, store=store, run_id=ctx.run_id, report_dir=out_dir)
    return counters


# --- reports ------------------------------------------------------------------------------


def publish_markdown(key: str, markdown: str) -> bool:
    """Publish Markdown as a Prefect artifact when inside a Prefect flow run."""
    if "prefect" not in sys.modules:
        return False  # Prefect was never imported, so no flow run can be active
    try:
        from prefect.artifacts import create_markdown_artifact
        from prefect.context import FlowRunContext, TaskRunContext
    except ImportError:
        return False
    if FlowRunContext.get() is None and TaskRunContext.get() is None:
        return False
    safe = "".join(c if c.isalnum() or c == "-" else "-" for c in key.lower())
    try:
        create_markdown_artifact(markdown=markdown, key=safe, description=key)
    except Exception:  # noqa: BLE001 - a report must never fail the stage
        log.warning("could not publish the %s artifact", key, exc_info=True)
        return False
    return True


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log.info("matplotlib is not installed: reports have no plots")
        return None
    return plt


def plot_levels(levels: Mapping[str, int], path: Path, title: str) -> Path | None:
    """A bar chart of problems per level, as PNG (None without matplotlib)."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    keys = sorted(levels, key=int)
    ax.bar([int(k) for k in keys], [levels[k] for k in keys], color="#4c72b0")
    ax.set_xlabel("level (1 = easiest)")
    ax.set_ylabel("problems")
    ax.set_xticks([int(k) for k in keys])
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_pass_rate_tokens(grades: pa.Table, path: Path, title: str) -> Path | None:
    """Pass rate against mean completion tokens, one point per problem, as PNG."""
    plt = _pyplot()
    if plt is None:
        return None
    pts = [
        (t, r)
        for t, r in zip(
            grades.column("mean_tokens").to_pylist(),
            grades.column("pass_rate").to_pylist(),
            strict=True,
        )
        if t is not None
    ]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    if pts:
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=10, alpha=0.6, color="#dd8452")
    ax.set_xlabel("mean completion tokens")
    ax.set_ylabel("pass rate")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _png_markdown(path: Path | None, alt: str, inline: bool) -> str:
    if path is None:
        return ""
    if not inline:
        return f"![{alt}]({path.name})\n"
    import base64

    data = base64.b64encode(path.read_bytes()).decode()
    return f"![{alt}](data:image/png;base64,{data})\n"


def _counters_markdown(counters: Mapping[str, Any]) -> list[str]:
    lines = ["| counter | value |", "|---|---:|"]
    for k, v in counters.items():
        if isinstance(v, dict | list) or k == "report":
            continue
        lines.append(f"| {k} | {v} |")
    return lines


def write_grade_report(
    grades: pa.Table,
    out_dir: Path,
    *,
    title: str,
    counters: Mapping[str, Any],
    plots: bool = True,
) -> Path:
    """Write ``summary.md`` (+ PNG plots) for a grading run; return the Markdown path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    levels = counters.get("levels") or level_histogram(grades)
    hist_png = plot_levels(levels, out_dir / "levels.png", title) if plots else None
    tok_png = (
        plot_pass_rate_tokens(grades, out_dir / "pass_rate_vs_tokens.png", title) if plots else None
    )
    head = [f"# {title}", "", *_counters_markdown(counters), "", "## Levels", ""]
    head += ["| level | problems |", "|---:|---:|"]
    head += [f"| {k} | {v} |" for k, v in sorted(levels.items(), key=lambda kv: int(kv[0]))]
    body = ["", "## Plots", ""] if (hist_png or tok_png) else []
    md = "\n".join(head + body) + "\n"
    file_md = md + _png_markdown(hist_png, "level histogram", False)
    file_md += _png_markdown(tok_png, "pass rate vs completion tokens", False)
    path = out_dir / "summary.md"
    path.write_text(file_md, encoding="utf-8")
    if "prefect" in sys.modules:
        art = md + _png_markdown(hist_png, "level histogram", True)
        art += _png_markdown(tok_png, "pass rate vs completion tokens", True)
        publish_markdown(title.replace(" ", "-"), art)
    return path


def write_selection_report(sel: Any, name: str, out_dir: Path, counters: Mapping[str, Any]) -> Path:
    """Write ``summary.md`` (+ level histogram) for a selection."""
    out_dir.mkdir(parents=True, exist_ok=True)
    levels = {str(k): v for k, v in sel.taken.items()}
    png = plot_levels(levels, out_dir / "levels.png", f"selection {name}") if levels else None
    lines = [f"# selection {name}", "", *_counters_markdown(counters), ""]
    lines += ["| level | supply | requested | taken |", "|---:|---:|---:|---:|"]
    all_levels = sorted(set(sel.supply) | set(sel.requested) | set(sel.taken))
    for lv in all_levels:
        req = sel.requested.get(lv, "") if sel.requested else ""
        lines.append(f"| {lv} | {sel.supply.get(lv, 0)} | {req} | {sel.taken.get(lv, 0)} |")
    if sel.fills:
        lines += ["", "Fill (short level ← donor level: rows): "
                  + ", ".join(f"{a} ← {b}: {n}" for a, b, n in sel.fills)]  # fmt: skip
    if sel.shortfall:
        lines += ["", f"**Shortfall: {sel.shortfall} row(s) could not be selected.**"]
    if len(sel.stages) > 1:
        lines += ["", "## Curriculum stages", "", "| stage | levels | rows |", "|---:|---|---:|"]
        lines += [f"| {s.stage} | {', '.join(map(str, s.levels))} | {s.rows} |"
                  for s in sel.stages]  # fmt: skip
    md = "\n".join(lines) + "\n"
    path = out_dir / "summary.md"
    path.write_text(md + _png_markdown(png, "level histogram", False), encoding="utf-8")
    if "prefect" in sys.modules:
        publish_markdown(f"select-{name}", md + _png_markdown(png, "level histogram", True))
    return path
