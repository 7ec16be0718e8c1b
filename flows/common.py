"""What every CLI command shares: the catalog option, the console, error reporting."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

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


EXIT_FAILURE = 1
"""Exit code of a command that ran and failed for an expected reason (backend down, no
such file, empty dataset, Hub unreachable, catalog locked, …)."""
EXIT_USAGE = 2
"""Exit code of a usage error: flags, ``--set`` or ``--config`` values that do not parse or
validate, names no registry knows (click's own usage errors exit 2 too). Nothing ran."""


class UsageError(Exception):
    """The command line cannot be used as given: one line on stderr, exit code 2."""


UserError = UsageError
"""The earlier name of :class:`UsageError`."""


def _expected_failures() -> tuple[type[BaseException], ...]:
    """Errors that end a command with one line and exit code 1 (imported when needed)."""
    from tracemill.pipelines.generate.base import BackendError
    from tracemill.stores.catalog import CatalogError
    from tracemill.stores.hub import HubError

    return (CatalogError, BackendError, HubError, ValueError, KeyError, OSError)


def remote_cause(err: BaseException) -> BaseException:
    """The error a Ray task raised, for an error that wraps it (else ``err`` itself).

    Ray re-raises a task's error as a ``RayTaskError`` whose text is the remote traceback;
    its ``cause`` is the task's own error (with its notes), which is what a user reads.
    """
    for _ in range(8):  # a task error inside a task error, …
        cause = getattr(err, "cause", None)
        if "RayTaskError" not in type(err).__name__ or not isinstance(cause, BaseException):
            break
        err = cause
    return err


def exit_code_of(err: BaseException) -> int | None:
    """The exit code of an expected error (2: usage, 1: failure); None for a bug."""
    from tracemill.flows.options import OptionError

    err = remote_cause(err)
    if isinstance(err, FileNotFoundError):
        return EXIT_FAILURE  # a bad path given to a flag is a failure, not usage (issue 13)
    if isinstance(err, UsageError | OptionError):
        return EXIT_USAGE
    if isinstance(err, _expected_failures()):
        return EXIT_FAILURE
    return None


def error_message(err: BaseException) -> str:
    """An error as one line: its first line, after the notes that say where it happened."""
    err = remote_cause(err)
    text = err.args[0] if isinstance(err, KeyError) and err.args else err
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    message = lines[0] if lines else type(err).__name__
    notes = [str(n).strip() for n in getattr(err, "__notes__", ()) if str(n).strip()]
    return ": ".join([*notes, message])


@contextmanager
def user_errors() -> Iterator[None]:
    """Expected errors → one line on stderr and exit 1 (2 for usage errors); Ctrl-C → 130.

    Anything else is a bug and keeps its traceback. The full error (all its lines and
    its traceback) is logged at debug level (``tracemill -v``).
    """
    try:
        yield
    except KeyboardInterrupt as e:
        err_console.print("[bold red]interrupted[/]", highlight=False)
        raise typer.Exit(130) from e
    except Exception as e:
        code = exit_code_of(e)
        if code is None:
            raise
        err_console.print(
            f"[bold red]error:[/] {escape(error_message(e))}", highlight=False, soft_wrap=True
        )
        logging.getLogger("tracemill").debug("expected error", exc_info=True)
        raise typer.Exit(code) from e
