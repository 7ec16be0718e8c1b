"""The ``runs`` table: one row per command, recipe and recipe stage that writes.

Which runs are recorded (every row a run writes carries its ``run_id``):

- every CLI command that writes: ``ingest``, ``synth`` (generating), ``verify``,
  ``curate`` (not ``--dry-run``), ``distill``, ``grade``, ``select``, ``calibrate``,
  ``build``, ``export``, ``train``, ``gc`` (not ``--dry-run``): flow = the command,
  with its validated config;
- ``tracemill run RECIPE``: one row for the recipe (flow ``recipe:NAME``, the recipe
  text, counters per stage) and one per stage it ran (flow = the stage name,
  ``label`` = its label, ``parent_run_id`` = the recipe's run);
- a stage run as its own Prefect flow (``flows/engine.py``; a deployment run under a
  worker or ``tracemill serve``): one row, no parent (a recipe deployment: as
  ``tracemill run``); the ``serve`` process itself records no row;
  under Prefect, a stage retried after a transient failure records a row per attempt,
  and a stage Prefect serves from its cache (``synth``, ``ingest`` rerun unchanged) runs
  nothing and records no row of its own (the recipe's counters say ``cached``).

Read-only commands (``sql``, ``tables``, ``snapshots``, ``datasets``, ``verifiers``,
``families``, ``stages``, ``check``, ``dedup explain``, ``dedup rethreshold``,
``synth --list``, ``--print-config``, ``run --check``, ``gc --dry-run``) record
nothing. A run that fails records its row with status ``failed``, the error and the
counters it reached before failing (distill, grade and verify track theirs, so the tokens
and cost of the samples committed and the judge calls made are in the row); one
stopped by Ctrl-C, or a Prefect flow run cancelled (its process terminated), records
``interrupted``; a command that stops on a usage error, before
any work, records nothing.

Token counts and cost come from the run's counters (``tokens_in``, ``tokens_out``,
``cost_usd``: distill reports them, grade its student's samples and its answer-first
judge's replies, and verify its judge model's calls; a run
that calls no model has none, so its row holds null, not 0); a recipe's are the sums
over its stages (a recipe that fails: over the rows its stages recorded, the failed
stage's counters so far included).
Config values under secret-looking keys (``api_key``, ``token``, ``password``, …) are
stored as ``"***"``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

RECORDING_COMMANDS = frozenset(
    {"ingest", "synth", "verify", "curate", "distill", "grade", "select", "calibrate",
     "build", "export", "train", "gc", "run", "serve"}
)  # fmt: skip
"""CLI commands that write, and so record a ``runs`` row (``run``: the recipe's rows;
``serve``: each flow run it serves records its rows, as under a worker; the serving
process itself records none)."""
READ_ONLY_COMMANDS = frozenset(
    {"sql", "tables", "snapshots", "datasets", "verifiers", "families", "stages", "check",
     "dedup"}
)  # fmt: skip
"""CLI commands that never write to the catalog: they record nothing. Every command is in
one of the two sets (a test checks it, so a new command has to say which it is)."""

REDACTED = "***"
_SECRET_KEY = re.compile(
    r"(?:^|[_-])(?:api[_-]?key|apikey|token|secret|password|passwd|authorization|"
    r"access[_-]?key|credentials?)$",
    re.IGNORECASE,
)
"""Config keys whose values are never stored (``hf_token``, ``api_key``; not ``max_tokens``
or ``api_key_env``, which names a variable)."""
_URL_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")


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


def redact(value: Any) -> Any:
    """``value`` with the values of secret-looking keys replaced by ``"***"`` (recursively).

    Example:
        >>> redact({"model": "m", "backend_options": {"api_key": "sk-1", "api_key_env": "K"}})
        {'model': 'm', 'backend_options': {'api_key': '***', 'api_key_env': 'K'}}
    """
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if _SECRET_KEY.search(str(k)) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str) and "@" in value:
        return _URL_CREDENTIALS.sub(r"\1***@", value)  # https://user:secret@host/…
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def usage_of(counts: Mapping[str, Any]) -> tuple[int | None, int | None, float | None]:
    """(prompt tokens, completion tokens, cost in USD) of a run's counters.

    Flat counters give theirs (``tokens_in``, ``tokens_out``, ``cost_usd``); a recipe's
    counters (one mapping per stage) give the sums over the stages that report them.
    """
    keys = ("tokens_in", "tokens_out", "cost_usd")
    if any(k in counts for k in keys):
        found = [_number(counts.get(k)) for k in keys]
        return (
            None if found[0] is None else int(found[0]),
            None if found[1] is None else int(found[1]),
            found[2],
        )
    sums: list[float | None] = [None, None, None]
    for stage in counts.values():
        if isinstance(stage, Mapping):
            for i, v in enumerate(usage_of(stage)):
                if v is not None:
                    sums[i] = (sums[i] or 0) + v
    return (
        None if sums[0] is None else int(sums[0]),
        None if sums[1] is None else int(sums[1]),
        sums[2],
    )


@dataclass
class RunRecord:
    """What a ``runs`` row records."""

    run_id: str
    flow: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    status: str = "running"
    counts: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] | None = None
    recipe: str | None = None
    error: str | None = None
    parent_run_id: str | None = None
    label: str | None = None

    def row(self, ended_at: datetime | None = None) -> dict[str, Any]:
        """The ``runs`` row (ended now unless given)."""
        ended = ended_at or datetime.now(UTC)
        prompt, completion, cost = usage_of(self.counts)
        config = None
        if self.config is not None:
            config = json.dumps(redact(self.config), sort_keys=True, default=str)
        return {
            "run_id": self.run_id,
            "flow": self.flow,
            "recipe": self.recipe,
            "started_at": self.started_at,
            "ended_at": ended,
            "status": self.status,
            "counts": json.dumps(self.counts, sort_keys=True, default=str),
            "code_version": code_version(),
            "error": self.error,
            "parent_run_id": self.parent_run_id,
            "label": self.label,
            "config": config,
            "duration_s": round((ended - self.started_at).total_seconds(), 3),
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "cost_usd": None if cost is None else round(cost, 9),
        }


def interrupted(err: BaseException) -> bool:
    """Whether ``err`` stopped a run from outside rather than failing it.

    Ctrl-C, or Prefect's termination signal: SIGTERM to a flow run's process (a run
    cancelled from the UI, a ``tracemill serve`` that stops).
    """
    if isinstance(err, KeyboardInterrupt):
        return True
    kind = type(err)
    return kind.__name__ == "TerminationSignal" and kind.__module__.startswith("prefect")


def error_line(err: BaseException) -> str:
    """One line naming a run's error (``Type: message``, first line only)."""
    from tracemill.flows.common import remote_cause

    if interrupted(err):
        return "interrupted"
    err = remote_cause(err)
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    first = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


