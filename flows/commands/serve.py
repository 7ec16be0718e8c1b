"""``tracemill serve``: serve the stage flows and recipes as Prefect deployments.

One long-running process, no work pool or worker (see :mod:`tracemill.flows.serve`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from tracemill.flows.command import invocation
from tracemill.flows.common import CatalogOption, UsageError, console, err_console

SCHEDULE_PANEL = "Schedule (recipes)"
HELP = (
    "Serve the stage flows (and RECIPEs) as Prefect deployments from this process.\n\n"
    "No work pool or worker: this process registers the deployments with the Prefect server "
    "at PREFECT_API_URL, under the names prefect.yaml deploys (`synth/synth`, …; a recipe as "
    "`recipe/<name>`), and runs each flow run in a child process that sees its environment "
    "(catalog, data path, object storage, Ray).\n\n"
    "Ctrl-C or SIGTERM stops it: runs in flight are cancelled (rerun them: stages resume) "
    "and the schedules paused until it serves again."
)


def check_arguments(
    recipes: list[Path], *, cron: str | None, interval: float | None, timezone: str | None,
    stages: list[str], no_stages: bool,
) -> list[str]:  # fmt: skip
    """The stage flows to serve; :class:`UsageError` for arguments that cannot be served.

    Checks what needs no Prefect import (the cron expression is checked later, once the
    environment Prefect reads at import is set).
    """
    from tracemill.flows.serve import SERVED_STAGES

    if cron is not None and interval is not None:
        raise UsageError("give --cron or --interval, not both")
    if (cron is not None or interval is not None or timezone is not None) and not recipes:
        raise UsageError("--cron, --interval and --timezone schedule a RECIPE: name one")
    if timezone is not None and cron is None:
        raise UsageError("--timezone applies to --cron (an interval runs every N seconds)")
    if no_stages and stages:
        raise UsageError("give --stage or --no-stages, not both")
    if no_stages and not recipes:
        raise UsageError("nothing to serve: --no-stages and no RECIPE")
    unknown = [s for s in stages if s not in SERVED_STAGES]
    if unknown:
        raise UsageError(
            f"unknown stage {unknown[0]!r}: the stage flows are {', '.join(SERVED_STAGES)}"
        )
    if no_stages:
        return []
    return list(dict.fromkeys(stages)) or list(SERVED_STAGES)


def _check_cron(cron: str, timezone: str) -> None:
    from prefect.client.schemas.schedules import CronSchedule
    from pydantic import ValidationError

    try:
        CronSchedule(cron=cron, timezone=timezone)
    except ValidationError as e:
        reason = e.errors()[0]["msg"] if e.errors() else str(e)
        reason = reason.removeprefix("Value error, ")
        raise UsageError(f"--cron {cron!r} --timezone {timezone!r}: {reason}") from e


def serve_command(
    recipes: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Recipe YAML files to serve as deployments `recipe/<name>` "
            "(the recipe's `name` key).",
            show_default=False,
        ),
    ] = None,
    cron: Annotated[
        str | None,
        typer.Option(
            "--cron",
            metavar="EXPR",
            rich_help_panel=SCHEDULE_PANEL,
            help='Run the recipes on this cron schedule, e.g. "0 2 * * *" (02:00 every night).',
        ),
    ] = None,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            metavar="SECONDS",
            min=1,
            rich_help_panel=SCHEDULE_PANEL,
            help="Run the recipes every SECONDS seconds.",
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            metavar="TZ",
            rich_help_panel=SCHEDULE_PANEL,
            help="IANA time zone of --cron (default UTC), e.g. Europe/Paris.",
            show_default=False,
        ),
    ] = None,
    stage: Annotated[
        list[str] | None,
        typer.Option(
            "--stage",
            metavar="STAGE",
            help="Serve only this stage flow (repeatable; default: all of them: "
            "ingest, synth, verify, curate, distill, grade, select, build, export, "
            "train).",
        ),
    ] = None,
    no_stages: Annotated[
        bool, typer.Option("--no-stages", help="Serve the recipes only.", metavar="")
    ] = False,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=0,
            metavar="N",
            help="Flow runs at once; later ones wait their turn (0: no limit).",
        ),
    ] = 1,
    catalog: CatalogOption = None,
) -> None:
    """Serve the stage flows (and RECIPEs) as Prefect deployments from this process."""
    with invocation("serve", catalog=catalog) as run:
        stages = check_arguments(
            recipes or [], cron=cron, interval=interval, timezone=timezone,
            stages=stage or [], no_stages=no_stages,
        )  # fmt: skip
        _serve(recipes or [], stages, cron, interval, timezone or "UTC", limit, run.catalog)


def _serve(
    recipe_paths: list[Path], stages: list[str], cron: str | None, interval: float | None,
    timezone: str, limit: int, catalog: str | None,
) -> None:  # fmt: skip
    from tracemill.flows.serve import Schedule, prepare_environment, recipe_to_serve
    from tracemill.stores.catalog import CatalogConfig

    config = CatalogConfig.resolve(catalog)  # a catalog URI that cannot work fails now
    where = str(config.root) if config.embedded else config.metadata
    if catalog or config.embedded:
        os.environ["TRACEMILL_CATALOG"] = where  # the flow runs' catalog
    prepare_environment(where)  # before Prefect is imported
    if cron is not None:
        _check_cron(cron, timezone)
    schedule = Schedule(cron=cron, interval_s=interval, timezone=timezone)
    recipes = [recipe_to_serve(p, schedule) for p in recipe_paths]
    names = [r.name for r in recipes]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(f"two recipes are named {name!r}: each is served as "
                             f"recipe/<name>, so names must differ")  # fmt: skip
        if "/" in name or "%" in name:
            raise UsageError(f"recipe name {name!r}: a deployment name has no '/' or '%'")
    from tracemill.flows.serve import (
        build_deployments,
        catalog_shown,
        check_not_on_work_pools,
        prefect_api_url,
        recipe_catalog,
        serve,
    )

    api = prefect_api_url()
    os.environ["PREFECT_API_URL"] = api  # the flow runs talk to the same server
    for recipe in recipes:
        own = recipe_catalog(recipe.path)
        if own is not None and own != where:
            from tracemill.flows.command import warn

            warn(f"recipe {recipe.name!r} names its own catalog ({catalog_shown(own)}): its "
                 "runs use that one, not the serving process's")  # fmt: skip
    deployments = build_deployments(stages, recipes)
    check_not_on_work_pools(deployments)
    _print_start(api, where, deployments, recipes, limit)
    stopped_by = serve(deployments, limit=limit or None)
    err_console.print(f"tracemill serve: stopped ({stopped_by or 'runner ended'})",
                      highlight=False)  # fmt: skip
    if stopped_by == "SIGINT":
        raise typer.Exit(130)  # Ctrl-C, as for every command (README "Exit codes")


def _print_start(api: str, catalog: str, deployments: list, recipes: list, limit: int) -> None:
    from rich.table import Table
    from rich.text import Text
    from tracemill.flows.serve import catalog_shown

    schedules = {r.name: r.schedule.describe() for r in recipes}
    view = Table(title=Text(f"tracemill serve → {api}"), title_justify="left")
    view.add_column("deployment")
    view.add_column("schedule")
    for d in deployments:
        view.add_row(
            Text(f"{d.flow_name}/{d.name}"),
            Text(schedules.get(d.name, "-") if d.flow_name == "recipe" else "-"),
        )
    console.print(view)
    first = deployments[0]
    example = f"prefect deployment run '{first.flow_name}/{first.name}'"
    if first.flow_name != "recipe":
        example += " --param config='{...}'  (the stage's recipe keys)"
    console.print(
        Text(f"catalog: {catalog_shown(catalog)}; flow runs at once: {limit or 'no limit'}.\n"
             f"Trigger a run: {example}\nCtrl-C or SIGTERM stops serving (runs in flight "
             "are cancelled; rerun them to resume).", style="dim"),
        soft_wrap=True,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add ``serve``."""
    app.command("serve", help=HELP)(serve_command)
