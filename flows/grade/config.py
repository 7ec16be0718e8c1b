"""Configs of the ``grade``, ``select`` and ``calibrate`` stages.

Declared once: these fields are the recipe keys, the ``--config``/``--set`` keys and the
CLI flags. :func:`method_of` and :func:`sampling_params` say what they mean to the
grading pipeline.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from tracemill.flows.options import Flag
from tracemill.flows.stages import StageConfig

Method = Literal["fixed_k", "adaptive_k", "answer_first"]

SAMPLING = "Student sampling"
ADAPTIVE = "Adaptive k"
JUDGE = "Answer-first judge"
PROBLEMS = "Problems"
OUTPUT = "Output"


def parse_bins(text: str) -> list[float]:
    """Lower pass-rate bounds of levels 1, 2, … from text like ``"0.9,0.8,…,0"``."""
    from tracemill.pipelines.grade import LevelBins

    return list(LevelBins.parse(text).lower)


class SamplingFields(StageConfig):
    """Student sampling settings shared by ``grade`` and ``calibrate``."""

    model: Annotated[str, Flag(short="-m")] = Field(description="student (grader) model")
    backend: Annotated[str, Flag(short="-b")] = Field(
        "transformers", description="generation backend: transformers, vllm, openai or fake"
    )
    backend_options: Annotated[dict[str, Any], Flag(short="-o")] = Field(
        default_factory=dict, description="backend option, e.g. device=cuda"
    )
    method: Method = Field("adaptive_k", description="how problems are graded")
    k: Annotated[int, Flag("--samples", old=("--k", "-k"))] = Field(
        16, ge=1, description="samples per problem (the most, for adaptive_k)"
    )
    first_round: Annotated[int, Flag(panel=ADAPTIVE)] = Field(
        4, ge=1, description="samples in the first round"
    )
    round_size: Annotated[int, Flag(panel=ADAPTIVE)] = Field(
        4, ge=1, description="samples in each later round"
    )
    confidence: float = Field(0.95, gt=0, lt=1, description="confidence of stored intervals")
    stop_rule: Annotated[Literal["predictive", "interval"], Flag(panel=ADAPTIVE)] = Field(
        "predictive",
        description="predictive: stop once a full-k grade would agree with probability "
        "stop_confidence; interval: once the Wilson interval fits one level",
    )
    stop_confidence: Annotated[float | None, Flag(panel=ADAPTIVE)] = Field(
        None, gt=0, lt=1, description="stopping confidence (default 0.95 predictive, 0.8 interval)"
    )
    bins: Annotated[list[float] | None, Flag(parse=parse_bins, metavar="B1,B2,…")] = Field(
        None, description="lower pass-rate bounds of levels 1, 2, … (default 0.9,0.8,…,0.1,0)"
    )
    temperature: Annotated[float, Flag(panel=SAMPLING)] = Field(0.6, description="temperature")
    top_p: Annotated[float, Flag(panel=SAMPLING)] = Field(0.95, description="nucleus sampling")
    max_tokens: Annotated[int, Flag(panel=SAMPLING)] = Field(
        4096, ge=1, description="completion token limit"
    )
    seed: Annotated[int, Flag(panel=SAMPLING)] = Field(0, description="sampling seed")
    sampling: Annotated[dict[str, Any], Flag("--sampling-param", panel=SAMPLING)] = Field(
        default_factory=dict, description="other sampling parameter, e.g. min_p=0.05"
    )
    system_prompt: Annotated[str | None, Flag(panel=SAMPLING)] = Field(
        None, description="system message"
    )
    judge_model: Annotated[str | None, Flag(panel=JUDGE)] = Field(
        None, description="judge model (default: the student)"
    )
    judge_backend: Annotated[str | None, Flag(panel=JUDGE)] = Field(
        None, description="judge backend (default: the student's)"
    )
    judge_options: Annotated[dict[str, Any], Flag(panel=JUDGE)] = Field(
        default_factory=dict, description="judge backend option"
    )
    prices: Annotated[dict[str, float], Flag(panel=SAMPLING)] = Field(
        default_factory=dict,
        description="student's USD per 1M tokens: input=…, output=… (a server-reported "
        "cost wins)",
    )
    judge_prices: Annotated[dict[str, float], Flag(panel=JUDGE)] = Field(
        default_factory=dict,
        description="judge's USD per 1M tokens: input=…, output=… (a server-reported cost "
        "wins; default: the student's prices when the student judges)",
    )
    batch_problems: int = Field(256, ge=1, description="problems graded per committed batch")
    plots: Annotated[bool, Flag(panel=OUTPUT)] = Field(
        True, description="draw the report's plots (needs matplotlib)"
    )


    @field_validator("backend", "judge_backend")
    @classmethod
    def _known_backend(cls, value: str | None) -> str | None:
        from tracemill.flows.options import backend_name

        return backend_name(value)

    @field_validator("prices")
    @classmethod
    def _prices(cls, value: dict[str, float]) -> dict[str, float]:
        from tracemill.pipelines.generate.cost import check_prices

        return check_prices(value)

    @field_validator("judge_prices")
    @classmethod
    def _judge_prices(cls, value: dict[str, float]) -> dict[str, float]:
        from tracemill.pipelines.generate.cost import check_online_prices

        return check_online_prices(value, "judge_prices")

    def judge_price_table(self) -> dict[str, float]:
        """The prices of the answer-first judge's replies.

        ``judge_prices``, else the student's ``prices`` when the student is its own judge
        (no judge model or backend given).
        """
        if self.judge_prices or self.judge_model or self.judge_backend:
            return dict(self.judge_prices)
        return dict(self.prices)


class GradeStage(SamplingFields):
    """Grade problems by a student model's pass rate; samples are kept (role student)."""

    source: Annotated[list[str] | None, Flag(short="-s", panel=PROBLEMS)] = Field(
        None, description="only problems of this source"
    )
    domain: Annotated[list[str] | None, Flag(short="-d", panel=PROBLEMS)] = Field(
        None, description="only problems of this domain"
    )
    where: Annotated[str | None, Flag(panel=PROBLEMS)] = Field(
        None, description="SQL condition over problems columns"
    )
    limit: Annotated[int | None, Flag(panel=PROBLEMS)] = Field(
        None, ge=1, description="at most this many problems"
    )


