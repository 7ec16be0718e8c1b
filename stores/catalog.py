"""The catalog store: tables in a DuckLake catalog whose data files are Parquet.

Embedded default: a local directory (``./tracemill-data``, or ``--catalog`` /
``$TRACEMILL_CATALOG``) holding ``catalog.ducklake`` (the DuckLake metadata, a DuckDB
file) and ``data/`` (Parquet files). One process writes at a time: a second writer
waits up to ``lock_timeout_s`` and then gets :class:`CatalogLockedError`.

Scaled out (configuration only): set ``TRACEMILL_CATALOG`` to a DuckLake metadata URI
such as ``postgres:dbname=tracemill host=db user=tm`` and ``TRACEMILL_DATA_PATH`` to
object storage (``s3://bucket/tracemill/``) or a directory every machine mounts; then
many machines may write at once. The DuckDB extensions this needs (``postgres_scanner``
for the metadata, ``httpfs`` for ``s3://``/``gs://``/``http(s)://`` data) are loaded from
their PyPI packages (``duckdb-extension-postgres-scanner``, ``duckdb-extension-httpfs``),
never downloaded at run time. Credentials for object storage come from DuckDB
secrets/environment as usual.

Concurrent writers on a shared (non-embedded) catalog: DuckLake itself re-commits a
transaction whose snapshot id was taken by another commit when the two do not
logically conflict, so two appends to one table would both land, and two appends
offering the same new key would both insert it. Each :meth:`CatalogStore.append`
therefore holds a PostgreSQL transaction-level advisory lock (on a second connection)
from before its key check until its commit: tracemill writers of one catalog commit
one at a time, waiting up to ``lock_timeout_s`` (then :class:`CatalogLockedError`), and
a crashed writer's lock goes with its connection. A commit that still fails with a
DuckLake conflict (another writer's schema change or compaction, DuckLake's own retries
exhausted) is retried as a whole, up to ``_CONFLICT_ATTEMPTS`` times with jittered
exponential backoff; each attempt is a fresh transaction that re-runs the key check
against the latest snapshot, so a retry never duplicates rows.

Appends are transactional (one DuckLake snapshot per :meth:`CatalogStore.append`, over
all tables given) and idempotent (rows whose key already exists, or that repeat a key
within the batch, are skipped and counted as skipped).
"""

from __future__ import annotations

import importlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
from tracemill.catalogs import TABLES, conform, table_spec

log = logging.getLogger(__name__)
_T = TypeVar("_T")

DEFAULT_CATALOG_DIR = "tracemill-data"
CATALOG_ENV = "TRACEMILL_CATALOG"
DATA_PATH_ENV = "TRACEMILL_DATA_PATH"
ALIAS = "tm"
_URI_PREFIXES = ("postgres:", "sqlite:", "mysql:", "duckdb:")
_FILE_WRITE_MIN_ROWS = 1_000
_MOSTLY_UNIQUE = frozenset(
    {"question", "solution", "completion", "reasoning", "final", "prompt", "detail"}
)
"""Columns written without dictionary encoding (besides each table's own key)."""
"""Smaller appends are INSERTed (one small file either way; INSERT has less overhead)."""
_REMOTE_DATA_PREFIXES = ("s3://", "s3a://", "gs://", "gcs://", "http://", "https://")
"""Data paths that need the ``httpfs`` extension."""
_POSTGRES_PREFIX = "postgres:"
_WRITER_LOCK_ID = 7_402_118_530_266_911_045
"""PostgreSQL advisory-lock key that serializes tracemill writers of one catalog database."""
_CONFLICT_ATTEMPTS = 6
"""Attempts of one write transaction on a shared catalog before a conflict is raised."""


class CatalogError(RuntimeError):
    """A catalog operation failed."""


class CatalogLockedError(CatalogError):
    """Another process holds the embedded catalog's write lock."""


