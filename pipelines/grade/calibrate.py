"""Knob calibration: the pass rate a model reaches at each nominal level of a family.

:func:`calibration_problems` generates ``per_level`` items at each level (item indexes
do not overlap between levels, so no two levels share an item); they are graded like any
other problems; :func:`calibration_table` then pools the grades per nominal level
(``problems.source_level``) into the measured pass rate (all passes over all samples,
with a Wilson interval), the mean per-item pass rate and level, and mean tokens.
:func:`level_for_pass_rate` answers the inverse question: which nominal level comes
closest to a target pass rate for this model.

In the catalog the same table is a DuckDB view, nothing stored beside the grades:
``calibration`` (all families and grader models; :func:`tracemill.catalogs.views.calibration_sql`
narrows it) pools each problem's latest grade per grader model by the family named in
``problems.generator`` and its ``source_level``. :func:`catalog_calibration` reads it
and :func:`level_for_target` answers "which level of FAMILY does MODEL pass at rate P"
from it::

    SELECT level, pass_rate, ci_low, ci_high FROM calibration
    WHERE family = 'sat' AND grader_model = 'my-model' ORDER BY level;
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pyarrow as pa
from tracemill.pipelines.grade.levels import wilson_interval

CALIBRATION_SCHEMA = pa.schema(
    [
        pa.field("level", pa.int32(), nullable=False),
        pa.field("items", pa.int64(), nullable=False),
        pa.field("samples", pa.int64(), nullable=False),
        pa.field("passes", pa.int64(), nullable=False),
        pa.field("pass_rate", pa.float64()),
        pa.field("ci_low", pa.float64()),
        pa.field("ci_high", pa.float64()),
        pa.field("mean_item_pass_rate", pa.float64()),
        pa.field("mean_graded_level", pa.float64()),
        pa.field("mean_tokens", pa.float64()),
    ]
)


def parse_levels(text: str) -> list[int]:
    """``"1-10"``, ``"1,3,5"`` or ``"2-4,8"`` → sorted distinct levels."""
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        a, sep, b = part.partition("-")
        try:
            lo, hi = (int(a), int(b)) if sep else (int(a), int(a))
        except ValueError:
            raise ValueError(f"levels look like 1-10 or 1,3,5, got {text!r}") from None
        if lo > hi:
            raise ValueError(f"level range {part!r} runs backwards")
        out.update(range(lo, hi + 1))
    if not out:
        raise ValueError(f"no levels in {text!r}")
    return sorted(out)


def calibration_problems(
    family: str,
    levels: Sequence[int],
    per_level: int,
    *,
    seed: int = 0,
    run_id: str | None = None,
) -> pa.Table:
    """``per_level`` generated items of ``family`` at each level (``problems`` rows)."""
    from tracemill.pipelines.synth import generate_problems

    if per_level < 1:
        raise ValueError("per_level must be >= 1")
    parts = [
        generate_problems(
            family, per_level, level=lv, seed=seed, start=(lv - 1) * per_level, run_id=run_id
        )
        for lv in levels
    ]
    return pa.concat_tables(parts) if parts else pa.table({})


def calibration_table(problems: pa.Table, grades: pa.Table, confidence: float = 0.95) -> pa.Table:
    """Measured pass rate per nominal level, from problems (``source_level``) and grades."""
    level_of = dict(
        zip(
            problems.column("problem_id").to_pylist(),
            problems.column("source_level").to_pylist(),
            strict=True,
        )
    )
    acc: dict[int, dict[str, float]] = {}
    for g in grades.select(["problem_id", "k", "passes", "level", "mean_tokens"]).to_pylist():
        lv = level_of.get(g["problem_id"])
        if lv is None:
            continue
        a = acc.setdefault(
            int(lv),
            dict.fromkeys(("items", "samples", "passes", "rate", "graded", "tok", "tok_n"), 0.0),
        )
        a["items"] += 1
        a["samples"] += g["k"]
        a["passes"] += g["passes"]
        a["rate"] += g["passes"] / g["k"] if g["k"] else 0.0
        a["graded"] += g["level"]
        if g["mean_tokens"] is not None:
            a["tok"] += g["mean_tokens"]
            a["tok_n"] += 1
    rows = []
    for lv, a in sorted(acc.items()):
        samples, passes, items = int(a["samples"]), int(a["passes"]), int(a["items"])
        low, high = wilson_interval(passes, samples, confidence) if samples else (None, None)
        rows.append(
            {
                "level": lv,
                "items": items,
                "samples": samples,
                "passes": passes,
                "pass_rate": passes / samples if samples else None,
                "ci_low": low,
                "ci_high": high,
                "mean_item_pass_rate": a["rate"] / items,
                "mean_graded_level": a["graded"] / items,
                "mean_tokens": a["tok"] / a["tok_n"] if a["tok_n"] else None,
            }
        )
    return pa.Table.from_pylist(rows, schema=CALIBRATION_SCHEMA)


def level_for_pass_rate(calibration: pa.Table | Iterable[dict], target: float) -> int:
    """The nominal level whose measured pass rate is closest to ``target``.

    Ties go to the harder level.
    """
    rows = calibration.to_pylist() if isinstance(calibration, pa.Table) else list(calibration)
    rows = [r for r in rows if r.get("pass_rate") is not None]
    if not rows:
        raise ValueError("the calibration table has no measured pass rate")
    best = min(rows, key=lambda r: (abs(r["pass_rate"] - target), -r["level"]))
    return int(best["level"])


def catalog_calibration(
    store: Any,
    family: str,
    model: str,
    *,
    params_id: str | None = None,
    method: str | None = None,
    confidence: float = 0.95,
) -> pa.Table:
    """The calibration table of ``family`` for ``model`` from the catalog's grades.

    Same columns as :func:`calibration_table` (:data:`CALIBRATION_SCHEMA`), read through
    :func:`tracemill.catalogs.views.calibration_sql`; empty when the model graded no item of the
    family that has a nominal level.
    """
    from tracemill.catalogs.views import calibration_sql

    sql = calibration_sql(family, model, params_id=params_id, method=method, confidence=confidence)
    table = store.sql(sql)
    return table.select(CALIBRATION_SCHEMA.names).cast(CALIBRATION_SCHEMA)


def level_for_target(
    family: str,
    model: str,
    target_pass_rate: float,
    store: Any,
    *,
    params_id: str | None = None,
    method: str | None = None,
) -> int:
    """The nominal level of ``family`` whose measured pass rate for ``model`` is nearest.

    Reads the catalog's calibration (:func:`catalog_calibration`), then
    :func:`level_for_pass_rate` (ties go to the harder level). Raises ``ValueError``
    when the target is outside [0, 1] or nothing was calibrated yet.
    """
    if not 0.0 <= target_pass_rate <= 1.0:
        raise ValueError(f"target pass rate must be in [0, 1], got {target_pass_rate}")
    table = catalog_calibration(store, family, model, params_id=params_id, method=method)
    if table.num_rows == 0:
        raise ValueError(
            f"no calibration of {family!r} for {model!r} in the catalog "
            f"(run `tracemill calibrate {family} --model {model}` first)"
        )
    return level_for_pass_rate(table, target_pass_rate)
