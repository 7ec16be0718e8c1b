"""Commands ``build``, ``export`` and ``datasets``: training data out of the catalog."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from tracemill.flows.common import CatalogOption, catalog_location, console, user_errors

KINDS = ("sft", "rl", "pairs")


def build_command(
    kind: Annotated[str, typer.Argument(help="sft (chat messages), rl (prompts + verifier) "
                                        "or pairs (passing vs failing sample).")],
    name: Annotated[str, typer.Option("--name", "-n", help="Dataset name (versions "
                                      "auto-increment).")],
    domain: Annotated[list[str] | None, typer.Option(help="Keep this domain (repeatable).")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Keep this source (repeatable).")] = None,
    task: Annotated[list[str] | None, typer.Option(help="Keep this task (repeatable).")] = None,
    min_level: Annotated[int | None, typer.Option(help="Lowest difficulty level.")] = None,
    max_level: Annotated[int | None, typer.Option(help="Highest difficulty level.")] = None,
    selection: Annotated[
        str | None, typer.Option(help="Only the problems of this recorded selection.")
    ] = None,
    keep_dropped: Annotated[
        bool, typer.Option(help="Keep problems dedup/decontamination dropped.")
    ] = False,
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="Teacher filter (repeatable).")
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(help="Sample roles kept (repeatable; default sft: teacher, reference; "
                     "pairs: any)."),
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Drop longer completions.")] = None,
    include_truncated: Annotated[
        bool, typer.Option(help="Keep samples cut by the length limit.")
    ] = False,
    per_problem: Annotated[
        int | None,
        typer.Option(help="sft: samples per problem (0: all; default 1). pairs: pairs per "
                     "problem (default 1)."),
    ] = None,
    order: Annotated[
        str | None, typer.Option(help="sft: shortest (default), longest or random first.")
    ] = None,
    pairing: Annotated[
        str | None, typer.Option(help="pairs: shortest_longest (default) or random.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of random orders/pairings.")] = None,
    system_prompt: Annotated[str | None, typer.Option(help="System message to prepend.")] = None,
    min_pass_rate: Annotated[float | None, typer.Option(help="rl: lowest pass rate.")] = None,
    max_pass_rate: Annotated[float | None, typer.Option(help="rl: highest pass rate.")] = None,
    allow_no_verifier: Annotated[
        bool, typer.Option(help="rl: keep problems without a verifier.")
    ] = False,
    no_reuse: Annotated[
        bool, typer.Option("--no-reuse", help="Always write a new version.")
    ] = False,
    catalog: CatalogOption = None,
) -> None:
    """Build a versioned sft, rl or pairs dataset from verified samples."""
    with user_errors():
        from tracemill.catalogs import new_run_id
        from tracemill.flows.build import BuildStage, run_build
        from tracemill.flows.summary import print_counts

        if kind not in KINDS:
            raise ValueError(f"unknown build kind {kind!r}; kinds are {', '.join(KINDS)}")
        options: dict[str, Any] = {
            "domains": domain or None,
            "sources": source or None,
            "tasks": task or None,
            "min_level": min_level,
            "max_level": max_level,
            "selection": selection,
            "models": model or None,
            "roles": role or None,
            "max_tokens": max_tokens,
            "order": order,
            "pairing": pairing,
            "seed": seed,
            "system_prompt": system_prompt,
            "min_pass_rate": min_pass_rate,
            "max_pass_rate": max_pass_rate,
        }
        options = {k: v for k, v in options.items() if v is not None}
        if keep_dropped:
            options["exclude_dropped"] = False
        if include_truncated:
            options["exclude_truncated"] = False
        if allow_no_verifier:
            options["require_verifier"] = False
        if per_problem is not None:
            options["per_problem"] = None if (per_problem == 0 and kind == "sft") else per_problem
        cfg = BuildStage(kind=kind, dataset=name, options=options, reuse=not no_reuse)
        counts = run_build(cfg, catalog=catalog_location(catalog), run_id=new_run_id())
        print_counts(f"build {kind}", counts)


def export_command(
    name: Annotated[str, typer.Argument(help="A built dataset's name.")],
    to: Annotated[str, typer.Option("--to", help="Folder, or hub://ORG/NAME to upload.")],
    version: Annotated[int | None, typer.Option(help="Dataset version (default: latest).")] = None,
    private: Annotated[bool, typer.Option(help="Create the Hub repository private.")] = False,
    shard_rows: Annotated[int | None, typer.Option(help="Most rows per Parquet shard.")] = None,
    shard_mb: Annotated[int, typer.Option(help="About the most MB per Parquet shard.")] = 256,
    license_: Annotated[
        str | None, typer.Option("--license", help="License id for the card.")
    ] = None,
    catalog: CatalogOption = None,
) -> None:
    """Write Hub-ready Parquet shards and a dataset card (and upload to hub://ORG/NAME)."""
    with user_errors():
        from tracemill.flows.build import ExportStage, run_export
        from tracemill.flows.summary import print_counts

        cfg = ExportStage(
            dataset=name,
            to=to,
            version=version,
            private=private,
            shard_rows=shard_rows,
            shard_bytes=shard_mb * 1024 * 1024,
            license=license_,
        )
        print_counts("export", run_export(cfg, catalog=catalog_location(catalog), to=to))


def datasets_command(catalog: CatalogOption = None) -> None:
    """List built datasets and selections with their versions."""
    with user_errors():
        from tracemill.flows.summary import arrow_to_rich
        from tracemill.pipelines.build import list_datasets
        from tracemill.stores.catalog import open_catalog

        with open_catalog(catalog_location(catalog), read_only=True) as store:
            table = list_datasets(store)
        console.print(arrow_to_rich(table, limit=1000, title="datasets"))


def register(app: typer.Typer) -> None:
    """Add the dataset commands."""
    app.command("build")(build_command)
    app.command("export")(export_command)
    app.command("datasets")(datasets_command)
