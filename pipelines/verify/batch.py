"""Verify a table of samples against their problems: one ``verdicts`` row per sample.

Routing: ``math`` runs in a :class:`~tracemill.pipelines.verify.pool.VerifierPool` (worker
processes, hard per-item deadline), ``code`` in bubblewrap sandboxes started from up
to ``workers`` threads, ``judge`` as one batch for the judge model
(:func:`~tracemill.pipelines.verify.judge.verify_judge_many`), every other verifier
inline in this process.

Samples that cannot be verified still get a row, so callers see every sample:

- problem not found, or problem without a verifier (and no ``verifier=`` override):
  verifier :data:`NO_VERIFIER` (``"none"``), version :data:`NO_VERIFIER_VERSION`,
  reason ``no_reference``. The ``verify`` flow does not store these rows (they would
  count as failures in pass rates); it reports them as counters instead.
- a verifier name that is not registered: that name, version :data:`UNKNOWN_VERSION`,
  reason ``verifier_error`` (also not stored by the flow).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import pyarrow as pa
from tracemill.catalogs import conform
from tracemill.pipelines.verify.judge import verify_judge, verify_judge_many
from tracemill.pipelines.verify.pool import DEFAULT_DEADLINE_S, PoolItem, VerifierPool
from tracemill.pipelines.verify.registry import (
    RegisteredVerifier,
    Verdict,
    get_verifier,
    run_verifier,
)

log = logging.getLogger(__name__)

NO_VERIFIER = "none"
NO_VERIFIER_VERSION = "0"
UNKNOWN_VERSION = "unknown"
POOLED = frozenset({"math"})
"""Verifiers run in worker processes (their timeouts need a main thread)."""
SANDBOXED = frozenset({"code"})
"""Verifiers whose work is a sandbox start (run from parallel threads)."""
PROBLEM_COLUMNS = (
    "problem_id",
    "domain",
    "task",
    "question",
    "answer",
    "verifier",
    "verifier_spec",
)

_active_pool: ContextVar[VerifierPool | None] = ContextVar("tracemill_verify_pool", default=None)


@contextmanager
def verifier_pool(
    workers: int | None = None, *, deadline_s: float = DEFAULT_DEADLINE_S
) -> Iterator[VerifierPool]:
    """Keep one worker pool for every :func:`verify_table` call inside the block.

    Without it each call that has math items starts (and stops) its own pool.
    """
    with VerifierPool(workers, deadline_s=deadline_s) as pool:
        token = _active_pool.set(pool)
        try:
            yield pool
        finally:
            _active_pool.reset(token)


def _problem_rows(problems: pa.Table) -> dict[str, dict[str, Any]]:
    cols = [c for c in PROBLEM_COLUMNS if c in problems.column_names]
    rows = problems.select(cols).to_pylist()
    return {r["problem_id"]: r for r in rows}


def _detail_json(detail: Mapping[str, Any]) -> str:
    return json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)


def verify_table(
    problems: pa.Table,
    samples: pa.Table,
    *,
    verifier: str | None = None,
    workers: int | None = None,
    run_id: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> pa.Table:
    """Verify every sample's ``completion`` against its problem; a ``verdicts`` table.

    The verifier is the problem's ``verifier`` column unless `verifier` overrides it.
    ``progress(n_done)`` receives the running count of finished samples. Bad model
    output never raises; rows come back in the order of `samples`.
    """
    by_id = _problem_rows(problems)
    ids = samples.column("sample_id").to_pylist()
    pids = samples.column("problem_id").to_pylist()
    texts = samples.column("completion").to_pylist()
    n = len(ids)
    verdicts: list[tuple[str, str, Verdict, float] | None] = [None] * n
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done)

    judged: list[tuple[int, RegisteredVerifier, dict[str, Any]]] = []
    inline: list[tuple[int, RegisteredVerifier, dict[str, Any]]] = []
    pooled: list[tuple[int, RegisteredVerifier, dict[str, Any]]] = []
    sandboxed: list[tuple[int, RegisteredVerifier, dict[str, Any]]] = []
    for i in range(n):
        problem = by_id.get(pids[i])
        name = verifier or (problem or {}).get("verifier")
        if problem is None or not name:
            why = "problem not found" if problem is None else "problem has no verifier"
            verdicts[i] = (NO_VERIFIER, NO_VERIFIER_VERSION, _fail("no_reference", why), 0.0)
            tick()
            continue
        try:
            reg = get_verifier(name)
        except KeyError as e:
            verdicts[i] = (name, UNKNOWN_VERSION, _fail("verifier_error", e.args[0]), 0.0)
            tick()
            continue
        group = pooled if name in POOLED else sandboxed if name in SANDBOXED else inline
        if reg.fn is verify_judge:
            group = judged
        group.append((i, reg, problem))

    if judged:
        start = time.perf_counter()
        results = verify_judge_many([(problem, texts[i] or "") for i, _, problem in judged])
        each = (time.perf_counter() - start) / len(judged)
        for (i, reg, _), verdict in zip(judged, results, strict=True):
            verdicts[i] = (reg.name, reg.version, verdict, each)
            tick()

    for i, reg, problem in inline:
        start = time.perf_counter()
        verdict = run_verifier(reg, problem, texts[i] or "")
        verdicts[i] = (reg.name, reg.version, verdict, time.perf_counter() - start)
        tick()

    if pooled:
        items = [PoolItem(reg.name, problem, texts[i] or "") for i, reg, problem in pooled]
        results = _run_pooled(items, workers, lambda _n: tick())
        for (i, reg, _), res in zip(pooled, results, strict=True):
            verdicts[i] = (reg.name, reg.version, res.verdict, res.latency_s)

    if sandboxed:
        threads = max(1, min(workers or os.cpu_count() or 1, len(sandboxed)))
        with ThreadPoolExecutor(threads, thread_name_prefix="tm-sandbox") as ex:
            futures = {
                ex.submit(_timed, reg, problem, texts[i] or ""): (i, reg)
                for i, reg, problem in sandboxed
            }
            for fut in as_completed(futures):
                i, reg = futures[fut]
                verdict, latency = fut.result()
                verdicts[i] = (reg.name, reg.version, verdict, latency)
                tick()

    rows = []
    for i in range(n):
        entry = verdicts[i]
        assert entry is not None
        name, version, verdict, latency = entry
        rows.append(
            {
                "sample_id": ids[i],
                "problem_id": pids[i],
                "verifier": name,
                "verifier_version": version,
                "passed": verdict.passed,
                "score": float(verdict.score),
                "reason": verdict.reason,
                "detail": _detail_json(verdict.detail),
                "latency_s": float(latency),
                "run_id": run_id,
            }
        )
    return conform("verdicts", rows)


def verify_one(
    name: str,
    problem: Mapping[str, Any],
    response: str,
    *,
    deadline_s: float = DEFAULT_DEADLINE_S,
) -> tuple[RegisteredVerifier, Verdict]:
    """Verify one response with verifier `name`; (the verifier, its verdict).

    Pooled verifiers (math) run in a worker process under the hard `deadline_s`, the
    pool of an enclosing :func:`verifier_pool` block if any, else a one-worker pool
    started for this call; the others run in this process. Raises ``KeyError`` for an
    unknown verifier name.
    """
    reg = get_verifier(name)
    if reg.name not in POOLED:
        return reg, run_verifier(reg, problem, response or "")
    item = PoolItem(reg.name, problem, response or "")
    pool = _active_pool.get()
    if pool is not None:
        return reg, pool.verify([item])[0].verdict
    with VerifierPool(1, deadline_s=deadline_s, warm=(reg.name,)) as own:
        return reg, own.verify([item])[0].verdict


def _fail(reason: str, error: str) -> Verdict:
    return Verdict(False, 0.0, reason, {"error": error})


def _timed(reg: RegisteredVerifier, problem: Mapping[str, Any], text: str) -> tuple[Verdict, float]:
    start = time.perf_counter()
    verdict = run_verifier(reg, problem, text)
    return verdict, time.perf_counter() - start


def _run_pooled(
    items: list[PoolItem], workers: int | None, progress: Callable[[int], None]
) -> list[Any]:
    pool = _active_pool.get()
    if pool is not None:
        return pool.verify(items, progress)
    size = max(1, min(workers or os.cpu_count() or 1, len(items)))
    with VerifierPool(size) as own:
        return own.verify(items, progress)
