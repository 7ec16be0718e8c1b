"""Progress bars for long stages: rich on stderr, silent when not a TTY or with ``--quiet``.

A stage reports progress through one call, whoever runs it (CLI, recipe, Prefect task)::

    with progress("grade", total=len(todo), unit="problems") as tick:
        for done, chunk in enumerate(chunks, 1):
            ...
            tick(done)               # or tick(done, new_total) when the total changes

Bars nest: a stage that runs another (``calibrate`` grades) adds a second line to the
bar already shown instead of failing on rich's one-live-display rule. Standard output
stays clean for results (tables, JSON, CSV).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

Tick = Callable[..., None]
"""``tick(done, total=None)``: work done so far (and a new total, when it changed)."""

_quiet = False
_lock = threading.Lock()
_live: Any = None
"""The rich ``Progress`` on screen, shared by nested bars."""
_users = 0


def set_quiet(quiet: bool) -> None:
    """Silence (or allow) progress bars for this process (the CLI's ``--quiet``)."""
    global _quiet
    _quiet = quiet


def enabled() -> bool:
    """Whether bars are drawn: stderr is a terminal and nobody asked for quiet."""
    if _quiet or os.environ.get("TRACEMILL_QUIET", "").lower() in ("1", "true", "yes"):
        return False
    stream = sys.stderr
    return bool(getattr(stream, "isatty", None) and stream.isatty())


def _noop(done: int, total: int | None = None) -> None:
    """The tick of a hidden bar."""


@contextmanager
def progress(label: str, total: int | None = None, *, unit: str = "") -> Iterator[Tick]:
    """A progress bar for ``label`` (``total`` None: a spinner with elapsed time)."""
    if not enabled():
        yield _noop
        return
    bar = _acquire()
    task = bar.add_task(label, total=total, unit=unit)

    def tick(done: int, total: int | None = None) -> None:
        if total is not None:
            bar.update(task, completed=done, total=total)
        else:
            bar.update(task, completed=done)

    try:
        yield tick
    finally:
        bar.remove_task(task)
        _release()


def _acquire() -> Any:
    global _live, _users
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with _lock:
        if _live is None:
            _live = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            _live.start()
        _users += 1
        return _live


def _release() -> None:
    global _live, _users
    with _lock:
        _users -= 1
        if _users == 0 and _live is not None:
            _live.stop()
            _live = None
