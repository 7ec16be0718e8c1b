"""Catalog debris: data files no snapshot references, removed with DuckLake's own functions.

A write that dies between writing its Parquet files and committing them (``kill -9``,
a crash, a lost machine) leaves *orphan* files under the data path: the catalog never
references them, so nothing reads them and nothing deletes them. DuckLake finds them
(``ducklake_delete_orphaned_files``: every ``.parquet`` file under the data path that no
data file, delete file or scheduled deletion names); tracemill deletes those named like
a table's data file and leaves any other Parquet file alone (a data path shared with
other files must not lose them). DuckLake also deletes the files it has *scheduled* for
deletion (``ducklake_cleanup_old_files``: files of expired snapshots or of compaction;
tracemill expires nothing itself, so these come from maintenance run by hand).

When is deleting an unreferenced file safe? Only when no writer is between writing it
and committing it:

- an **embedded** catalog admits one writer at a time, and whoever holds a writable
  connection is that writer: every unreferenced file is debris. Opening one for writing
  removes them all (:func:`remove_orphans_on_open`, called by the store), so a crashed
  ingest's files are gone at the next write;
- a **shared** catalog (PostgreSQL metadata) has concurrent writers, so only files
  older than a grace period (default :data:`SHARED_GRACE_S`) are taken; on a local or
  mounted data path this also happens at the start of every write, while on object
  storage (where listing a large prefix costs time and requests) only ``tracemill gc``
  does it.

Files of distributed workers (``tracemill-worker-<owner>-<uuid>.parquet``, written by
Ray workers for their driver to commit) are unreferenced by design until the driver
commits them, on any catalog, so they follow their own rule: a worker file is kept while
its owner (the driver process named in its file name) runs on this host (up to
:data:`LIVE_OWNER_GRACE_S`); it is taken once that owner is gone (a killed driver, or a
driver that finished while a killed worker's attempt lay behind), and otherwise — an
owner on another host, a file named without an owner — once it is older than
:data:`WORKER_GRACE_S` (or ``older_than_s``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracemill.stores.catalog import ALIAS, WORKER_FILE_PREFIX, CatalogError, _delete_file

if TYPE_CHECKING:
    from tracemill.stores.catalog import CatalogStore

log = logging.getLogger(__name__)

SHARED_GRACE_S = 3600.0
"""On a shared catalog, unreferenced files younger than this may be a live writer's."""
WORKER_GRACE_S = 3600.0
"""A worker file whose owner cannot be checked (another host) may be in flight until then."""
LIVE_OWNER_GRACE_S = 86_400.0
"""A worker file whose owner still runs is kept this long (a long-lived driver process,
e.g. a Prefect worker, must not keep its killed workers' files for ever)."""
_clean_on_open: ContextVar[bool] = ContextVar("tracemill_clean_on_open", default=True)


@contextmanager
def no_clean_on_open() -> Iterator[None]:
    """Stores opened inside this block skip the clean-up at open (``tracemill gc``'s own)."""
    token = _clean_on_open.set(False)
    try:
        yield
    finally:
        _clean_on_open.reset(token)


@dataclass(frozen=True)
class CatalogDebris:
    """What a clean-up removed (or, in a dry run, would remove)."""

    orphan_files: list[str] = field(default_factory=list)
    """Data files no snapshot references (writes that never committed)."""
    scheduled_files: list[str] = field(default_factory=list)
    """Files DuckLake had scheduled for deletion (expired snapshots, compaction)."""
    foreign_files: list[str] = field(default_factory=list)
    """Unreferenced Parquet files not named like a data file: someone else's, kept."""
    worker_files: list[str] = field(default_factory=list)
    """Of :attr:`orphan_files`, those Ray workers wrote for a driver that never committed them."""
    in_flight_files: list[str] = field(default_factory=list)
    """Uncommitted worker files kept: their driver still runs, or they are too young."""
    bytes: int = 0
    """Their total size, where the data path is local."""
    dry_run: bool = False


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def _grace(store: CatalogStore, older_than_s: float | None) -> float | None:
    """The age below which unreferenced files are left alone (None: take them all)."""
    if older_than_s is not None:
        return older_than_s
    return None if store.config.embedded else SHARED_GRACE_S


_DATA_FILE = re.compile(
    r"main/[A-Za-z0-9_]+/(?:(?:tracemill|ducklake)-"
    rf"|(?P<worker>{WORKER_FILE_PREFIX}-(?:(?P<owner>[A-Za-z0-9.-]+_[0-9]+_[0-9]+)-)?))"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.parquet"
)
"""Where tracemill, its workers and DuckLake write a table's data files (relative to the
data path); a worker file may name its owner (``host_pid_started``)."""


def _match(data_path: str, path: str) -> re.Match[str] | None:
    """``path`` matched as a data file tracemill or DuckLake wrote (None: not one)."""
    base = data_path.rstrip("/") + "/"
    return _DATA_FILE.fullmatch(path[len(base) :]) if path.startswith(base) else None


def _ours(data_path: str, path: str) -> bool:
    """Whether ``path`` is named like a data file tracemill or DuckLake wrote."""
    return _match(data_path, path) is not None


def owner_alive(owner: str) -> bool | None:
    """Whether the process a worker file names (``host_pid_started``) still runs.

    None where this cannot be told: the owner is on another host (or its start time was
    unknown and its pid is in use). A pid now used by a later process counts as gone.
    """
    from tracemill.stores.catalog import owner_host

    host, pid, started = owner.rsplit("_", 2)
    if host != owner_host():
        return None
    try:
        import psutil

        proc = psutil.Process(int(pid))
        now_started = round(proc.create_time())
    except ImportError:  # pragma: no cover - psutil comes with ray
        return None
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.Error:  # pragma: no cover - e.g. access denied: it exists
        return None if int(started) == 0 else True
    if int(started) == 0:
        return None
    return abs(now_started - int(started)) <= 1


