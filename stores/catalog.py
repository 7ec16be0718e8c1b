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

Distributed writers (Ray workers) never open the catalog: each writes its rows as one
Parquet data file under the catalog's data path (:func:`write_data_file`, local or
object storage) and returns a :class:`DataFile`; the driver commits files with
:meth:`CatalogStore.commit_files`, which checks their keys in the commit's transaction,
so a file whose rows landed already (a retried task, a second driver) adds nothing.

Readers during writes on an embedded catalog: a long-running flow opens the catalog with
``release=True`` and takes the file lock only for each operation (a batch's read or
commit), so other processes get in between batches. A read-only store copies the
metadata file under a brief shared lock and reads the copy, so a long query never holds
the lock a writer needs. A lock error names the holder (pid, command, since when).

Object storage (``s3://``): endpoint and credentials come from the environment
(:class:`ObjectStorage`): ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_REGION``, and for S3-compatible servers
``TRACEMILL_S3_ENDPOINT`` (or ``AWS_ENDPOINT_URL``) and ``TRACEMILL_S3_URL_STYLE``.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import random
import re
import shutil
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
HOLDER_FILE = "writer.json"
READERS_DIR = "readers"
"""Beside an embedded catalog's metadata: one marker file per reader waiting for the lock."""
READER_YIELD_S = 2.0
"""The longest an embedded writer waits for waiting readers before it takes the lock."""
"""Beside an embedded catalog's metadata while a process holds its write lock: who."""
S3_ENDPOINT_ENV = "TRACEMILL_S3_ENDPOINT"
S3_URL_STYLE_ENV = "TRACEMILL_S3_URL_STYLE"


class CatalogError(RuntimeError):
    """A catalog operation failed."""


class CatalogStorageError(CatalogError, ConnectionError):
    """The catalog's data files cannot be read or written (object storage down, …).

    An expected failure (one line, exit code 1), and one that may pass: Prefect retries it.
    """


def storage_error(err: Exception, doing: str, where: str) -> CatalogStorageError:
    """``err`` (a DuckDB I/O error) as one clear :class:`CatalogStorageError`."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    reason = lines[0] if lines else type(err).__name__
    return CatalogStorageError(f"cannot {doing} {where}: {reason}")


class CatalogLockedError(CatalogError):
    """Another process holds the embedded catalog's write lock."""


@dataclass(frozen=True)
class ObjectStorage:
    """How to reach an S3-compatible object store (from the environment).

    ``endpoint`` is None for AWS itself; for another S3 server (SeaweedFS, MinIO, Ceph,
    R2, …) it is its URL, e.g. ``http://127.0.0.1:8333``, and addressing defaults to
    path style. Credentials never come from recipes or command lines.
    """

    endpoint: str | None = None
    region: str = "us-east-1"
    url_style: str = "vhost"
    key_id: str | None = field(default=None, repr=False)
    secret: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ObjectStorage:
        """Read the settings from ``env`` (default: the process environment)."""
        env = os.environ if env is None else env
        endpoint = (
            env.get(S3_ENDPOINT_ENV) or env.get("AWS_ENDPOINT_URL_S3")
            or env.get("AWS_ENDPOINT_URL") or None
        )  # fmt: skip
        style = env.get(S3_URL_STYLE_ENV) or ("path" if endpoint else "vhost")
        if style not in ("path", "vhost"):
            raise CatalogError(f"{S3_URL_STYLE_ENV} must be 'path' or 'vhost', not {style!r}")
        return cls(
            endpoint=endpoint,
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            url_style=style,
            key_id=env.get("AWS_ACCESS_KEY_ID") or None,
            secret=env.get("AWS_SECRET_ACCESS_KEY") or None,
            session_token=env.get("AWS_SESSION_TOKEN") or None,
        )

    @property
    def use_ssl(self) -> bool:
        """False only for an ``http://`` endpoint."""
        return not (self.endpoint or "").lower().startswith("http://")

    def duckdb_secret_sql(self) -> str:
        """``CREATE SECRET`` giving DuckDB's httpfs these settings."""
        parts = [
            "TYPE s3", f"REGION {_sql_str(self.region)}", f"URL_STYLE {_sql_str(self.url_style)}"
        ]  # fmt: skip
        if self.endpoint:
            host = re.sub(r"^https?://", "", self.endpoint).rstrip("/")
            parts += [f"ENDPOINT {_sql_str(host)}", f"USE_SSL {str(self.use_ssl).lower()}"]
        if self.key_id and self.secret:
            parts += [f"KEY_ID {_sql_str(self.key_id)}", f"SECRET {_sql_str(self.secret)}"]
            if self.session_token:
                parts.append(f"SESSION_TOKEN {_sql_str(self.session_token)}")
        return f"CREATE OR REPLACE SECRET tracemill_s3 ({', '.join(parts)})"

    def filesystem(self, *, allow_bucket_creation: bool = False) -> Any:
        """A :class:`pyarrow.fs.S3FileSystem` with these settings."""
        from pyarrow import fs

        kwargs: dict[str, Any] = {
            "region": self.region, "allow_bucket_creation": allow_bucket_creation
        }  # fmt: skip
        if self.endpoint:
            kwargs["endpoint_override"] = re.sub(r"^https?://", "", self.endpoint).rstrip("/")
            kwargs["scheme"] = "https" if self.use_ssl else "http"
            kwargs["force_virtual_addressing"] = self.url_style == "vhost"
        if self.key_id and self.secret:
            kwargs.update(access_key=self.key_id, secret_key=self.secret)
            if self.session_token:
                kwargs["session_token"] = self.session_token
        return fs.S3FileSystem(**kwargs)


@dataclass(frozen=True)
class DataFile:
    """A Parquet data file a worker wrote for a table, waiting to be committed."""

    table: str
    path: str
    """Local path or object-storage URL (``s3://bucket/…``)."""
    rows: int


def _is_s3(path: str) -> bool:
    return path.lower().startswith(("s3://", "s3a://"))


def _s3_key(path: str) -> str:
    """``bucket/key`` of an ``s3://bucket/key`` URL (what pyarrow's S3 filesystem takes)."""
    return path.split("://", 1)[1]


def _join(base: str, *parts: str) -> str:
    if "://" in base:
        return base.rstrip("/") + "/" + "/".join(parts)
    return str(Path(base, *parts))


def _delete_file(path: str, storage: ObjectStorage | None = None) -> None:
    """Delete a data file (local or ``s3://``); a missing one is fine."""
    if _is_s3(path):
        try:
            (storage or ObjectStorage.from_env()).filesystem().delete_file(_s3_key(path))
        except (FileNotFoundError, OSError):
            log.debug("could not delete %s", path, exc_info=True)
        return
    Path(path).unlink(missing_ok=True)


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
    def remote_data(self) -> bool:
        """True when data files live in object storage (``s3://``, ``gs://``, …)."""
        return self.data_path.lower().startswith(_REMOTE_DATA_PREFIXES)

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


TRUST_EXTENSIONS_ENV = "TRACEMILL_TRUST_EXTENSIONS"
"""Set to 1 to skip DuckDB's signature check of the packaged extensions at each load."""


def _duckdb_config(*, autoload: bool) -> dict[str, Any]:
    """Connection settings of a catalog connection.

    DuckDB checks an extension's signature at each ``LOAD`` by hashing the whole file
    (36 MB for DuckLake: 0.2-0.6 s in every process that opens a catalog, most of a
    ``tracemill sql`` read). The check stays on by default: turning it off lets any SQL
    on the connection load unsigned extensions. ``$TRACEMILL_TRUST_EXTENSIONS=1`` skips
    it where the wheels pip checked against the lock's hashes are trusted as they are.
    """
    trust = os.environ.get(TRUST_EXTENSIONS_ENV, "").strip().lower() in ("1", "true", "yes")
    return {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": autoload,
        "allow_unsigned_extensions": trust,
    }


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


def _named_dsn(dsn: str) -> str:
    """``dsn`` with an ``application_name`` saying which tracemill process this is.

    PostgreSQL shows it in ``pg_stat_activity``, so a writer that waits for the lock can
    name the holder. Left alone when the DSN names one or is a URI.
    """
    if "://" in dsn or "application_name" in dsn:
        return dsn
    command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv))[:40]
    name = re.sub(r"[^A-Za-z0-9 ._:/=-]", "", f"tracemill pid {os.getpid()}: {command}")
    return f"{dsn} application_name='{name}'"


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


