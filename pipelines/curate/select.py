"""Keep policy: choose each cluster's representative and turn clusters into ``dedup`` rows.

The default policy (:data:`DEFAULT_KEEP`) keeps, within each cluster, the problem that

1. has a reference **answer** (non-empty ``answer``),
2. then has a **passing** verdict (the latest verdict of some sample passed),
3. then has the higher difficulty **level** (latest grade, else the source's level;
   unknown levels rank last),
4. then has the **shortest** question (fewest characters),
5. then is the **oldest** (earliest ``created_at``),

and breaks remaining ties by the smaller ``problem_id``. Criteria are named in a
:class:`KeepPolicy`; ``longest`` and ``newest`` are the reverse orders. A feature column
the input lacks counts as equal for everyone.

A ``prior_kept`` column (set by the flow for problems kept by an earlier run under the
same config) ranks before every criterion, so earlier decisions stand when new problems
join a cluster.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tracemill.catalogs import conform

DEFAULT_KEEP: tuple[str, ...] = ("answer", "passing", "level", "shortest", "oldest")
CRITERIA: dict[str, str] = {
    "answer": "problems with a reference answer first",
    "passing": "problems with a passing verdict first",
    "level": "higher difficulty level first (unknown last)",
    "shortest": "shorter question first",
    "longest": "longer question first",
    "oldest": "earlier created_at first",
    "newest": "later created_at first",
}
FEATURES = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("question", pa.string()),
        pa.field("answer", pa.string()),
        pa.field("has_passing", pa.bool_()),
        pa.field("level", pa.int32()),
        pa.field("created_at", pa.timestamp("us", tz="UTC")),
        pa.field("prior_kept", pa.bool_()),
    ]
)
"""Columns the keep policy reads (all but ``problem_id`` optional)."""


@dataclass(frozen=True)
class KeepPolicy:
    """Ordered criteria choosing a cluster's representative (see the module docstring)."""

    order: tuple[str, ...] = DEFAULT_KEEP

    def __post_init__(self) -> None:
        unknown = [c for c in self.order if c not in CRITERIA]
        if unknown:
            raise ValueError(
                f"unknown keep criteria {', '.join(unknown)}; known: {', '.join(CRITERIA)}"
            )

    @classmethod
    def of(cls, order: Sequence[str] | None) -> KeepPolicy:
        """A policy from a list of criterion names (None: the default)."""
        return cls(tuple(order) if order is not None else DEFAULT_KEEP)

    def params(self) -> list[str]:
        """The policy as JSON-able parameters (part of a dedup config id)."""
        return list(self.order)