def remove_catalog_debris(
    store: CatalogStore,
    *,
    older_than_s: float | None = None,
    dry_run: bool = False,
    measure: bool = True,
) -> CatalogDebris:
    """Delete orphan and scheduled data files of the catalog ``store`` is open on.

    Orphans are found by ``ducklake_delete_orphaned_files`` (listing only), and only
    those named like a table's data file (``main/<table>/tracemill-<uuid>.parquet`` or
    ``ducklake-<uuid>.parquet``) are deleted: other Parquet files someone keeps under
    the data path are reported in :attr:`CatalogDebris.foreign_files`, never touched.
    Scheduled files are deleted by ``ducklake_cleanup_old_files``. ``older_than_s``
    keeps files younger than that many seconds (default: none kept on an embedded
    catalog, :data:`SHARED_GRACE_S` on a shared one). Uncommitted files of Ray workers
    (``tracemill-worker-<owner>-<uuid>.parquet``) are kept while their owner runs on this
    host (up to :data:`LIVE_OWNER_GRACE_S`) and taken once it is gone; an owner
    elsewhere is given ``older_than_s`` (default :data:`WORKER_GRACE_S`). ``dry_run``
    only lists; ``measure`` sums the sizes of local files.
    """
    if store.read_only:
        raise CatalogError("listing catalog debris needs a writable catalog connection")
    grace = _grace(store, older_than_s)
    worker_grace = WORKER_GRACE_S if older_than_s is None else older_than_s

    def call(fn: str, dry: bool, grace: float | None) -> list[str]:
        if grace is None:
            when, extra = "cleanup_all => true", []
        else:
            when, extra = "older_than => ?", [dt.datetime.now(dt.UTC) - dt.timedelta(seconds=grace)]
        query = f"SELECT path FROM {fn}('{ALIAS}', dry_run => ?, {when})"
        return [str(r[0]) for r in store.con.execute(query, [dry, *extra]).fetchall()]

    data_path = store.config.data_path
    remote = "://" in data_path
    listed = call("ducklake_delete_orphaned_files", True, grace)
    matches = {p: _match(data_path, p) for p in listed}
    foreign = [p for p, m in matches.items() if m is None]
    orphans = [p for p, m in matches.items() if m is not None and not m.group("worker")]
    workers, in_flight = _worker_orphans(matches, worker_grace, call)
    orphans += workers
    scheduled = call("ducklake_cleanup_old_files", True, grace)
    sizes = {p: _size(p) for p in [*orphans, *scheduled]} if measure and not remote else {}
    if not dry_run:
        # each file by name (never DuckLake's sweep): foreign files and in-flight worker
        # files lie beside the orphans and must stay
        for path in orphans:
            _delete_file(path, store.storage if remote else None)
        if scheduled:
            scheduled = call("ducklake_cleanup_old_files", False, grace)
    freed = sum(sizes.get(p, 0) for p in [*orphans, *scheduled])
    return CatalogDebris(orphans, scheduled, foreign, workers, in_flight, freed, bool(dry_run))


def _worker_orphans(
    matches: dict[str, re.Match[str] | None],
    grace: float,
    call: Callable[[str, bool, float | None], list[str]],
) -> tuple[list[str], list[str]]:
    """Worker files among the unreferenced ones: ``(to remove, in flight)``.

    A file whose owner is gone is taken; one whose owner cannot be checked is taken once
    older than ``grace`` seconds; one whose owner runs, once older than
    :data:`LIVE_OWNER_GRACE_S`.
    """
    found = {p: m for p, m in matches.items() if m is not None and m.group("worker")}
    if not found:
        return [], []
    # the age each file must reach: none once its owner is gone, the grace while its
    # owner cannot be checked, a day while it runs (a driver commits within seconds of a
    # worker's return; a day-old file of a live driver is a killed attempt's)
    need: dict[str, float] = {}
    for path, m in found.items():
        alive = owner_alive(m.group("owner")) if m.group("owner") else None
        need[path] = 0.0 if alive is False else grace if alive is None else LIVE_OWNER_GRACE_S
    aged = {g: set(call("ducklake_delete_orphaned_files", True, g)) if g else set(found)
            for g in set(need.values())}  # fmt: skip
    take = [p for p in found if p in aged[need[p]]]
    keep = [p for p in found if p not in aged[need[p]]]
    return take, keep


def remove_orphans_on_open(store: CatalogStore) -> CatalogDebris | None:
    """The clean-up a writable store runs when it opens (see the module docstring).

    Skipped (None) for object-storage data paths; failures are logged, never raised:
    a clean-up must not stop a write.
    """
    if store.read_only or "://" in store.config.data_path or not _clean_on_open.get():
        return None
    try:
        debris = remove_catalog_debris(store, measure=False)
    except Exception as e:  # noqa: BLE001 - debris is harmless; the write matters
        log.warning("could not remove orphan data files of %s: %s", store.config.data_path, e)
        return None
    if debris.orphan_files or debris.scheduled_files:
        log.info(
            "removed %d orphan and %d scheduled data file(s) of %s",
            len(debris.orphan_files),
            len(debris.scheduled_files),
            store.config.data_path,
        )
    return debris
