"""Exact dedup: problems whose normalized questions are equal form one cluster.

Steps: :func:`normalize_step` (adds the ``normalized`` column, rules in
:mod:`tracemill.pipelines.curate.normalize`) → :func:`exact_clusters` (groups equal keys into a
:data:`~tracemill.pipelines.curate.clusters.CLUSTERS` table; similarity 1.0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tracemill.pipelines.curate.clusters import CLUSTERS
from tracemill.pipelines.curate.normalize import NormalizeConfig, normalize_texts


@dataclass(frozen=True)
class ExactConfig:
    """Parameters of exact dedup."""

    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)

    def params(self) -> dict[str, object]:
        """JSON-able parameters (hashed into the dedup config id)."""
        return {"method": "exact", "normalize": self.normalize.params()}


def normalize_step(problems: pa.Table, config: ExactConfig | None = None) -> pa.Table:
    """``problem_id`` and ``normalized`` question of every problem."""
    cfg = config or ExactConfig()
    return pa.table(
        {
            "problem_id": problems.column("problem_id"),
            "normalized": normalize_texts(problems.column("question"), cfg.normalize),
        }
    )


def exact_clusters(normalized: pa.Table) -> pa.Table:
    """Group equal ``normalized`` keys; clusters of one are left out."""
    if normalized.num_rows == 0:
        return CLUSTERS.empty_table()
    keys = pc.dictionary_encode(normalized.column("normalized")).combine_chunks()
    codes = keys.indices.to_numpy(zero_copy_only=False)
    ids = np.asarray(normalized.column("problem_id").to_pylist(), dtype=object)
    counts = np.bincount(codes)
    dup = counts[codes] > 1
    codes, ids = codes[dup], ids[dup]
    if len(ids) == 0:
        return CLUSTERS.empty_table()
    order = np.lexsort((ids, codes))
    codes, ids = codes[order], ids[order]
    head = np.ones(len(codes), dtype=bool)
    head[1:] = codes[1:] != codes[:-1]
    group = np.cumsum(head) - 1
    first = ids[head]
    cluster = first[group]
    # the neighbour of the smallest id is the second smallest; of the others, the smallest
    second_idx = np.flatnonzero(head) + 1
    neighbour = cluster.copy()
    neighbour[head] = ids[second_idx]
    return pa.table(
        {
            "problem_id": ids.tolist(),
            "cluster": cluster.tolist(),
            "neighbour": neighbour.tolist(),
            "similarity": np.ones(len(ids)),
        },
        schema=CLUSTERS,
    )
