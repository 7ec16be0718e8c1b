"""Clusters from pairwise matches: connected components over an edge table.

Every dedup method hands over through two small tables:

* **edges** (:data:`EDGES`): ``a``, ``b`` (problem ids) and ``similarity`` — the pairs
  a method judged duplicates;
* **clusters** (:data:`CLUSTERS`): one row per problem that is in a cluster of two or
  more: ``problem_id``, ``cluster`` (the smallest problem id of the component, so the id
  does not depend on input order), ``neighbour`` (the member it matched most strongly)
  and ``similarity`` to that neighbour.

Connected components are transitive: if A matches B and B matches C, all three form one
cluster even when A and C are less similar than the threshold. The ``dedup`` rows record
each member's similarity to the kept representative, and ``detail`` names the neighbour
through which it joined, so such chains can be inspected.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EDGES = pa.schema(
    [
        pa.field("a", pa.string(), nullable=False),
        pa.field("b", pa.string(), nullable=False),
        pa.field("similarity", pa.float64(), nullable=False),
    ]
)
CLUSTERS = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("cluster", pa.string(), nullable=False),
        pa.field("neighbour", pa.string()),
        pa.field("similarity", pa.float64()),
    ]
)


def edges_table(a: list[str], b: list[str], similarity: list[float] | np.ndarray) -> pa.Table:
    """An :data:`EDGES` table (self-pairs dropped, each pair once with ``a < b``)."""
    aa = np.asarray(a, dtype=object)
    bb = np.asarray(b, dtype=object)
    sim = np.asarray(similarity, dtype=np.float64)
    if len(aa) == 0:
        return EDGES.empty_table()
    keep = aa != bb
    aa, bb, sim = aa[keep], bb[keep], sim[keep]
    lo = np.where(aa < bb, aa, bb)
    hi = np.where(aa < bb, bb, aa)
    table = pa.table({"a": lo.tolist(), "b": hi.tolist(), "similarity": sim}, schema=EDGES)
    # one row per pair: the highest similarity found for it
    return (
        table.group_by(["a", "b"])
        .aggregate([("similarity", "max")])
        .rename_columns(["a", "b", "similarity"])
        .cast(EDGES)
        .sort_by([("a", "ascending"), ("b", "ascending")])
    )


def connected_clusters(edges: pa.Table) -> pa.Table:
    """Connected components of ``edges`` as a :data:`CLUSTERS` table (singletons omitted)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if edges.num_rows == 0:
        return CLUSTERS.empty_table()
    a = edges.column("a").to_numpy(zero_copy_only=False)
    b = edges.column("b").to_numpy(zero_copy_only=False)
    sim = edges.column("similarity").to_numpy()
    ids, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
    ia, ib = inverse[: len(a)], inverse[len(a) :]
    n = len(ids)
    graph = coo_matrix((np.ones(len(ia), dtype=np.int8), (ia, ib)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # ids are sorted, so the first id of each label is the component's smallest id
    _, first = np.unique(labels, return_index=True)
    cluster = ids[first[labels]]
    # strongest neighbour of every node
    best_sim = np.full(n, -np.inf)
    best_nb = np.full(n, -1)
    for src, dst in ((ia, ib), (ib, ia)):
        order = np.lexsort((-sim, src))
        s_sorted = src[order]
        head = np.ones(len(order), dtype=bool)
        head[1:] = s_sorted[1:] != s_sorted[:-1]
        nodes = s_sorted[head]
        cand_sim = sim[order][head]
        cand_nb = dst[order][head]
        better = cand_sim > best_sim[nodes]
        best_sim[nodes[better]] = cand_sim[better]
        best_nb[nodes[better]] = cand_nb[better]
    return pa.table(
        {
            "problem_id": ids.tolist(),
            "cluster": cluster.tolist(),
            "neighbour": ids[best_nb].tolist(),
            "similarity": best_sim,
        },
        schema=CLUSTERS,
    )


def filter_edges(edges: pa.Table, allowed: pa.Array | np.ndarray) -> pa.Table:
    """Keep the edges where ``allowed`` (a boolean mask over ``edges``) is true."""
    mask = allowed if isinstance(allowed, pa.Array) else pa.array(allowed, pa.bool_())
    return edges.filter(mask)


def same_signature_mask(edges: pa.Table, ids: list[str], signatures: list[str]) -> np.ndarray:
    """True for edges whose two ends have the same number signature."""
    if edges.num_rows == 0:
        return np.zeros(0, dtype=bool)
    lookup = pa.array(ids, pa.string())
    sig = np.asarray(signatures, dtype=object)
    ia = pc.index_in(edges.column("a"), value_set=lookup).to_numpy(zero_copy_only=False)
    ib = pc.index_in(edges.column("b"), value_set=lookup).to_numpy(zero_copy_only=False)
    return sig[ia.astype(np.int64)] == sig[ib.astype(np.int64)]
