"""Pass rates, Wilson intervals and difficulty levels from pass-rate bins.

Default bins (:data:`DEFAULT_BINS`): ten levels of equal width over the student's pass
rate ``p``, level 1 the easiest::

    level  1: 0.9 <= p <= 1.0        level  6: 0.4 <= p < 0.5
    level  2: 0.8 <= p <  0.9        level  7: 0.3 <= p < 0.4
    level  3: 0.7 <= p <  0.8        level  8: 0.2 <= p < 0.3
    level  4: 0.6 <= p <  0.7        level  9: 0.1 <= p < 0.2
    level  5: 0.5 <= p <  0.6        level 10: 0.0 <= p < 0.1

so ``level = 10 - min(9, floor(10 p))``; a problem the student never solves is level 10
and one it always solves is level 1. Bins are given as the *lower bounds* of levels
1, 2, … (strictly decreasing, the last one 0.0); each bin includes its lower bound and
excludes its upper one, except level 1 which includes 1.0.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist


def pass_rate(passes: int, k: int) -> float:
    """Fraction of ``k`` samples that passed (0.0 when nothing was drawn)."""
    if k < 0 or passes < 0 or passes > k:
        raise ValueError(f"need 0 <= passes <= k, got passes={passes}, k={k}")
    return passes / k if k else 0.0


@lru_cache(maxsize=64)
def z_value(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level (0.95 → 1.959964…)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)


def wilson_interval(passes: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion, clamped to [0, 1].

    With no samples the interval is the whole of [0, 1]. The interval always contains
    the point estimate ``passes / k``.
    """
    p = pass_rate(passes, k)
    if k == 0:
        return 0.0, 1.0
    z = z_value(confidence)
    z2 = z * z
    denom = 1.0 + z2 / k
    center = (p + z2 / (2 * k)) / denom
    half = (z / denom) * math.sqrt(p * (1.0 - p) / k + z2 / (4 * k * k))
    low = 0.0 if passes == 0 else max(0.0, center - half)
    high = 1.0 if passes == k else min(1.0, center + half)
    return low, high


@dataclass(frozen=True)
class LevelBins:
    """Pass-rate bins: ``lower[i]`` is the lowest pass rate of level ``i + 1``."""

    lower: tuple[float, ...]

    def __post_init__(self) -> None:
        lower = tuple(float(x) for x in self.lower)
        object.__setattr__(self, "lower", lower)
        if len(lower) < 2:
            raise ValueError("bins need at least two levels")
        if lower[-1] != 0.0:
            raise ValueError(f"the last (hardest) bin must start at 0.0, got {lower[-1]}")
        if not 0.0 < lower[0] <= 1.0:
            raise ValueError(f"the first (easiest) bin must start in (0, 1], got {lower[0]}")
        if any(a <= b for a, b in zip(lower, lower[1:], strict=False)):
            raise ValueError(f"bin lower bounds must decrease strictly, got {list(lower)}")

    @classmethod
    def parse(cls, text: str) -> LevelBins:
        """Bins from text such as ``"0.9,0.8,0.5,0"`` (lower bounds of levels 1, 2, …)."""
        try:
            values = tuple(float(x) for x in text.replace(" ", "").split(",") if x)
        except ValueError as e:
            raise ValueError(f"bins must be comma-separated numbers, got {text!r}") from e
        return cls(values)

    @property
    def levels(self) -> range:
        """The levels, 1 (easiest) to ``len(lower)`` (hardest)."""
        return range(1, len(self.lower) + 1)

    @property
    def easiest(self) -> int:
        """Level 1."""
        return 1

    @property
    def hardest(self) -> int:
        """The last level."""
        return len(self.lower)

    def bounds(self, level: int) -> tuple[float, float]:
        """``(low, high)`` pass rates of a level (``low`` included, ``high`` excluded)."""
        if level not in self.levels:
            raise ValueError(f"level must be in 1..{self.hardest}, got {level}")
        high = 1.0 if level == 1 else self.lower[level - 2]
        return self.lower[level - 1], high

    def level(self, rate: float) -> int:
        """The level of a pass rate."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"pass rate must be in [0, 1], got {rate}")
        # ascending copy of the bounds: count how many lower bounds are <= rate
        ascending = self.lower[::-1]
        return len(self.lower) - bisect_right(ascending, rate) + 1

    def interval_level(self, low: float, high: float) -> int | None:
        """The level whose bin holds the whole interval ``[low, high]``, else None."""
        level = self.level(low)
        top = self.bounds(level)[1]
        if level == 1 or high < top:
            return level
        return None

    def to_json(self) -> list[float]:
        """The lower bounds, for ``params`` and ``params_id``."""
        return list(self.lower)


DEFAULT_BINS = LevelBins(tuple(round(0.9 - 0.1 * i, 1) for i in range(9)) + (0.0,))
"""Ten equal-width bins (see the module docstring)."""
