"""``tracemill distill``: sample a teacher on chosen problems, verify, print the summary.

The flags come from :class:`tracemill.flows.distill.DistillStage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from tracemill.flows.command import stage_command, warn

_PRICE = "USD per 1M {} tokens (deprecated: use --price {}=…)."


def _prices(values: dict[str, Any], extras: Mapping[str, Any]) -> None:
    """The deprecated ``--price-in``/``--price-out`` flags feed ``prices``."""
    for flag, key in (("price_in", "input"), ("price_out", "output")):
        if extras.get(flag) is not None:
            warn(f"--{flag.replace('_', '-')} is deprecated; use --price {key}=…")
            values.setdefault("prices", {}).setdefault(key, extras[flag])


def register(app: typer.Typer) -> None:
    """Add ``distill``."""
    hidden = {
        flag: (Annotated[float | None, typer.Option(f"--{flag.replace('_', '-')}", hidden=True)],
               None)
        for flag in ("price_in", "price_out")
    }  # fmt: skip
    stage_command(
        app, "distill", config="tracemill.flows.distill:DistillStage", extras=hidden,
        prepare=_prices,
    )  # fmt: skip