def _bool_col(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.array(np.zeros(table.num_rows, dtype=bool))
    return pc.fill_null(table.column(name), False).combine_chunks()


PRIOR = "prior"
"""The criterion name of "kept by an earlier run" (ranks before the policy)."""
TIE = "id"
"""The criterion name of the final tie break (the smaller problem id)."""


def _sort_keys(
    table: pa.Table, policy: KeepPolicy
) -> tuple[pa.Table, list[tuple[str, str]], dict[str, str]]:
    """Add sortable key columns; return the table, the sort order and key → criterion."""
    cols: dict[str, pa.Array] = {}
    order: list[tuple[str, str]] = [("cluster", "ascending")]
    names = {"_k_prior": PRIOR, "problem_id": TIE}
    cols["_k_prior"] = _bool_col(table, "prior_kept")
    order.append(("_k_prior", "descending"))
    for i, name in enumerate(policy.order):
        key = f"_k{i}"
        names[key] = name
        if name == "answer":
            if "answer" not in table.column_names:
                continue
            stripped = pc.utf8_trim_whitespace(table.column("answer"))
            cols[key] = pc.fill_null(pc.greater(pc.utf8_length(stripped), 0), False)
            order.append((key, "descending"))
        elif name == "passing":
            cols[key] = _bool_col(table, "has_passing")
            order.append((key, "descending"))
        elif name == "level":
            if "level" not in table.column_names:
                continue
            # unknown levels rank last: fill with the lowest possible value
            cols[key] = pc.fill_null(table.column("level").cast(pa.int64()), -(2**62))
            order.append((key, "descending"))
        elif name in ("shortest", "longest"):
            if "question" not in table.column_names:
                continue
            cols[key] = pc.fill_null(pc.utf8_length(table.column("question")), 0)
            order.append((key, "ascending" if name == "shortest" else "descending"))
        elif name in ("oldest", "newest"):
            if "created_at" not in table.column_names:
                continue
            cols[key] = table.column("created_at")
            order.append((key, "ascending" if name == "oldest" else "descending"))
    order.append(("problem_id", "ascending"))
    for key, col in cols.items():
        table = table.append_column(key, col)
    return table, order, names


def _comparable(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A column as a numpy array whose ``!=`` compares values (nulls equal each other)."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_timestamp(arr.type):
        arr = arr.cast(pa.int64())
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return np.asarray(arr.fill_null("").to_pylist(), dtype=object)
    return arr.fill_null(0 if not pa.types.is_boolean(arr.type) else False).to_numpy(
        zero_copy_only=False
    )


def _deciding(
    ranked: pa.Table, order: list[tuple[str, str]], names: dict[str, str], head: np.ndarray
) -> list[str | None]:
    """The criterion that ranked each member below its representative.

    For a representative: the one that ranked it above the runner-up of its cluster.
    """
    n = ranked.num_rows
    start = np.flatnonzero(head)
    rep = np.repeat(start, np.diff(np.append(start, n)))
    other = rep.copy()  # whom each row is compared with
    runner = np.minimum(start + 1, n - 1)
    other[start] = runner
    decided = np.full(n, -1)
    keys = [key for key, _ in order[1:]]  # after the cluster itself
    for k, key in enumerate(keys):
        values = _comparable(ranked.column(key))
        differs = (values != values[other]) & (decided < 0)
        decided[differs] = k
    return [names[keys[d]] if d >= 0 else None for d in decided.tolist()]


DECISIONS = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("cluster", pa.string(), nullable=False),
        pa.field("representative", pa.string(), nullable=False),
        pa.field("kept", pa.bool_(), nullable=False),
        pa.field("neighbour", pa.string()),
        pa.field("neighbour_similarity", pa.float64()),
        pa.field("size", pa.int64(), nullable=False),
        pa.field("decided_by", pa.string()),
    ]
)
"""One row per clustered problem: its cluster, the cluster's representative, kept, and
``decided_by``: the keep criterion that ranked it below the representative (for the
representative: the one that ranked it above the runner-up), ``prior`` when an earlier
run's decision stood, ``id`` when only the problem ids differed."""


def select_representatives(
    clusters: pa.Table, features: pa.Table, policy: KeepPolicy | None = None
) -> pa.Table:
    """Pick one representative per cluster by ``policy``; returns a :data:`DECISIONS` table.

    ``clusters`` is a :data:`~tracemill.pipelines.curate.clusters.CLUSTERS` table; ``features``
    holds the policy's columns (:data:`FEATURES`) for at least every clustered problem.
    """
    policy = policy or KeepPolicy()
    if clusters.num_rows == 0:
        return DECISIONS.empty_table()
    feats = features.select([c for c in FEATURES.names if c in features.column_names])
    joined = clusters.join(feats, "problem_id", join_type="left outer")
    keyed, order, names = _sort_keys(joined, policy)
    ranked = keyed.sort_by(order)
    cluster = ranked.column("cluster").to_numpy(zero_copy_only=False)
    ids = ranked.column("problem_id").to_numpy(zero_copy_only=False)
    head = np.ones(len(cluster), dtype=bool)
    head[1:] = cluster[1:] != cluster[:-1]
    group = np.cumsum(head) - 1
    reps = ids[head][group]
    sizes = np.bincount(group)[group]
    return pa.table(
        {
            "problem_id": ranked.column("problem_id"),
            "cluster": ranked.column("cluster"),
            "representative": reps.tolist(),
            "kept": head,
            "neighbour": ranked.column("neighbour"),
            "neighbour_similarity": ranked.column("similarity"),
            "size": sizes.astype(np.int64),
            "decided_by": pa.array(_deciding(ranked, order, names, head), pa.string()),
        },
        schema=DECISIONS,
    )