WORKER_FILE_PREFIX = "tracemill-worker"
"""Name prefix of files written by distributed workers (:func:`write_data_file`): they
wait outside any transaction until the driver commits them, so the clean-up a writer
runs when it opens (stores/gc.py) must not take them for a crashed write's debris."""
WORKER_OWNER_ENV = "TRACEMILL_WORKER_OWNER"
"""The process that commits a worker's data files (``host_pid_started``, see
:func:`process_owner`): a Ray driver passes itself to its workers under this name, and
it goes into each worker file's name, so ``tracemill gc`` can tell an in-flight file
(its driver runs) from a killed worker's (its driver is gone)."""


def owner_host() -> str:
    """The host name as worker file names carry it (letters, digits, dots and dashes)."""
    return re.sub(r"[^A-Za-z0-9.-]", "", socket.gethostname())[:48] or "host"


def process_owner(pid: int | None = None) -> str:
    """``host_pid_started`` of a process (default: this one), as worker file names carry it.

    ``started`` (the process's start time, whole seconds since the epoch) tells a live
    owner from a later process that reused its pid. 0 where it cannot be read.
    """
    pid = os.getpid() if pid is None else pid
    host = owner_host()
    try:
        import psutil

        started = round(psutil.Process(pid).create_time())
    except Exception:  # noqa: BLE001 - psutil missing or the process gone: unknown start
        started = 0
    return f"{host}_{pid}_{started}"


