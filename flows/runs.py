"""The ``runs`` table: one row per flow run, with its counters and the code version."""

from __future__ import annotations

import functools
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tracemill.stores.catalog import CatalogStore


@functools.cache
def code_version() -> str:
    """The git commit of the checkout tracemill runs from, else the package version."""
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            return "git:" + out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return "tracemill " + version("tracemill")
    except PackageNotFoundError:
        return "unknown"


def record_run(
    store: CatalogStore,
    *,
    run_id: str,
    flow: str,
    started_at: datetime,
    status: str,
    counts: dict[str, Any],
    recipe: str | None = None,
    error: str | None = None,
) -> None:
    """Append the ``runs`` row of a finished (completed or failed) run."""
    store.append(
        {
            "runs": [
                {
                    "run_id": run_id,
                    "flow": flow,
                    "recipe": recipe,
                    "started_at": started_at,
                    "ended_at": datetime.now(UTC),
                    "status": status,
                    "counts": json.dumps(counts, sort_keys=True, default=str),
                    "code_version": code_version(),
                    "error": error,
                }
            ]
        },
        message=f"run {run_id} {status}",
    )
