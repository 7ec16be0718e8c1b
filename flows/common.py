"""What every CLI command shares: the catalog option, the console, error reporting."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)

CatalogOption = Annotated[
    str | None,
    typer.Option(
        "--catalog",
        "-c",
        metavar="DIR|URI",
        help="Catalog directory or DuckLake metadata URI "
        "(default: $TRACEMILL_CATALOG or ./tracemill-data).",
        show_default=False,
    ),
]


def catalog_location(catalog: str | None) -> str | None:
    """The catalog a command should open: its own option, else the global one/env."""
    return catalog or os.environ.get("TRACEMILL_CATALOG") or None


class UserError(Exception):
    """An error caused by the user's input: printed without a traceback, exit code 2."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn expected errors into a clear one-line message and exit code 2."""
    from tracemill.stores.catalog import CatalogError

    try:
        yield
    except (UserError, CatalogError, ValueError, KeyError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        err_console.print(f"[bold red]error:[/] {msg}", highlight=False, soft_wrap=True)
        logging.getLogger("tracemill").debug("user error", exc_info=True)
        raise typer.Exit(2) from e
