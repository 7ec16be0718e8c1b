"""Difficulty grading: sample a student, count passes, turn pass rates into levels.

The sampling itself is injected: a :data:`Sampler` receives, per problem id, the sample
indexes wanted and returns one verified :class:`Outcome` per index. In a flow it looks
up existing samples in the catalog, generates and verifies only the missing ones and
stores them; in tests and benchmarks it is a seeded Bernoulli simulation
(:func:`bernoulli_sampler`). Indexes always run 0, 1, 2, … so an adaptive run draws a
prefix of what a fixed-k run would draw, and a rerun asks for exactly the same samples.

The methods:

- ``fixed_k``: every problem gets ``k`` samples.
- ``adaptive_k``: a first round of ``first_round`` samples, then rounds of
  ``round_size``, until a stopping rule says a problem's level is settled, or ``k``
  samples. Its level is always that of its point estimate ``passes / samples``.
  Stopping rules (``stop_rule``):

  - ``predictive`` (default): stop once the probability that a full ``k``-sample grade
    would give the same level reaches ``stop_confidence`` (default 0.95), under an
    empirical-Bayes prior fitted to the problems graded together
    (:mod:`tracemill.pipelines.grade.stopping`). It targets what adaptive grading is judged by,
    agreement with fixed k, and learns that a problem failed 4 times out of 4 in a
    population full of never-solved problems is very likely never solved.
  - ``interval``: stop once the Wilson interval at ``stop_confidence`` (default 0.8)
    lies inside one bin. Simple and prior-free, but with ten bins of width 0.1 an
    interval that narrow needs more than 64 samples for mid-range pass rates, so it
    saves samples only near 0 and 1.
- ``answer_first`` (LLM-adaptive grading): one attempt; a correct one is the easiest
  level, a wrong one is graded further by a pluggable :data:`Judge` returning a level.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from tracemill.catalogs import canonical_json, config_id, conform
from tracemill.pipelines.grade.levels import DEFAULT_BINS, LevelBins, pass_rate, wilson_interval

METHODS = ("fixed_k", "adaptive_k", "answer_first")
STOP_RULES = ("predictive", "interval")
DEFAULT_STOP_CONFIDENCE = {"predictive": 0.95, "interval": 0.8}


@dataclass(frozen=True)
class Outcome:
    """One verified student sample."""

    problem_id: str
    sample_index: int
    passed: bool
    tokens: int | None = None
    """Completion tokens, when known."""
    answer: str | None = None
    """The sample's final text (answer-first hands wrong answers to the judge)."""


Sampler = Callable[[Mapping[str, Sequence[int]]], Iterable[Outcome]]
"""``sampler({problem_id: [indexes]}) -> outcomes`` (one per index asked for)."""


@dataclass(frozen=True)
class JudgeCase:
    """A problem the student got wrong in answer-first mode, for the judge."""

    problem_id: str
    answer: str | None


Judge = Callable[[Sequence[JudgeCase]], Mapping[str, int]]
"""``judge(cases) -> {problem_id: level}``; levels outside 2..hardest are clamped."""