@dataclass(frozen=True)
class CatalogConfig:
    """Where a catalog's metadata and data files live."""

    metadata: str
    """DuckLake metadata: a DuckDB file path, or a ``postgres:``/``sqlite:`` URI."""
    data_path: str
    """Directory or object-storage prefix for Parquet data files."""
    root: Path | None = None
    """The local directory of an embedded catalog (holds Prefect home and logs too)."""

    @classmethod
    def resolve(cls, location: str | os.PathLike[str] | None = None) -> CatalogConfig:
        """Resolve ``location`` (or the environment, or the default directory)."""
        loc = str(location) if location is not None else os.environ.get(CATALOG_ENV, "")
        loc = loc or DEFAULT_CATALOG_DIR
        data_env = os.environ.get(DATA_PATH_ENV)
        if loc.startswith(_URI_PREFIXES):
            if not data_env:
                raise CatalogError(
                    f"catalog {loc!r} is a database URI: set {DATA_PATH_ENV} to the data "
                    "location (a directory or s3://bucket/prefix/)"
                )
            return cls(metadata=loc, data_path=data_env)
        root = Path(loc).expanduser().resolve()
        data = data_env or str(root / "data")
        return cls(metadata=str(root / "catalog.ducklake"), data_path=data, root=root)

    @property
    def embedded(self) -> bool:
        """True for a local-directory catalog (DuckDB-file metadata)."""
        return self.root is not None

    @property
    def postgres_dsn(self) -> str | None:
        """The libpq connection string of a ``postgres:`` metadata URI, else None."""
        if self.metadata.startswith(_POSTGRES_PREFIX):
            return self.metadata[len(_POSTGRES_PREFIX) :]
        return None

    @property
    def extensions(self) -> list[tuple[str, str]]:
        """(PyPI package, extension name) of each extension this catalog needs beyond DuckLake."""
        needed = []
        if self.postgres_dsn is not None:
            needed.append(("duckdb-extension-postgres-scanner", "postgres_scanner"))
        if self.data_path.lower().startswith(_REMOTE_DATA_PREFIXES):
            needed.append(("duckdb-extension-httpfs", "httpfs"))
        return needed


@dataclass(frozen=True)
class AppendResult:
    """Counts of one table's append."""

    table: str
    inserted: int
    skipped: int

    @property
    def total(self) -> int:
        """Rows offered."""
        return self.inserted + self.skipped


def extension_path(package: str, name: str) -> str:
    """Path of the DuckDB extension ``name`` shipped by the PyPI package ``package``.

    The ``duckdb-extension-*`` packages hold ``extensions/v<duckdb version>/<name>
    .duckdb_extension``; loading it from there needs no download at run time.
    """
    import duckdb

    pin = f"{package}=={duckdb.__version__}"
    try:
        pkg = importlib.import_module(package.replace("-", "_"))
    except ImportError as e:
        raise CatalogError(f"DuckDB extension {name!r} is not installed: pip install {pin}") from e
    base = Path(pkg.__file__).parent / "extensions"
    path = base / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.exists():
        found = sorted(p.name for p in base.iterdir()) if base.exists() else []
        raise CatalogError(
            f"DuckDB extension {name!r} for DuckDB {duckdb.__version__} not found in {base} "
            f"(found {found}); install {pin}"
        )
    return str(path)


def ducklake_extension_path() -> str:
    """Path of the DuckLake extension shipped by the `duckdb-extension-ducklake` package."""
    return extension_path("duckdb-extension-ducklake", "ducklake")


def _ddl_type(t: pa.DataType) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_float64(t):
        return "DOUBLE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    if pa.types.is_list(t):
        return _ddl_type(t.value_type) + "[]"
    if pa.types.is_struct(t):
        inner = ", ".join(f"{f.name} {_ddl_type(f.type)}" for f in t)
        return f"STRUCT({inner})"
    raise TypeError(f"no DuckDB type for {t}")


