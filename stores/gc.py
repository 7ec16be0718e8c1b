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
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracemill.stores.catalog import ALIAS, CatalogError

if TYPE_CHECKING:
    from tracemill.stores.catalog import CatalogStore

log = logging.getLogger(__name__)

SHARED_GRACE_S = 3600.0
"""On a shared catalog, unreferenced files younger than this may be a live writer's."""
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


_DATA_FILE = re.compile(r"main/[A-Za-z0-9_]+/(?:tracemill|ducklake)-[0-9a-f-]{36}\.parquet")
"""Where tracemill and DuckLake write a table's data files, relative to the data path."""


def _ours(data_path: str, path: str) -> bool:
    """Whether ``path`` is named like a data file tracemill or DuckLake wrote."""
    base = data_path.rstrip("/") + "/"
    return path.startswith(base) and bool(_DATA_FILE.fullmatch(path[len(base) :]))


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
    catalog, :data:`SHARED_GRACE_S` on a shared one). ``dry_run`` only lists;
    ``measure`` sums the sizes of local files.
    """
    if store.read_only:
        raise CatalogError("listing catalog debris needs a writable catalog connection")
    grace = _grace(store, older_than_s)
    if grace is None:
        when, extra = "cleanup_all => true", []
    else:
        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=float(grace))
        when, extra = "older_than => ?", [cutoff]

    def call(fn: str, dry: bool) -> list[str]:
        query = f"SELECT path FROM {fn}('{ALIAS}', dry_run => ?, {when})"
        return [str(r[0]) for r in store.con.execute(query, [dry, *extra]).fetchall()]

    data_path = store.config.data_path
    remote = "://" in data_path
    listed = call("ducklake_delete_orphaned_files", True)
    orphans = [p for p in listed if _ours(data_path, p)]
    foreign = [p for p in listed if not _ours(data_path, p)]
    scheduled = call("ducklake_cleanup_old_files", True)
    sizes = {p: _size(p) for p in [*orphans, *scheduled]} if measure and not remote else {}
    if not dry_run:
        if remote:
            if foreign:
                log.warning(
                    "%s holds %d Parquet file(s) the catalog did not write; orphans there "
                    "are not deleted (move them out of the data path)", data_path, len(foreign)
                )  # fmt: skip
                orphans = []
            else:
                orphans = call("ducklake_delete_orphaned_files", False)
        else:
            for path in orphans:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
        if scheduled:
            scheduled = call("ducklake_cleanup_old_files", False)
    freed = sum(sizes.get(p, 0) for p in [*orphans, *scheduled])
    return CatalogDebris(orphans, scheduled, foreign, freed, bool(dry_run))


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
