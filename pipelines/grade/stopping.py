"""Predictive stopping for adaptive k: stop once k samples would almost surely agree.

Adaptive grading is judged by whether it gives the level a full ``k``-sample grade
would give. After ``n`` samples with ``m`` passes the full grade's pass count is
``m + X`` with ``X ~ Binomial(k - n, p)``, and ``p`` is unknown; this module puts a
distribution on ``p`` and computes the probability that ``(m + X) / k`` falls in the
same bin as the current estimate ``m / n``. A problem stops once that probability
reaches the stopping confidence.

The distribution on ``p`` is an empirical-Bayes prior fitted to the problems being
graded together: a histogram on a grid of pass rates (``0`` and ``1`` included, so a
population with many never/always-solved problems is learned as such), fitted by EM to
every problem's counts so far (the nonparametric maximum-likelihood estimate), then
mixed with a uniform prior of weight ``smoothing / (smoothing + problems)`` so a
handful of problems never yields an overconfident prior. Each problem's posterior is
that prior times its binomial likelihood.

The stopping rule is ignorable for the likelihood, so counts of problems that stopped
early are used as they stand.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tracemill.pipelines.grade.levels import LevelBins

GRID_POINTS = 101
"""Pass rates 0, 0.01, …, 1 carry the prior."""
EM_ITERATIONS = 200
SMOOTHING = 20.0
"""Pseudo-problems of uniform prior mixed into the fitted one."""


def _grid(points: int = GRID_POINTS) -> np.ndarray:
    return np.linspace(0.0, 1.0, points)


def _log_likelihood(n: np.ndarray, m: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``log p^m (1-p)^(n-m)`` for each problem (rows) and grid point (columns)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.log(grid)[None, :]
        log_q = np.log1p(-grid)[None, :]
        a = np.where(m[:, None] > 0, m[:, None] * log_p, 0.0)
        b = np.where((n - m)[:, None] > 0, (n - m)[:, None] * log_q, 0.0)
    return a + b


def _normalized(log_w: np.ndarray) -> np.ndarray:
    top = log_w.max(axis=1, keepdims=True)
    w = np.exp(log_w - top)
    return w / w.sum(axis=1, keepdims=True)


def fit_prior(
    n: Sequence[int] | np.ndarray,
    m: Sequence[int] | np.ndarray,
    *,
    points: int = GRID_POINTS,
    iterations: int = EM_ITERATIONS,
    smoothing: float = SMOOTHING,
) -> np.ndarray:
    """Prior weights over the pass-rate grid, fitted to ``m`` passes of ``n`` per problem."""
    n_arr = np.asarray(n, dtype=float)
    m_arr = np.asarray(m, dtype=float)
    if n_arr.shape != m_arr.shape:
        raise ValueError("n and m must have the same length")
    if np.any(m_arr < 0) or np.any(m_arr > n_arr):
        raise ValueError("need 0 <= m <= n for every problem")
    uniform = np.full(points, 1.0 / points)
    seen = n_arr > 0
    count = int(seen.sum())
    if count == 0:
        return uniform
    lik = np.exp(_log_likelihood(n_arr[seen], m_arr[seen], _grid(points)))
    w = uniform.copy()
    for _ in range(iterations):
        post = lik * w[None, :]
        post /= post.sum(axis=1, keepdims=True)
        w = post.mean(axis=0)
    share = smoothing / (smoothing + count)
    return (1.0 - share) * w + share * uniform


def _binom_cdf(x: np.ndarray, trials: np.ndarray, p: np.ndarray) -> np.ndarray:
    from scipy.stats import binom

    return binom.cdf(x, trials, p)


def _level_ranges(
    n: np.ndarray, m: np.ndarray, k: int, bins: LevelBins
) -> tuple[np.ndarray, np.ndarray]:
    """Count range ``[lo, hi]`` at ``k`` of each problem's current level (lo > hi: empty)."""
    count_level = np.array([bins.level(c / k) for c in range(k + 1)])
    levels = np.array([bins.level(mi / ni) for mi, ni in zip(m, n, strict=True)])
    lo = np.full(len(levels), k + 1)
    hi = np.full(len(levels), -1)
    for level in np.unique(levels):
        counts = np.flatnonzero(count_level == level)
        if counts.size:
            lo[levels == level] = counts.min()
            hi[levels == level] = counts.max()
    return lo, hi


def _same_level(
    n: np.ndarray, m: np.ndarray, k: int, bins: LevelBins, rates: np.ndarray
) -> np.ndarray:
    """P(level at k == level now) for each problem (rows) and pass rate (``rates``' columns)."""
    lo, hi = _level_ranges(n, m, k, bins)
    rest = (k - n)[:, None]
    upper = _binom_cdf((hi - m)[:, None], rest, rates)
    lower = _binom_cdf((lo - m - 1)[:, None], rest, rates)
    inside = np.clip(upper - lower, 0.0, 1.0)
    inside[hi < lo] = 0.0
    return inside


def _check(n: Sequence[int] | np.ndarray, m: Sequence[int] | np.ndarray, k: int) -> tuple:
    n_arr = np.asarray(n, dtype=int)
    m_arr = np.asarray(m, dtype=int)
    if n_arr.shape != m_arr.shape:
        raise ValueError("n and m must have the same length")
    if np.any(n_arr < 1) or np.any(m_arr < 0) or np.any(m_arr > n_arr):
        raise ValueError("need 1 <= n and 0 <= m <= n for every problem")
    return n_arr, m_arr, n_arr < k


def agreement_probability(
    n: Sequence[int] | np.ndarray,
    m: Sequence[int] | np.ndarray,
    k: int,
    bins: LevelBins,
    prior: np.ndarray,
) -> np.ndarray:
    """Per problem: P(the level of a ``k``-sample grade equals the level of ``m / n``).

    ``prior`` is a weight vector over the pass-rate grid (see :func:`fit_prior`).
    Problems with ``n >= k`` get 1.0.
    """
    n_arr, m_arr, todo = _check(n, m, k)
    out = np.ones(len(n_arr))
    if not todo.any():
        return out
    nn, mm = n_arr[todo], m_arr[todo]
    grid = _grid(len(prior))
    log_prior = np.log(np.maximum(prior, 1e-300))[None, :]
    post = _normalized(_log_likelihood(nn, mm, grid) + log_prior)
    out[todo] = (post * _same_level(nn, mm, k, bins, grid[None, :])).sum(axis=1)
    return out


def oracle_agreement(
    n: Sequence[int] | np.ndarray,
    m: Sequence[int] | np.ndarray,
    k: int,
    bins: LevelBins,
    rates: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """As :func:`agreement_probability` for an oracle that knows each true pass rate.

    A reference for what a stopping rule could save at a given agreement if it knew the
    rates (``benchmarks/grade.py`` prints it beside the real rule); the level at ``k`` is
    still random because the remaining samples are.
    """
    n_arr, m_arr, todo = _check(n, m, k)
    out = np.ones(len(n_arr))
    if todo.any():
        p = np.asarray(rates, dtype=float)[todo][:, None]
        out[todo] = _same_level(n_arr[todo], m_arr[todo], k, bins, p)[:, 0]
    return out
