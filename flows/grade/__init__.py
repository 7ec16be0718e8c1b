"""Recipe stages ``grade``, ``select`` and ``calibrate``: difficulty for a student model.

``grade`` (:mod:`.grading`) chooses problems (source, domain, a SQL ``where``, a limit),
samples them with a student backend through a catalog-backed sampler
(:mod:`.sampler`: existing samples are reused, new ones are stored in ``samples`` with
role ``student`` and verified into ``verdicts``), grades them with
:mod:`tracemill.pipelines.grade` and writes ``grades``. Problems that already have a
grade for the same grader model and ``params_id`` are skipped, and a rerun asks for the
very same sample ids, so it samples nothing new. ``answer_first`` asks a judge
(:mod:`.judge`) how far a wrong answer is.

``select`` (:mod:`.selection`) chooses graded problems by level distribution / pass-rate
band and writes a ``datasets`` row (kind ``selection``) whose query lists the chosen
problem ids against the snapshot it read, so the selection re-reads exactly even after
more data arrives.

``calibrate`` (:mod:`.calibration`) generates items of a synthetic family per nominal
level, grades them and writes the measured pass rate per level for that model (Parquet +
Markdown). The catalog needs nothing more to answer it later: the ``calibration`` view
(:func:`tracemill.catalogs.views.calibration_sql`) pools the stored grades per family,
model and nominal level, and with ``target_pass_rate`` the stage also reports the level
whose measured pass rate is nearest (:func:`tracemill.pipelines.grade.level_for_target`).

The configs are in :mod:`.config`. Reports (level histogram; pass rate against completion
tokens; a Prefect artifact inside a flow run) go through :mod:`tracemill.flows.reporting`.
"""

from tracemill.flows.grade.calibration import calibrate, calibrate_stage
from tracemill.flows.grade.config import (
    CalibrateStage,
    GradeStage,
    Method,
    SamplingFields,
    SelectStage,
    method_of,
    sampling_params,
)
from tracemill.flows.grade.grading import (
    BackendFactory,
    GradeOutcome,
    choose_problems,
    grade,
    grade_report,
    grade_stage,
    level_agreement,
    level_histogram,
)
from tracemill.flows.grade.judge import JUDGE_PROMPT, BackendJudge
from tracemill.flows.grade.sampler import CatalogSampler, SamplerStats
from tracemill.flows.grade.selection import (
    read_selection,
    select,
    select_stage,
    selection_candidates,
    selection_report,
)
from tracemill.flows.reporting import publish_markdown

__all__ = [
    "JUDGE_PROMPT",
    "BackendFactory",
    "BackendJudge",
    "CalibrateStage",
    "CatalogSampler",
    "GradeOutcome",
    "GradeStage",
    "Method",
    "SamplerStats",
    "SamplingFields",
    "SelectStage",
    "calibrate",
    "calibrate_stage",
    "choose_problems",
    "grade",
    "grade_report",
    "grade_stage",
    "level_agreement",
    "level_histogram",
    "method_of",
    "publish_markdown",
    "read_selection",
    "sampling_params",
    "select",
    "select_stage",
    "selection_candidates",
    "selection_report",
]
