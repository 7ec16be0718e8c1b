"""``tracemill synth`` (generate problems of a family) and ``tracemill families``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from flows.common import CatalogOption, UserError, catalog_location, console, user_errors


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


def synth_command(
    family: Annotated[str, typer.Argument(help="Task family (see `tracemill families`).")],
    count: Annotated[int, typer.Option("--count", "-n", min=0, help="Items to generate.")],
    level: Annotated[
        int | None, typer.Option("--level", "-l", min=1, max=10, help="Difficulty level 1-10.")
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
    catalog: CatalogOption = None,
) -> None:
    """Generate synthetic problems of one family into the catalog (reruns add nothing)."""
    with user_errors():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
        from rich.table import Table

        from catalogs import new_run_id
        from flows.synth import SynthStage, synthesize

        cfg = SynthStage(
            family=family,
            count=count,
            level=level,
            seed=seed,
            start=start,
            knobs=parse_knobs(knob),
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
        view.add_row(
            str(level or 1),
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

        from pipelines.synth import get_task, task_names

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
