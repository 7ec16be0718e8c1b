"""``tracemill gc``: remove what crashed runs left behind (catalog and sandbox debris)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tracemill.flows.common import CatalogOption, catalog_location, console, user_errors


def gc_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")
    ] = False,
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            min=0,
            help="Keep unreferenced data files younger than this many seconds (default: 0 "
            "for an embedded catalog, 3600 for a shared one, whose writers run concurrently).",
        ),
    ] = None,
    sandbox_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--sandbox-dir",
            help="Also sweep this sandbox staging folder (a SandboxConfig.tmp_dir); the "
            "system temp folder is always swept. Repeatable.",
        ),
    ] = None,
    catalog: CatalogOption = None,
) -> None:
    """Remove orphan data files of crashed writes and stale sandbox folders."""
    with user_errors():
        from datetime import UTC, datetime

        from rich.table import Table
        from tracemill.catalogs import new_run_id
        from tracemill.flows.runs import record_run
        from tracemill.pipelines.verify.cgroups import remove_stale_cgroups
        from tracemill.pipelines.verify.sandbox import remove_stale_staging
        from tracemill.stores.catalog import CatalogConfig, open_catalog
        from tracemill.stores.gc import no_clean_on_open, remove_catalog_debris

        started = datetime.now(UTC)
        folders = remove_stale_staging(dry_run=dry_run)
        for folder in sandbox_dir or []:
            folders += remove_stale_staging(folder, dry_run=dry_run)
        groups = remove_stale_cgroups(dry_run=dry_run)
        location = catalog_location(catalog)
        config = CatalogConfig.resolve(location)
        debris = None
        if config.embedded and not Path(config.metadata).exists():
            console.print(f"[dim]no catalog at {config.root}: only sandbox debris swept[/]")
        else:
            with no_clean_on_open(), open_catalog(location) as store:
                debris = remove_catalog_debris(store, older_than_s=older_than, dry_run=dry_run)
                counts = {
                    "orphan_files": len(debris.orphan_files),
                    "scheduled_files": len(debris.scheduled_files),
                    "foreign_files": len(debris.foreign_files),
                    "bytes": debris.bytes,
                    "sandbox_folders": len(folders),
                    "sandbox_cgroups": len(groups),
                }
                if not dry_run:
                    record_run(
                        store, run_id=new_run_id(), flow="gc", started_at=started,
                        status="completed", counts=counts,
                    )  # fmt: skip
        verb = "would remove" if dry_run else "removed"
        view = Table(title=f"gc: {verb}")
        view.add_column("what")
        view.add_column("count", justify="right")
        view.add_column("detail", overflow="fold")
        if debris is not None:
            mb = f"{debris.bytes / 2**20:.1f} MB" if debris.bytes else ""
            view.add_row("orphan data files", f"{len(debris.orphan_files):,}", mb)
            view.add_row("scheduled data files", f"{len(debris.scheduled_files):,}", "")
            if debris.foreign_files:
                shown = ", ".join(debris.foreign_files[:3])
                view.add_row("other Parquet files (kept)", f"{len(debris.foreign_files):,}", shown)
        view.add_row("sandbox folders", f"{len(folders):,}", "")
        view.add_row("sandbox cgroups", f"{len(groups):,}", "")
        console.print(view)


def register(app: typer.Typer) -> None:
    """Add the maintenance commands."""
    app.command("gc")(gc_command)
