"""Progress reporting for long curation steps, without any user-interface library.

Steps take an optional :class:`Progress` callback and call it with the phase name, the
units done and the units in all (rows, usually); the flow turns the calls into progress
bars. Calls are cheap and made once per block, never per row.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """``progress(phase, done, total)``: ``done`` of ``total`` units of ``phase``."""

    def __call__(self, phase: str, done: int, total: int) -> None:
        """Report progress of ``phase``."""
        ...


def no_progress(phase: str, done: int, total: int) -> None:
    """A :class:`Progress` that reports nothing."""


__all__ = ["Progress", "no_progress"]