def dedup_rows(
    decisions: pa.Table,
    *,
    method: str,
    config_id: str,
    similarity: np.ndarray | list[float] | None = None,
    detail: dict[str, object] | None = None,
    run_id: str | None = None,
) -> pa.Table:
    """``dedup`` rows for a :data:`DECISIONS` table.

    ``similarity`` is each member's similarity to its representative (the kept row gets
    1.0); ``detail`` (JSON) is shared by every row and extended per row with the
    neighbour through which the problem joined its cluster and the cluster size.
    """
    n = decisions.num_rows
    sim = np.ones(n) if similarity is None else np.asarray(similarity, dtype=np.float64)
    base = dict(detail or {})
    details = []
    deciding = (
        decisions.column("decided_by").to_pylist()
        if "decided_by" in decisions.column_names
        else [None] * n
    )
    for nb, nb_sim, size, decided in zip(
        decisions.column("neighbour").to_pylist(),
        decisions.column("neighbour_similarity").to_pylist(),
        decisions.column("size").to_pylist(),
        deciding,
        strict=True,
    ):
        row = dict(base)
        row.update(
            {
                "neighbour": nb,
                "neighbour_similarity": None if nb_sim is None else round(nb_sim, 6),
                "cluster_size": size,
                "decided_by": decided,
            }
        )
        details.append(json.dumps(row, sort_keys=True, ensure_ascii=False))
    table = pa.table(
        {
            "problem_id": decisions.column("problem_id"),
            "method": pa.array([method] * n, pa.string()),
            "config_id": pa.array([config_id] * n, pa.string()),
            "cluster": decisions.column("cluster"),
            "representative": decisions.column("representative"),
            "similarity": pa.array(np.round(sim, 6), pa.float64()),
            "kept": decisions.column("kept"),
            "detail": pa.array(details, pa.string()),
            "run_id": pa.array([run_id] * n, pa.string()),
        }
    )
    return conform("dedup", table)


def unclustered_rows(
    problem_ids: Sequence[str],
    *,
    method: str,
    config_id: str,
    detail: dict[str, object] | None = None,
    run_id: str | None = None,
    representative: bool = True,
) -> pa.Table:
    """``kept`` ``dedup`` rows for problems a method examined and found in no cluster.

    They record that the problems were curated under ``config_id`` (so a rerun with the
    same parameters can skip them): ``cluster`` is null, ``representative`` the problem
    itself (null with ``representative=False``, as decontamination writes for clean
    problems), ``similarity`` null; ``detail`` (JSON) gets ``cluster_size`` 1.
    """
    n = len(problem_ids)
    ids = pa.array(list(problem_ids), pa.string())
    info = None
    if detail is not None:
        info = json.dumps({**detail, "cluster_size": 1}, sort_keys=True, ensure_ascii=False)
    table = pa.table(
        {
            "problem_id": ids,
            "method": pa.array([method] * n, pa.string()),
            "config_id": pa.array([config_id] * n, pa.string()),
            "cluster": pa.nulls(n, pa.string()),
            "representative": ids if representative else pa.nulls(n, pa.string()),
            "similarity": pa.nulls(n, pa.float64()),
            "kept": pa.array(np.ones(n, dtype=bool)),
            "detail": pa.array([info] * n, pa.string()),
            "run_id": pa.array([run_id] * n, pa.string()),
        }
    )
    return conform("dedup", table)
