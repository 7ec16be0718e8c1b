"""The ``tracemill`` command line: commands are discovered from ``tracemill.flows.commands``.

Each module there defines ``register(app)``. Plain commands use ``app.command(...)``;
stage commands use :func:`tracemill.flows.command.stage_command`, which builds the
command (and imports its stage) only when it is used, so ``tracemill`` starts fast.
A command name is taken once: registering it twice raises ``ValueError``.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from typing import Any

import typer
from tracemill.flows import commands
from tracemill.flows.command import lazy_commands
from typer.core import TyperGroup


class TracemillGroup(TyperGroup):
    """The root group: eagerly registered commands plus lazily built stage commands."""

    def list_commands(self, ctx: Any) -> list[str]:
        """Every command name, sorted."""
        return sorted({*super().list_commands(ctx), *lazy_commands(app)})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        """The command ``cmd_name`` (a lazy one is built now)."""
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in lazy_commands(app):
            found = lazy_commands(app)[cmd_name].command()
            self.add_command(found, cmd_name)
        if found is not None:
            plain_metavars(found)
        return found


_METAVARS = {"str": "TEXT", "int": "INT", "float": "NUM", "Path": "PATH", "bool": ""}


def plain_metavars(command: Any) -> None:
    """Short value names in ``--help`` for every command and subcommand.

    TEXT, INT, NUM (none for flags), as the generated stage commands have.
    """
    if getattr(command, "_tracemill_metavars", False):
        return
    command._tracemill_metavars = True
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
    for param in getattr(command, "params", []):
        if param.metavar is not None:
            continue
        if param.param_type_name == "argument":
            param.metavar = (param.name or "").upper()
            continue
        bare = param.bare_type() if callable(getattr(param, "bare_type", None)) else ""
        bare = bare.removeprefix("list[").removesuffix("]")
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif bare in _METAVARS:
            param.metavar = _METAVARS[bare]


app = typer.Typer(
    name="tracemill",
    cls=TracemillGroup,
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
        metavar="DIR|URI",
        help="Catalog directory or DuckLake metadata URI (default: $TRACEMILL_CATALOG "
        "or ./tracemill-data).",
        show_default=False,
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.", metavar=""),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars.", metavar=""),
) -> None:
    """tracemill: ingest, synthesize, verify, curate, grade and build reasoning datasets."""
    if catalog:
        os.environ["TRACEMILL_CATALOG"] = catalog
    if quiet:
        from tracemill.flows.progress import set_quiet

        set_quiet(True)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


def command_names(target: typer.Typer) -> list[str]:
    """Names registered on ``target`` (plain commands, groups and lazy commands)."""
    names = [
        c.name or (c.callback.__name__ if c.callback else "") for c in target.registered_commands
    ]
    names += [g.name or "" for g in target.registered_groups]
    return names + list(lazy_commands(target))


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is None:
            continue
        before = command_names(app)
        register(app)
        names = command_names(app)
        seen: set[str] = set()
        for name in names:
            if name in seen:
                added = [n for n in names[len(before) :] if n == name]
                raise ValueError(
                    f"command {name!r} is registered twice"
                    + (f" (again by {module.__name__})" if added else "")
                )
            seen.add(name)


_register_commands()


def main() -> None:
    """Entry point of the ``tracemill`` console script."""
    app()


if __name__ == "__main__":
    main()
