"""The ``distill`` stage through a provider's Batch API (``batch: true``, backend openai).

Jobs live in the catalog table ``teacher_batches``, one row per event, each its own
commit:

1. ``planned`` — a job id and the sample ids (= request ``custom_id``s) it covers,
   committed before anything is uploaded;
2. ``submitted`` — the provider's batch id (the batch carries the job id as metadata
   ``tracemill_job``);
3. ``finished`` — the batch's final status and counts, committed in the **same**
   transaction as the job's samples and verdicts, so results are committed exactly once.

A run first picks up the open jobs (planned, not finished) of the same model, params
and server: it polls the submitted ones instead of resubmitting; a planned job without
a batch id is looked up by its metadata tag (the run may have died between creating
the batch and recording it) and submitted only when the provider has no such batch.
Samples covered by open jobs are never put in a new job. Then the rest is submitted in
jobs of at most ``batch_max_requests`` requests, and every job is polled every
``batch_poll_s`` seconds until it ends. Requests that expired with their batch, were
rate limited or got no result go into a new job, up to ``batch_rounds`` submissions per
sample in one run; requests the provider rejected for good are reported (a rerun tries
them again, as online). A job whose samples all exist by now is closed as
``superseded`` without asking the provider. With ``batch_wait: false`` the run submits
(or collects what has finished) and returns; a later run collects the rest.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

log = logging.getLogger(__name__)

TABLE = "teacher_batches"


@dataclass
class Job:
    """A batch job of this run: its samples, and its provider batch once submitted."""

    job_id: str
    sample_ids: list[str]
    batch_id: str | None = None
    input_file_id: str | None = None
    resumed: bool = False
    status: str = "planned"
    retry: dict[str, str] = field(default_factory=dict)


def open_jobs(store: Any, model: str, params: str, base_url: str | None) -> list[Job]:
    """Jobs of this model, params and server that are planned but not finished."""
    table = store.sql(
        f"SELECT job_id, event, sample_ids, batch_id, input_file_id, created_at FROM {TABLE} "
        "WHERE model = ? AND params = ? AND base_url IS NOT DISTINCT FROM ? AND job_id NOT IN "
        f"(SELECT job_id FROM {TABLE} WHERE event = 'finished') ORDER BY created_at, job_id",
        [model, params, base_url],
    )
    jobs: dict[str, Job] = {}
    for row in table.to_pylist():
        job = jobs.setdefault(row["job_id"], Job(row["job_id"], [], resumed=True))
        if row["event"] == "planned":
            job.sample_ids = list(row["sample_ids"] or [])
        elif row["event"] == "submitted":
            job.batch_id = row["batch_id"]
            job.input_file_id = row["input_file_id"]
    return list(jobs.values())


def run_batch(
    cfg: Any,
    store: Any,
    candidates: pa.Table,
    requests: list[Any],
    client: Any,
    commit: Callable[..., None],
    params_text: str,
    report: Any,
    run_id: str | None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Submit, resume, poll and commit batch jobs (see the module docstring)."""
    from tracemill.pipelines.generate.openai_batch import (
        BatchItem,
        BatchNotFound,
        BatchResults,
        BatchStatus,
        batch_lines,
        split_jobs,
    )

    sid_of = {
        (r["problem_id"], r["sample_index"]): r["sample_id"]
        for r in candidates.select(["problem_id", "sample_index", "sample_id"]).to_pylist()
    }
    items: dict[str, BatchItem] = {}
    for request in requests:
        for index in request.indexes:
            sid = sid_of[(request.problem_id, index)]
            items[sid] = BatchItem(sid, request, index)
    base_url = getattr(client, "base_url", None)
    row_base = {
        "model": report.model,
        "backend": "openai",
        "base_url": base_url,
        "params": params_text,
        "run_id": run_id,
    }

    def record(job: Job, event: str, **fields: Any) -> dict[str, Any]:
        return {**row_base, "job_id": job.job_id, "event": event, **fields}

    def append(row: dict[str, Any]) -> None:
        store.append({TABLE: [row]}, message=f"batch job {row['job_id']} {row['event']}")

    jobs: list[Job] = []
    in_flight: set[str] = set()
    for job in open_jobs(store, report.model, params_text, base_url):
        todo = [sid for sid in job.sample_ids if sid in items]
        if not todo:  # everything it covers exists by now
            append(record(job, "finished", status="superseded", counts="{}"))
            continue
        jobs.append(job)
        in_flight.update(job.sample_ids)
        report.batch_jobs_resumed += 1
    if jobs:
        log.info("batch: resuming %d open job(s) of an earlier run", len(jobs))

    attempts: Counter[str] = Counter()
    settled: set[str] = set()
    total = len(items)
    deadline = (
        time.monotonic() + cfg.batch_timeout_s if cfg.batch_timeout_s is not None else None
    )

    def submit(job: Job) -> None:
        if job.batch_id is None and job.resumed:
            found = client.find(job.job_id)
            if found is not None:
                log.info("batch: job %s was submitted as %s", job.job_id, found.batch_id)
                job.batch_id, job.input_file_id = found.batch_id, found.input_file_id
                append(record(job, "submitted", batch_id=job.batch_id,
                              input_file_id=job.input_file_id))  # fmt: skip
                return
        if job.batch_id is None:
            lines = batch_lines(
                client.model, (items[sid] for sid in job.sample_ids if sid in items),
                getattr(client, "extra_body", None),
            )  # fmt: skip
            status = client.submit(lines, job.job_id)
            job.batch_id, job.input_file_id = status.batch_id, status.input_file_id
            append(record(job, "submitted", batch_id=job.batch_id,
                          input_file_id=job.input_file_id))  # fmt: skip

    def finish(job: Job, status: Any) -> None:
        job_items = {sid: items[sid] for sid in job.sample_ids if sid in items}
        if status.status == "lost":
            results = BatchResults(retry=dict.fromkeys(job_items, "batch lost"))
        else:
            results = client.results(status, job_items)
        for sample in results.samples:
            settled.add(sid_of[(sample.problem_id, sample.sample_index)])
        for sid, why in results.failed.items():
            settled.add(sid)
            report.errors += 1
            log.warning("batch request %s failed: %s", sid, why)
        counts = {
            "stored": len(results.samples),
            "retry": len(results.retry),
            "failed": len(results.failed),
            "unknown_lines": results.unknown,
            "provider": status.request_counts,
            "errors": list(status.errors),
        }
        finished = record(
            job,
            "finished",
            batch_id=job.batch_id,
            input_file_id=job.input_file_id,
            status=status.status,
            output_file_id=status.output_file_id,
            error_file_id=status.error_file_id,
            counts=json.dumps(counts, sort_keys=True),
        )
        commit(results.samples, {TABLE: [finished]})
        in_flight.difference_update(job.sample_ids)
        for sid in results.retry:
            if attempts[sid] >= cfg.batch_rounds:
                settled.add(sid)
                report.errors += 1
                log.warning("batch request %s gave up after %d rounds", sid, attempts[sid])
            else:
                report.batch_retried += 1
        report.batch_jobs_finished += 1
        log.info(
            "batch %s %s: %d stored, %d to retry, %d failed",
            job.batch_id, status.status, len(results.samples), len(results.retry),
            len(results.failed),
        )  # fmt: skip

    t0 = time.perf_counter()
    for job in jobs:
        submit(job)
    while True:
        pending = [
            sid
            for sid in items
            if sid not in in_flight and sid not in settled and attempts[sid] < cfg.batch_rounds
        ]
        # one file's worth of request lines at a time (millions of samples never sit in
        # memory as JSON at once); a file over the byte limit splits further
        for start in range(0, len(pending), cfg.batch_max_requests):
            chunk = pending[start : start + cfg.batch_max_requests]
            lines = batch_lines(
                client.model, (items[sid] for sid in chunk), getattr(client, "extra_body", None)
            )
            offset = 0
            for group in split_jobs(lines, max_requests=cfg.batch_max_requests):
                job = Job(uuid.uuid4().hex, chunk[offset : offset + len(group)])
                offset += len(group)
                append(record(job, "planned", sample_ids=job.sample_ids, requests=len(group)))
                status = client.submit(group, job.job_id)
                job.batch_id, job.input_file_id = status.batch_id, status.input_file_id
                append(record(job, "submitted", batch_id=job.batch_id,
                              input_file_id=job.input_file_id))  # fmt: skip
                attempts.update(job.sample_ids)
                in_flight.update(job.sample_ids)
                jobs.append(job)
                report.batch_jobs_submitted += 1
        if not jobs:
            break
        for job in list(jobs):
            try:
                status = client.status(job.batch_id)
            except BatchNotFound:
                # the provider no longer knows the batch (deleted, or another account's):
                # its samples go into a new job, without counting against their rounds
                log.warning("batch %s of job %s is gone; resubmitting", job.batch_id, job.job_id)
                status = BatchStatus(str(job.batch_id), "lost")
                attempts.subtract({sid: 1 for sid in job.sample_ids if attempts[sid] > 0})
            if status.terminal or status.status == "lost":
                finish(job, status)
                jobs.remove(job)
        if progress is not None:
            progress(len(settled), total)
        if not jobs and not any(
            sid not in settled and attempts[sid] < cfg.batch_rounds for sid in items
        ):
            break
        if not cfg.batch_wait or (deadline is not None and time.monotonic() >= deadline):
            break
        if jobs:
            time.sleep(cfg.batch_poll_s)
    report.batch_jobs_open = len(jobs)
    report.generate_s = time.perf_counter() - t0
    if jobs:
        log.info(
            "batch: %d job(s) still running (%s); rerun to collect them",
            len(jobs), ", ".join(str(j.batch_id) for j in jobs),
        )  # fmt: skip

