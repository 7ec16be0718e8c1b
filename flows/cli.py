"""The ``tracemill`` command line: commands are discovered from ``tracemill.flows.commands``."""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil

import typer
from tracemill.flows import commands

app = typer.Typer(
    name="tracemill",
    help="Turn problems into verified, deduplicated, difficulty-graded reasoning datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    catalog: str | None = typer.Option(
        None,
        "--catalog",
        "-c",
        help="Catalog directory or DuckLake metadata URI (default: $TRACEMILL_CATALOG "
        "or ./tracemill-data).",
        show_default=False,
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
) -> None:
    """tracemill: ingest, synthesize, verify, curate, grade and build reasoning datasets."""
    if catalog:
        os.environ["TRACEMILL_CATALOG"] = catalog
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def main() -> None:
    """Entry point of the ``tracemill`` console script."""
    app()


if __name__ == "__main__":
    main()
