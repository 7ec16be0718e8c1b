import json
import random

import pytest
from tracemill.catalogs import config_id
from tracemill.pipelines.grade import (
    DEFAULT_BINS,
    GradingMethod,
    LevelBins,
    Outcome,
    bernoulli_sampler,
    grade_problems,
    grade_rows,
)

BIN_CENTERS = [0.0, 1.0] + [round(0.05 + 0.1 * i, 2) for i in range(10)]


def _centered_population(n: int) -> dict[str, float]:
    return {f"p{i:04d}": BIN_CENTERS[i % len(BIN_CENTERS)] for i in range(n)}


def _u_shaped_population(n: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    rates = {}
    for i in range(n):
        u = rng.random()
        rates[f"q{i:04d}"] = 0.0 if u < 0.3 else 1.0 if u < 0.55 else rng.random()
    return rates


def test_fixed_k_draws_k_each():
    rates = {"a": 1.0, "b": 0.0, "c": 0.5}
    sampler = bernoulli_sampler(rates, seed=1, tokens=lambda pid, i: 10 + i)
    run = grade_problems(list(rates), sampler, GradingMethod("fixed_k", k=8))
    by = {r.problem_id: r for r in run.results}
    assert [r.k for r in run.results] == [8, 8, 8]
    assert (by["a"].passes, by["a"].level) == (8, 1)
    assert (by["b"].passes, by["b"].level) == (0, 10)
    assert by["a"].mean_tokens == pytest.approx(sum(10 + i for i in range(8)) / 8)
    assert run.samples_drawn == run.fixed_k_samples == 24
    assert sampler.calls["drawn"] == 24


@pytest.mark.parametrize("passing", [True, False])
def test_adaptive_stops_certain_problems_at_the_hand_computed_round(passing):
    # zero passes: the 80 % Wilson upper bound z^2/(n+z^2) drops below 0.1 once
    # n > 9 z^2 = 14.78, i.e. at n = 15, so with rounds of 4 the problem stops at 16
    rates = {"x": 1.0 if passing else 0.0}
    method = GradingMethod(
        "adaptive_k", k=64, first_round=4, round_size=4, stop_confidence=0.8, stop_rule="interval"
    )
    run = grade_problems(["x"], bernoulli_sampler(rates), method)
    (r,) = run.results
    assert r.k == 16 and r.stopped_early
    assert r.level == (1 if passing else 10)
    assert run.rounds == 4
    # with round size 1 it stops at exactly 15
    one = GradingMethod(
        "adaptive_k", k=64, first_round=1, round_size=1, stop_confidence=0.8, stop_rule="interval"
    )
    assert grade_problems(["x"], bernoulli_sampler(rates), one).results[0].k == 15


def test_adaptive_never_exceeds_k_and_falls_back_to_point_estimate():
    rates = {"m": 0.5}
    method = GradingMethod("adaptive_k", k=10, first_round=3, round_size=4)
    run = grade_problems(["m"], bernoulli_sampler(rates, seed=2), method)
    (r,) = run.results
    assert r.k == 10 and not r.stopped_early
    assert r.level == DEFAULT_BINS.level(r.passes / 10)


@pytest.mark.parametrize("stop_confidence", [0.8, 0.95])
def test_interval_rule_levels_agree_with_truth_at_the_stated_rate(stop_confidence):
    rates = _centered_population(600)
    method = GradingMethod(
        "adaptive_k", k=200, stop_confidence=stop_confidence, stop_rule="interval"
    )
    run = grade_problems(list(rates), bernoulli_sampler(rates, seed=11), method)
    early = [r for r in run.results if r.stopped_early]
    assert len(early) > 150
    truth = [DEFAULT_BINS.level(rates[r.problem_id]) == r.level for r in early]
    # a problem stops only when its interval at `stop_confidence` lies inside the bin
    assert sum(truth) / len(truth) >= stop_confidence
    overall = sum(DEFAULT_BINS.level(rates[r.problem_id]) == r.level for r in run.results)
    assert overall / len(run.results) >= 0.85
    assert run.samples_drawn < run.fixed_k_samples


def test_adaptive_matches_fixed_k_with_fewer_samples():
    rates = _u_shaped_population(1500, seed=5)
    sampler = bernoulli_sampler(rates, seed=3)
    fixed = grade_problems(list(rates), sampler, GradingMethod("fixed_k", k=64))
    adaptive = grade_problems(list(rates), sampler, GradingMethod("adaptive_k", k=64))
    agree = sum(
        a.level == f.level for a, f in zip(adaptive.results, fixed.results, strict=True)
    ) / len(rates)
    assert agree >= 0.95
    assert adaptive.samples_drawn <= 0.6 * fixed.samples_drawn
    # adaptive draws a prefix of the fixed-k stream: no more passes than fixed-k saw
    for a, f in zip(adaptive.results, fixed.results, strict=True):
        assert a.k <= f.k and a.passes <= f.passes


def test_rerun_asks_for_the_same_samples():
    rates = _u_shaped_population(200, seed=1)
    asked = []

    base = bernoulli_sampler(rates, seed=4)

    def recording(wanted):
        asked.append({pid: list(idx) for pid, idx in wanted.items()})
        return base(wanted)

    method = GradingMethod("adaptive_k", k=32)
    first = grade_problems(list(rates), recording, method)
    n_first = len(asked)
    second = grade_problems(list(rates), recording, method)
    assert asked[:n_first] == asked[n_first:]
    assert [r.level for r in first.results] == [r.level for r in second.results]
    # indexes run 0, 1, 2, … without gaps or repeats
    for pid in rates:
        seen = [i for call in asked[:n_first] for i in call.get(pid, [])]
        assert seen == list(range(len(seen)))


@pytest.mark.parametrize("method", ["fixed_k", "adaptive_k", "answer_first"])
def test_problems_missing_outcomes_stay_ungraded(method):
    def lossy(wanted):
        # problem "bad" loses its last sample (a generation error), "good" is complete
        return [
            Outcome(pid, i, True)
            for pid, idx in wanted.items()
            for i in idx
            if not (pid == "bad" and i == idx[-1])
        ]

    run = grade_problems(["good", "bad"], lossy, GradingMethod(method, k=3))
    assert [r.problem_id for r in run.results] == ["good"]
    assert run.incomplete == ["bad"] and run.counters["incomplete"] == 1


def test_answer_first_with_judge():
    rates = {"easy": 1.0, "hard": 0.0, "weird": 0.0}
    seen = []

    def judge(cases):
        seen.extend(c.problem_id for c in cases)
        return {"hard": 7, "weird": 42}

    run = grade_problems(
        list(rates), bernoulli_sampler(rates), GradingMethod("answer_first"), judge=judge
    )
    by = {r.problem_id: r for r in run.results}
    assert seen == ["hard", "weird"]
    assert (by["easy"].level, by["easy"].k, by["easy"].judged) == (1, 1, False)
    assert (by["hard"].level, by["hard"].judged) == (7, True)
    assert by["weird"].level == 10  # clamped to the hardest level
    assert run.samples_drawn == 3
    with pytest.raises(ValueError, match="judge"):
        grade_problems(["hard"], bernoulli_sampler(rates), GradingMethod("answer_first"))


def test_params_id_depends_on_method_sampling_and_bins():
    sampling = {"temperature": 0.6, "max_tokens": 100}
    a = GradingMethod("adaptive_k", k=16)
    assert a.params_id(sampling) == config_id(a.to_json(sampling))
    assert a.params_id(sampling) == GradingMethod("adaptive_k", k=16).params_id(
        json.dumps(sampling)
    )
    others = [
        GradingMethod("fixed_k", k=16).params_id(sampling),
        GradingMethod("adaptive_k", k=32).params_id(sampling),
        GradingMethod("adaptive_k", k=16, bins=LevelBins((0.5, 0.0))).params_id(sampling),
        a.params_id({**sampling, "temperature": 1.0}),
        GradingMethod("answer_first").params_id(sampling, judge="fake:j"),
    ]
    assert len({a.params_id(sampling), *others}) == 6


def test_grade_rows_conform_to_grades_schema():
    rates = {"a": 1.0, "b": 0.25}
    run = grade_problems(list(rates), bernoulli_sampler(rates), GradingMethod("fixed_k", k=4))
    method = GradingMethod("fixed_k", k=4)
    table = grade_rows(
        run,
        grader_model="m",
        params_id=method.params_id({}),
        params=method.to_json({}),
        run_id="r1",
    )
    rows = table.to_pylist()
    assert [r["problem_id"] for r in rows] == ["a", "b"]
    assert rows[0]["method"] == "fixed_k" and rows[0]["k"] == 4 and rows[0]["pass_rate"] == 1.0
    assert rows[0]["ci_high"] == 1.0 and rows[0]["ci_low"] < 1.0
    assert json.loads(rows[0]["params"])["bins"] == DEFAULT_BINS.to_json()


def test_bad_methods_are_rejected():
    with pytest.raises(ValueError):
        GradingMethod("best_of_n")
    with pytest.raises(ValueError):
        GradingMethod(k=0)
    with pytest.raises(ValueError):
        GradingMethod(stop_confidence=1.0)
    with pytest.raises(ValueError, match="stop_rule"):
        GradingMethod(stop_rule="sprt")
