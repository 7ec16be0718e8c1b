"""Recipe stage ``verify``: verdicts for samples that have none for the current verifier version.

A sample's verifier is its problem's ``verifier`` column (the *primary* verifier, whose
verdict decides acceptance), or the stage's ``verifier`` override, or each verifier of
its ``ensemble`` (verdicts of verifiers other than the problem's are *audits*: recorded,
listed in ``verdict_disagreements``, never a veto; see ``catalogs/views.py``). A sample
counts as done when ``verdicts`` holds a row for (sample, verifier, that verifier's
*current* version), so bumping a verifier's version re-verifies old samples without
regenerating them, and a rerun finds nothing to do. Verdicts are appended batch by
batch (each batch one catalog snapshot), so an interrupted run keeps what it finished.

Samples whose problem has no verifier, or names one that is not registered, are
counted (``no_verifier``, ``unknown_verifier``) and not stored: a ``none`` verdict
would count as a failure in pass rates. Samples that need the ``judge`` while no judge
model is configured are counted (``judge_unconfigured``) and not stored either, so a
later run with a judge verifies them.

Options:

- ``judge_model`` (with ``judge_backend``, ``judge_base_url``, ``judge_options``, …): the
  judge model. With ``judge_fallback``, samples whose primary verdict is ``no_answer`` /
  ``no_reference`` are also judged, and those judge verdicts (``detail.fallback_for``)
  decide them. The judge's calls are metered: the run's counters ``judge_calls``,
  ``tokens_in``, ``tokens_out`` and ``cost_usd`` (the cost its server reported, else the
  tokens at ``judge_prices``; left out when neither is known) go into its ``runs`` row
  and its recipe's sums. A run that asks no judge model has none of them.
- ``retry_timeouts``: verify again only the verdicts whose latest row at the
  verifier's current version timed out, under ``deadline_s`` (default three times the
  normal deadline; math-verify's own parse/compare timeouts grow with it); each retry is
  a new row at version ``V+retryN``, which the views prefer to ``V``. The deadline is
  the math pool's: other verifiers run again as they are (code keeps its problem's time
  limits, so a retry only helps when the machine was overloaded).
- ``retry_errors``: the same for infrastructure failures (``judge_error``,
  ``sandbox_error``, ``verifier_error``): a judge that was down, a sandbox that could
  not start. Both retry options leave samples without a verdict alone.
- ``force`` verifies matching samples again even when a verdict exists and reports the
  counters; rows already stored are immutable and stay as they are (the append skips
  existing keys): to record changed results, bump the verifier's version.
- ``executor: ray``: the driver reads each batch and a pool of Ray verifier actors
  verifies it and writes the verdicts as a data file, which the driver commits (see
  :mod:`tracemill.flows.executor`). On an embedded catalog the driver holds the catalog
  only while it commits a round of results (about three batches, one transaction) and
  reads the next batches. ``judge`` verdicts stay in the driver on
  purpose: the actors are one per CPU, the judge is one model (a server the driver
  already sends concurrent requests to, or a local model that should load once, not in
  every actor), and the driver meters its calls.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from tracemill.flows.executor import ExecutorFields
from tracemill.flows.options import Flag
from tracemill.flows.reporting import Report
from tracemill.flows.stages import StageContext, register_stage

if TYPE_CHECKING:
    from tracemill.pipelines.verify.judge import JudgeUsage

log = logging.getLogger(__name__)

SAMPLE_COLUMNS = ("sample_id", "problem_id", "completion")
DEFAULT_DEADLINE_S = 10.0
"""Math: the hard per-item deadline of a normal run."""
RETRY_DEADLINE_FACTOR = 3.0
"""``retry_timeouts`` without a deadline uses this many times the default one."""
INNER_TIMEOUT_SHARE = 0.4
"""On a retry, math-verify's parse and compare timeouts are this share of the deadline."""

Progress = Callable[[int, int], None]
"""``progress(done, total)`` of the current phase."""


JUDGE_PANEL = "Judge"


