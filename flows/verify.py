"""Recipe stage ``verify``: verdicts for samples that have none for the current verifier version.

A sample's verifier is its problem's ``verifier`` column (or the stage's ``verifier``
override); a sample counts as done when ``verdicts`` holds a row for (sample, verifier,
that verifier's *current* version), so bumping a verifier's version re-verifies old
samples without regenerating them, and a rerun finds nothing to do. Verdicts are
appended batch by batch (each batch one catalog snapshot), so an interrupted run keeps
what it finished.

Samples whose problem has no verifier, or names one that is not registered, are
counted (``no_verifier``, ``unknown_verifier``) and not stored: a ``none`` verdict
would count as a failure in pass rates.

``force`` verifies matching samples again even when a verdict exists and reports the
counters; rows already stored are immutable and stay as they are (the append skips
existing keys): to record changed results, bump the verifier's version.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from typing import Annotated, Any

import pyarrow as pa
from pydantic import Field
from tracemill.flows.options import Flag
from tracemill.flows.reporting import Report
from tracemill.flows.stages import StageConfig, StageContext, register_stage

log = logging.getLogger(__name__)

SAMPLE_COLUMNS = ("sample_id", "problem_id", "completion")


class VerifyStage(StageConfig):
    """Recipe stage ``verify``: samples → ``verdicts``."""

    verifier: str | None = Field(None, description="use this verifier for every sample")
    where: str | None = Field(None, description="SQL condition over samples columns")
    workers: int | None = Field(None, ge=1, description="math worker processes / sandboxes")
    force: bool = Field(False, description="verify again even where a verdict exists")
    batch_size: int = Field(512, ge=1, description="samples per committed batch")
    deadline_s: Annotated[float, Flag("--deadline")] = Field(
        10.0, gt=0, description="math: hard per-item deadline in seconds"
    )


def _verifier_table(override: str | None) -> pa.Table:
    from tracemill.pipelines.verify import get_verifier, verifier_names

    names = [override] if override else verifier_names()
    regs = [get_verifier(n) for n in names]  # KeyError names the registered ones
    return pa.table(
        {"name": [r.name for r in regs], "version": [r.version for r in regs]},
        schema=pa.schema([("name", pa.string()), ("version", pa.string())]),
    )


def pending_samples(
    store: Any, *, verifier: str | None = None, where: str | None = None, force: bool = False
) -> tuple[pa.Table, dict[str, int]]:
    """Samples to verify as (sample_id, verifier) rows, and counts of those skipped."""
    known = _verifier_table(verifier)
    # judge samples are a grader's replies about a problem, not answers to verify
    only = f" AND ({where})" if where else ""
    samples = f"(SELECT * FROM samples WHERE role <> 'judge'{only})"
    name = "coalesce(CAST(? AS VARCHAR), p.verifier)"
    done = (
        ""
        if force
        else "AND NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.sample_id = s.sample_id "
        "AND v.verifier = k.name AND v.verifier_version = k.version)"
    )
    store.con.register("_tm_verifiers", known)
    try:
        todo = store.sql(
            f"SELECT s.sample_id, k.name AS verifier FROM {samples} s "
            "JOIN problems p ON p.problem_id = s.problem_id "
            f"JOIN _tm_verifiers k ON k.name = {name} WHERE true {done} "
            "ORDER BY s.sample_id",
            [verifier],
        )
        row = store.sql(
            f"SELECT count(*) FILTER (WHERE {name} IS NULL) AS none, "
            f"count(*) FILTER (WHERE {name} IS NOT NULL AND k.name IS NULL) AS unknown "
            f"FROM {samples} s LEFT JOIN problems p ON p.problem_id = s.problem_id "
            f"LEFT JOIN _tm_verifiers k ON k.name = {name}",
            [verifier, verifier, verifier],
        ).to_pylist()[0]
    finally:
        store.con.unregister("_tm_verifiers")
    return todo, {
        "no_verifier": int(row["none"] or 0),
        "unknown_verifier": int(row["unknown"] or 0),
    }


def verify_pending(
    store: Any,
    todo: pa.Table,
    *,
    verifier: str | None = None,
    workers: int | None = None,
    run_id: str | None = None,
    batch_size: int = 512,
    deadline_s: float = 10.0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Verify the samples in `todo` batch by batch, appending verdicts; counters."""
    from tracemill.pipelines.verify import verifier_pool, verify_table
    from tracemill.pipelines.verify.batch import POOLED

    ids = todo.column("sample_id").to_pylist()
    names = set(todo.column("verifier").to_pylist())
    reasons: Counter[str] = Counter()
    per: dict[str, dict[str, Any]] = {}
    inserted = verified = passed = 0
    with ExitStack() as stack:
        if names & POOLED:
            stack.enter_context(verifier_pool(workers, deadline_s=deadline_s))
        for start in range(0, len(ids), batch_size):
            chunk = pa.table({"sample_id": pa.array(ids[start : start + batch_size], pa.string())})
            samples, problems = _read_batch(store, chunk)
            offset = start

            def tick(n: int, offset: int = offset) -> None:
                if progress is not None:
                    progress(offset + n)

            table = verify_table(
                problems,
                samples,
                verifier=verifier,
                workers=workers,
                run_id=run_id,
                progress=tick,
            )
            result = store.append({"verdicts": table}, message=f"verify {len(ids[start:])} left")
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


