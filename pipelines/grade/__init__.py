"""Difficulty grading, selection by difficulty, curricula and knob calibration.

Pure functions: sampling is injected (a :data:`Sampler`), so everything here runs and is
tested without a model; ``tracemill.flows.grade`` wires it to the catalog and the backends.
"""

from tracemill.pipelines.grade.calibrate import (
    CALIBRATION_SCHEMA,
    calibration_problems,
    calibration_table,
    catalog_calibration,
    level_for_pass_rate,
    level_for_target,
    parse_levels,
)
from tracemill.pipelines.grade.grading import (
    METHODS,
    GradeResult,
    GradeRun,
    GradingMethod,
    Judge,
    JudgeCase,
    Outcome,
    Sampler,
    bernoulli_sampler,
    grade_problems,
    grade_rows,
)
from tracemill.pipelines.grade.levels import (
    DEFAULT_BINS,
    LevelBins,
    pass_rate,
    wilson_interval,
    z_value,
)
from tracemill.pipelines.grade.select import (
    FILL_RULES,
    Selection,
    Stage,
    hash_key,
    order_rows,
    parse_band,
    parse_distribution,
    quotas,
    select_by_difficulty,
    selection_query,
)

__all__ = [
    "CALIBRATION_SCHEMA",
    "DEFAULT_BINS",
    "FILL_RULES",
    "METHODS",
    "GradeResult",
    "GradeRun",
    "GradingMethod",
    "Judge",
    "JudgeCase",
    "LevelBins",
    "Outcome",
    "Sampler",
    "Selection",
    "Stage",
    "bernoulli_sampler",
    "calibration_problems",
    "calibration_table",
    "catalog_calibration",
    "grade_problems",
    "grade_rows",
    "hash_key",
    "level_for_pass_rate",
    "level_for_target",
    "order_rows",
    "parse_band",
    "parse_distribution",
    "parse_levels",
    "pass_rate",
    "quotas",
    "select_by_difficulty",
    "selection_query",
    "wilson_interval",
    "z_value",
]
