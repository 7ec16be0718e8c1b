"""``tracemill gc``: remove what crashed runs left behind (catalog and sandbox debris)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from tracemill.flows.command import invocation
from tracemill.flows.common import CatalogOption, console
from tracemill.flows.listing import Format, FormatOption, emit


def gc_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")
    ] = False,
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            min=0,
            metavar="SECONDS",
            help="Keep unreferenced data files younger than this (default: 0 for an "
            "embedded catalog, 3600 for a shared one, whose writers run concurrently). "
            "Ray workers' uncommitted files stay while their driver runs on this host; "
            "a driver elsewhere gets this grace (default 3600).",
        ),
    ] = None,
    sandbox_dir: Annotated[
        list[Path] | None,
        typer.Option(
            "--sandbox-dir",
            metavar="DIR",
            help="Also sweep this sandbox staging folder (a SandboxConfig.tmp_dir); the "
            "system temp folder is always swept. Repeatable.",
        ),
    ] = None,
    fmt: FormatOption = Format.table,
    catalog: CatalogOption = None,
) -> None:
    """Remove orphan data files of crashed writes and stale sandbox folders."""
    with invocation("gc", catalog=catalog) as run:
        from tracemill.pipelines.verify.cgroups import remove_stale_cgroups
        from tracemill.pipelines.verify.sandbox import remove_stale_staging
        from tracemill.stores.catalog import CatalogConfig, open_catalog
        from tracemill.stores.gc import no_clean_on_open, remove_catalog_debris

        run.config = {"dry_run": dry_run, "older_than": older_than,
                      "sandbox_dir": [str(d) for d in sandbox_dir or []]}  # fmt: skip
        run.record = not dry_run  # removing files is a write: it gets a runs row
        folders = remove_stale_staging(dry_run=dry_run)
        for folder in sandbox_dir or []:
            folders += remove_stale_staging(folder, dry_run=dry_run)
        groups = remove_stale_cgroups(dry_run=dry_run)
        config = CatalogConfig.resolve(run.catalog)
        rows: list[dict[str, object]] = []
        if config.embedded and not Path(config.metadata).exists():
            console.print(f"no catalog at {config.root}: only sandbox debris swept", style="dim")
        else:
            with no_clean_on_open(), open_catalog(run.catalog) as store:
                debris = remove_catalog_debris(store, older_than_s=older_than, dry_run=dry_run)
            mb = f"{debris.bytes / 2**20:.1f} MB" if debris.bytes else ""
            rows += [
                {"what": "orphan data files", "count": len(debris.orphan_files), "detail": mb},
                {"what": "scheduled data files", "count": len(debris.scheduled_files),
                 "detail": ""},
                {"what": "other Parquet files (kept)", "count": len(debris.foreign_files),
                 "detail": ", ".join(debris.foreign_files[:3])},
                {"what": "worker files in flight (kept)", "count": len(debris.in_flight_files),
                 "detail": "their driver runs, or younger than the grace period"},
            ]  # fmt: skip
            if debris.worker_files:
                rows[0]["detail"] = (f"{mb}, " if mb else "") + (
                    f"{len(debris.worker_files)} of killed Ray workers"
                )
            run.counts.update(
                orphan_files=len(debris.orphan_files),
                scheduled_files=len(debris.scheduled_files),
                foreign_files=len(debris.foreign_files),
                worker_files=len(debris.worker_files),
                in_flight_files=len(debris.in_flight_files),
                bytes=debris.bytes,
            )
        rows += [
            {"what": "sandbox folders", "count": len(folders), "detail": ""},
            {"what": "sandbox cgroups", "count": len(groups), "detail": ""},
        ]
        run.counts.update(sandbox_folders=len(folders), sandbox_cgroups=len(groups))
        emit(rows, fmt, title="gc: would remove" if dry_run else "gc: removed")


def register(app: typer.Typer) -> None:
    """Add the maintenance commands."""
    app.command("gc")(gc_command)
