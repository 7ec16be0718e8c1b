"""``tracemill run RECIPE`` (a recipe's stages as one flow) and ``tracemill stages``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from tracemill.flows.command import invocation
from tracemill.flows.common import CatalogOption, console
from tracemill.flows.listing import Format, FormatOption, emit


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
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bars.", metavar="")
    ] = False,
) -> None:
    """Run a recipe (a YAML list of stages) end to end, recording a `runs` row."""
    with invocation("run", catalog=catalog, quiet=quiet) as run:
        from rich.table import Table
        from rich.text import Text
        from tracemill.flows.recipe import load_recipe
        from tracemill.flows.reporting import format_value
        from tracemill.flows.runner import run_recipe
        from tracemill.flows.stages import stage_names

        if check:
            loaded = load_recipe(recipe)
            labels = ", ".join(e.label for e in loaded.recipe.stages)
            console.print(
                Text.assemble(("ok", "green"), f" {recipe}: {len(loaded.configs)} stage(s): "
                              f"{labels}")  # fmt: skip
            )
            console.print(Text(f"stages available: {', '.join(stage_names())}", style="dim"))
            return
        # the recipe records its own runs row (and one per stage) under this run id
        result = run_recipe(recipe, catalog=run.catalog, use_prefect=prefect, run_id=run.run_id)
        view = Table(title=Text(f"run {result.run_id} — {result.recipe}: {result.status}"))
        view.add_column("stage")
        view.add_column("seconds", justify="right")
        view.add_column("counters", overflow="fold")
        for s in result.stages:
            counters = ", ".join(
                f"{k}={format_value(v)}"
                for k, v in s.counts.items()
                if not isinstance(v, dict | list) and k != "report"
            )
            view.add_row(Text(s.label), f"{s.seconds:.2f}", Text(counters))
        console.print(view)


def stages_command(
    stage: Annotated[
        str | None, typer.Argument(help="Show this stage's config keys (default: list stages).")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """List recipe stages, or one stage's config keys (recipe keys = --config/--set keys)."""
    with invocation("stages"):
        from tracemill.flows.stages import get_stage, stage_names

        if stage is None:
            rows = [{"stage": n, "description": get_stage(n).doc.splitlines()[0]}
                    for n in stage_names()]  # fmt: skip
            emit(rows, fmt, title="stages")
            return
        spec = get_stage(stage)
        emit(_config_keys(spec.config), fmt, title=f"{stage}: config keys")


def _config_keys(model: type[Any]) -> list[dict[str, Any]]:
    """One row per config key: its type, default, flag and description."""
    from pydantic_core import PydanticUndefined
    from tracemill.flows.options import cli_fields

    flags = {f.name: f for f in cli_fields(model)}
    rows = []
    common = [n for n in model.model_fields if n in _base_fields()]
    names = [n for n in model.model_fields if n not in common] + common
    for name in names:
        info = model.model_fields[name]
        if info.is_required():
            default: Any = "(required)"
        elif info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
        else:
            default = None if info.default is PydanticUndefined else info.default
        f = flags.get(name)
        flag = "" if f is None else (name.upper() if f.flag.argument else f.long)
        rows.append({
            "key": name,
            "type": _type_name(info.annotation),
            "default": default,
            "flag": flag,
            "description": info.description or "",
        })  # fmt: skip
    return rows


def _base_fields() -> set[str]:
    from tracemill.flows.stages import StageConfig

    return set(StageConfig.model_fields)


def _type_name(annotation: Any) -> str:
    text = str(annotation)
    return text.replace("typing.", "").replace("<class '", "").replace("'>", "")


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``stages``."""
    app.command("run")(run_command)
    app.command("stages")(stages_command)