@dataclass(frozen=True)
class GradingMethod:
    """How to grade: method, sample budget, adaptive rounds, confidence and bins."""

    method: str = "adaptive_k"
    k: int = 16
    """Samples per problem (fixed_k) or the most per problem (adaptive_k)."""
    first_round: int = 4
    """adaptive_k: samples in the first round."""
    round_size: int = 4
    """adaptive_k: samples added per later round."""
    confidence: float = 0.95
    """Confidence of the stored ``ci_low``/``ci_high`` interval."""
    stop_confidence: float | None = None
    """adaptive_k: for ``predictive``, the probability of agreeing with a ``k``-sample
    grade needed to stop (default 0.95); for ``interval``, the confidence of the
    interval that must lie inside one bin (default 0.8: a fixed-k point estimate is
    itself only good to about a bin, and the stricter 0.95 buys under 0.5 points of
    level agreement for about 1.5x the samples)."""
    bins: LevelBins = DEFAULT_BINS
    stop_rule: str = "predictive"
    """adaptive_k: ``predictive`` or ``interval`` (see the module docstring)."""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        if self.first_round < 1 or self.round_size < 1:
            raise ValueError("first_round and round_size must be >= 1")
        if self.stop_rule not in STOP_RULES:
            raise ValueError(
                f"stop_rule must be one of {', '.join(STOP_RULES)}, got {self.stop_rule!r}"
            )
        if self.stop_confidence is None:
            object.__setattr__(self, "stop_confidence", DEFAULT_STOP_CONFIDENCE[self.stop_rule])
        for name in ("confidence", "stop_confidence"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {value}")

    @property
    def budget(self) -> int:
        """The most samples one problem can take."""
        return 1 if self.method == "answer_first" else self.k

    def to_json(self, sampling: Mapping[str, Any] | str | None = None) -> dict[str, Any]:
        """Everything that defines a grade, for the ``params`` column (JSON-ready)."""
        out: dict[str, Any] = {"method": self.method, "bins": self.bins.to_json()}
        if self.method == "adaptive_k":
            out.update(
                k=self.k,
                first_round=self.first_round,
                round_size=self.round_size,
                confidence=self.confidence,
                stop_confidence=self.stop_confidence,
            )
            if self.stop_rule != "interval":  # interval grades keep their earlier params_id
                out["stop_rule"] = self.stop_rule
        elif self.method == "fixed_k":
            out.update(k=self.k, confidence=self.confidence)
        else:
            out.update(k=1, confidence=self.confidence)
        if sampling is not None:
            out["sampling"] = json.loads(sampling) if isinstance(sampling, str) else dict(sampling)
        return out

    def params_id(
        self, sampling: Mapping[str, Any] | str | None = None, judge: str | None = None
    ) -> str:
        """``config_id`` of method, sampling params and bins (and the judge, if any)."""
        value = self.to_json(sampling)
        if judge is not None:
            value["judge"] = judge
        return config_id(value)


@dataclass(frozen=True)
class GradeResult:
    """The grade of one problem."""

    problem_id: str
    k: int
    passes: int
    ci_low: float
    ci_high: float
    level: int
    mean_tokens: float | None
    stopped_early: bool = False
    judged: bool = False

    @property
    def pass_rate(self) -> float:
        """Passes over samples drawn."""
        return pass_rate(self.passes, self.k)


@dataclass
class GradeRun:
    """Results of one grading call plus its counters."""

    results: list[GradeResult]
    method: GradingMethod
    rounds: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    incomplete: list[str] = field(default_factory=list)
    """Problems left ungraded because the sampler failed to return some samples (a
    generation error); they are graded on a later run."""

    @property
    def samples_drawn(self) -> int:
        """Samples used over all problems (new or reused)."""
        return sum(r.k for r in self.results)

    @property
    def fixed_k_samples(self) -> int:
        """What fixed-k with the same k would have used."""
        return len(self.results) * self.method.k

    def histogram(self) -> dict[int, int]:
        """Problems per level (every level of the bins, zeros included)."""
        hist = dict.fromkeys(self.method.bins.levels, 0)
        for r in self.results:
            hist[r.level] += 1
        return hist


@dataclass
class _Tally:
    n: int = 0
    passes: int = 0
    token_sum: int = 0
    token_n: int = 0
    last_answer: str | None = None
    incomplete: bool = False

    def add(self, o: Outcome) -> None:
        self.n += 1
        self.passes += int(bool(o.passed))
        if o.tokens is not None:
            self.token_sum += int(o.tokens)
            self.token_n += 1
        self.last_answer = o.answer

    @property
    def mean_tokens(self) -> float | None:
        return self.token_sum / self.token_n if self.token_n else None


def _draw(sampler: Sampler, wanted: dict[str, list[int]], tallies: dict[str, _Tally]) -> None:
    """Ask for samples; a problem missing any outcome is marked incomplete."""
    wanted = {pid: idx for pid, idx in wanted.items() if idx}
    if not wanted:
        return
    got: dict[str, set[int]] = {pid: set() for pid in wanted}
    for o in sampler(wanted):
        seen = got.get(o.problem_id)
        if seen is None or o.sample_index not in wanted[o.problem_id] or o.sample_index in seen:
            continue  # a sampler giving more than asked must not skew the counts
        seen.add(o.sample_index)
        tallies[o.problem_id].add(o)
    for pid, idx in wanted.items():
        if len(got[pid]) < len(set(idx)):
            tallies[pid].incomplete = True


def _ok(t: _Tally) -> bool:
    return not t.incomplete


def _result(pid: str, t: _Tally, m: GradingMethod, *, stopped_early: bool = False) -> GradeResult:
    low, high = wilson_interval(t.passes, t.n, m.confidence)
    level = m.bins.level(pass_rate(t.passes, t.n))
    return GradeResult(pid, t.n, t.passes, low, high, level, t.mean_tokens, stopped_early)


def grade_problems(
    problem_ids: Sequence[str],
    sampler: Sampler,
    method: GradingMethod,
    *,
    judge: Judge | None = None,
) -> GradeRun:
    """Grade problems by sampling through ``sampler`` (see the module docstring)."""
    ids = list(dict.fromkeys(problem_ids))
    tallies = {pid: _Tally() for pid in ids}
    run = GradeRun([], method)
    if not ids:
        return run
    if method.method == "fixed_k":
        _draw(sampler, {pid: list(range(method.k)) for pid in ids}, tallies)
        run.rounds = 1
        run.results = [_result(pid, tallies[pid], method) for pid in ids if _ok(tallies[pid])]
    elif method.method == "adaptive_k":
        run.results = _adaptive(ids, sampler, method, tallies, run)
    else:
        run.results = _answer_first(ids, sampler, method, tallies, judge, run)
    run.incomplete = [pid for pid in ids if tallies[pid].incomplete]
    run.counters = {
        "problems": len(run.results),
        "incomplete": len(run.incomplete),
        "samples_drawn": run.samples_drawn,
        "fixed_k_samples": run.fixed_k_samples,
        "rounds": run.rounds,
        "stopped_early": sum(r.stopped_early for r in run.results),
        "judged": sum(r.judged for r in run.results),
    }
    return run


def _adaptive(
    ids: list[str],
    sampler: Sampler,
    m: GradingMethod,
    tallies: dict[str, _Tally],
    run: GradeRun,
) -> list[GradeResult]:
    done: dict[str, GradeResult] = {}
    active = list(ids)
    target = min(m.first_round, m.k)
    while active:
        _draw(sampler, {pid: list(range(tallies[pid].n, target)) for pid in active}, tallies)
        run.rounds += 1
        active = [pid for pid in active if not tallies[pid].incomplete]
        settled = _settled(active, ids, m, tallies)
        still = []
        for pid, ok in zip(active, settled, strict=True):
            t = tallies[pid]
            if ok or t.n >= m.k:
                done[pid] = _result(pid, t, m, stopped_early=ok and t.n < m.k)
            else:
                still.append(pid)
        active = still
        target = min(target + m.round_size, m.k)
    return [done[pid] for pid in ids if pid in done]


def _settled(
    active: list[str], ids: list[str], m: GradingMethod, tallies: dict[str, _Tally]
) -> list[bool]:
    """Per active problem: whether it may stop now (before ``k``) under the stopping rule."""
    confidence = float(m.stop_confidence)  # type: ignore[arg-type]
    if m.stop_rule == "interval":
        out = []
        for pid in active:
            t = tallies[pid]
            low, high = wilson_interval(t.passes, t.n, confidence)
            out.append(m.bins.interval_level(low, high) is not None)
        return out
    from tracemill.pipelines.grade.stopping import agreement_probability, fit_prior

    if not active:
        return []
    pool = [tallies[pid] for pid in ids if not tallies[pid].incomplete]
    prior = fit_prior([t.n for t in pool], [t.passes for t in pool])
    probs = agreement_probability(
        [tallies[pid].n for pid in active],
        [tallies[pid].passes for pid in active],
        m.k,
        m.bins,
        prior,
    )
    return [bool(p >= confidence) for p in probs]


def _answer_first(
    ids: list[str],
    sampler: Sampler,
    m: GradingMethod,
    tallies: dict[str, _Tally],
    judge: Judge | None,
    run: GradeRun,
) -> list[GradeResult]:
    _draw(sampler, {pid: [0] for pid in ids}, tallies)
    run.rounds = 1
    ids = [pid for pid in ids if _ok(tallies[pid])]
    wrong = [JudgeCase(pid, tallies[pid].last_answer) for pid in ids if not tallies[pid].passes]
    if wrong and judge is None:
        raise ValueError("answer_first grading needs a judge for wrongly answered problems")
    judged = dict(judge(wrong)) if wrong and judge is not None else {}
    bins = m.bins
    out = []
    for pid in ids:
        t = tallies[pid]
        low, high = wilson_interval(t.passes, t.n, m.confidence)
        if t.passes:
            level, was_judged = bins.easiest, False
        else:
            raw = judged.get(pid)
            level = bins.hardest if raw is None else min(bins.hardest, max(2, int(raw)))
            was_judged = True
        out.append(
            GradeResult(pid, t.n, t.passes, low, high, level, t.mean_tokens, False, was_judged)
        )
    return out


def grade_rows(
    run: GradeRun,
    *,
    grader_model: str,
    params_id: str,
    params: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> pa.Table:
    """Rows of the ``grades`` table for a grading run."""
    params_text = canonical_json(dict(params)) if params is not None else None
    rows = [
        {
            "problem_id": r.problem_id,
            "grader_model": grader_model,
            "params_id": params_id,
            "method": run.method.method,
            "params": params_text,
            "k": r.k,
            "passes": r.passes,
            "pass_rate": r.pass_rate,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "level": r.level,
            "mean_tokens": r.mean_tokens,
            "run_id": run_id,
        }
        for r in run.results
    ]
    return conform("grades", rows)


def _unit(seed: int, problem_id: str, index: int) -> float:
    digest = hashlib.blake2b(f"{seed}\x00{problem_id}\x00{index}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") / 2.0**64


def bernoulli_sampler(
    rates: Mapping[str, float], *, seed: int = 0, tokens: Callable[[str, int], int] | None = None
) -> Sampler:
    """A simulated student: sample ``i`` of problem ``p`` passes with probability ``rates[p]``.

    Each outcome depends only on ``(seed, problem, index)``, so a fixed-k and an adaptive
    run see the same stream, as they do on a catalog. The returned sampler counts the
    outcomes it produced in its ``calls`` attribute's ``drawn`` key.
    """
    calls: dict[str, int] = {"drawn": 0, "requests": 0}

    def sample(wanted: Mapping[str, Sequence[int]]) -> list[Outcome]:
        calls["requests"] += 1
        out = []
        for pid, indexes in wanted.items():
            for i in indexes:
                passed = _unit(seed, pid, i) < rates[pid]
                n_tok = tokens(pid, i) if tokens is not None else None
                out.append(Outcome(pid, i, passed, n_tok, "ok" if passed else "wrong"))
        calls["drawn"] += len(out)
        return out

    sample.calls = calls  # type: ignore[attr-defined]
    return sample
