"""What generated samples cost: a price per model, or the cost a server reports.

Prices are USD per 1M tokens, ``{"input": …, "output": …}`` (either may be left out:
it is then free). A sample's cost is the one its server reported with the response
(``usage.cost``, as OpenRouter and compatible servers return it), else its token counts
times the prices; unknown when neither is available (no prices, or a priced token count
that the backend did not report).

Example:
    >>> sample_cost(1_000, 2_000, {"input": 3.0, "output": 15.0})
    0.033
    >>> sample_cost(1_000, None, {"input": 3.0, "output": 15.0}) is None
    True
    >>> sample_cost(1_000, None, {"input": 3.0}, reported=0.5)
    0.5
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

PRICE_KEYS = ("input", "output", "batch_input", "batch_output")
"""Price keys: USD per 1M prompt (input) and completion (output) tokens; a Batch-API run
(``distill --batch``) charges ``batch_input``/``batch_output`` (default: half)."""


def check_prices(prices: Mapping[str, Any] | None) -> dict[str, float]:
    """Validated prices (keys :data:`PRICE_KEYS`, finite values >= 0); else ValueError."""
    out: dict[str, float] = {}
    for key, value in (prices or {}).items():
        if key not in PRICE_KEYS:
            raise ValueError(
                f"prices take {', '.join(repr(k) for k in PRICE_KEYS)} (USD per 1M "
                f"tokens), not {key!r}"
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"price {key!r} must be a number, got {value!r}") from None
        if not math.isfinite(number) or number < 0:
            raise ValueError(f"price {key!r} must be a finite number >= 0, got {value!r}")
        out[key] = number
    return out


def check_online_prices(prices: Mapping[str, Any] | None, field: str) -> dict[str, float]:
    """:func:`check_prices` for calls that are never batched (a judge's): no ``batch_*``."""
    out = check_prices(prices)
    batch = sorted(k for k in out if k.startswith("batch_"))
    if batch:
        raise ValueError(f"judge calls are online: {field} take input/output, not {batch}")
    return out


def reported_cost(value: Any) -> float | None:
    """A server-reported cost as a float, None when absent or not a finite number >= 0."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


def sample_cost(
    prompt_tokens: int | None,
    completion_tokens: int | None,
    prices: Mapping[str, float] | None,
    *,
    reported: float | None = None,
) -> float | None:
    """USD cost of one sample (see the module docstring)."""
    if reported is not None:
        return reported
    if not prices:
        return None
    total = 0.0
    for key, tokens in (("input", prompt_tokens), ("output", completion_tokens)):
        price = prices.get(key)
        if not price:
            continue
        if tokens is None:
            return None
        total += tokens * price / 1e6
    return total
