"""``tracemill grade``, ``select`` and ``calibrate``: difficulty adapted to a model.

Their flags come from the stage configs in :mod:`tracemill.flows.grade.config`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from tracemill.flows.command import stage_command

ADAPTIVE = (
    Annotated[
        bool | None,
        typer.Option(
            "--adaptive/--fixed",
            help="Shorthand for --method adaptive_k / --method fixed_k.",
            show_default=False,
        ),
    ],
    None,
)


def _adaptive(values: dict[str, Any], extras: Mapping[str, Any]) -> None:
    """``--adaptive``/``--fixed`` set the method unless ``--method`` did."""
    if extras.get("adaptive") is not None and "method" not in values:
        values["method"] = "adaptive_k" if extras["adaptive"] else "fixed_k"


def _no_fill(values: dict[str, Any], extras: Mapping[str, Any]) -> None:
    if extras.get("no_fill"):
        from tracemill.flows.command import warn

        warn("--no-fill is deprecated; use --fill none")
        values.setdefault("fill", "none")


def register(app: typer.Typer) -> None:
    """Add ``grade``, ``select`` and ``calibrate``."""
    stage_command(
        app, "grade", config="tracemill.flows.grade.config:GradeStage",
        extras={"adaptive": ADAPTIVE}, prepare=_adaptive,
    )  # fmt: skip
    stage_command(
        app, "select", config="tracemill.flows.grade.config:SelectStage",
        extras={"no_fill": (Annotated[bool, typer.Option("--no-fill", hidden=True)], False)},
        prepare=_no_fill,
    )  # fmt: skip
    stage_command(
        app, "calibrate", config="tracemill.flows.grade.config:CalibrateStage",
        extras={"adaptive": ADAPTIVE}, prepare=_adaptive,
    )  # fmt: skip
