r"""Stable content ids for catalog rows.

Normalization of a question for `problem_id` (rules are part of the contract; changing
them changes every id):

1. Unicode NFC normalization (composed and decomposed accents become one form).
2. Every run of whitespace characters (exactly the characters for which Python's
   ``str.isspace`` is true, listed in ``WHITESPACE``) becomes one ASCII space.
3. Leading and trailing spaces are removed.

Case, punctuation, digits and LaTeX are kept as they are: ``X`` and ``x`` are different
variables, and ``\frac12`` is not ``\frac{1}{2}`` textually. Curation's exact dedup
applies a more aggressive normalization on top of this one.

``problem_id = md5(domain + "\n" + normalized_question)`` as 32 hex digits.
``sample_id = md5(problem_id \n model \n canonical_json(params) \n sample_index)``.
Canonical JSON sorts keys and uses ``(",", ":")`` separators. MD5 is used as a stable,
fast content fingerprint (DuckDB computes it vectorized), not for security.

Each id has a scalar form (pure Python) and a vectorized form over Arrow arrays that
runs in an in-memory DuckDB connection; tests assert the two agree.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

ID_HEX_LEN = 32

# Characters for which str.isspace() is true, as explicit code points, so that the
# Python and the DuckDB (RE2) implementations use the very same set. Listed rather than
# found by scanning all of Unicode at import (~0.5 s in every process: each CLI command,
# each Ray worker); tests/catalogs/test_ids.py checks the list against str.isspace.
WHITESPACE: tuple[int, ...] = (
    0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
    0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
    0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
)  # fmt: skip
_PY_WS = re.compile("[" + "".join(re.escape(chr(c)) for c in WHITESPACE) + "]+")
_RE2_WS = "[" + "".join(f"\\x{{{c:04X}}}" for c in WHITESPACE) + "]+"
# Rows that need no rewriting (only single inner ASCII spaces) skip the costly replace.
_RE2_NEEDS_WORK = "[" + "".join(f"\\x{{{c:04X}}}" for c in WHITESPACE if c != 0x20) + "]|  |^ | $"


def normalize_question(text: str) -> str:
    """Normalize a question for hashing (NFC, whitespace runs → one space, stripped)."""
    return _PY_WS.sub(" ", unicodedata.normalize("NFC", text)).strip(" ")


def _digest(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def problem_id(domain: str, question: str) -> str:
    """The stable id of a problem: hash of its domain and normalized question."""
    return _digest(f"{domain}\n{normalize_question(question)}")


def canonical_json(value: Any) -> str:
    """JSON text with sorted keys and no spaces: equal values give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sample_id(problem: str, model: str, params: dict[str, Any] | str, index: int) -> str:
    """The stable id of a sample: hash of problem id, model, sampling params and index."""
    params_text = params if isinstance(params, str) else canonical_json(params)
    return _digest(f"{problem}\n{model}\n{params_text}\n{int(index)}")


def config_id(value: Any) -> str:
    """Hash of a parameter set (used for dedup configs and grading params)."""
    return _digest(canonical_json(value))