class JudgeConfig(BaseModel):
    """The judge model of a ``verify`` run (from the stage's ``judge_*`` keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str = Field("openai", description="openai, transformers, vllm, llamacpp or fake")
    model: str = Field(min_length=1, description="server model name, local path or package")
    base_url: str | None = Field(None, description="openai: server URL, e.g. http://host/v1")
    max_tokens: int = Field(1024, ge=1, description="longest judge reply")
    allow_download: bool = Field(False, description="let a Hub id be downloaded")
    options: dict[str, Any] = Field(default_factory=dict, description="more backend options")
    prices: dict[str, float] = Field(
        default_factory=dict, description="USD per 1M input/output tokens"
    )
    fallback: bool = Field(
        False, description="also judge samples whose primary verifier found no answer"
    )


class VerifyStage(ExecutorFields):
    """Recipe stage ``verify``: samples → ``verdicts``."""

    verifier: str | None = Field(
        None,
        description="use this verifier for every sample (default: the problem's own; another "
        "verifier's verdicts are audits, never a veto)",
    )
    ensemble: list[str] = Field(
        default_factory=list,
        description="verify every sample with each of these (math,numeric or repeated); the "
        "problem's own verifier stays primary and disagreements are reported",
    )
    where: str | None = Field(None, description="SQL condition over samples columns")
    source: list[str] = Field(
        default_factory=list, description="only samples of problems from this source"
    )
    workers: int | None = Field(None, ge=1, description="math worker processes / sandboxes")
    force: bool = Field(False, description="verify again even where a verdict exists")
    batch_size: int = Field(512, ge=1, description="samples per committed batch")
    deadline_s: Annotated[float | None, Flag("--deadline")] = Field(
        None,
        gt=0,
        description="math: hard per-item deadline in seconds (default 10; 30 when retrying "
        "timeouts)",
    )
    retry_timeouts: bool = Field(
        False,
        description="only re-run verdicts that timed out, under --deadline; each retry is a "
        "new verdict row (version V+retryN) that supersedes the timeout",
    )
    retry_errors: bool = Field(
        False,
        description="only re-run verdicts that are infrastructure failures (judge_error, "
        "sandbox_error, verifier_error), each as a new verdict row",
    )
    judge_backend: Annotated[str, Flag(panel=JUDGE_PANEL)] = Field(
        "openai", description="judge model backend: openai, transformers, vllm, …"
    )
    judge_model: Annotated[str | None, Flag(panel=JUDGE_PANEL)] = Field(
        None, description="judge model: a server's model name, a local path or package"
    )
    judge_base_url: Annotated[str | None, Flag(panel=JUDGE_PANEL)] = Field(
        None, description="openai judge: server URL, e.g. http://host:8000/v1"
    )
    judge_max_tokens: Annotated[int, Flag(panel=JUDGE_PANEL)] = Field(
        1024, ge=1, description="longest judge reply (tokens)"
    )
    judge_options: Annotated[dict[str, Any], Flag(panel=JUDGE_PANEL)] = Field(
        default_factory=dict,
        description="judge backend option, e.g. concurrency=8, api_key_env=MY_KEY",
    )
    judge_allow_download: Annotated[bool, Flag(panel=JUDGE_PANEL)] = Field(
        False, description="let a Hub id given as the judge model be downloaded"
    )
    judge_fallback: Annotated[bool, Flag(panel=JUDGE_PANEL)] = Field(
        False,
        description="also ask the judge where the primary verifier found no answer (or no "
        "usable reference); its verdict then decides those samples",
    )
    judge_prices: Annotated[dict[str, float], Flag(panel=JUDGE_PANEL)] = Field(
        default_factory=dict,
        description="judge's USD per 1M tokens: input=…, output=… (a server-reported cost wins)",
    )

    @field_validator("ensemble", "source", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return value
        return [v.strip() for item in items for v in str(item).split(",") if v.strip()]

    @field_validator("verifier")
    @classmethod
    def _known_verifier(cls, value: str | None) -> str | None:
        from tracemill.flows.options import registered
        from tracemill.pipelines.verify import get_verifier

        return registered(value, get_verifier)

    @field_validator("judge_backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from tracemill.pipelines.generate import backend_kinds

        if value not in backend_kinds():
            raise ValueError(f"unknown judge backend {value!r}; backends: {backend_kinds()}")
        return value

    @field_validator("judge_prices")
    @classmethod
    def _judge_prices(cls, value: dict[str, float]) -> dict[str, float]:
        from tracemill.pipelines.generate.cost import check_online_prices

        return check_online_prices(value, "judge_prices")

    @model_validator(mode="after")
    def _consistent(self) -> VerifyStage:
        if self.verifier and self.ensemble:
            raise ValueError("give either verifier or ensemble, not both")
        if len(set(self.ensemble)) != len(self.ensemble):
            raise ValueError(f"ensemble names a verifier twice: {self.ensemble}")
        if self.judge_model is None and (
            self.judge_base_url or self.judge_options or self.judge_fallback or self.judge_prices
        ):
            raise ValueError(
                "judge_base_url, judge_options, judge_fallback and judge_prices need judge_model "
                "(--judge-model)"
            )
        from tracemill.flows.options import registered
        from tracemill.pipelines.verify import get_verifier

        for name in [*self.ensemble, *([self.verifier] if self.verifier else [])]:
            registered(name, get_verifier)  # an unknown name is a usage error
        return self

    def judge(self) -> JudgeConfig | None:
        """The judge model this run asks (None without ``judge_model``)."""
        if self.judge_model is None:
            return None
        return JudgeConfig(
            backend=self.judge_backend, model=self.judge_model, base_url=self.judge_base_url,
            max_tokens=self.judge_max_tokens, allow_download=self.judge_allow_download,
            options=dict(self.judge_options), prices=dict(self.judge_prices),
            fallback=self.judge_fallback,
        )  # fmt: skip


def make_judge(cfg: JudgeConfig) -> Any:
    """The judge client a config asks for (local models resolved without surprise downloads)."""
    from tracemill.pipelines.generate import make_backend
    from tracemill.pipelines.verify.judge import ModelJudge

    options: dict[str, Any] = {}
    if cfg.backend in ("transformers", "vllm", "llamacpp"):
        from tracemill.stores.models import resolve_model

        resolved = resolve_model(cfg.model, allow_download=cfg.allow_download)
        options.update(resolved.backend_options(cfg.backend))
    if cfg.base_url is not None:
        options["base_url"] = cfg.base_url
    options.update(cfg.options)
    return ModelJudge(
        make_backend(cfg.backend, cfg.model, **options), max_tokens=cfg.max_tokens,
        prices=dict(cfg.prices),
    )  # fmt: skip


@contextmanager
def _judge_for(cfg: JudgeConfig | None) -> Iterator[None]:
    from tracemill.pipelines.verify.judge import judge_client

    if cfg is None:
        yield
        return
    with judge_client(make_judge(cfg)):
        yield


# --- what to verify -----------------------------------------------------------------


def _verifier_table(names: Sequence[str] | None) -> pa.Table:
    from tracemill.pipelines.verify import get_verifier, verifier_names

    regs = [get_verifier(n) for n in (names or verifier_names())]  # KeyError names the known
    return pa.table(
        {"name": [r.name for r in regs], "version": [r.version for r in regs]},
        schema=pa.schema([("name", pa.string()), ("version", pa.string())]),
    )


def _samples_sql(where: str | None, sources: Sequence[str]) -> str:
    from tracemill.catalogs.views import sql_in_list

    # judge samples are a grader's replies about a problem, not answers to verify
    cond = ["role <> 'judge'"]
    if where:
        cond.append(f"({where})")
    if sources:
        cond.append(
            "problem_id IN (SELECT problem_id FROM problems "
            f"WHERE source IN {sql_in_list(list(sources))})"
        )
    # rowid: where the row lies (DuckLake row ids grow with inserts; files are pruned by them)
    return f"(SELECT *, rowid AS _tm_row FROM samples WHERE {' AND '.join(cond)})"


def _judge_ready() -> bool:
    from tracemill.pipelines.verify.judge import current_judge

    return current_judge() is not None


def _drop_judge(todo: pa.Table) -> tuple[pa.Table, int]:
    """`todo` without its ``judge`` rows when no judge is configured, and their count."""
    if _judge_ready() or todo.num_rows == 0:
        return todo, 0
    keep = pc.not_equal(todo.column("verifier"), "judge")
    kept = todo.filter(keep)
    return kept, todo.num_rows - kept.num_rows


def pending_samples(
    store: Any,
    *,
    verifier: str | None = None,
    ensemble: Sequence[str] = (),
    where: str | None = None,
    sources: Sequence[str] = (),
    force: bool = False,
) -> tuple[pa.Table, dict[str, int]]:
    """Samples to verify as (sample_id, verifier, row_id) rows, and counts of those skipped.

    In the order the samples lie in the catalog's data files (``row_id``: DuckLake's row
    id), so that each batch's read touches the few files its rows are in.
    """
    known = _verifier_table([verifier] if verifier else list(ensemble) or None)
    samples = _samples_sql(where, sources)
    name = "coalesce(CAST(? AS VARCHAR), p.verifier)"
    target = "true" if ensemble else f"k.name = {name}"
    done = (
        ""
        if force
        else "AND NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.sample_id = s.sample_id "
        "AND v.verifier = k.name AND v.verifier_version = k.version)"
    )
    store.con.register("_tm_verifiers", known)
    try:
        todo = store.sql(
            f"SELECT s.sample_id, k.name AS verifier, s._tm_row AS row_id FROM {samples} s "
            "JOIN problems p ON p.problem_id = s.problem_id "
            f"JOIN _tm_verifiers k ON {target} WHERE true {done} "
            # in the order rows lie in the data files: a batch then reads a few files,
            # not a slice of every one (by sample id a batch's rows are spread over all)
            "ORDER BY s._tm_row, k.name",
            [] if ensemble else [verifier],
        )
        if ensemble:
            row = {"none": 0, "unknown": 0}
        else:
            row = store.sql(
                f"SELECT count(*) FILTER (WHERE {name} IS NULL) AS none, "
                f"count(*) FILTER (WHERE {name} IS NOT NULL AND k.name IS NULL) AS unknown "
                f"FROM {samples} s LEFT JOIN problems p ON p.problem_id = s.problem_id "
                f"LEFT JOIN _tm_verifiers k ON k.name = {name}",
                [verifier, verifier, verifier],
            ).to_pylist()[0]
    finally:
        store.con.unregister("_tm_verifiers")
    todo, no_judge = _drop_judge(todo)
    return todo, {
        "no_verifier": int(row["none"] or 0),
        "unknown_verifier": int(row["unknown"] or 0),
        "judge_unconfigured": no_judge,
    }


RETRY_ERROR_REASONS: tuple[str, ...] = ("judge_error", "sandbox_error", "verifier_error")
"""Infrastructure failures ``retry_errors`` re-runs (``no_reference`` would fail again)."""


def retry_candidates(
    store: Any,
    reasons: Sequence[str] = ("timeout",),
    *,
    verifier: str | None = None,
    ensemble: Sequence[str] = (),
    where: str | None = None,
    sources: Sequence[str] = (),
) -> pa.Table:
    """Samples whose latest verdict at a verifier's current version has one of `reasons`.

    Columns: ``sample_id, verifier, version`` (the retry's version, ``V+retryN``),
    ``retry_of`` (the version retried) and ``fallback_for`` (carried over from a judge
    fallback verdict). Every verifier counts unless `verifier` or `ensemble` narrows them.
    """
    from tracemill.catalogs.views import fallback_for_sql, retry_sort_key, retry_version

    known = _verifier_table([verifier] if verifier else list(ensemble) or None)
    samples = _samples_sql(where, sources)
    store.con.register("_tm_verifiers", known)
    try:
        rows = store.sql(
            "SELECT v.sample_id, v.verifier, v.verifier_version AS retry_of, v.reason, "
            f"{fallback_for_sql('v.detail')} AS fallback_for, "
            f"{retry_sort_key('v.verifier_version')} AS attempt FROM verdicts v "
            f"JOIN {samples} s ON s.sample_id = v.sample_id "
            "JOIN _tm_verifiers k ON k.name = v.verifier "
            "WHERE split_part(v.verifier_version, '+', 1) = k.version "
            "QUALIFY row_number() OVER (PARTITION BY v.sample_id, v.verifier "
            f"ORDER BY {retry_sort_key('v.verifier_version')} DESC, v.created_at DESC) = 1 "
            "ORDER BY v.sample_id, v.verifier"
        ).to_pylist()
    finally:
        store.con.unregister("_tm_verifiers")
    todo = [r for r in rows if r["reason"] in reasons]
    return pa.table(
        {
            "sample_id": pa.array([r["sample_id"] for r in todo], pa.string()),
            "verifier": pa.array([r["verifier"] for r in todo], pa.string()),
            "version": pa.array(
                [retry_version(r["retry_of"], int(r["attempt"]) + 1) for r in todo], pa.string()
            ),
            "retry_of": pa.array([r["retry_of"] for r in todo], pa.string()),
            "fallback_for": pa.array([r["fallback_for"] for r in todo], pa.string()),
        }
    )


def fallback_samples(
    store: Any, *, where: str | None = None, sources: Sequence[str] = ()
) -> pa.Table:
    """Samples for the judge fallback: primary verdict without an answer, no judge verdict yet.

    Columns: ``sample_id, verifier`` (``judge``) and ``fallback_for`` (the primary).
    A sample that already has a judge verdict at the judge's current version (say, from
    an audit run) is not asked again: that verdict stays an audit.
    """
    from tracemill.catalogs.views import FALLBACK_REASONS, FALLBACK_VERIFIER, sql_in_list
    from tracemill.catalogs.views import latest_verdicts_sql as latest
    from tracemill.pipelines.verify import get_verifier

    judge = get_verifier(FALLBACK_VERIFIER)
    samples = _samples_sql(where, sources)
    rows = store.sql(
        "SELECT v.sample_id, ? AS verifier, v.verifier AS fallback_for "
        f"FROM ({latest()}) v JOIN {samples} s ON s.sample_id = v.sample_id "
        "JOIN problems p ON p.problem_id = v.problem_id "
        f"WHERE v.verifier = p.verifier AND p.verifier <> ? AND v.reason IN "
        f"{sql_in_list(FALLBACK_REASONS)} AND NOT EXISTS (SELECT 1 FROM verdicts j "
        "WHERE j.sample_id = v.sample_id AND j.verifier = ? "
        "AND split_part(j.verifier_version, '+', 1) = ?) ORDER BY v.sample_id",
        [judge.name, judge.name, judge.name, judge.version],
    )
    return rows


# --- verifying ----------------------------------------------------------------------


def _merge_detail(table: pa.Table, extra: list[dict[str, Any]]) -> pa.Table:
    details = []
    for text, more in zip(table.column("detail").to_pylist(), extra, strict=True):
        try:
            base = json.loads(text) if text else {}
        except ValueError:
            base = {"detail": text}
        details.append(
            json.dumps({**base, **more}, ensure_ascii=False, default=str, sort_keys=True)
        )
    i = table.schema.get_field_index("detail")
    return table.set_column(i, table.schema.field(i), pa.array(details, pa.string()))


def _with_inner_timeouts(problems: pa.Table, deadline_s: float) -> pa.Table:
    """Problems whose math spec lets math-verify use a share of a longer deadline."""
    seconds = max(1, int(deadline_s * INNER_TIMEOUT_SHARE))
    specs = []
    for text in problems.column("verifier_spec").to_pylist():
        try:
            spec = json.loads(text) if text else {}
        except ValueError:
            spec = {}
        if not isinstance(spec, dict):
            spec = {}
        spec.update(parse_timeout_s=seconds, compare_timeout_s=seconds)
        specs.append(json.dumps(spec, sort_keys=True))
    i = problems.schema.get_field_index("verifier_spec")
    return problems.set_column(i, problems.schema.field(i), pa.array(specs, pa.string()))


def verify_pending(
    store: Any,
    todo: pa.Table,
    *,
    workers: int | None = None,
    run_id: str | None = None,
    batch_size: int = 512,
    deadline_s: float = DEFAULT_DEADLINE_S,
    progress: Progress | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    ray_workers: int | None = None,
) -> dict[str, Any]:
    """Verify the (sample_id, verifier) rows of `todo` batch by batch, appending verdicts.

    Optional `todo` columns: ``version`` (record this version instead of the
    verifier's: retries), ``retry_of`` and ``fallback_for`` (added to the detail).
    With ``executor="ray"`` plain verification (none of those columns) runs on Ray
    verifier actors that write the verdicts as data files the driver commits, except
    ``judge`` rows: the judge client lives in this process (see the module doc).
    """
    from tracemill.pipelines.verify import verifier_pool, verify_table
    from tracemill.pipelines.verify.batch import POOLED

    plain = not ({"version", "retry_of", "fallback_for"} & set(todo.column_names))
    if executor == "ray" and plain and todo.num_rows:
        return _verify_pending_split(
            store, todo, run_id=run_id, batch_size=batch_size, deadline_s=deadline_s,
            progress=progress, workers=workers, address=ray_address, ray_workers=ray_workers,
        )  # fmt: skip
    rows = todo.to_pylist()
    retry = "version" in todo.column_names
    reasons: Counter[str] = Counter()
    per: dict[str, dict[str, Any]] = {}
    inserted = verified = passed = 0
    total = len(rows)
    with (
        verifier_pool(workers, deadline_s=deadline_s)
        if any(r["verifier"] in POOLED for r in rows)
        else _nothing()
    ):
        for start in range(0, total, batch_size):
            chunk = rows[start : start + batch_size]
            tables = []
            for name in sorted({r["verifier"] for r in chunk}):
                group = [r for r in chunk if r["verifier"] == name]
                samples, problems = _read_batch(store, _batch_ids(group))
                if retry and name in POOLED:
                    problems = _with_inner_timeouts(problems, deadline_s)
                done = start + sum(t.num_rows for t in tables)

                def tick(n: int, done: int = done) -> None:
                    if progress is not None:
                        progress(done + n, total)

                table = verify_table(
                    problems, samples, verifier=name, workers=workers, run_id=run_id,
                    progress=tick,
                )  # fmt: skip
                tables.append(_annotate(table, group, retry, deadline_s))
            table = pa.concat_tables(tables) if tables else None
            if table is None or table.num_rows == 0:
                continue
            result = store.append({"verdicts": table}, message=f"verify {total - start} left")
            inserted += result["verdicts"].inserted
            for row in table.select(["verifier", "passed", "reason"]).to_pylist():
                verified += 1
                passed += bool(row["passed"])
                reasons[row["reason"]] += 1
                entry = per.setdefault(row["verifier"], {"verified": 0, "passed": 0, "reasons": {}})
                entry["verified"] += 1
                entry["passed"] += bool(row["passed"])
                entry["reasons"][row["reason"]] = entry["reasons"].get(row["reason"], 0) + 1
    return {
        "verified": verified,
        "passed": passed,
        "inserted": inserted,
        "by_reason": dict(sorted(reasons.items())),
        "by_verifier": per,
    }


def _verify_pending_split(
    store: Any,
    todo: pa.Table,
    *,
    run_id: str | None,
    batch_size: int,
    deadline_s: float,
    progress: Progress | None,
    workers: int | None,
    address: str | None,
    ray_workers: int | None,
) -> dict[str, Any]:
    """``executor="ray"``: ``judge`` rows verified here, every other row on Ray actors."""
    from tracemill.pipelines.verify.judge import verify_judge

    names = sorted(set(todo.column("verifier").to_pylist()))
    judged_names = [n for n in names if _verifier_fn(n) is verify_judge]
    here = pc.is_in(todo.column("verifier"), pa.array(judged_names, pa.string()))
    local, remote = todo.filter(here), todo.filter(pc.invert(here))
    total = todo.num_rows

    def shifted(offset: int) -> Progress | None:
        if progress is None:
            return None
        return lambda done, _total: progress(offset + done, total)

    counts: dict[str, Any] = {}
    if remote.num_rows:
        counts = _add(counts, _verify_pending_ray(
            store, remote.to_pylist(), run_id=run_id, batch_size=batch_size,
            deadline_s=deadline_s, progress=shifted(0), address=address, workers=ray_workers,
        ))  # fmt: skip
    if local.num_rows:
        counts = _add(counts, verify_pending(
            store, local, workers=workers, run_id=run_id, batch_size=batch_size,
            deadline_s=deadline_s, progress=shifted(remote.num_rows),
        ))  # fmt: skip
    return counts


def _verifier_fn(name: str) -> Any:
    from tracemill.pipelines.verify import get_verifier

    try:
        return get_verifier(name).fn
    except KeyError:
        return None


def _verify_pending_ray(
    store: Any,
    rows: list[dict[str, Any]],
    *,
    run_id: str | None,
    batch_size: int,
    deadline_s: float,
    progress: Progress | None,
    address: str | None,
    workers: int | None,
) -> dict[str, Any]:
    """:func:`verify_pending` on a pool of Ray verifier actors (see the module doc)."""
    from tracemill.flows.executor import VerifyWorker, connect, default_workers, map_actor_rounds

    ray = connect(address)
    actors = min(default_workers(ray, "cpu", workers), max(1, -(-len(rows) // batch_size)))

    def calls() -> Iterator[tuple[Any, ...]]:
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            for name in sorted({r["verifier"] for r in chunk}):
                group = [r for r in chunk if r["verifier"] == name]
                samples, problems = _read_batch(store, _batch_ids(group))
                yield problems, samples, run_id, name

    reasons: Counter[str] = Counter()
    per: dict[str, dict[str, Any]] = {}
    inserted = verified = passed = 0
    nodes: set[str] = set()
    names = sorted({r["verifier"] for r in rows})
    # reading the next batches and committing a round's results share one attach and one
    # transaction: about three batches per attach of a released catalog, not two per batch
    for done in map_actor_rounds(VerifyWorker, (store.config, deadline_s, names), calls(),
                                 address=address, actors=actors, hold=store.hold,
                                 depth=3, low_water=1):  # fmt: skip
        where = sorted({out["node"] or "?" for out in done})
        result = store.commit_files([out["file"] for out in done],
                                    message=f"verify on {', '.join(where)}")  # fmt: skip
        inserted += result["verdicts"].inserted if "verdicts" in result else 0
        for out in done:
            for row in out["summary"].to_pylist():
                verified += 1
                passed += bool(row["passed"])
                reasons[row["reason"]] += 1
                entry = per.setdefault(
                    row["verifier"], {"verified": 0, "passed": 0, "reasons": {}}
                )
                entry["verified"] += 1
                entry["passed"] += bool(row["passed"])
                entry["reasons"][row["reason"]] = entry["reasons"].get(row["reason"], 0) + 1
            if out["node"]:
                nodes.add(out["node"])
        if progress is not None:
            progress(verified, len(rows))
    return {
        "verified": verified,
        "passed": passed,
        "inserted": inserted,
        "by_reason": dict(sorted(reasons.items())),
        "by_verifier": per,
        "ray_nodes": len(nodes),
    }


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _annotate(
    table: pa.Table, group: list[dict[str, Any]], retry: bool, deadline: float
) -> pa.Table:
    """Retry versions and detail notes of `group` (rows of `todo`) on its verdicts."""
    by_id = {r["sample_id"]: r for r in group}
    order = [by_id[sid] for sid in table.column("sample_id").to_pylist()]
    extra: list[dict[str, Any]] = []
    for r in order:
        more: dict[str, Any] = {}
        if r.get("fallback_for"):
            more["fallback_for"] = r["fallback_for"]
        if retry:
            more.update(retry_of=r["retry_of"], deadline_s=deadline)
        extra.append(more)
    if any(extra):
        table = _merge_detail(table, extra)
    if retry:
        i = table.schema.get_field_index("verifier_version")
        versions = pa.array([r["version"] for r in order], pa.string())
        table = table.set_column(i, table.schema.field(i), versions)
    return table


def _batch_ids(group: list[dict[str, Any]]) -> pa.Table:
    """A batch's ``sample_id`` column, and its ``row_id`` column where the rows carry one."""
    cols = {"sample_id": pa.array([r["sample_id"] for r in group], pa.string())}
    if group and all(r.get("row_id") is not None for r in group):
        cols["row_id"] = pa.array([r["row_id"] for r in group], pa.int64())
    return pa.table(cols)


def _read_batch(store: Any, chunk: pa.Table) -> tuple[pa.Table, pa.Table]:
    """The samples named by ``chunk`` (``sample_id``, optional ``row_id``) and their problems.

    With row ids the read is limited to the batch's span of rows (DuckLake skips the data
    files outside it): reading a batch then costs the same at 10 thousand or 10 million
    samples, where by id alone it scans every file's ids (0.21 s a batch at 200,000
    samples, 0.03 s by span; ``benchmarks/scale.py``). Samples not found in the span (a
    row id that no longer holds) are read again by id alone, so the result is the same.
    """
    with store.hold():  # one attach of a released catalog for every read
        columns = ", ".join(SAMPLE_COLUMNS)
        ids = chunk.select(["sample_id"])
        span = ""
        if "row_id" in chunk.column_names and chunk.num_rows:
            lo, hi = pc.min_max(chunk.column("row_id")).values()
            span = f"rowid BETWEEN {int(lo.as_py())} AND {int(hi.as_py())} AND "
        samples = _samples_by_id(store, columns, span, ids)
        if span and samples.num_rows < len(pc.unique(ids.column("sample_id"))):
            found = pc.is_in(ids.column("sample_id"), samples.column("sample_id"))
            rest = _samples_by_id(store, columns, "", ids.filter(pc.invert(found)))
            samples = pa.concat_tables([samples, rest]).sort_by("sample_id")
        # by the samples' problem ids: no second scan of the samples table
        pids = pa.table({"problem_id": pc.unique(samples.column("problem_id"))})
        store.con.register("_tm_verify_pids", pids)
        try:
            problems = store.sql(
                "SELECT problem_id, domain, task, question, answer, verifier, verifier_spec "
                "FROM problems WHERE problem_id IN (SELECT problem_id FROM _tm_verify_pids)"
            )
        finally:
            store.con.unregister("_tm_verify_pids")
    return samples, problems


def _samples_by_id(store: Any, columns: str, span: str, ids: pa.Table) -> pa.Table:
    store.con.register("_tm_verify_ids", ids)
    try:
        return store.sql(
            f"SELECT {columns} FROM samples WHERE {span}"
            "sample_id IN (SELECT sample_id FROM _tm_verify_ids) ORDER BY sample_id"
        )
    finally:
        store.con.unregister("_tm_verify_ids")


def _add(total: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    out = dict(total)
    for key in ("verified", "passed", "inserted"):
        out[key] = out.get(key, 0) + more[key]
    reasons = Counter(out.get("by_reason", {}))
    reasons.update(more["by_reason"])
    out["by_reason"] = dict(sorted(reasons.items()))
    per = {k: {**v, "reasons": dict(v["reasons"])} for k, v in out.get("by_verifier", {}).items()}
    for name, entry in more["by_verifier"].items():
        mine = per.setdefault(name, {"verified": 0, "passed": 0, "reasons": {}})
        mine["verified"] += entry["verified"]
        mine["passed"] += entry["passed"]
        for reason, n in entry["reasons"].items():
            mine["reasons"][reason] = mine["reasons"].get(reason, 0) + n
    out["by_verifier"] = per
    if "ray_nodes" in more:  # verified on a Ray cluster: how many nodes took part
        out["ray_nodes"] = max(out.get("ray_nodes", 0), more["ray_nodes"])
    return out


def _disagreements(store: Any, sample_ids: list[str]) -> dict[str, Any]:
    """How many of `sample_ids` have verifiers that disagree, and which pairs."""
    from tracemill.catalogs.views import verdict_disagreements_sql

    if not sample_ids:
        return {"samples": 0, "pairs": {}}
    ids = pa.table({"sample_id": pa.array(sorted(set(sample_ids)), pa.string())})
    rows = store.sql_with(
        "_tm_verify_seen",
        ids,
        f"SELECT d.* FROM ({verdict_disagreements_sql()}) d "
        "SEMI JOIN _tm_verify_seen USING (sample_id)",
    ).to_pylist()
    pairs: Counter[str] = Counter()
    for r in rows:
        for a in r["passed_verifiers"]:
            for b in r["failed_verifiers"]:
                pairs[f"{a} passes, {b} fails"] += 1
    return {"samples": len(rows), "pairs": dict(sorted(pairs.items()))}


def verify_samples(
    store: Any,
    *,
    verifier: str | None = None,
    ensemble: Sequence[str] = (),
    where: str | None = None,
    sources: Sequence[str] = (),
    workers: int | None = None,
    force: bool = False,
    retry_timeouts: bool = False,
    retry_errors: bool = False,
    judge_fallback: bool = False,
    run_id: str | None = None,
    batch_size: int = 512,
    deadline_s: float | None = None,
    progress: Progress | None = None,
    executor: str = "local",
    ray_address: str | None = None,
    ray_workers: int | None = None,
    track: Callable[[Callable[[], dict[str, Any]]], None] | None = None,
) -> dict[str, Any]:
    """Verify what the options ask for (see the module doc); counters.

    ``track`` (a stage's :meth:`~tracemill.flows.stages.StageContext.track`) is handed
    the judge's usage so far, so a run that fails partway records what its calls used.

    The judge, when needed, is the configured one (``configure_judge`` /
    ``judge_client``; :func:`run_verify` sets it from a :class:`JudgeConfig`); what its
    calls in this run used is added to the counters when it meters them
    (:func:`judge_counters`).
    """
    from tracemill.pipelines.verify.judge import client_usage, current_judge

    if verifier and ensemble:
        raise ValueError("give either verifier or ensemble, not both")
    judge = current_judge()
    metered = client_usage(judge)
    if track is not None and metered is not None:
        start, name = metered, getattr(judge, "name", None)

        def used_so_far() -> dict[str, Any]:
            used = client_usage(judge)
            return {} if used is None else judge_counters(used.since(start), name)

        track(used_so_far)
    select: dict[str, Any] = dict(
        verifier=verifier, ensemble=list(ensemble), where=where, sources=list(sources)
    )
    common: dict[str, Any] = dict(
        workers=workers, run_id=run_id, batch_size=batch_size, progress=progress,
        executor=executor, ray_address=ray_address, ray_workers=ray_workers,
    )  # fmt: skip
    counts: dict[str, Any] = {}
    seen: list[str] = []
    if retry_timeouts or retry_errors:
        reasons = ("timeout",) * retry_timeouts + RETRY_ERROR_REASONS * retry_errors
        factor = RETRY_DEADLINE_FACTOR if retry_timeouts else 1.0
        deadline = deadline_s or DEFAULT_DEADLINE_S * factor
        todo = retry_candidates(store, reasons, **select)
        todo, no_judge = _drop_judge(todo)
        counts = _add(counts, verify_pending(store, todo, deadline_s=deadline, **common))
        counts.update(retried=todo.num_rows, judge_unconfigured=no_judge, deadline_s=deadline)
    else:
        deadline = deadline_s or DEFAULT_DEADLINE_S
        todo, skipped = pending_samples(store, force=force, **select)
        counts = _add(counts, verify_pending(store, todo, deadline_s=deadline, **common))
        counts.update(skipped)
    seen += todo.column("sample_id").to_pylist()
    if judge_fallback:
        if not _judge_ready():
            raise ValueError("the judge fallback needs a judge model (--judge-model / judge:)")
        todo = fallback_samples(store, where=where, sources=sources)
        counts = _add(counts, verify_pending(store, todo, deadline_s=deadline, **common))
        counts["fallback"] = todo.num_rows
        seen += todo.column("sample_id").to_pylist()
    if ensemble or verifier or judge_fallback:
        counts["disagreements"] = _disagreements(store, seen)
    used = client_usage(judge)
    if metered is not None and used is not None:
        counts.update(judge_counters(used.since(metered), getattr(judge, "name", None)))
    return counts


def judge_counters(used: JudgeUsage, name: str | None = None) -> dict[str, Any]:
    """A run's counters for what its judge used (a :class:`JudgeUsage`).

    ``tokens_in`` / ``tokens_out`` / ``cost_usd`` are the names every run's token and
    cost counters have (the ``runs`` row reads them); ``cost_usd`` is left out when no
    call's cost is known, as distill leaves it out.
    """
    out: dict[str, Any] = {
        "judge_calls": used.calls,
        "tokens_in": used.prompt_tokens,
        "tokens_out": used.completion_tokens,
    }
    if name:
        out["judge"] = name
    if used.cost_usd is not None:
        out["cost_usd"] = round(used.cost_usd, 6)
    if used.unmetered:
        out["judge_unmetered"] = used.unmetered
    return out


def verify_report(report: Report, counts: dict[str, Any]) -> None:
    """Fill a verify run's report: samples and pass rate per verifier, reasons, skips."""
    rows: list[list[Any]] = []
    for name, entry in sorted(counts["by_verifier"].items()):
        rate = entry["passed"] / entry["verified"] if entry["verified"] else 0.0
        rows.append([name, "all", entry["verified"], f"{rate:.1%}"])
        for reason, n in sorted(entry["reasons"].items(), key=lambda kv: -kv[1]):
            rows.append(["", reason, n, ""])
    report.table(
        f"verified {counts['verified']:,} sample(s), {counts['inserted']:,} new",
        ["verifier", "reason", "samples", "pass rate"], rows, right=["samples", "pass rate"],
    )  # fmt: skip
    if "retried" in counts:
        report.note(
            f"retried {counts['retried']:,} verdict(s) with a {counts['deadline_s']:g}s deadline"
        )
    if "fallback" in counts:
        report.note(f"judge fallback: {counts['fallback']:,} sample(s) without a primary answer")
    if counts.get("judge_calls"):
        report.note(_judge_line(counts))
        if counts.get("judge_unmetered"):
            report.note(
                f"{counts['judge_unmetered']:,} judge call(s) came back without token counts "
                "(the backend reported no usage): the totals above leave them out",
                "yellow",
            )
    found = counts.get("disagreements")
    if found and found["samples"]:
        pairs = "; ".join(f"{pair}: {n:,}" for pair, n in found["pairs"].items())
        report.note(
            f"{found['samples']:,} sample(s) with disagreeing verifiers ({pairs}); see "
            'tracemill sql "SELECT * FROM verdict_disagreements"'
        )
    for key in ("no_verifier", "unknown_verifier"):
        if counts.get(key):
            report.note(f"{counts[key]:,} sample(s) skipped: {key.replace('_', ' ')}", "yellow")
    if counts.get("judge_unconfigured"):
        report.note(
            f"{counts['judge_unconfigured']:,} sample(s) skipped: they need the judge; give "
            "--judge-model (and --judge-base-url for a server)",
            "yellow",
        )


def _judge_line(counts: dict[str, Any]) -> str:
    """``judge openai:m: 3 call(s), 1,204 prompt + 57 completion tokens, $0.000213``."""
    from tracemill.flows.reporting import JUDGE_UNPRICED, usage_text

    who = f"judge {counts['judge']}" if counts.get("judge") else "judge"
    used = usage_text(
        counts.get("tokens_in", 0), counts.get("tokens_out", 0), counts.get("cost_usd"),
        JUDGE_UNPRICED,
    )  # fmt: skip
    return f"{who}: {counts['judge_calls']:,} call(s), {used}"


def run_verify(
    cfg: VerifyStage,
    *,
    catalog: str | None,
    run_id: str | None,
    progress: Progress | None = None,
    track: Callable[[Callable[[], dict[str, Any]]], None] | None = None,
) -> dict[str, Any]:
    """Run a ``verify`` stage config against a catalog (the stage, and Python callers).

    Raises :class:`~tracemill.pipelines.verify.judge.JudgeUnavailable` when the judge
    cannot be asked at all; verdicts committed before stay.
    """
    from tracemill.stores.catalog import open_catalog

    judge = cfg.judge()
    # released between batches: the catalog stays readable while verify runs
    with open_catalog(catalog, release=True) as store, _judge_for(judge):
        return verify_samples(
            store,
            verifier=cfg.verifier,
            ensemble=cfg.ensemble,
            where=cfg.where,
            sources=cfg.source,
            workers=cfg.workers,
            force=cfg.force,
            retry_timeouts=cfg.retry_timeouts,
            retry_errors=cfg.retry_errors,
            judge_fallback=bool(judge and judge.fallback),
            run_id=run_id,
            batch_size=cfg.batch_size,
            deadline_s=cfg.deadline_s,
            progress=progress,
            executor=cfg.executor,
            ray_address=cfg.ray_address,
            ray_workers=cfg.ray_workers,
            track=track,
        )


@register_stage("verify", VerifyStage)
def verify_stage(ctx: StageContext, cfg: VerifyStage) -> dict[str, Any]:
    """Verify samples that have no verdict for their verifier's current version."""
    from tracemill.pipelines.generate.base import BackendError
    from tracemill.pipelines.verify.judge import JudgeUnavailable

    with ctx.progress("verify", None, unit="samples") as tick:
        try:
            counts = run_verify(
                cfg, catalog=ctx.catalog, run_id=ctx.run_id, progress=tick, track=ctx.track
            )
        except JudgeUnavailable as e:  # a backend that is down: a failure (exit 1), not usage
            raise BackendError(
                f"judge unavailable: {e} (verdicts committed before stay; run again once the "
                "judge is up)"
            ) from e
    verify_report(ctx.report, counts)
    return counts
