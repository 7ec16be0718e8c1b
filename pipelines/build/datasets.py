"""Build a dataset into the ``datasets`` table and read it back exactly as built.

A build pins the catalog's current snapshot, renders its query with every table read
``AT (VERSION => snapshot)``, counts the rows and appends a ``datasets`` row (name,
next version, kind, query, rows, snapshot, params). :func:`read_dataset` runs the stored
query, so rows appended later never change what a version returns.

A build is skipped (the latest version is returned) when the latest version of the
name has the same kind and params and none of the tables it reads gained rows since
its snapshot: tables are append-only, so equal row counts mean equal contents.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa
from tracemill.catalogs.ids import canonical_json
from tracemill.pipelines.build.options import (
    BuildOptions,
    options_from_dict,
    options_params,
    sql_literal,
)
from tracemill.pipelines.build.queries import QUERIES

INPUT_TABLES = ("problems", "samples", "verdicts", "grades", "dedup")
"""Tables a build reads (their row counts decide whether a rebuild is needed)."""


class CatalogLike(Protocol):
    """The part of ``tracemill.stores.catalog.CatalogStore`` the builds use."""

    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run SQL."""

    def append(self, tables: dict[str, Any], *, message: str = ...) -> dict[str, Any]:
        """Append rows."""

    def current_snapshot(self) -> int:
        """The latest snapshot id."""

    def count(self, name: str, snapshot: int | None = None) -> int:
        """Rows of a table."""


@dataclass(frozen=True)
class BuiltDataset:
    """A ``datasets`` row as a value (what a build made, or found already made)."""

    name: str
    version: int
    kind: str
    rows: int
    snapshot_id: int
    query: str
    params: dict[str, Any]
    reused: bool = False

    def counts(self) -> dict[str, Any]:
        """Counters for a run summary."""
        return {
            "dataset": self.name,
            "version": self.version,
            "kind": self.kind,
            "rows": self.rows,
            "snapshot_id": self.snapshot_id,
            "reused": self.reused,
        }


def dataset_query(
    kind: str, options: BuildOptions, snapshot: int | None, selection_sql: str | None = None
) -> str:
    """The SQL of a build of ``kind`` (``snapshot=None``: the live tables)."""
    if kind not in QUERIES:
        raise ValueError(f"unknown build kind {kind!r}; kinds are {', '.join(QUERIES)}")
    return QUERIES[kind](options, snapshot, selection_sql)  # type: ignore[operator]


def _resolve_selection(
    store: CatalogLike, options: BuildOptions
) -> tuple[BuildOptions, str | None]:
    """Pin the options' selection to a version; returns the options and its query."""
    filt = options.problems
    if filt.selection is None:
        return options, None
    info = dataset_info(store, filt.selection, filt.selection_version)
    if info.kind != "selection":
        raise ValueError(f"dataset {filt.selection!r} is a {info.kind} build, not a selection")
    pinned = dataclasses.replace(filt, selection_version=info.version)
    return dataclasses.replace(options, problems=pinned), info.query


def _row_to_built(row: dict[str, Any], reused: bool = False) -> BuiltDataset:
    return BuiltDataset(
        name=row["name"],
        version=int(row["version"]),
        kind=row["kind"],
        rows=int(row["rows"]),
        snapshot_id=int(row["snapshot_id"]),
        query=row["query"],
        params=json.loads(row["params"] or "{}"),
        reused=reused,
    )


def dataset_info(store: CatalogLike, name: str, version: int | None = None) -> BuiltDataset:
    """The ``datasets`` row of ``name`` (latest version unless given); KeyError if none."""
    where = f"name = {sql_literal(name)}"
    if version is not None:
        where += f" AND version = {int(version)}"
    rows = store.sql(
        f"SELECT * FROM datasets WHERE {where} ORDER BY version DESC LIMIT 1"
    ).to_pylist()
    if not rows:
        known = store.sql("SELECT DISTINCT name FROM datasets ORDER BY name").column(0)
        names = ", ".join(known.to_pylist()) or "none"
        what = f"{name!r} version {version}" if version is not None else repr(name)
        raise KeyError(f"no dataset {what}; datasets: {names}")
    return _row_to_built(rows[0])


def list_datasets(store: CatalogLike) -> pa.Table:
    """Every dataset version: name, version, kind, rows, snapshot, created time."""
    return store.sql(
        "SELECT name, version, kind, rows, snapshot_id, created_at, run_id "
        "FROM datasets ORDER BY name, version"
    )


def read_dataset(store: CatalogLike, name: str, version: int | None = None) -> pa.Table:
    """The rows of dataset ``name`` (latest version unless given), exactly as built."""
    return store.sql(dataset_info(store, name, version).query)


def _unchanged_since(store: CatalogLike, snapshot: int) -> bool:
    return all(store.count(t, snapshot) == store.count(t) for t in INPUT_TABLES)


def build_dataset(
    store: CatalogLike,
    kind: str,
    name: str,
    options: BuildOptions | dict[str, Any] | None = None,
    *,
    run_id: str | None = None,
    reuse: bool = True,
) -> BuiltDataset:
    """Build dataset ``name`` of ``kind`` as a new version (or reuse an identical one)."""
    if not name or not name.strip():
        raise ValueError("a dataset needs a name")
    if options is None or isinstance(options, dict):
        options = options_from_dict(kind, options)
    options, selection_sql = _resolve_selection(store, options)
    params = json.loads(canonical_json(options_params(kind, options)))
    previous: BuiltDataset | None
    try:
        previous = dataset_info(store, name)
    except KeyError:
        previous = None
    if (
        reuse
        and previous is not None
        and previous.kind == kind
        and canonical_json(previous.params) == canonical_json(params)
        and _unchanged_since(store, previous.snapshot_id)
    ):
        return BuiltDataset(**{**previous.__dict__, "reused": True})
    snapshot = store.current_snapshot()
    query = dataset_query(kind, options, snapshot, selection_sql)
    rows = int(store.sql(f"SELECT count(*) AS n FROM ({query})").column(0)[0].as_py())
    version = 1 if previous is None else previous.version + 1
    store.append(
        {
            "datasets": [
                {
                    "name": name,
                    "version": version,
                    "kind": kind,
                    "query": query,
                    "rows": rows,
                    "snapshot_id": snapshot,
                    "params": canonical_json(params),
                    "run_id": run_id,
                }
            ]
        },
        message=f"build {kind} {name} v{version}",
    )
    return BuiltDataset(name, version, kind, rows, snapshot, query, params)
