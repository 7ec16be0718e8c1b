import random

import numpy as np
import pytest
from tracemill.pipelines.grade import (
    DEFAULT_BINS,
    GradingMethod,
    LevelBins,
    bernoulli_sampler,
    grade_problems,
)
from tracemill.pipelines.grade.stopping import (
    GRID_POINTS,
    agreement_probability,
    fit_prior,
    oracle_agreement,
)

TWO_BINS = LevelBins((0.5, 0.0))  # level 1: p >= 0.5, level 2: p < 0.5


def test_prior_learns_point_masses_at_zero_and_one():
    n = [4] * 1000
    m = [0] * 600 + [4] * 400
    prior = fit_prior(n, m, smoothing=0.0)
    assert prior.shape == (GRID_POINTS,)
    assert prior.sum() == pytest.approx(1.0)
    assert prior[0] == pytest.approx(0.6, abs=0.05)
    assert prior[-1] == pytest.approx(0.4, abs=0.05)
    # smoothing mixes in a uniform prior of weight smoothing / (smoothing + problems)
    smoothed = fit_prior(n, m, smoothing=1000.0)
    assert smoothed.min() == pytest.approx(0.5 / GRID_POINTS, rel=0.05)


def test_prior_of_no_data_is_uniform_and_bad_counts_raise():
    assert np.allclose(fit_prior([], []), 1.0 / GRID_POINTS)
    with pytest.raises(ValueError):
        fit_prior([3], [4])
    with pytest.raises(ValueError):
        fit_prior([3, 4], [1])


def test_oracle_agreement_is_the_hand_computed_binomial_tail():
    # 3 passes of 5, k = 10, p = 0.5: level 1 at k needs >= 5 passes, i.e. >= 2 of the
    # 5 samples left: 1 - P(X <= 1) = 1 - (1 + 5) / 32
    got = oracle_agreement([5], [3], 10, TWO_BINS, [0.5])
    assert got[0] == pytest.approx(26 / 32)
    # 1 pass of 5 (level 2): the full grade must stay below 5 passes, X <= 3
    assert oracle_agreement([5], [1], 10, TWO_BINS, [0.5])[0] == pytest.approx(26 / 32)
    # done problems are certain
    assert oracle_agreement([10], [7], 10, TWO_BINS, [0.1])[0] == 1.0


def test_agreement_uses_the_prior():
    never = fit_prior([4] * 500, [0] * 500, smoothing=0.0)
    uniform = np.full(GRID_POINTS, 1.0 / GRID_POINTS)
    confident = agreement_probability([4], [0], 64, DEFAULT_BINS, never)[0]
    unsure = agreement_probability([4], [0], 64, DEFAULT_BINS, uniform)[0]
    assert confident > 0.99
    assert unsure < 0.8
    # a level no count reaches at k (k = 8 has no count with rate in [0.4, 0.5)) never stops
    assert agreement_probability([5], [2], 8, DEFAULT_BINS, uniform)[0] == 0.0


def test_predictive_rule_agrees_with_fixed_k_at_the_stated_rate():
    rng = random.Random(7)
    rates = {f"b{i:04d}": rng.betavariate(0.3, 0.3) for i in range(1500)}
    sampler = bernoulli_sampler(rates, seed=4)
    fixed = grade_problems(list(rates), sampler, GradingMethod("fixed_k", k=32))
    for confidence in (0.9, 0.95):
        method = GradingMethod("adaptive_k", k=32, stop_confidence=confidence)
        assert method.stop_rule == "predictive"
        adaptive = grade_problems(list(rates), sampler, method)
        pairs = list(zip(adaptive.results, fixed.results, strict=True))
        agree = sum(a.level == f.level for a, f in pairs) / len(pairs)
        assert agree >= confidence
        assert adaptive.samples_drawn <= 0.75 * fixed.samples_drawn
        for a, _ in pairs:  # levels stay those of the point estimates
            assert a.level == DEFAULT_BINS.level(a.passes / a.k)


def test_stop_rule_defaults_and_params():
    predictive = GradingMethod("adaptive_k")
    interval = GradingMethod("adaptive_k", stop_rule="interval")
    assert predictive.stop_confidence == 0.95 and interval.stop_confidence == 0.8
    assert predictive.to_json()["stop_rule"] == "predictive"
    # interval grades keep the params (and params_id) they had before stop rules existed
    assert "stop_rule" not in interval.to_json()
    assert predictive.params_id() != interval.params_id()
