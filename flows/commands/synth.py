"""``tracemill synth`` (generate problems of a family) and ``tracemill families``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from tracemill.flows.common import CatalogOption, UserError, catalog_location, console, user_errors


def parse_knobs(pairs: list[str] | None) -> dict[str, Any]:
    """``["size=9", "density=0.4"]`` → ``{"size": 9, "density": 0.4}`` (JSON values, else text)."""
    knobs: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--knob takes NAME=VALUE, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        knobs[key.strip()] = value
    return knobs


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


def list_families() -> list[str]:
    """One line per family: its name, then ``knob=level1..level10`` for each knob."""
    from tracemill.pipelines.synth import level_table, task_names

    names = task_names()
    width = max(map(len, names))
    lines = []
    for name in names:
        table = level_table(name)
        knobs = [k for k in table[0] if k != "level"]
        spans = " ".join(f"{k}={knob_span([row[k] for row in table])}" for k in knobs)
        lines.append(f"{name:<{width}}  {spans}")
    return lines


def show_levels_table(family: str) -> None:
    """Print the knob values each level 1–10 sets, and which knobs rise or fall."""
    from rich.table import Table
    from tracemill.pipelines.synth import knob_trends, level_table

    table = level_table(family)
    trends = knob_trends(family)
    view = Table(title=f"{family}: knobs per level")
    view.add_column("level", justify="right")
    for knob in trends:
        view.add_column(knob, justify="right", overflow="fold")
    for row in table:
        view.add_row(str(row["level"]), *(format_value(row[k]) for k in trends))
    by_trend: dict[str, list[str]] = {}
    for knob, trend in trends.items():
        by_trend.setdefault(trend, []).append(knob)
    console.print(view)
    for trend in ("rises", "falls", "varies", "fixed"):
        if trend in by_trend:
            console.print(f"{trend}: {', '.join(by_trend[trend])}", highlight=False)


def synth_command(
    family: Annotated[
        str | None, typer.Argument(help="Task family (see `tracemill synth --list`).")
    ] = None,
    count: Annotated[
        int | None,
        typer.Option("--count", "-n", min=0, help="Items to generate (the total with --levels)."),
    ] = None,
    level: Annotated[
        int | None, typer.Option("--level", "-l", min=1, max=10, help="Difficulty level 1-10.")
    ] = None,
    levels: Annotated[
        str | None,
        typer.Option(
            "--levels",
            help="Spread --count evenly over levels, easy to hard: 1-10, 1,5,10 or 2-4,8.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Generator seed.")] = 0,
    start: Annotated[int, typer.Option("--start", min=0, help="Index of the first item.")] = 0,
    knob: Annotated[
        list[str] | None,
        typer.Option("--knob", "-k", help="Config knob NAME=VALUE over the level (repeatable)."),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Items per catalog append.")
    ] = 10_000,
    list_: Annotated[
        bool,
        typer.Option("--list", help="List the families, one a line: name, then knobs (L1..L10)."),
    ] = False,
    levels_table: Annotated[
        bool, typer.Option("--levels-table", help="Show the knob values of each level 1-10.")
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Generate synthetic problems of one family into the catalog (reruns add nothing).

    With --levels the count is split evenly over the levels (lower levels take the
    remainder); every row keeps its level and knobs.
    """
    with user_errors():
        if list_:
            for line in list_families():
                typer.echo(line)
            return
        if family is None:
            raise UserError("give a FAMILY (see `tracemill synth --list`)")
        if levels_table:
            show_levels_table(family)
            return
        if count is None:
            raise UserError("--count is required to generate (or use --list / --levels-table)")
        if level is not None and levels is not None:
            raise UserError("give --level or --levels, not both")
        _generate(family, count, level, levels, seed, start, parse_knobs(knob), chunk_size, catalog)


def _generate(
    family: str,
    count: int,
    level: int | None,
    levels: str | None,
    seed: int,
    start: int,
    knobs: dict[str, Any],
    chunk_size: int,
    catalog: str | None,
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table
    from tracemill.catalogs import new_run_id
    from tracemill.flows.synth import SynthStage, synthesize
    from tracemill.pipelines.synth import parse_levels

    cfg = SynthStage(
        family=family,
        count=count,
        level=level,
        levels=parse_levels(levels) if levels is not None else None,
        seed=seed,
        start=start,
        knobs=knobs,
        chunk_size=chunk_size,
    )
    with Progress(
        TextColumn(f"synth {family}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("synth", total=count)
        counts = synthesize(
            cfg,
            catalog=catalog_location(catalog),
            run_id=new_run_id(),
            progress=lambda done, _total: bar.update(task, completed=done),
        )
    view = Table(title=f"synth {family}")
    for column in ("level", "generated", "inserted", "skipped", "seconds"):
        view.add_column(column, justify="right")
    for name, tally in counts.get("per_level", {}).items():
        view.add_row(
            name, f"{tally['generated']:,}", f"{tally['inserted']:,}", f"{tally['skipped']:,}", ""
        )
    view.add_row(
        "all" if levels is not None else str(level or 1),
        f"{counts['generated']:,}",
        f"{counts['inserted']:,}",
        f"{counts['skipped']:,}",
        f"{counts['seconds']:.1f}",
    )
    console.print(view)


def families_command() -> None:
    """List the synthetic task families with their knobs (level-1 defaults)."""
    with user_errors():
        import dataclasses

        from rich.table import Table
        from tracemill.pipelines.synth import get_task, task_names

        view = Table(title="task families")
        for column in ("family", "domain", "version", "knobs (level 1)", "description"):
            view.add_column(column, overflow="fold")
        for name in task_names():
            task = get_task(name)
            config = task.config_for_level(1)
            knobs = ", ".join(
                f"{f.name}={getattr(config, f.name)!r}" for f in dataclasses.fields(config)
            )
            view.add_row(name, task.domain, task.version, knobs, task.description)
        console.print(view)


def register(app: typer.Typer) -> None:
    """Add ``synth`` and ``families``."""
    app.command("synth")(synth_command)
    app.command("families")(families_command)