def _read_batch(store: Any, chunk: pa.Table) -> tuple[pa.Table, pa.Table]:
    store.con.register("_tm_verify_ids", chunk)
    try:
        samples = store.sql(
            f"SELECT {', '.join(SAMPLE_COLUMNS)} FROM samples "
            "WHERE sample_id IN (SELECT sample_id FROM _tm_verify_ids) ORDER BY sample_id"
        )
        problems = store.sql(
            "SELECT problem_id, domain, task, question, answer, verifier, verifier_spec "
            "FROM problems WHERE problem_id IN (SELECT s.problem_id FROM samples s "
            "JOIN _tm_verify_ids i ON i.sample_id = s.sample_id)"
        )
    finally:
        store.con.unregister("_tm_verify_ids")
    return samples, problems


def verify_samples(
    store: Any,
    *,
    verifier: str | None = None,
    where: str | None = None,
    workers: int | None = None,
    force: bool = False,
    run_id: str | None = None,
    batch_size: int = 512,
    deadline_s: float = 10.0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Find the samples lacking a current verdict and verify them (see the module doc)."""
    todo, skipped = pending_samples(store, verifier=verifier, where=where, force=force)
    counts = verify_pending(
        store,
        todo,
        verifier=verifier,
        workers=workers,
        run_id=run_id,
        batch_size=batch_size,
        deadline_s=deadline_s,
        progress=progress,
    )
    return {**counts, **skipped}


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
    for key in ("no_verifier", "unknown_verifier"):
        if counts.get(key):
            report.note(f"{counts[key]:,} sample(s) skipped: {key.replace('_', ' ')}", "yellow")


@register_stage("verify", VerifyStage)
def verify_stage(ctx: StageContext, cfg: VerifyStage) -> dict[str, Any]:
    """Verify samples that have no verdict for their verifier's current version."""
    from tracemill.stores.catalog import open_catalog

    with open_catalog(ctx.catalog) as store:
        todo, skipped = pending_samples(
            store, verifier=cfg.verifier, where=cfg.where, force=cfg.force
        )
        with ctx.progress("verify", todo.num_rows, unit="samples") as tick:
            counts = verify_pending(
                store,
                todo,
                verifier=cfg.verifier,
                workers=cfg.workers,
                run_id=ctx.run_id,
                batch_size=cfg.batch_size,
                deadline_s=cfg.deadline_s,
                progress=tick,
            )
    counts = {**counts, **skipped}
    verify_report(ctx.report, counts)
    return counts
