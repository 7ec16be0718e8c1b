"""``tracemill synth`` (generate problems of a family) and ``tracemill families``.

``synth``'s flags come from :class:`tracemill.flows.synth.SynthStage`; ``--list`` and
``--levels-table`` are listing modes that generate nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from tracemill.flows.command import invocation, stage_command
from tracemill.flows.common import UsageError
from tracemill.flows.listing import Format, FormatOption, emit


def format_value(value: Any) -> str:
    """A knob value for display (floats without binary noise)."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def knob_span(values: list[Any]) -> str:
    """Level 1 and level 10 values of a knob: ``3`` when fixed, else ``3..20``."""
    first, last = format_value(values[0]), format_value(values[-1])
    if all(v == values[0] for v in values):
        return first
    return f"{first}..{last}"


SPAN_CHARS = 40
"""Longest knob span a ``--list`` line shows (word lists and the like are cut)."""


def family_rows() -> list[dict[str, Any]]:
    """One row per family: name, source, then ``knob: level1..level10`` per knob.

    The source is ``tracemill`` for native families and ``reasoning-gym`` for the
    ``rg:`` ones (listed when reasoning-gym is installed).
    """
    from tracemill.pipelines.synth import describe_levels, get_task, task_names

    rows = []
    for name in task_names():
        table = describe_levels(name)
        rows.append({"family": name, "source": get_task(name).source,
                     **{k.name: knob_span(list(k.values)) for k in table.knobs}})  # fmt: skip
    return rows


def list_families(fmt: Format) -> None:
    """``synth --list``: one line a family (name, source, knob=L1..L10); json/csv as rows."""
    rows = family_rows()
    if fmt != Format.table:
        emit([{"family": r.pop("family"), "source": r.pop("source"),
               "knobs": [{"knob": k, "levels": v} for k, v in r.items()]} for r in rows],
             fmt)  # fmt: skip
        return
    width = max(len(r["family"]) for r in rows)
    source_width = max(len(r["source"]) for r in rows)
    for row in rows:
        name, source = row.pop("family"), row.pop("source")
        spans = []
        for knob, span in row.items():
            span = span.replace(" ", "")
            if len(span) > SPAN_CHARS:
                span = span[: SPAN_CHARS - 1] + "…"
            spans.append(f"{knob}={span}")
        typer.echo(f"{name:<{width}}  {source:<{source_width}}  {' '.join(spans)}".rstrip())


def show_levels_table(family: str, fmt: Format) -> None:
    """``synth FAMILY --levels-table``: each knob's meaning and its value at levels 1-10."""
    from rich.table import Table
    from rich.text import Text
    from tracemill.flows.common import console
    from tracemill.pipelines.synth import describe_levels

    table = describe_levels(family)
    if fmt != Format.table:
        emit(
            [{"knob": k.name, "description": k.description, "trend": k.trend,
              **{f"L{i}": v for i, v in enumerate(k.values, 1)}} for k in table.knobs],
            fmt,
        )  # fmt: skip
        return
    view = Table(title=Text(f"{family}: knobs per level"))
    view.add_column("level", justify="right")
    for knob in table.knobs:
        view.add_column(Text(knob.name), justify="right", overflow="fold")
    for i, row in enumerate(table.rows()):
        view.add_row(str(row["level"]), *(Text(format_value(k.values[i])) for k in table.knobs))
    console.print(view)
    console.print(Text(table.description, style="italic"))
    for knob in table.knobs:
        console.print(Text.assemble((knob.name, "bold"), f" ({knob.trend}): {knob.description}"))
    by_trend: dict[str, list[str]] = {}
    for knob in table.knobs:
        by_trend.setdefault(knob.trend, []).append(knob.name)
    for trend in ("rises", "falls", "varies", "fixed"):
        if trend in by_trend:
            console.print(f"{trend}: {', '.join(by_trend[trend])}", highlight=False)


def _modes(values: dict[str, Any], extras: Mapping[str, Any]) -> bool:
    """``--list`` and ``--levels-table`` list; otherwise a FAMILY is needed."""
    fmt = extras["fmt"]
    if extras["list_"]:
        list_families(fmt)
        return True
    if "family" not in values:
        raise UsageError("give a FAMILY (see `tracemill synth --list`)")
    if extras["levels_table"]:
        from tracemill.pipelines.synth import get_task

        try:
            get_task(values["family"])
        except KeyError as e:
            raise UsageError(e.args[0]) from None
        show_levels_table(values["family"], fmt)
        return True
    if "count" not in values:
        raise UsageError("--count is required to generate (or use --list / --levels-table)")
    return False


def families_command(fmt: FormatOption = Format.table) -> None:
    """List the synthetic task families with their knobs (level-1 defaults)."""
    with invocation("families"):
        import dataclasses

        from tracemill.pipelines.synth import get_task, task_names

        rows = []
        for name in task_names():
            task = get_task(name)
            config = task.config_for_level(1)
            knobs = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
            rows.append({
                "family": name, "domain": task.domain, "version": task.version,
                "knobs (level 1)": ", ".join(f"{k}={v!r}" for k, v in knobs.items()),
                "description": task.description,
            })  # fmt: skip
        emit(rows, fmt, title="task families")


def register(app: typer.Typer) -> None:
    """Add ``synth`` and ``families``."""
    panel = "Listing"
    extras = {
        "list_": (Annotated[bool, typer.Option(
            "--list", rich_help_panel=panel,
            help="List the families, one a line: name, source, then knobs (L1..L10).")], False),
        "levels_table": (Annotated[bool, typer.Option(
            "--levels-table", rich_help_panel=panel,
            help="Explain FAMILY's knobs and show their values at levels 1-10.")], False),
        "fmt": (Annotated[Format, typer.Option(
            "--format", "-f", rich_help_panel=panel, case_sensitive=False,
            help="Listing output: table, json (one object per line) or csv.")], Format.table),
    }  # fmt: skip
    stage_command(app, "synth", config="tracemill.flows.synth:SynthStage", extras=extras,
                  intercept=_modes)  # fmt: skip
    app.command("families")(families_command)
