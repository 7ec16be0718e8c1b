"""Options of the dataset builds and the SQL fragments they share.

Every option set is a frozen dataclass; its fields (plus the kind) are stored as the
``params`` JSON of the ``datasets`` row, so a build says how it was made.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

ORDERS = ("shortest", "longest", "random")
PAIRINGS = ("shortest_longest", "random")
LEVEL_FROM = ("graded", "source")
"""Which level ``min_level``/``max_level`` read: ``graded`` (column ``level``: the grader's
level from ``grades``) or ``source`` (column ``source_level``: the level the source data
or the synthetic generator gave). Never a mix: the scales differ."""


def _check_order(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(allowed)}")


def sql_literal(value: str) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_list(values: tuple[str, ...] | list[str]) -> str:
    """A parenthesized list of SQL string literals (for ``IN``)."""
    return "(" + ", ".join(sql_literal(v) for v in values) + ")"


def _tuple(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


@dataclass(frozen=True)
class ProblemFilter:
    """Which problems a build reads."""

    domains: tuple[str, ...] | None = None
    """Keep only these domains."""
    sources: tuple[str, ...] | None = None
    """Keep only these sources."""
    tasks: tuple[str, ...] | None = None
    """Keep only these tasks / synthetic families."""
    min_level: int | None = None
    """Lowest difficulty level kept, of the level ``level_from`` names (problems without
    that level are dropped when set)."""
    max_level: int | None = None
    """Highest difficulty level kept, of the level ``level_from`` names."""
    level_from: str = "graded"
    """Which level min_level/max_level read: graded (`level`, from grades; ungraded
    problems have none) or source (`source_level`, given by the source or generator)."""
    grader_model: str | None = None
    """Whose grades give `level` and `pass_rate` (default: each problem's latest grade)."""
    exclude_dropped: bool = True
    """Leave out problems a dedup or decontamination run did not keep."""
    selection: str | None = None
    """Keep only the problems of this recorded selection (``tracemill select``)."""
    selection_version: int | None = None
    """Version of the selection (default: its latest at build time)."""

    def __post_init__(self) -> None:
        for name in ("domains", "sources", "tasks"):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        _check_order(self.level_from, LEVEL_FROM, "level_from")
        if (
            self.min_level is not None
            and self.max_level is not None
            and self.min_level > self.max_level
        ):
            raise ValueError(f"min_level {self.min_level} > max_level {self.max_level}")

    def conditions(self, alias: str) -> list[str]:
        """SQL conditions over a problems row (with ``level``) aliased ``alias``."""
        out = []
        for column, values in (
            ("domain", self.domains),
            ("source", self.sources),
            ("task", self.tasks),
        ):
            if values is not None:
                out.append(f"{alias}.{column} IN {sql_list(values)}")
        level = f"{alias}.{self.level_column}"
        if self.min_level is not None:
            out.append(f"{level} >= {int(self.min_level)}")
        if self.max_level is not None:
            out.append(f"{level} <= {int(self.max_level)}")
        return out

    @property
    def level_column(self) -> str:
        """The column ``min_level``/``max_level`` filter on: ``level`` or ``source_level``."""
        return "level" if self.level_from == "graded" else "source_level"


@dataclass(frozen=True)
class SampleFilter:
    """Which samples a build reads."""

    models: tuple[str, ...] | None = None
    """Keep only samples of these models (the teacher filter)."""
    roles: tuple[str, ...] | None = ("teacher", "reference")
    """Keep only these roles (None: any role)."""
    max_tokens: int | None = None
    """Drop samples longer than this many completion tokens (unknown counts: chars / 4)."""
    exclude_truncated: bool = True
    """Drop samples that stopped on the length limit (``finish_reason = 'length'``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", _tuple(self.models))
        object.__setattr__(self, "roles", _tuple(self.roles))
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")

    def conditions(self, alias: str) -> list[str]:
        """SQL conditions over a samples row (with ``n_tokens``) aliased ``alias``."""
        out = []
        if self.models is not None:
            out.append(f"{alias}.model IN {sql_list(self.models)}")
        if self.roles is not None:
            out.append(f"{alias}.role IN {sql_list(self.roles)}")
        if self.max_tokens is not None:
            out.append(f"{alias}.n_tokens <= {int(self.max_tokens)}")
        if self.exclude_truncated:
            out.append(f"coalesce({alias}.finish_reason, '') <> 'length'")
        return out


@dataclass(frozen=True)
class SftOptions:
    """Options of the ``sft`` build (chat messages from passing samples)."""

    problems: ProblemFilter = ProblemFilter()
    samples: SampleFilter = SampleFilter()
    per_problem: int | None = 1
    """Samples kept per problem (None: all passing samples)."""
    order: str = "shortest"
    """Which samples come first within a problem: shortest, longest or random."""
    seed: int = 0
    """Seed of the random order."""
    system_prompt: str | None = None
    """Optional system message put first in every conversation."""
    primary_verifier: str | None = None
    """Accept samples by this verifier's verdicts instead of each problem's own verifier
    (for samples verified with ``verify --verifier NAME``)."""

    def __post_init__(self) -> None:
        _check_order(self.order, ORDERS, "order")
        if self.per_problem is not None and self.per_problem < 1:
            raise ValueError("per_problem must be at least 1 (or None for all)")


@dataclass(frozen=True)
class RlOptions:
    """Options of the ``rl`` build (prompts with verifier, reference and difficulty)."""

    problems: ProblemFilter = ProblemFilter()
    min_pass_rate: float | None = None
    """Lowest grader pass rate kept (ungraded problems are dropped when a band is set)."""
    max_pass_rate: float | None = None
    """Highest grader pass rate kept."""
    require_verifier: bool = True
    """Leave out problems without a registered verifier name."""
    system_prompt: str | None = None
    """Optional system message put first in every prompt."""

    def __post_init__(self) -> None:
        for v in (self.min_pass_rate, self.max_pass_rate):
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"pass rate bound {v} outside [0, 1]")


@dataclass(frozen=True)
class PairsOptions:
    """Options of the ``pairs`` build (a passing and a failing sample per problem)."""

    problems: ProblemFilter = ProblemFilter()
    samples: SampleFilter = SampleFilter(roles=None)
    pairing: str = "shortest_longest"
    """shortest_longest: shortest passing vs longest failing; random: both drawn by seed."""
    per_problem: int = 1
    """Pairs per problem (the i-th positive meets the i-th negative; no sample reused)."""
    seed: int = 0
    """Seed of the random pairing."""
    system_prompt: str | None = None
    """Optional system message put first in every prompt."""
    timeouts_negative: bool = False
    """Count a deciding ``timeout`` verdict as a negative (by default a timeout says
    nothing about the response, like an infrastructure failure)."""
    primary_verifier: str | None = None
    """Decide positives and negatives by this verifier's verdicts instead of each
    problem's own verifier (for samples verified with ``verify --verifier NAME``)."""

    def __post_init__(self) -> None:
        _check_order(self.pairing, PAIRINGS, "pairing")
        if self.per_problem < 1:
            raise ValueError("per_problem must be at least 1")


BuildOptions = SftOptions | RlOptions | PairsOptions
OPTIONS: dict[str, type] = {"sft": SftOptions, "rl": RlOptions, "pairs": PairsOptions}


def options_from_dict(kind: str, data: dict[str, Any] | None = None) -> BuildOptions:
    """Options of ``kind`` from flat keys (problem/sample filter keys at the top level)."""
    if kind not in OPTIONS:
        raise ValueError(f"unknown build kind {kind!r}; kinds are {', '.join(OPTIONS)}")
    data = dict(data or {})
    cls = OPTIONS[kind]
    fields = set(cls.__dataclass_fields__)
    problem_keys = set(ProblemFilter.__dataclass_fields__)
    sample_keys = set(SampleFilter.__dataclass_fields__)
    kwargs: dict[str, Any] = {}
    problem_kw = {k: data.pop(k) for k in list(data) if k in problem_keys}
    sample_kw = {k: data.pop(k) for k in list(data) if k in sample_keys}
    if problem_kw:
        kwargs["problems"] = ProblemFilter(**problem_kw)
    if sample_kw:
        if "samples" not in fields:
            raise ValueError(f"{kind} builds take no sample options ({', '.join(sample_kw)})")
        base = cls.__dataclass_fields__["samples"].default
        kwargs["samples"] = SampleFilter(**{**asdict(base), **sample_kw})
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ValueError(f"unknown {kind} build option(s): {', '.join(sorted(unknown))}")
    kwargs.update(data)
    return cls(**kwargs)


def options_params(kind: str, options: BuildOptions) -> dict[str, Any]:
    """The JSON-able record of a build's options (stored as ``datasets.params``)."""
    out = asdict(options)
    out["kind"] = kind
    return out
