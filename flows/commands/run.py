"""``tracemill run RECIPE``: run a recipe's stages as one flow, then print its summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tracemill.flows.common import CatalogOption, catalog_location, console, user_errors


def run_command(
    recipe: Annotated[Path, typer.Argument(help="Recipe YAML file (see recipes/).")],
    prefect: Annotated[
        bool | None,
        typer.Option("--prefect/--no-prefect",
                     help="Run as a Prefect flow (default: the recipe's `prefect` key)."),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Validate the recipe and exit without running.")
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Run a recipe (a YAML list of stages) end to end, recording a ``runs`` row."""
    with user_errors():
        from rich.table import Table
        from tracemill.flows.recipe import load_recipe
        from tracemill.flows.runner import run_recipe
        from tracemill.flows.stages import stage_names

        if check:
            loaded = load_recipe(recipe)
            labels = ", ".join(e.label for e in loaded.recipe.stages)
            console.print(f"[green]ok[/] {recipe}: {len(loaded.configs)} stage(s): {labels}")
            console.print(f"[dim]stages available: {', '.join(stage_names())}[/]")
            return
        result = run_recipe(recipe, catalog=catalog_location(catalog), use_prefect=prefect)
        view = Table(title=f"run {result.run_id} — {result.recipe}: {result.status}")
        view.add_column("stage")
        view.add_column("seconds", justify="right")
        view.add_column("counters", overflow="fold")
        for s in result.stages:
            counters = ", ".join(
                f"{k}={v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{k}={v}"
                for k, v in s.counts.items()
                if not isinstance(v, dict | list)
            )
            view.add_row(s.label, f"{s.seconds:.2f}", counters)
        console.print(view)


def register(app: typer.Typer) -> None:
    """Add ``run``."""
    app.command("run")(run_command)