def _worker_file_prefix() -> str:
    owner = os.environ.get(WORKER_OWNER_ENV) or process_owner()
    if not re.fullmatch(r"[A-Za-z0-9.-]+_[0-9]+_[0-9]+", owner):
        raise CatalogError(f"${WORKER_OWNER_ENV} must look like host_pid_started, not {owner!r}")
    return f"{WORKER_FILE_PREFIX}-{owner}"


def data_file_location(config: CatalogConfig, name: str, prefix: str = "tracemill") -> str:
    """A fresh data-file location for table ``name`` under the catalog's data path."""
    table_spec(name)
    return _join(config.data_path, "main", name, f"{prefix}-{uuid.uuid4()}.parquet")


def write_data_file(
    config: CatalogConfig,
    name: str,
    data: pa.Table | list[dict],
    *,
    storage: ObjectStorage | None = None,
) -> DataFile | None:
    """Write rows of table ``name`` as one Parquet file under the catalog's data path.

    What a distributed worker does instead of opening the catalog: the file is conformed
    to the table's schema, written locally or to object storage (``s3://``; settings from
    ``storage`` or the environment), and committed later by the driver with
    :meth:`CatalogStore.commit_files`. Returns None for no rows. A file that is never
    committed is never referenced by the catalog; its name
    (``tracemill-worker-<owner>-<uuid>.parquet``) names the process that will commit it
    (``$TRACEMILL_WORKER_OWNER``, else this process), so ``tracemill gc`` leaves it alone
    while that process runs and removes it once it is gone.
    """
    rows = conform(name, data)
    if rows.num_rows == 0:
        return None
    path = data_file_location(config, name, _worker_file_prefix())
    _write_parquet(rows, path, name, storage)
    return DataFile(name, path, rows.num_rows)


def _write_parquet(
    rows: pa.Table, path: str, name: str, storage: ObjectStorage | None = None
) -> None:
    """Write one data file, locally or to ``s3://`` (nothing left behind on failure).

    Dictionary encoding only for columns that repeat values: on a table's own key and on
    long free text it is tried, fails and is dropped, at a cost (~20 % of the write of an
    ingest batch).
    """
    import pyarrow.parquet as pq

    key = table_spec(name).key
    unique = {*_MOSTLY_UNIQUE, *(key if len(key) == 1 else ())}
    dictionary = [c for c in rows.column_names if c not in unique]
    options: dict[str, Any] = {
        "compression": "zstd", "compression_level": 1, "use_dictionary": dictionary
    }  # fmt: skip
    if _is_s3(path):
        storage = storage or ObjectStorage.from_env()
        try:
            pq.write_table(rows, _s3_key(path), filesystem=storage.filesystem(), **options)
        except BaseException:
            _delete_file(path, storage)
            raise
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        pq.write_table(rows, path, **options)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


