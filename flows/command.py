"""Where every CLI command starts and ends, and stage commands generated from stage configs.

:func:`invocation` wraps every command's body: it applies ``--quiet``, gives the command
a run id, records its ``runs`` row when it writes (:mod:`tracemill.flows.runs` lists
which commands do), and turns expected errors into one line on stderr, exit code 1
(usage errors: 2), never a traceback. Every command goes through it, so these policies
apply to all of them at once.

:func:`stage_command` adds a command that runs one registered stage. Its flags are made
from the stage's pydantic config (:mod:`tracemill.flows.options`), plus the flags every
stage command shares: ``--config FILE``, ``--set KEY=VALUE``, ``--print-config``,
``--catalog`` and ``--quiet``. The config class is imported only when the command is
used (or ``--help`` lists it), so ``tracemill`` starts fast. A new stage command is::

    def register(app: typer.Typer) -> None:
        stage_command(app, "verify", config="tracemill.flows.verify:VerifyStage",
                      help="Verify samples that have no verdict for their verifier.")
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from tracemill.flows.common import catalog_location, err_console, user_errors

log = logging.getLogger(__name__)

COMMON_PANEL = "Common"


@dataclass
class Invocation:
    """One run of a CLI command: what its ``runs`` row records."""

    command: str
    run_id: str
    catalog: str | None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    config: dict[str, Any] | None = None
    """The validated config (stage commands, ``train``)."""
    counts: dict[str, Any] = field(default_factory=dict)
    """The counters of the work done."""
    counters_so_far: Callable[[], dict[str, Any]] | None = None
    """The counters of a run that fails partway (a stage's
    :meth:`~tracemill.flows.stages.StageContext.counters_so_far`): its row records them."""
    status: str = "running"
    record: bool = False
    """Whether the command records a ``runs`` row: set once work that writes starts
    (read-only commands and modes never set it; see :mod:`tracemill.flows.runs`)."""
    error: str | None = None


@contextmanager
def invocation(
    command: str,
    *,
    catalog: str | None = None,
    quiet: bool | None = None,
    record: bool = False,
) -> Iterator[Invocation]:
    """The start and end of a command: quiet, run id, catalog, ``runs`` row, exit codes.

    Expected errors end the command with one line on stderr and exit code 1 (usage
    errors: 2; see :func:`tracemill.flows.common.user_errors`). When ``run.record`` is
    set (by ``record=True`` or by the command once its work starts), the command's
    ``runs`` row is appended when it ends: completed, failed (with the error and the
    counters so far, ``run.counters_so_far``) or interrupted; a usage error records
    nothing.
    """
    from tracemill.catalogs import new_run_id
    from tracemill.flows.progress import set_quiet

    if quiet is not None:
        set_quiet(quiet)
    with user_errors():
        run = Invocation(command, new_run_id(), catalog_location(catalog), record=record)
        log.debug("command %s run %s starting", command, run.run_id)
        try:
            yield run
        except BaseException as e:
            _finish(run, e)
            raise
        _finish(run, None)
        log.debug("command %s run %s %s", command, run.run_id, run.status)


def _finish(run: Invocation, err: BaseException | None) -> None:
    """Set the run's status and record its ``runs`` row when it records one."""
    import click
    from tracemill.flows.common import EXIT_USAGE, exit_code_of
    from tracemill.flows.runs import error_line, status_of

    if isinstance(err, click.exceptions.Exit) and err.exit_code == 0:
        err = None
    run.status = status_of(err)
    if err is not None and not isinstance(err, click.exceptions.Exit):
        run.error = error_line(err)
    if not run.record:
        return
    if err is not None and (
        isinstance(err, click.ClickException) or exit_code_of(err) == EXIT_USAGE
    ):
        return  # nothing ran
    from tracemill.flows.runs import RunRecord, save_run
    from tracemill.stores.catalog import CatalogLockedError, CatalogStorageError

    if isinstance(err, CatalogLockedError | CatalogStorageError):
        return  # the catalog is someone else's, or its storage down: a retry only delays
    counts = dict(run.counts)
    if err is not None and not counts and run.counters_so_far is not None:
        counts = run.counters_so_far()  # what the run did (and spent) before it failed
    record = RunRecord(
        run.run_id, run.command, run.started, run.status, counts, run.config,
        error=run.error,
    )  # fmt: skip
    save_run(run.catalog, record, lock_timeout_s=30.0 if err is None else 5.0)


