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
import re
import threading
import unicodedata
import uuid
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

ID_HEX_LEN = 32

# Characters for which str.isspace() is true, as explicit code points, so that the
# Python and the DuckDB (RE2) implementations use the very same set.
WHITESPACE: tuple[int, ...] = tuple(c for c in range(0x110000) if chr(c).isspace())
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


def _duck() -> Any:
    con = getattr(_local, "con", None)
    if con is None:
        import duckdb

        con = duckdb.connect(config={"autoload_known_extensions": False})
        _local.con = con
    return con


_PROBLEM_SQL = (
    "SELECT md5(d || chr(10) || CASE WHEN regexp_matches(n, '" + _RE2_NEEDS_WORK + "') "
    "THEN trim(regexp_replace(n, '" + _RE2_WS + "', ' ', 'g'), ' ') ELSE n END) AS id "
    "FROM (SELECT d, nfc_normalize(q) AS n FROM _ids_in)"
)
_SAMPLE_SQL = (
    "SELECT md5(p || chr(10) || m || chr(10) || j || chr(10) || CAST(i AS VARCHAR)) AS id "
    "FROM _ids_in"
)


def _run_vectorized(sql: str, table: pa.Table) -> pa.Array:
    con = _duck()
    con.register("_ids_in", table)
    try:
        out = con.execute(sql).to_arrow_table()
    finally:
        con.unregister("_ids_in")
    return out.column("id").combine_chunks().cast(pa.string())


def problem_ids(
    domains: pa.Array | pa.ChunkedArray, questions: pa.Array | pa.ChunkedArray
) -> pa.Array:
    """Vectorized `problem_id` over Arrow string arrays (same values as the scalar form)."""
    if len(domains) == 0:
        return pa.array([], pa.string())
    table = pa.table({"d": domains, "q": questions})
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