def _read_parquet(path: str, storage: ObjectStorage | None, columns: list[str] | None) -> pa.Table:
    import pyarrow.parquet as pq

    if _is_s3(path):
        fs = (storage or ObjectStorage.from_env()).filesystem()
        return pq.read_table(_s3_key(path), filesystem=fs, columns=columns)
    return pq.read_table(path, columns=columns)


def _held(method: Callable[..., _T]) -> Callable[..., _T]:
    """Run a store method with the catalog attached (see :meth:`CatalogStore.hold`)."""
    import functools

    @functools.wraps(method)
    def wrapper(self: CatalogStore, *args: Any, **kwargs: Any) -> _T:
        with self.hold():
            return method(self, *args, **kwargs)

    return wrapper


class CatalogStore:
    """An open connection to a catalog. Use :func:`open_catalog` to get one."""

    def __init__(
        self,
        config: CatalogConfig,
        *,
        read_only: bool = False,
        lock_timeout_s: float = 30.0,
        release: bool = False,
    ) -> None:
        self.config = config
        self.read_only = read_only
        self.lock_timeout_s = lock_timeout_s
        self._lock_con: Any = None
        self._release = release and config.embedded and not read_only
        self._depth = 0
        self._attached = False
        self._snapshot_dir: Path | None = None
        self._storage: ObjectStorage | None = None
        self.con = self._connect()
        try:
            self._attach(lock_timeout_s)
            if not read_only:
                from tracemill.stores.gc import remove_orphans_on_open

                with self.hold():  # both in one attach (creating tables must not release it)
                    self._ensure_tables()
                    remove_orphans_on_open(self)  # what crashed writes left (stores/gc.py)
        except BaseException:
            self.close()
            raise
        if self._release:
            self.release()

    # -- connection -------------------------------------------------------------

    @property
    def storage(self) -> ObjectStorage:
        """Object-storage settings (from the environment when the store opened)."""
        if self._storage is None:
            self._storage = ObjectStorage.from_env()
        return self._storage

    def _connect(self) -> Any:
        """A DuckDB connection with the extensions (and object-storage secret) loaded."""
        import duckdb

        cfg = self.config
        if cfg.embedded:
            assert cfg.root is not None
            if self.read_only and not Path(cfg.metadata).exists():
                raise CatalogError(f"no catalog at {cfg.root} (nothing ingested yet?)")
            cfg.root.mkdir(parents=True, exist_ok=True)
            if "://" not in cfg.data_path:
                Path(cfg.data_path).mkdir(parents=True, exist_ok=True)
        elif not self.read_only and "://" not in cfg.data_path:
            Path(cfg.data_path).mkdir(parents=True, exist_ok=True)
        # resolve every extension first: a missing package is a CatalogError, no connection
        extensions = [ducklake_extension_path()]
        extensions += [extension_path(package, name) for package, name in cfg.extensions]
        con = duckdb.connect(config=_duckdb_config(autoload=True))
        con.execute("SET TimeZone = 'UTC'")
        for path in extensions:
            con.execute(f"LOAD {_sql_str(path)}")
        if _is_s3(cfg.data_path):
            con.execute(self.storage.duckdb_secret_sql())
        return con

    def _attach(self, lock_timeout_s: float) -> None:
        """Attach the catalog (waiting for an embedded catalog's lock) and ``USE`` it."""
        import duckdb

        cfg = self.config
        metadata = cfg.metadata
        if cfg.embedded and self.read_only:
            metadata = self._snapshot_metadata(lock_timeout_s)
        opts = [f"DATA_PATH {_sql_str(cfg.data_path)}", "DATA_INLINING_ROW_LIMIT 0"]
        if self.read_only:
            opts.append("READ_ONLY")
        attach = f"ATTACH {_sql_str('ducklake:' + metadata)} AS {ALIAS} ({', '.join(opts)})"
        if cfg.embedded and not self.read_only:
            self._yield_to_readers()
        deadline = time.monotonic() + lock_timeout_s
        delay = 0.02
        init_races = 0
        while True:
            try:
                self.con.execute(attach)
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
                    raise CatalogError(f"cannot open catalog {cfg.metadata}: {e}") from e
                if time.monotonic() >= deadline:
                    raise self._locked_error(e, lock_timeout_s) from e
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
        self.con.execute(f"USE {ALIAS}")
        self._attached = True
        if cfg.embedded and not self.read_only:
            self._write_holder()

    def _snapshot_metadata(self, lock_timeout_s: float) -> str:
        """Copy an embedded catalog's metadata under a brief shared lock; the copy's path.

        A reader then holds no lock while it queries (data files are immutable), so a long
        query never stalls a writer; it reads the catalog as of its opening.
        """
        import duckdb

        src = Path(self.config.metadata)
        deadline = time.monotonic() + lock_timeout_s
        marker: Path | None = None
        try:
            while True:
                try:
                    guard = duckdb.connect(str(src), read_only=True)
                    break
                except duckdb.Error as e:
                    if not _is_lock_error(e):
                        raise CatalogError(f"cannot open catalog {src}: {e}") from e
                    if time.monotonic() >= deadline:
                        raise self._locked_error(e, lock_timeout_s) from e
                    if marker is None:  # ask writers to leave a gap (see _yield_to_readers)
                        name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                        marker = self._readers_dir() / name
                        marker.parent.mkdir(exist_ok=True)
                        marker.touch()
                    time.sleep(0.01)
        finally:
            if marker is not None:
                marker.unlink(missing_ok=True)
        try:
            if self._snapshot_dir is None:
                self._snapshot_dir = Path(tempfile.mkdtemp(prefix="tracemill-read-"))
            dst = self._snapshot_dir / src.name
            shutil.copyfile(src, dst)
            wal = src.with_name(src.name + ".wal")
            if wal.exists():
                shutil.copyfile(wal, dst.with_name(dst.name + ".wal"))
        finally:
            guard.close()
        return str(dst)

    def _readers_dir(self) -> Path:
        assert self.config.root is not None
        return self.config.root / READERS_DIR

    def _yield_to_readers(self, max_wait_s: float = READER_YIELD_S) -> None:
        """Before an embedded writer takes the lock: wait while readers wait for it.

        A reader that finds the catalog locked leaves a marker file until it has copied
        the metadata (milliseconds), so a writer committing batch after batch still lets
        it in. Markers older than a few seconds (a crashed reader) are ignored.
        """
        folder = self._readers_dir()
        deadline = time.monotonic() + max_wait_s
        while time.monotonic() < deadline:
            try:
                now = time.time()
                waiting = []
                for marker in folder.iterdir():
                    age = now - marker.stat().st_mtime
                    if age < 5.0:
                        waiting.append(marker)
                    elif age > 60.0:  # a crashed reader's
                        marker.unlink(missing_ok=True)
            except OSError:
                return
            if not waiting:
                return
            time.sleep(0.005)

    # -- who holds an embedded catalog ---------------------------------------------

    def _holder_path(self) -> Path:
        assert self.config.root is not None
        return self.config.root / HOLDER_FILE

    def _write_holder(self) -> None:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv) or sys.executable,
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        try:
            tmp = self._holder_path().with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(info), encoding="utf-8")
            tmp.replace(self._holder_path())
        except OSError:
            log.debug("could not record the lock holder", exc_info=True)

    def _clear_holder(self) -> None:
        path = self._holder_path()
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
            if info.get("pid") == os.getpid() and info.get("host") == socket.gethostname():
                path.unlink(missing_ok=True)
        except (OSError, ValueError):
            pass

    def lock_holder(self) -> str | None:
        """Who holds this embedded catalog's write lock, as a phrase (None if unknown)."""
        if not self.config.embedded:
            return None
        try:
            info = json.loads(self._holder_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return (
            f"pid {info.get('pid')} on {info.get('host')} ({info.get('command')!r}), "
            f"holding it since {info.get('since')}"
        )

    def _locked_error(self, err: Exception, waited_s: float) -> CatalogLockedError:
        holder = self.lock_holder()
        if holder is None:
            found = re.search(r"held in (.+?) \(PID (\d+)\)", str(err))
            holder = f"pid {found.group(2)} ({found.group(1)})" if found else "another process"
        return CatalogLockedError(
            f"catalog {self.config.metadata} is locked by {holder} (waited {waited_s:.0f}s). "
            "An embedded catalog admits one writer at a time (long flows release it between "
            "batches); use a PostgreSQL catalog for concurrent writers."
        )

    # -- holding and releasing -------------------------------------------------------

    @contextmanager
    def hold(self) -> Iterator[CatalogStore]:
        """Keep the catalog attached for the operations inside (released after, if asked)."""
        if not self._attached:
            self._attach(self.lock_timeout_s)
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0 and self._release:
                self.release()

    def release(self) -> None:
        """Let other processes take an embedded catalog until this store's next operation.

        A no-op for shared catalogs, for read-only stores, and inside :meth:`hold`.
        """
        if not self._attached or self._depth or not self.config.embedded or self.read_only:
            return
        try:
            self.con.execute("USE memory")
            self.con.execute(f"DETACH {ALIAS}")
        finally:
            self._attached = False
            self._clear_holder()

    def _missing_tables(self) -> list[str]:
        existing = {
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ?", [ALIAS]
            ).fetchall()
        }
        return [n for n in TABLES if n not in existing]

    def _missing_columns(self) -> list[tuple[str, pa.Field]]:
        """Columns the schemas declare that the catalog's existing tables lack (oldest code)."""
        have: dict[str, set[str]] = {}
        for table, column in self.con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = ?",
            [ALIAS],
        ).fetchall():
            have.setdefault(table, set()).add(column)
        return [
            (name, f)
            for name, spec in TABLES.items()
            if name in have
            for f in spec.schema
            if f.name not in have[name]
        ]

    def _ensure_tables(self) -> None:
        """Create missing tables and add columns that newer schemas declare (additive only).

        A catalog written by an older tracemill gains the new columns here, in one
        transaction, on the first open for writing; rows written before read them as null.
        """
        if not self._missing_tables() and not self._missing_columns():
            return

        def create(written: list[Path]) -> None:
            # again, inside the transaction: another writer may have done it meanwhile
            missing = self._missing_tables()
            for name in missing:
                self.con.execute(create_table_sql(name))
            added = self._missing_columns()
            for name, f in added:
                if not f.nullable:
                    raise CatalogError(
                        f"cannot add column {name}.{f.name} to an existing catalog: only "
                        "nullable columns can be added"
                    )
                self.con.execute(f"ALTER TABLE {name} ADD COLUMN {f.name} {_ddl_type(f.type)}")
            changes = []
            if missing:
                changes.append("create tables " + ", ".join(missing))
            if added:
                changes.append("add columns " + ", ".join(f"{n}.{f.name}" for n, f in added))
            if changes:
                self._commit_message("tracemill", "; ".join(changes))

        self._write_transaction(create)

    @_held
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
            written: list[Any] = []
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
                            _delete_file(str(path), self._storage)
                        raise
                return result
            except duckdb.Error as e:
                if attempt >= attempts or not _is_conflict_error(e):
                    if isinstance(e, duckdb.IOException):
                        where = f"the catalog's data path {self.config.data_path}"
                        raise storage_error(e, "write to", where) from e
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
            lock_con = duckdb.connect(config=_duckdb_config(autoload=False))
            try:
                path = extension_path("duckdb-extension-postgres-scanner", "postgres_scanner")
                lock_con.execute(f"LOAD {_sql_str(path)}")
                lock_con.execute(f"ATTACH {_sql_str(_named_dsn(dsn))} AS pg (TYPE postgres)")
            except duckdb.Error as e:
                lock_con.close()
                raise CatalogError(f"cannot open catalog {self.config.metadata}: {e}") from e
            self._lock_con = lock_con
        lock_con = self._lock_con
        timeout_ms = max(1, int(self.lock_timeout_s * 1000))
        timed_out: BaseException | None = None
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
                timed_out = e
            if timed_out is None:
                yield
        finally:
            # ending the PostgreSQL transaction releases the transaction-level lock
            try:
                lock_con.execute("ROLLBACK")
            except Exception:  # noqa: BLE001 - a dead connection released the lock anyway
                log.debug("releasing the writer lock failed", exc_info=True)
        if timed_out is not None:
            raise CatalogLockedError(
                f"catalog {self.config.metadata}: {self._pg_lock_holder()} held the writer "
                f"lock for {self.lock_timeout_s:.0f}s"
            ) from timed_out

    def _pg_lock_holder(self) -> str:
        """Who holds the PostgreSQL writer lock: pid, application (tracemill's command), since."""
        hi, lo = _WRITER_LOCK_ID >> 32, _WRITER_LOCK_ID & 0xFFFFFFFF
        query = (
            "SELECT a.pid, a.application_name, a.client_addr::text AS addr, "
            "a.xact_start::text AS since FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            f"WHERE l.locktype = 'advisory' AND l.granted AND l.classid = {hi} "
            f"AND l.objid = {lo} AND l.objsubid = 1"
        )
        try:
            rows = self._lock_con.execute(
                "SELECT * FROM postgres_query('pg', ?)", [query]
            ).fetchall()
        except Exception:  # noqa: BLE001 - the lock error matters more than its details
            log.debug("could not read the writer lock's holder", exc_info=True)
            rows = []
        if not rows:
            return "another writer"
        pid, app, addr, since = rows[0]
        where = f" from {addr}" if addr else ""
        client = app or "unnamed client"
        return f"backend pid {pid} ({client}{where}, in its transaction since {since})"

    def close(self) -> None:
        """Close the connection (releases the embedded catalog's lock)."""
        for con in (getattr(self, "con", None), self._lock_con):
            if con is None:
                continue
            try:
                con.close()
            except Exception:  # noqa: BLE001 - closing twice is harmless
                log.debug("closing catalog connection failed", exc_info=True)
        if self._attached and self.config.embedded and not self.read_only:
            self._clear_holder()
        self._attached = False
        if self._snapshot_dir is not None:
            shutil.rmtree(self._snapshot_dir, ignore_errors=True)
            self._snapshot_dir = None

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

    @_held
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

    @_held
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

    @_held
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
        _write_parquet(rows, str(path), name)
        return path

    def _add_file(self, name: str, path: Path | str) -> None:
        self.con.execute(
            f"CALL ducklake_add_data_files({_sql_str(ALIAS)}, {_sql_str(name)}, "
            f"{_sql_str(str(path))})"
        )

    def commit_files(
        self,
        files: Iterable[DataFile | None],
        *,
        message: str = "commit files",
        author: str = "tracemill",
    ) -> dict[str, AppendResult]:
        """Commit data files written by workers (:func:`write_data_file`) in one transaction.

        Each file's keys are checked against its table inside the transaction (under the
        writer lock on a shared catalog): a file whose rows are all new is registered as it
        is (``ducklake_add_data_files``, no copy); one whose rows all exist (a retried task,
        another driver) adds nothing and is deleted after the commit; a file with some new
        rows is replaced by a file of just those. So committing a file twice, or two files
        with the same rows, never duplicates a row. Counts are per table.
        """
        if self.read_only:
            raise CatalogError("catalog is open read-only")
        todo = [f for f in files if f is not None]
        for f in todo:
            table_spec(f.table)
        obsolete: list[str] = []

        def transaction(written: list[Any]) -> dict[str, AppendResult]:
            obsolete.clear()
            inserted: dict[str, int] = {}
            skipped: dict[str, int] = {}
            for f in todo:
                key = list(table_spec(f.table).key)
                keys = _read_parquet(f.path, self._storage, key)
                new = self._new_key_positions(f.table, keys)
                if len(new) == keys.num_rows:
                    self._add_file(f.table, f.path)
                elif len(new) == 0:
                    obsolete.append(f.path)
                else:
                    rows = _read_parquet(f.path, self._storage, None).take(new)
                    path = data_file_location(self.config, f.table)
                    written.append(path)
                    _write_parquet(conform(f.table, rows), path, f.table, self._storage)
                    self._add_file(f.table, path)
                    obsolete.append(f.path)
                inserted[f.table] = inserted.get(f.table, 0) + len(new)
                skipped[f.table] = skipped.get(f.table, 0) + keys.num_rows - len(new)
            results = {t: AppendResult(t, inserted[t], skipped[t]) for t in inserted}
            if any(r.inserted for r in results.values()):
                counts = ", ".join(f"{n}+{r.inserted}" for n, r in results.items())
                self._commit_message(author, f"{message}: {counts}")
            return results

        results = self._write_transaction(transaction)
        for path in obsolete:  # only once committed: a rolled-back attempt may need them
            _delete_file(path, self._storage)
        return results

    def _new_key_positions(self, name: str, keys: pa.Table) -> pa.Array:
        """Positions (ascending) of the first occurrence of each key the table lacks.

        ``keys`` holds the table's key columns (one or several). Sees rows added earlier in
        the open transaction.
        """
        import numpy as np

        key = list(table_spec(name).key)
        if keys.num_rows == 0:
            return pa.array([], pa.int64())
        if len(key) == 1:
            return self.new_positions(name, keys.column(key[0]))
        view = f"_tm_fkeys_{name}"
        positions = pa.array(np.arange(keys.num_rows, dtype=np.int64))
        self.con.register(view, keys.append_column("_tm_pos", positions))
        try:
            match = " AND ".join(f"t.{k} = b.{k}" for k in key)
            out = self.con.execute(
                f"SELECT min(_tm_pos) AS pos FROM {view} b ANTI JOIN {name} t ON {match} "
                f"GROUP BY {', '.join('b.' + k for k in key)} ORDER BY pos"
            ).to_arrow_table()
        finally:
            self.con.unregister(view)
        return out.column("pos").combine_chunks()

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

    @_held
    def sql(self, query: str, params: list[Any] | None = None) -> pa.Table:
        """Run DuckDB SQL with every catalog table available by name.

        An I/O error (object storage down, a data file gone) is a
        :class:`CatalogStorageError`; other DuckDB errors are raised as they are.
        """
        import duckdb

        try:
            return self.con.execute(query, params or []).to_arrow_table()
        except duckdb.IOException as e:
            where = f"(data path {self.config.data_path})"
            raise storage_error(e, "read the catalog", where) from e

    def sql_with(
        self, view: str, table: pa.Table, query: str, params: list[Any] | None = None
    ) -> pa.Table:
        """:meth:`sql` with ``table`` also available as ``view`` (for that query only)."""
        self.con.register(view, table)  # a connection-level view: no catalog access
        try:
            return self.sql(query, params)
        finally:
            self.con.unregister(view)

    @_held
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
        present = self._columns_of(name, snapshot)
        # columns added by a newer schema read as null where this catalog (or snapshot)
        # predates them (a read-only open never migrates)
        select = [
            c if c in present else f"NULL::{_ddl_type(spec.schema.field(c).type)} AS {c}"
            for c in cols
        ]
        query = f"SELECT {', '.join(select)} FROM {name}{at}"
        if where:
            query += f" WHERE {where}"
        table = self.sql(query)
        schema = pa.schema([spec.schema.field(c) for c in cols])
        return table.cast(schema)

    def _columns_of(self, name: str, snapshot: int | None = None) -> set[str]:
        """Column names of table ``name`` (as of ``snapshot``)."""
        at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {name}{at}").fetchall()
        return {r[0] for r in rows}

    @_held
    def count(self, name: str, snapshot: int | None = None) -> int:
        """Number of rows in a table (optionally as of a snapshot)."""
        table_spec(name)
        at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
        return int(self.con.execute(f"SELECT count(*) FROM {name}{at}").fetchone()[0])

    @_held
    def table_counts(self) -> dict[str, int]:
        """Row counts of every catalog table."""
        return {name: self.count(name) for name in TABLES}

    @_held
    def snapshots(self) -> pa.Table:
        """All snapshots: id, time, changes, author, commit message."""
        return self.sql(
            "SELECT snapshot_id, snapshot_time, schema_version, changes::VARCHAR AS changes, "
            f"author, commit_message FROM ducklake_snapshots({_sql_str(ALIAS)}) "
            "ORDER BY snapshot_id"
        )

    @_held
    def current_snapshot(self) -> int:
        """The id of the latest snapshot."""
        return int(self.con.execute(f"FROM {ALIAS}.current_snapshot()").fetchone()[0])


@contextmanager
def open_catalog(
    location: str | os.PathLike[str] | None = None,
    *,
    read_only: bool = False,
    lock_timeout_s: float = 30.0,
    release: bool = False,
) -> Iterator[CatalogStore]:
    """Open the catalog at ``location`` (default: ``$TRACEMILL_CATALOG`` or ./tracemill-data).

    ``release=True``: an embedded catalog is locked only during each operation (long
    flows use it so that other processes get in between their batches).
    """
    store = CatalogStore(
        CatalogConfig.resolve(location), read_only=read_only, lock_timeout_s=lock_timeout_s,
        release=release,
    )  # fmt: skip
    try:
        yield store
    finally:
        store.close()