def status_of(err: BaseException | None) -> str:
    """``completed``, ``interrupted`` (Ctrl-C, a cancelled Prefect run) or ``failed``."""
    if err is None:
        return "completed"
    return "interrupted" if interrupted(err) else "failed"


def save_run(catalog: str | None, record: RunRecord, *, lock_timeout_s: float = 30.0) -> bool:
    """Append ``record``'s row to the catalog; False (and a warning) when it cannot.

    Never raises: a run's own outcome (its work committed, or its error) matters more
    than its ``runs`` row. An embedded catalog that does not exist is not created for it.
    A failed run whose row cannot be stored either because the catalog's storage is down
    says nothing more (its own error already says so).
    """
    from tracemill.stores.catalog import CatalogConfig, CatalogStorageError, open_catalog
    from tracemill.stores.gc import no_clean_on_open

    try:
        config = CatalogConfig.resolve(catalog)
        if config.embedded and not Path(config.metadata).exists():
            log.debug("no catalog at %s: run %s not recorded", config.root, record.run_id)
            return False
        # the run's own opens already swept debris: one row needs no second sweep
        with no_clean_on_open(), open_catalog(catalog, lock_timeout_s=lock_timeout_s) as store:
            store.append(
                {"runs": [record.row()]}, message=f"run {record.run_id} {record.status}"
            )
        return True
    except Exception as e:  # noqa: BLE001 - see the docstring
        storage_down = isinstance(e, CatalogStorageError) and record.status != "completed"
        log.log(
            logging.DEBUG if storage_down else logging.WARNING,
            "could not record run %s in the runs table: %s", record.run_id, e,
        )  # fmt: skip
        return False
