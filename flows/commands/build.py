"""Commands ``build``, ``export`` and ``datasets``: training data out of the catalog.

``build``'s flags are :class:`tracemill.flows.build.BuildStage` plus every build option,
generated from the option dataclasses in :mod:`tracemill.pipelines.build.options`;
``export``'s are :class:`tracemill.flows.build.ExportStage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from tracemill.flows.command import invocation, stage_command, warn
from tracemill.flows.common import CatalogOption
from tracemill.flows.listing import Format, FormatOption, emit

# old spellings of options that are now --no-<option> flags
_INVERTED = {
    "keep_dropped": ("--keep-dropped", "exclude_dropped", "--no-exclude-dropped"),
    "include_truncated": ("--include-truncated", "exclude_truncated", "--no-exclude-truncated"),
    "allow_no_verifier": ("--allow-no-verifier", "require_verifier", "--no-require-verifier"),
}


def _options(values: dict[str, Any], extras: Mapping[str, Any]) -> None:
    """The build-option flags given go into ``options`` (``--per-problem 0``: all, for sft)."""
    options = dict(values.get("options") or {})
    for key, value in extras.items():
        if key in _INVERTED:
            old, field, new = _INVERTED[key]
            if value:
                warn(f"{old} is deprecated; use {new}")
                options.setdefault(field, False)
        elif value is not None:
            options[key] = value
    if values.get("kind") == "sft" and options.get("per_problem") == 0:
        options["per_problem"] = None
    if options:
        values["options"] = options


def _shard_mb(values: dict[str, Any], extras: Mapping[str, Any]) -> None:
    if extras.get("shard_mb") is not None:
        values.setdefault("shard_bytes", extras["shard_mb"] * 1024 * 1024)


def datasets_command(fmt: FormatOption = Format.table, catalog: CatalogOption = None) -> None:
    """List built datasets and selections with their versions."""
    with invocation("datasets", catalog=catalog) as run:
        from tracemill.pipelines.build import list_datasets
        from tracemill.stores.catalog import open_catalog

        with open_catalog(run.catalog, read_only=True) as store:
            table = list_datasets(store)
        emit(table, fmt, title="datasets")


def register(app: typer.Typer) -> None:
    """Add the dataset commands."""
    inverted = {
        key: (Annotated[bool, typer.Option(old, hidden=True)], False)
        for key, (old, _, _) in _INVERTED.items()
    }
    stage_command(
        app, "build", config="tracemill.flows.build:BuildStage", extras=inverted,
        more_flags="tracemill.flows.build:build_option_flags", prepare=_options,
    )  # fmt: skip
    shard_mb = Annotated[
        int | None,
        typer.Option(help="About the most MB per Parquet shard (sets --shard-bytes)."),
    ]
    stage_command(
        app, "export", config="tracemill.flows.build:ExportStage",
        extras={"shard_mb": (shard_mb, None)}, prepare=_shard_mb,
    )  # fmt: skip
    app.command("datasets")(datasets_command)