def warn(message: str) -> None:
    """A warning line on stderr (deprecated flags, skipped work)."""
    err_console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


# --- lazily built commands ---------------------------------------------------------------


@dataclass
class LazyCommand:
    """A command whose click object is built on first use."""

    name: str
    build: Callable[[], Any]
    built: Any = None

    def command(self) -> Any:
        """The click command (built once)."""
        if self.built is None:
            self.built = self.build()
        return self.built


def lazy_commands(app: typer.Typer) -> dict[str, LazyCommand]:
    """The lazily built commands registered on ``app``."""
    registry = app.__dict__.get("_tracemill_lazy")
    if registry is None:
        registry = app.__dict__["_tracemill_lazy"] = {}
    return registry


def add_lazy_command(app: typer.Typer, name: str, build: Callable[[], Any]) -> None:
    """Register a command built on first use; a taken name raises ``ValueError``."""
    registry = lazy_commands(app)
    taken = {c.name for c in app.registered_commands} | set(registry)
    taken |= {g.name for g in app.registered_groups}
    if name in taken:
        raise ValueError(f"command {name!r} is already registered")
    registry[name] = LazyCommand(name, build)


def import_object(path: str) -> Any:
    """``"package.module:Name"`` → the object."""
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


# --- stage commands ----------------------------------------------------------------------

Prepare = Callable[[dict[str, Any], Mapping[str, Any]], None]
"""``prepare(values, extras)``: turn a command's extra flags into config values."""
Render = Callable[[Any, dict[str, Any]], None]
"""``render(report, counters)``: print a stage's result (default: the report)."""
Run = Callable[[Any, Any, Mapping[str, Any]], dict[str, Any]]
"""``run(ctx, cfg, extras) -> counters``: replaces the stage function (e.g. a dry run)."""
Intercept = Callable[[dict[str, Any], Mapping[str, Any]], bool]
"""``intercept(values, extras) -> done``: a mode of the command that runs no stage
(e.g. ``synth --list``); True ends the command."""
Records = Callable[[Mapping[str, Any]], bool]
"""``records(extras) -> bool``: whether this run writes (and so records a ``runs`` row);
by default every stage run does (``curate --dry-run`` does not)."""


def _common_parameters() -> list[inspect.Parameter]:
    kw = inspect.Parameter.KEYWORD_ONLY
    opt = typer.Option
    return [
        inspect.Parameter("tm_config", kw, default=None, annotation=Annotated[
            Path | None, opt("--config", metavar="FILE", rich_help_panel=COMMON_PANEL,
                             help="YAML/JSON file of config keys (a recipe stage's keys).")]),
        inspect.Parameter("tm_set", kw, default=None, annotation=Annotated[
            list[str] | None, opt("--set", metavar="KEY=VALUE", rich_help_panel=COMMON_PANEL,
                                  help="Set a config key, after --config and flags; "
                                  "a.b=1 sets inside a mapping (repeatable).")]),
        inspect.Parameter("tm_print_config", kw, default=False, annotation=Annotated[
            bool, opt("--print-config", rich_help_panel=COMMON_PANEL, metavar="",
                      help="Print the config as YAML (for --config or a recipe); run nothing.")]),
        inspect.Parameter("tm_catalog", kw, default=None, annotation=Annotated[
            str | None, opt("--catalog", "-c", rich_help_panel=COMMON_PANEL, show_default=False,
                            metavar="DIR|URI",
                            help="Catalog directory or DuckLake metadata URI "
                            "(default: $TRACEMILL_CATALOG or ./tracemill-data).")]),
        inspect.Parameter("tm_quiet", kw, default=False, annotation=Annotated[
            bool, opt("--quiet", "-q", rich_help_panel=COMMON_PANEL, metavar="",
                      help="No progress bars.")]),
    ]  # fmt: skip