def create_table_sql(name: str) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for a catalog table, from its Arrow schema."""
    cols = []
    for f in table_spec(name).schema:
        cols.append(f"{f.name} {_ddl_type(f.type)}{'' if f.nullable else ' NOT NULL'}")
    return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(cols)})"


_HEX_VALUE = bytes(int(chr(c), 16) if chr(c) in "0123456789abcdef" else 255 for c in range(256))


def _all_distinct(keys: pa.Array | pa.ChunkedArray) -> bool:
    """Whether no value repeats.

    Content ids (32 lowercase hex digits) are proven distinct when their first 16 digits
    are, by sorting those as 64-bit integers (several times faster than hashing the
    strings); anything else, or a repeated prefix, takes an exact hash-based count.
    """
    import numpy as np
    import pyarrow.compute as pc

    arr = keys.combine_chunks() if isinstance(keys, pa.ChunkedArray) else keys
    n = len(arr)
    if n > 1 and pa.types.is_string(arr.type) and arr.null_count == 0:
        lengths = pc.min_max(pc.binary_length(arr))
        if lengths["min"].as_py() == lengths["max"].as_py() == 32:
            offsets = np.frombuffer(arr.buffers()[1], np.int32)[arr.offset : arr.offset + n + 1]
            data = np.frombuffer(arr.buffers()[2], np.uint8)[offsets[0] : offsets[-1]]
            digits = np.frombuffer(_HEX_VALUE, np.uint8)[data.reshape(n, 32)[:, :16]]
            if not (digits == 255).any():
                packed = np.ascontiguousarray((digits[:, 0::2] << 4) | digits[:, 1::2])
                prefixes = np.sort(packed.view("<u8").ravel())
                if not bool((prefixes[1:] == prefixes[:-1]).any()):
                    return True
    return len(pc.unique(arr)) == n


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _is_lock_error(err: Exception) -> bool:
    text = str(err).lower()
    return "lock" in text and ("conflicting" in text or "could not set lock" in text)


def _is_init_race(err: Exception) -> bool:
    """True for a failed first ATTACH whose metadata tables another process just created."""
    text = str(err).lower()
    return "initialize ducklake" in text and ("duplicate key" in text or "already exists" in text)


def _is_conflict_error(err: Exception) -> bool:
    """True for a DuckLake commit that lost to a concurrent commit (worth a retry)."""
    text = str(err).lower()
    return (
        "failed to commit ducklake transaction" in text
        or "conflict" in text
        or "concurrent" in text
        or ("duplicate key" in text and "ducklake_" in text)
    )


class CatalogStore:
    """An open connection to a catalog. Use :func:`open_catalog` to get one."""

    def __init__(
        self,
        config: CatalogConfig,
        *,
        read_only: bool = False,
        lock_timeout_s: float = 30.0,
    ) -> None:
        self.config = config
        self.read_only = read_only
        self.lock_timeout_s = lock_timeout_s
        self._lock_con: Any = None
        self.con = self._connect(lock_timeout_s)
        if not read_only:
            self._ensure_tables()
            from tracemill.stores.gc import remove_orphans_on_open

            remove_orphans_on_open(self)  # what crashed writes left (see stores/gc.py)

    # -- connection -------------------------------------------------------------

    def _connect(self, lock_timeout_s: float) -> Any:
        import duckdb

        cfg = self.config
        if cfg.embedded:
            assert cfg.root is not None
            if self.read_only and not Path(cfg.metadata).exists():
                raise CatalogError(f"no catalog at {cfg.root} (nothing ingested yet?)")
            cfg.root.mkdir(parents=True, exist_ok=True)
            Path(cfg.data_path).mkdir(parents=True, exist_ok=True)
        elif not self.read_only and "://" not in cfg.data_path:
            Path(cfg.data_path).mkdir(parents=True, exist_ok=True)
        # resolve every extension first: a missing package is a CatalogError, no connection
        extensions = [ducklake_extension_path()]
        extensions += [extension_path(package, name) for package, name in cfg.extensions]
        con = duckdb.connect(
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": True}
        )
        con.execute("SET TimeZone = 'UTC'")
        for path in extensions:
            con.execute(f"LOAD {_sql_str(path)}")
        opts = [f"DATA_PATH {_sql_str(cfg.data_path)}", "DATA_INLINING_ROW_LIMIT 0"]
        if self.read_only:
            opts.append("READ_ONLY")
        attach = f"ATTACH {_sql_str('ducklake:' + cfg.metadata)} AS {ALIAS} ({', '.join(opts)})"
        deadline = time.monotonic() + lock_timeout_s
        delay = 0.05
        init_races = 0
        while True:
            try:
                con.execute(attach)
                break
            except duckdb.Error as e:
                if not cfg.embedded and _is_init_race(e) and init_races < 3:
                    # another process initialized this new shared catalog at the same
                    # moment (its metadata tables won); attach again to the now-initialized one
                    init_races += 1
                    log.info(
                        "catalog %s was initialized concurrently; attaching again", cfg.metadata
                    )
                    time.sleep(0.05 * init_races)
                    continue
                if not _is_lock_error(e):
                    con.close()
                    raise CatalogError(f"cannot open catalog {cfg.metadata}: {e}") from e
                if time.monotonic() >= deadline:
                    con.close()
                    raise CatalogLockedError(
                        f"catalog {cfg.metadata} is locked by another process (waited "
                        f"{lock_timeout_s:.0f}s). An embedded catalog admits one writer at "
                        "a time; use a PostgreSQL catalog for concurrent writers."
                    ) from e
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
        con.execute(f"USE {ALIAS}")
        return con

    def _missing_tables(self) -> list[str]:
        existing = {
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [ALIAS]
            ).fetchall()
        }
        return [n for n in TABLES if n not in existing]

    def _ensure_tables(self) -> None:
        if not self._missing_tables():
            return

        def create(written: list[Path]) -> None:
            missing = self._missing_tables()  # again: another writer may have made them
            for name in missing:
                self.con.execute(create_table_sql(name))
            if missing:
                self._commit_message("tracemill", "create tables " + ", ".join(missing))

        self._write_transaction(create)

    def _write_transaction(self, body: Callable[[list[Path]], _T]) -> _T:
        """Run ``body(written)`` in one write transaction and commit it.

        ``written`` collects local files the body wrote; they are deleted when the
        transaction rolls back. On a shared catalog each attempt holds the writer lock,
        and one that loses to a concurrent commit is rolled back and run again from the
        start (a fresh snapshot), up to ``_CONFLICT_ATTEMPTS`` times with backoff.
        """
        import duckdb

        attempts = 1 if self.config.embedded else _CONFLICT_ATTEMPTS
        delay = 0.1
        for attempt in range(1, attempts + 1):
            written: list[Path] = []
            try:
                with self._writer_lock():
                    self.con.execute("BEGIN")
                    try:
                        result = body(written)
                        self.con.execute("COMMIT")
                    except BaseException:
                        try:
                            self.con.execute("ROLLBACK")
                        except Exception:  # noqa: BLE001 - the original error matters more
                            log.debug("rollback failed", exc_info=True)
                        for path in written:  # files of a rolled-back append are unreferenced
                            path.unlink(missing_ok=True)
                        raise
                return result
            except duckdb.Error as e:
                if attempt >= attempts or not _is_conflict_error(e):
                    raise
                wait = delay * random.uniform(1.0, 2.0)
                log.warning(
                    "catalog commit conflicted with another writer (attempt %d/%d); "
                    "retrying in %.2fs: %s", attempt, attempts, wait, str(e).splitlines()[0]
                )  # fmt: skip
                time.sleep(wait)
                delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    @contextmanager
    def _writer_lock(self) -> Iterator[None]:
        """Hold the catalog's PostgreSQL writer lock (a no-op for other catalogs)."""
        import duckdb

        dsn = self.config.postgres_dsn
        if dsn is None:
            yield
            return
        if self._lock_con is None:
            lock_con = duckdb.connect(
                config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
            )
            try:
                path = extension_path("duckdb-extension-postgres-scanner", "postgres_scanner")
                lock_con.execute(f"LOAD {_sql_str(path)}")
                lock_con.execute(f"ATTACH {_sql_str(dsn)} AS pg (TYPE postgres)")
            except duckdb.Error as e:
                lock_con.close()
                raise CatalogError(f"cannot open catalog {self.config.metadata}: {e}") from e
            self._lock_con = lock_con
        lock_con = self._lock_con
        timeout_ms = max(1, int(self.lock_timeout_s * 1000))
        lock_con.execute("BEGIN")
        try:
            lock_con.execute(
                "CALL postgres_execute('pg', ?)", [f"SET LOCAL lock_timeout = {timeout_ms}"]
            )
            try:
                lock_con.execute(
                    "CALL postgres_execute('pg', ?)",
                    [f"SELECT pg_advisory_xact_lock({_WRITER_LOCK_ID})"],
                )
            except duckdb.Error as e:
                if "lock timeout" not in str(e).lower():
                    raise
                raise CatalogLockedError(
                    f"catalog {self.config.metadata}: another writer held the writer lock for "
                    f"{self.lock_timeout_s:.0f}s"
                ) from e
            yield
        finally:
            # ending the PostgreSQL transaction releases the transaction-level lock
            try:
                lock_con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - a dead connection released the lock anyway
                log.debug("releasing the writer lock failed", exc_info=True)

    def close(self) -> None:
        """Close the connection (releases the embedded catalog's lock)."""
        for con in (self.con, self._lock_con):
            if con is None:
                continue
            try:
                con.close()
            except Exception:  # noqa: BLE001 - closing twice is harmless
                log.debug("closing catalog connection failed", exc_info=True)

    def __enter__(self) -> CatalogStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _commit_message(self, author: str, message: str) -> None:
        self.con.execute(
            f"CALL {ALIAS}.set_commit_message({_sql_str(author)}, {_sql_str(message)})"
        )

    # -- writes -----------------------------------------------------------------

    def append(
        self,
        tables: Mapping[str, pa.Table | list[dict]],
        *,
        message: str = "append",
        author: str = "tracemill",
        check_keys: bool = True,
    ) -> dict[str, AppendResult]:
        """Append batches to tables in one transaction; existing keys are skipped.

        Each batch is conformed to its table's schema first (a bad batch raises before
        anything is written). Either every table's new rows land or none do.
        ``check_keys=False`` skips the key check for batches the caller already reduced
        with :meth:`new_rows` while holding this connection (one writer). A shared
        catalog has no such writer: there the key check always runs, under the writer lock.
        """
        if self.read_only:
            raise CatalogError("catalog is open read-only")
        batches = {name: conform(name, data) for name, data in tables.items()}
        check_keys = check_keys or not self.config.embedded

        def transaction(written: list[Path]) -> dict[str, AppendResult]:
            # a retried attempt starts over: keys are checked against the latest snapshot
            results: dict[str, AppendResult] = {}
            for name, batch in batches.items():
                new = self._new_rows(name, batch) if check_keys else batch
                if new.num_rows:
                    self._write(name, new, written)
                results[name] = AppendResult(name, new.num_rows, batch.num_rows - new.num_rows)
            if any(r.inserted for r in results.values()):
                counts = ", ".join(f"{n}+{r.inserted}" for n, r in results.items())
                self._commit_message(author, f"{message}: {counts}")
            return results

        return self._write_transaction(transaction)

    def record_export(self, name: str, version: int, target: str) -> None:
        """Set ``export_target`` of dataset ``name`` version ``version`` (its latest export).

        The only in-place change the store makes: keys and contents of a ``datasets`` row
        never change, and earlier targets stay readable at earlier snapshots.
        """
        if self.read_only:
            raise CatalogError("catalog is open read-only")

        def transaction(written: list[Path]) -> None:
            found = self.con.execute(
                "SELECT count(*) FROM datasets WHERE name = ? AND version = ?", [name, version]
            ).fetchone()
            if not found or not found[0]:
                raise CatalogError(f"no dataset {name!r} version {version}")
            self.con.execute(
                "UPDATE datasets SET export_target = ? WHERE name = ? AND version = ?",
                [target, name, version],
            )
            self._commit_message("tracemill", f"export {name} v{version} to {target}")

        self._write_transaction(transaction)

    def update(
        self,
        name: str,
        rows: pa.Table,
        columns: list[str],
        *,
        message: str = "update",
        author: str = "tracemill",
    ) -> int:
        """Set ``columns`` of existing rows (matched on the table's key) in one transaction.

        ``rows`` holds the key columns and the new values. Earlier values stay readable at
        earlier snapshots. Returns the number of rows given.
        """
        if self.read_only:
            raise CatalogError("catalog is open read-only")
        spec = table_spec(name)
        unknown = sorted(set(columns) - set(spec.schema.names))
        if unknown or set(columns) & set(spec.key):
            raise CatalogError(f"cannot update {name} columns {', '.join(unknown or columns)}")
        if rows.num_rows == 0:
            return 0
        rows = rows.select([*spec.key, *columns]).cast(
            pa.schema([spec.schema.field(c) for c in [*spec.key, *columns]])
        )

        def transaction(written: list[Path]) -> int:
            self.con.register("_update_rows", rows)
            try:
                sets = ", ".join(f"{c} = u.{c}" for c in columns)
                match = " AND ".join(f"{name}.{k} = u.{k}" for k in spec.key)
                self.con.execute(f"UPDATE {name} SET {sets} FROM _update_rows u WHERE {match}")
                self._commit_message(author, f"{message}: {name}~{rows.num_rows}")
            finally:
                self.con.unregister("_update_rows")
            return rows.num_rows

        return self._write_transaction(transaction)

    def existing_keys(self, name: str, keys: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Which of ``keys`` (values of a single-column key) the table already holds."""
        key = table_spec(name).key
        if len(key) != 1:
            raise CatalogError(f"{name} has a composite key; use new_rows")
        if len(keys) == 0:
            return pa.array([], pa.string())
        view = f"_tm_keys_{name}"
        self.con.register(view, pa.table({"k": keys}))
        try:
            out = self.con.execute(
                f"SELECT k FROM {view} SEMI JOIN {name} t ON {view}.k = t.{key[0]}"
            ).to_arrow_table()
        finally:
            self.con.unregister(view)
        return out.column("k").combine_chunks()

    def new_positions(self, name: str, keys: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Positions (ascending) of the first occurrence of each key the table lacks.

        ``keys`` are values of a single-column key; a key repeated within ``keys`` counts
        once, at its first position.
        """
        key = table_spec(name).key
        if len(key) != 1:
            raise CatalogError(f"{name} has a composite key; use new_rows")
        if len(keys) == 0:
            return pa.array([], pa.int64())
        import numpy as np

        positions = pa.array(np.arange(len(keys), dtype=np.int64))
        distinct = _all_distinct(keys)  # the usual case: no repeats
        empty = not self.con.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchall()
        if distinct and empty:
            return positions
        view = f"_tm_pos_{name}"
        self.con.register(view, pa.table({"k": keys, "pos": positions}))
        try:
            if distinct:
                query = (
                    f"SELECT pos FROM {view} ANTI JOIN {name} t ON {view}.k = t.{key[0]} "
                    "ORDER BY pos"
                )
            else:
                query = (
                    f"SELECT min(pos) AS pos FROM {view} "
                    f"WHERE k NOT IN (SELECT {key[0]} FROM {name}) GROUP BY k ORDER BY pos"
                )
            out = self.con.execute(query).to_arrow_table()
        finally:
            self.con.unregister(view)
        return out.column("pos").combine_chunks()

    def new_rows(self, name: str, data: pa.Table | list[dict]) -> pa.Table:
        """The rows of ``data`` whose key is not in the table (first of repeated keys)."""
        return self._new_rows(name, conform(name, data))

    def _write(self, name: str, rows: pa.Table, written: list[Path]) -> None:
        """Add rows inside the open transaction.

        On a local data path the rows are written as one Parquet file with pyarrow and
        registered with ``ducklake_add_data_files`` (about twice as fast as INSERT);
        a file whose transaction rolls back is deleted, and one orphaned by a crash is
        never referenced by the catalog. Elsewhere (object storage) rows are INSERTed.
        """
        if not self._writes_files(rows):
            view = f"_tm_rows_{name}"
            self.con.register(view, rows)
            try:
                cols = ", ".join(rows.column_names)
                self.con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {view}")
            finally:
                self.con.unregister(view)
            return
        path = self._file_path(name)
        written.append(path)
        self._write_file(rows, path, name)
        self._add_file(name, path)

    def _writes_files(self, rows: pa.Table) -> bool:
        return "://" not in self.config.data_path and rows.num_rows >= _FILE_WRITE_MIN_ROWS

    def _file_path(self, name: str) -> Path:
        import uuid

        folder = Path(self.config.data_path) / "main" / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"tracemill-{uuid.uuid4()}.parquet"

    @staticmethod
    def _write_file(rows: pa.Table, path: Path, name: str) -> Path:
        """Write one data file (no catalog access: safe on a worker thread).

        Dictionary encoding only for columns that repeat values: on a table's own key
        and on long free text it is tried, fails and is dropped, at a cost (~20 % of the
        write of an ingest batch).
        """
        import pyarrow.parquet as pq

        key = table_spec(name).key
        unique = {*_MOSTLY_UNIQUE, *(key if len(key) == 1 else ())}
        dictionary = [c for c in rows.column_names if c not in unique]
        try:
            pq.write_table(
                rows, path, compression="zstd", compression_level=1, use_dictionary=dictionary
            )
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def _add_file(self, name: str, path: Path) -> None:
        self.con.execute(
            f"CALL ducklake_add_data_files({_sql_str(ALIAS)}, {_sql_str(name)}, "
            f"{_sql_str(str(path))})"
        )

    def append_many(
        self,
        batches: Iterable[Mapping[str, pa.Table | list[dict]]],
        *,
        message: str = "append",
        author: str = "tracemill",
        check_keys: bool = True,
        workers: int | None = None,
    ) -> Iterator[dict[str, AppendResult]]:
        """Append batches in order, one transaction each (as :meth:`append`), yielding results.

        With ``check_keys=False`` on an embedded catalog with a local data path, the
        Parquet files of the next ``workers`` batches are written on worker threads while
        earlier batches commit (pyarrow releases the GIL). A batch still commits whole or
        not at all; files written ahead for batches that never commit (an error, or the
        caller stopping early) are deleted, and after a crash they are merely unreferenced.
        """
        if check_keys or not self.config.embedded or "://" in self.config.data_path:
            for tables in batches:
                yield self.append(tables, message=message, author=author, check_keys=check_keys)
            return
        if self.read_only:
            raise CatalogError("catalog is open read-only")
        from collections import deque
        from concurrent.futures import Future, ThreadPoolExecutor

        n_workers = workers or min(os.cpu_count() or 1, 4)
        # (conformed tables, their files being written) or, for a batch that failed to
        # prepare, the error, raised only once every batch before it has committed
        ahead: deque[tuple[dict[str, pa.Table], dict[str, Future[Path]]] | BaseException]
        ahead = deque()
        source = iter(batches)
        committed: set[Path] = set()

        def submit(pool: ThreadPoolExecutor) -> bool:
            try:
                tables = next(source, None)
                if tables is None:
                    return False
                conformed = {name: conform(name, data) for name, data in tables.items()}
            except Exception as e:  # noqa: BLE001 - re-raised in order, below
                ahead.append(e)
                return False
            files = {
                name: pool.submit(self._write_file, rows, self._file_path(name), name)
                for name, rows in conformed.items()
                if self._writes_files(rows)
            }
            ahead.append((conformed, files))
            return True

        pool = ThreadPoolExecutor(n_workers, thread_name_prefix="tm-write")
        try:
            more = True
            while True:
                while more and len(ahead) <= n_workers:
                    more = submit(pool)
                if not ahead:
                    break
                head = ahead[0]  # left in place until committed (cleanup)
                if isinstance(head, BaseException):
                    raise head
                conformed, files = head
                paths = {name: future.result() for name, future in files.items()}

                def transaction(
                    written: list[Path],
                    conformed: dict[str, pa.Table] = conformed,
                    paths: dict[str, Path] = paths,
                ) -> dict[str, AppendResult]:
                    results: dict[str, AppendResult] = {}
                    for name, rows in conformed.items():
                        if name in paths:
                            written.append(paths[name])
                            self._add_file(name, paths[name])
                        elif rows.num_rows:
                            self._write(name, rows, written)
                        results[name] = AppendResult(name, rows.num_rows, 0)
                    if any(r.inserted for r in results.values()):
                        counts = ", ".join(f"{n}+{r.inserted}" for n, r in results.items())
                        self._commit_message(author, f"{message}: {counts}")
                    return results

                result = self._write_transaction(transaction)
                committed.update(paths.values())
                ahead.popleft()
                yield result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            for entry in ahead:
                if isinstance(entry, BaseException):
                    continue
                for future in entry[1].values():
                    if future.done() and not future.cancelled() and future.exception() is None:
                        path = future.result()
                        if path not in committed:
                            path.unlink(missing_ok=True)

    def _new_rows(self, name: str, batch: pa.Table) -> pa.Table:
        if batch.num_rows == 0:
            return batch
        key = table_spec(name).key
        keys = ", ".join(key)
        cols = ", ".join(batch.column_names)
        view = f"_tm_batch_{name}"
        self.con.register(view, batch)
        try:
            if len(key) == 1:
                # NOT IN on a NOT NULL key plans as a fast anti hash join
                new = f"SELECT {cols} FROM {view} WHERE {keys} NOT IN (SELECT {keys} FROM {name})"
            else:
                match = " AND ".join(f"t.{k} = b.{k}" for k in key)
                new = f"SELECT b.* FROM {view} b ANTI JOIN {name} t ON {match}"
            if self._has_duplicate_keys(view, key):
                # the first occurrence of a key within the batch wins
                new = (
                    f"SELECT * FROM (SELECT *, row_number() OVER () AS _tm_pos FROM ({new})) "
                    f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _tm_pos) = 1"
                )
                new = f"SELECT {cols} FROM ({new})"
            out = self.con.execute(new).to_arrow_table()
        finally:
            self.con.unregister(view)
        return out.cast(batch.schema)

    def _has_duplicate_keys(self, view: str, key: tuple[str, ...]) -> bool:
        distinct = key[0] if len(key) == 1 else f"({', '.join(key)})"
        row = self.con.execute(f"SELECT count(*) <> count(DISTINCT {distinct}) FROM {view}")
        return bool(row.fetchone()[0])

    # -- reads ------------------------------------------------------------------

    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run DuckDB SQL with every catalog table available by name."""
        return self.con.execute(query, params or []).to_arrow_table()

    def sql_with(
        self, view: str, table: pa.Table, query: str, params: list[Any] | None = None
    ) -> pa.Table:
        """:meth:`sql` with ``table`` also available as ``view`` (for that query only)."""
        self.con.register(view, table)
        try:
            return self.sql(query, params)
        finally:
            self.con.unregister(view)

    def read(
        self,
        name: str,
        *,
        where: str | None = None,
        columns: list[str] | None = None,
        snapshot: int | None = None,
    ) -> pa.Table:
        """Read a table (optionally filtered, or as of a snapshot) with its exact schema."""
        spec = table_spec(name)
        cols = columns or spec.schema.names
        at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
        query = f"SELECT {', '.join(cols)} FROM {name}{at}"
        if where:
            query += f" WHERE {where}"
        table = self.sql(query)
        schema = pa.schema([spec.schema.field(c) for c in cols])
        return table.cast(schema)

    def count(self, name: str, snapshot: int | None = None) -> int:
        """Number of rows in a table (optionally as of a snapshot)."""
        table_spec(name)
        at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
        return int(self.con.execute(f"SELECT count(*) FROM {name}{at}").fetchone()[0])

    def table_counts(self) -> dict[str, int]:
        """Row counts of every catalog table."""
        return {name: self.count(name) for name in TABLES}

    def snapshots(self) -> pa.Table:
        """All snapshots: id, time, changes, author, commit message."""
        return self.sql(
            "SELECT snapshot_id, snapshot_time, schema_version, changes::VARCHAR AS changes, "
            f"author, commit_message FROM ducklake_snapshots({_sql_str(ALIAS)}) "
            "ORDER BY snapshot_id"
        )

    def current_snapshot(self) -> int:
        """The id of the latest snapshot."""
        return int(self.con.execute(f"FROM {ALIAS}.current_snapshot()").fetchone()[0])


@contextmanager
def open_catalog(
    location: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    lock_timeout_s: float = 30.0,
) -> Iterator[CatalogStore]:
    """Open the catalog at ``location`` (default: ``$TRACEMILL_CATALOG`` or ./tracemill-data)."""
    store = CatalogStore(
        CatalogConfig.resolve(location), read_only=read_only, lock_timeout_s=lock_timeout_s
    )
    try:
        yield store
    finally:
        store.close()