class SelectStage(StageConfig):
    """Select graded problems by difficulty into a versioned, re-readable selection.

    (``name`` is taken by the recipe for a stage's label, hence ``dataset``.)
    """

    dataset: Annotated[str, Flag("--name", old=("-n",))] = Field(
        min_length=1, description="selection name (versions auto-increment)"
    )
    size: Annotated[int | None, Flag(old=("-s",))] = Field(
        None, ge=0, description="rows to select"
    )
    distribution: str | dict[int, float] | None = Field(
        None, description='level distribution, e.g. "1:0.1,2:0.2,3:0.7"'
    )
    band: str | None = Field(None, description='pass-rate band "LO:HI", e.g. 0.2:0.8')
    model: Annotated[str | None, Flag(short="-m")] = Field(
        None, description="grader model (needed if several)"
    )
    params_id: str | None = Field(None, description="only grades with this params id")
    method: Method | None = Field(None, description="only grades of this method")
    source: Annotated[list[str] | None, Flag(panel=PROBLEMS)] = Field(
        None, description="only problems of this source"
    )
    domain: Annotated[list[str] | None, Flag(short="-d", panel=PROBLEMS)] = Field(
        None, description="only problems of this domain"
    )
    seed: int = Field(0, description="seed of the draw within a level")
    fill: Literal["nearest", "none"] = Field(
        "nearest", description="short levels: fill from the nearest level, or leave short"
    )
    curriculum: bool = Field(False, description="order easy → hard with stage boundaries")
    stages: int | None = Field(None, ge=1, description="curriculum stages (default: one a level)")

    @field_validator("band")
    @classmethod
    def _band(cls, value: str | None) -> str | None:
        from tracemill.pipelines.grade import parse_band

        if value is not None:
            parse_band(value)  # a malformed band is a usage error
        return value

    @field_validator("distribution")
    @classmethod
    def _distribution(cls, value: str | dict[int, float] | None) -> Any:
        from tracemill.pipelines.grade import parse_distribution

        if isinstance(value, str):
            parse_distribution(value)
        return value


class CalibrateStage(SamplingFields):
    """Measure a model's pass rate per nominal level of a synthetic family.

    Rerunning with the same settings samples nothing new (the grades are in the
    catalog); ``tracemill sql "SELECT * FROM calibration"`` reads the table back.
    """

    family: Annotated[str, Flag(argument=True)] = Field(
        description="synthetic family (see `tracemill families`)"
    )
    levels: str = Field("1-10", description="levels, e.g. 1-10 or 1,3,5")
    per_level: int = Field(20, ge=1, description="items generated per level")
    item_seed: int = Field(0, description="item generation seed")
    target_pass_rate: Annotated[float | None, Flag("--target")] = Field(
        None, ge=0, le=1, description="also report the level whose pass rate is nearest this"
    )
    # calibration measures pass rates per level: every item gets all k samples
    method: Method = Field("fixed_k", description="how items are graded")
    k: Annotated[int, Flag("--samples", old=("--k", "-k"))] = Field(
        8, ge=1, description="samples per item (the most, for adaptive_k)"
    )


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


def params_json(params: Any, system_prompt: str | None = None) -> str:
    """The params text hashed into the student's sample ids (prompt included if custom)."""
    from tracemill.pipelines.generate import params_text

    return params_text(params, system_prompt=system_prompt)
