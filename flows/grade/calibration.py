"""Calibrating a synthetic family for a model: measured pass rate per nominal level."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from tracemill.flows.grade.config import CalibrateStage
from tracemill.flows.grade.grading import BackendFactory, grade
from tracemill.flows.reporting import Report, write_report
from tracemill.flows.stages import StageContext, register_stage


def calibrate(
    cfg: CalibrateStage,
    *,
    store: Any,
    run_id: str | None,
    report_dir: Path,
    backend_factory: BackendFactory | None = None,
    report: Report | None = None,
    track: Callable[[Callable[[], dict[str, Any]]], None] | None = None,
) -> tuple[dict[str, Any], pa.Table]:
    """Generate items per level, grade them and tabulate measured pass rate per level.

    ``calibration.parquet`` goes to ``report_dir``; the report (grading, calibration table,
    ``calibration.md``) into ``report`` when given, else it is written to ``report_dir``;
    ``track``: as :func:`~tracemill.flows.grade.grading.grade`'s.
    """
    from tracemill.pipelines.grade import calibration_problems, calibration_table, parse_levels

    levels = parse_levels(cfg.levels)
    problems = calibration_problems(
        cfg.family, levels, cfg.per_level, seed=cfg.item_seed, run_id=run_id
    )
    added = store.append({"problems": problems}, message=f"calibrate {cfg.family}")
    title = f"calibrate {cfg.family} for {cfg.model}"
    own = report is None
    report = report if report is not None else Report(title)
    out = grade(
        cfg, problems, store=store, run_id=run_id, backend_factory=backend_factory,
        report=report, title=title, track=track,
    )  # fmt: skip
    table = calibration_table(problems, out.grades, cfg.confidence)
    report_dir.mkdir(parents=True, exist_ok=True)
    import pyarrow.parquet as pq

    pq.write_table(table, report_dir / "calibration.parquet")
    _calibration_report(report, cfg, table)
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
        report.note(
            f"level nearest pass rate {cfg.target_pass_rate:g}: {level} "
            f"(measured {measured:.3f})",
            "bold",
        )
    if own:
        report.counters = dict(counters)
        counters["report"] = str(write_report(report, report_dir, plots=cfg.plots))
    return counters, table


def _calibration_report(report: Report, cfg: CalibrateStage, table: pa.Table) -> None:
    """The measured pass rate per level, as a table and as ``calibration.md``."""
    rows = []
    for r in table.to_pylist():
        ci = f"{r['ci_low']:.3f}–{r['ci_high']:.3f}" if r["ci_low"] is not None else ""
        rows.append([
            r["level"], r["items"], r["samples"],
            None if r["pass_rate"] is None else round(r["pass_rate"], 3), ci,
        ])  # fmt: skip
    report.table(
        f"{cfg.family} for {cfg.model}: measured pass rate per level",
        ["level", "items", "samples", "pass rate", "95% CI"], rows,
        right=["level", "items", "samples", "pass rate"],
    )  # fmt: skip
    report.file("calibration.md", _calibration_markdown(cfg, table))
    report.note(
        'the catalog answers the same: tracemill sql "SELECT * FROM calibration"', "dim"
    )


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

    # locked only while it reads or commits: readers get in while the student samples
    with open_catalog(ctx.catalog, release=True) as store:
        counters, _ = calibrate(
            cfg, store=store, run_id=ctx.run_id, report_dir=ctx.report_dir(cfg),
            report=ctx.report, track=ctx.track,
        )  # fmt: skip
    return counters