def new_run_id() -> str:
    """A sortable unique run id: UTC time then random hex."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:12]


# --- vectorized forms --------------------------------------------------------------

_local = threading.local()


_inherited: list[Any] = []
"""Connections a forked child inherited: kept, never closed (closing one there crashes)."""


def _connect() -> Any:
    import duckdb

    return duckdb.connect(config={"autoload_known_extensions": False})


def _duck() -> Any:
    con = getattr(_local, "con", None)
    if con is None or getattr(_local, "pid", None) != os.getpid():  # none yet, or forked
        if con is not None:
            _inherited.append(con)
        con = _connect()
        _local.con, _local.pid = con, os.getpid()
    return con


# ``ok``: printable ASCII only (computed by pyarrow), so NFC leaves the text alone and
# the only whitespace is the ASCII space; such a row needs no rewriting unless it has a
# double space or a space at either end. Other rows take the full path.
_PROBLEM_SQL = (
    "SELECT md5(d || chr(10) || CASE "
    "WHEN ok AND NOT contains(q, '  ') AND NOT prefix(q, ' ') AND NOT suffix(q, ' ') THEN q "
    "WHEN regexp_matches(nfc_normalize(q), '" + _RE2_NEEDS_WORK + "') "
    "THEN trim(regexp_replace(nfc_normalize(q), '" + _RE2_WS + "', ' ', 'g'), ' ') "
    "ELSE nfc_normalize(q) END) AS id "
    "FROM _ids_in"
)
_SAMPLE_SQL = (
    "SELECT md5(p || chr(10) || m || chr(10) || j || chr(10) || CAST(i AS VARCHAR)) AS id "
    "FROM _ids_in"
)


_PARALLEL_MIN_ROWS = 200_000
"""Inputs this large are hashed in slices on several threads (DuckDB runs a projection
into Arrow on one thread, and releases the GIL while it does)."""


def _run_slice(sql: str, table: pa.Table, con: Any = None) -> pa.Array:
    own = con is None
    con = _duck() if own else con
    con.register("_ids_in", table)
    try:
        out = con.execute(sql).to_arrow_table()
    finally:
        con.unregister("_ids_in")
    return out.column("id").combine_chunks().cast(pa.string())


def _run_pooled(sql: str, table: pa.Table) -> pa.Array:
    # a connection per slice, closed at once: idle pool threads hold no DuckDB state, so
    # a process forked meanwhile inherits none
    con = _connect()
    try:
        return _run_slice(sql, table, con)
    finally:
        con.close()


def _run_vectorized(sql: str, table: pa.Table) -> pa.Array:
    workers = min(_WORKERS, table.num_rows // _PARALLEL_MIN_ROWS + 1)
    if workers <= 1:
        return _run_slice(sql, table)
    step = -(-table.num_rows // workers)
    parts = [table.slice(i, step) for i in range(0, table.num_rows, step)]
    ids = list(_pool().map(lambda part: _run_pooled(sql, part), parts))
    return pa.concat_arrays(ids)


_WORKERS = min(os.cpu_count() or 1, 8)
_pool_lock = threading.Lock()
_executor: Any = None
_executor_pid = 0


def _pool() -> Any:
    """A lasting thread pool (a forked child gets a fresh one: the parent's threads are gone)."""
    global _executor, _executor_pid
    with _pool_lock:
        if _executor is None or _executor_pid != os.getpid():
            from concurrent.futures import ThreadPoolExecutor

            _executor = ThreadPoolExecutor(_WORKERS, thread_name_prefix="tm-ids")
            _executor_pid = os.getpid()
        return _executor


def problem_ids(
    domains: pa.Array | pa.ChunkedArray, questions: pa.Array | pa.ChunkedArray
) -> pa.Array:
    """Vectorized `problem_id` over Arrow string arrays (same values as the scalar form)."""
    if len(domains) == 0:
        return pa.array([], pa.string())
    import pyarrow.compute as pc

    ok = pc.fill_null(pc.ascii_is_printable(questions), False)
    table = pa.table({"d": domains, "q": questions, "ok": ok})
    return _run_vectorized(_PROBLEM_SQL, table)


def sample_ids(
    problems: pa.Array | pa.ChunkedArray,
    models: pa.Array | pa.ChunkedArray,
    params_json: pa.Array | pa.ChunkedArray,
    indexes: pa.Array | pa.ChunkedArray,
) -> pa.Array:
    """Vectorized `sample_id`; `params_json` must already be canonical JSON text."""
    if len(problems) == 0:
        return pa.array([], pa.string())
    table = pa.table({"p": problems, "m": models, "j": params_json, "i": indexes})
    return _run_vectorized(_SAMPLE_SQL, table)
