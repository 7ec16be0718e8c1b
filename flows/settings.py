"""Environment for Prefect (set before Prefect is imported) and its console logging."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager


def configure_prefect(catalog: str | None, *, local_home: bool = True) -> None:
    """Point Prefect's local home at the catalog directory and quiet its start-up.

    Values the user already set win (tracemill is added to the user's extra loggers).
    ``PREFECT_HOME`` is only set for an embedded catalog, when no Prefect server
    (``PREFECT_API_URL``) is configured and ``local_home`` is true (``tracemill serve``
    keeps the user's home: its profile may name their server).
    """
    from tracemill.stores.catalog import CatalogConfig

    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # the ephemeral server's first start takes ~18 s here, close to the 20 s default
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_UI_ENABLED", "false")
    # tracemill's own log lines reach the Prefect UI / API beside the task's
    extra = [x for x in os.environ.get("PREFECT_LOGGING_EXTRA_LOGGERS", "").split(",") if x]
    if "tracemill" not in extra:
        os.environ["PREFECT_LOGGING_EXTRA_LOGGERS"] = ",".join([*extra, "tracemill"])
    # tracemill logs from threads outside a run (committers, pools) are not errors
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    if not local_home or "PREFECT_API_URL" in os.environ or "PREFECT_HOME" in os.environ:
        return
    config = CatalogConfig.resolve(catalog)
    if config.root is not None:
        os.environ["PREFECT_HOME"] = str(config.root / ".prefect")


class RunFailureFilter(logging.Filter):
    """Drops Prefect's console reports of a failed task or flow run.

    Prefect logs a failing task's exception with its whole traceback, twice (the task
    run, then the flow run): hundreds of lines for a teacher server that is down. The
    failure reaches the caller as the exception itself, which the CLI reports in one line
    (and a bug with its traceback), so the console needs none of these. Records still
    reach Prefect's API handler (the UI), which sits on those loggers, not on the root.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for ERROR records of Prefect's flow-run and task-run loggers."""
        return not (
            record.levelno >= logging.ERROR
            and record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))
        )


@contextmanager
def failures_reported_once() -> Iterator[None]:
    """Filter every root handler with :class:`RunFailureFilter` while a recipe runs."""
    handlers = list(logging.getLogger().handlers)
    quiet = RunFailureFilter()
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)