def stage_command(
    app: typer.Typer,
    name: str,
    *,
    config: str,
    stage: str | None = None,
    help: str | None = None,
    extras: Mapping[str, tuple[Any, Any]] | None = None,
    prepare: Prepare | None = None,
    run: Run | None = None,
    render: Render | None = None,
    intercept: Intercept | None = None,
    more_flags: str | None = None,
    records: Records | None = None,
) -> None:
    """Add command ``name`` running stage ``stage`` (default ``name``).

    ``config`` names the stage's config class (``"module:Class"``); its fields become the
    flags. ``extras`` adds flags the config lacks (``{param: (Annotated type, default)}``),
    which ``prepare`` turns into config values; ``intercept`` may end the command before
    the config is validated (a listing mode); ``run`` replaces the stage function;
    ``render`` prints the result (default: the stage's report). ``more_flags`` names a
    function (``"module:function"``) returning a pydantic model whose fields become more
    flags; the ones given reach ``prepare`` in ``extras`` (e.g. ``build``'s options).
    ``records`` says whether a run writes, i.e. records a ``runs`` row (default: yes).
    """

    def build() -> Any:
        from tracemill.flows.options import cli_fields, panel_order, typer_parameters

        cls = import_object(config)
        fields = cli_fields(cls)
        more = cli_fields(import_object(more_flags)()) if more_flags else []
        params = typer_parameters(fields) + typer_parameters(more)
        for pname, (annotation, default) in (extras or {}).items():
            params.append(
                inspect.Parameter(pname, inspect.Parameter.KEYWORD_ONLY, default=default,
                                  annotation=annotation)  # fmt: skip
            )
        params += _common_parameters()
        params.append(inspect.Parameter("tm_ctx", inspect.Parameter.KEYWORD_ONLY,
                                        annotation=typer.Context))  # fmt: skip
        arguments = [
            p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for p in params
            if _is_argument(p)
        ]
        params = panel_order([p for p in params if not _is_argument(p)])

        def command(**given: Any) -> None:
            _run_stage_command(
                name, stage or name, cls, fields, more, given, set(extras or {}),
                Hooks(prepare, run, render, intercept, records),
            )  # fmt: skip

        signature = inspect.Signature(arguments + params)
        command.__signature__ = signature  # type: ignore[attr-defined]
        text = (help or cls.__doc__ or "").replace("``", "`")
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        single.command(name, help=text)(command)
        return typer.main.get_command(single)

    add_lazy_command(app, name, build)


def _given(ctx: Any, name: str) -> bool:
    """Whether the user gave parameter ``name`` (on the command line or by env var)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _is_argument(param: inspect.Parameter) -> bool:
    from typer.models import ArgumentInfo

    return any(isinstance(m, ArgumentInfo) for m in getattr(param.annotation, "__metadata__", ()))


@dataclass(frozen=True)
class Hooks:
    """A stage command's own steps (see :func:`stage_command`)."""

    prepare: Prepare | None = None
    run: Run | None = None
    render: Render | None = None
    intercept: Intercept | None = None
    records: Records | None = None


def _run_stage_command(
    name: str,
    stage: str,
    cls: type[Any],
    fields: list[Any],
    more: list[Any],
    given: dict[str, Any],
    extra_names: set[str],
    hooks: Hooks,
) -> None:
    from tracemill.flows.options import apply_sets, flag_values, load_config_file, validate

    with invocation(name, catalog=given.pop("tm_catalog"), quiet=given.pop("tm_quiet")) as inv:
        from tracemill.flows.stages import StageContext, execute_stage, get_stage

        click_ctx = given.pop("tm_ctx")
        sources = {k: _given(click_ctx, k) for k in given}
        config_file, sets = given.pop("tm_config"), given.pop("tm_set") or []
        show = given.pop("tm_print_config")
        extras = {k: given.pop(k) for k in extra_names}
        extras.update(flag_values(more, given, warn, sources))
        values = load_config_file(config_file, stage=stage) if config_file else {}
        values.update(flag_values(fields, given, warn, sources))
        if hooks.intercept is not None and hooks.intercept(values, extras):
            return
        if hooks.prepare is not None:
            hooks.prepare(values, extras)
        apply_sets(cls, values, sets)
        cfg = validate(cls, values)
        inv.config = cfg.model_dump(mode="json")
        if show:
            from tracemill.flows.options import dump

            typer.echo(dump(cfg), nl=False)
            return
        spec = get_stage(stage)
        ctx = StageContext(catalog=inv.catalog, run_id=inv.run_id, label=name)
        inv.counters_so_far = ctx.counters_so_far
        inv.record = hooks.records is None or hooks.records(extras)
        run = hooks.run
        fn = None if run is None else (lambda c, g: run(c, g, extras))
        counters = execute_stage(spec, ctx, cfg, fn=fn)
        inv.counts = counters
        if hooks.render is not None:
            hooks.render(ctx.report, counters)
        else:
            from tracemill.flows.reporting import print_report

            print_report(ctx.report)
