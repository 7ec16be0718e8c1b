"""``tracemill verify`` (samples → verdicts) and ``tracemill verifiers`` (the registry)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from flows.common import CatalogOption, catalog_location, console, user_errors


def verify_command(
    verifier: Annotated[
        str | None,
        typer.Option(
            "--verifier", help="Use this verifier for every sample (default: the problem's own)."
        ),
    ] = None,
    where: Annotated[
        str | None, typer.Option("--where", help="SQL condition over samples columns.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Math worker processes / parallel sandboxes."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Verify again where a verdict exists (stored rows "
            "stay; bump a verifier version to record new ones).",
        ),
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Verify samples that have no verdict for their verifier's current version."""
    with user_errors():
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from catalogs import new_run_id
        from flows.verify import pending_samples, verify_pending
        from stores.catalog import open_catalog

        with open_catalog(catalog_location(catalog)) as store:
            todo, skipped = pending_samples(store, verifier=verifier, where=where, force=force)
            with Progress(
                TextColumn("verify"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task("verify", total=todo.num_rows)
                counts = verify_pending(
                    store,
                    todo,
                    verifier=verifier,
                    workers=workers,
                    run_id=new_run_id(),
                    progress=lambda n: bar.update(task, completed=n),
                )
        _print_summary({**counts, **skipped})


def _print_summary(counts: dict[str, Any]) -> None:
    from rich.table import Table

    view = Table(title=f"verified {counts['verified']:,} sample(s), {counts['inserted']:,} new")
    view.add_column("verifier")
    view.add_column("reason")
    view.add_column("samples", justify="right")
    view.add_column("pass rate", justify="right")
    for name, entry in sorted(counts["by_verifier"].items()):
        rate = entry["passed"] / entry["verified"] if entry["verified"] else 0.0
        view.add_row(name, "all", f"{entry['verified']:,}", f"{rate:.1%}", style="bold")
        for reason, n in sorted(entry["reasons"].items(), key=lambda kv: -kv[1]):
            view.add_row("", reason, f"{n:,}", "")
    console.print(view)
    for key in ("no_verifier", "unknown_verifier"):
        if counts.get(key):
            console.print(f"[yellow]{counts[key]:,} sample(s) skipped: {key.replace('_', ' ')}[/]")


def verifiers_command() -> None:
    """List the registered verifiers and their versions."""
    with user_errors():
        from rich.table import Table

        from pipelines.verify import get_verifier, verifier_names

        view = Table(title="verifiers")
        view.add_column("name")
        view.add_column("version")
        view.add_column("description", overflow="fold")
        for name in verifier_names():
            reg = get_verifier(name)
            view.add_row(name, reg.version, reg.doc.splitlines()[0] if reg.doc else "")
        console.print(view)


def register(app: typer.Typer) -> None:
    """Add ``verify`` and ``verifiers``."""
    app.command("verify")(verify_command)
    app.command("verifiers")(verifiers_command)
