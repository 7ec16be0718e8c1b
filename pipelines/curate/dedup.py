"""Whole dedup methods: each runs its steps and returns a typed, explainable result.

``problems`` needs ``problem_id`` and ``question`` (near and semantic also read ``source``,
which scopes recurring boilerplate, and ``matching``, precomputed matching texts, when
present); ``features`` (default: ``problems``)
holds the keep-policy columns (:data:`~tracemill.pipelines.curate.select.FEATURES`). The result's
``rows`` are ``dedup`` rows for every member of a cluster of two or more, the kept
representative included; ``similarity`` is the similarity to the representative
(1.0 for exact and for the representative itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from tracemill.catalogs import config_id as hash_config
from tracemill.pipelines.curate.exact import ExactConfig, exact_clusters, normalize_step
from tracemill.pipelines.curate.near import NearConfig, near_clusters
from tracemill.pipelines.curate.progress import Progress, no_progress
from tracemill.pipelines.curate.select import KeepPolicy, dedup_rows, select_representatives
from tracemill.pipelines.curate.semantic import (
    EmbedResult,
    SemanticConfig,
    cosine_similarity,
    semantic_clusters,
)


@dataclass
class DedupResult:
    """What one dedup method decided."""

    method: str
    config_id: str
    params: dict[str, object]
    input_rows: int
    rows: pa.Table
    """``dedup`` rows: every member of every cluster, representatives included."""

    @property
    def clusters(self) -> int:
        """Clusters of two or more problems."""
        return pc.count_distinct(self.rows.column("cluster")).as_py() if self.rows.num_rows else 0

    @property
    def dropped(self) -> int:
        """Problems dropped (not the representative of their cluster)."""
        if not self.rows.num_rows:
            return 0
        return self.rows.num_rows - int(pc.sum(self.rows.column("kept")).as_py())

    @property
    def dropped_ids(self) -> list[str]:
        """Ids of the dropped problems."""
        mask = pc.invert(self.rows.column("kept"))
        return self.rows.filter(mask).column("problem_id").to_pylist()

    @property
    def drop_ratio(self) -> float:
        """Share of the input dropped."""
        return self.dropped / self.input_rows if self.input_rows else 0.0

    def counts(self) -> dict[str, object]:
        """Counters for summaries."""
        return {
            "input": self.input_rows,
            "clusters": self.clusters,
            "dropped": self.dropped,
            "drop_ratio": round(self.drop_ratio, 4),
        }


def method_config_id(params: dict[str, object], policy: KeepPolicy) -> str:
    """The config id of a method: hash of its parameters and the keep policy."""
    return hash_config({"params": params, "keep": policy.params()})


def _result(
    method: str,
    params: dict[str, object],
    policy: KeepPolicy,
    problems: pa.Table,
    decisions: pa.Table,
    similarity: object,
    run_id: str | None,
) -> DedupResult:
    cid = method_config_id(params, policy)
    rows = dedup_rows(
        decisions,
        method=method,
        config_id=cid,
        similarity=similarity,  # type: ignore[arg-type]
        detail={"params": params, "keep": policy.params()},
        run_id=run_id,
    )
    return DedupResult(method, cid, params, problems.num_rows, rows)


def run_exact(
    problems: pa.Table,
    config: ExactConfig | None = None,
    *,
    features: pa.Table | None = None,
    policy: KeepPolicy | None = None,
    run_id: str | None = None,
) -> DedupResult:
    """Exact dedup: normalize → group → keep policy."""
    cfg = config or ExactConfig()
    policy = policy or KeepPolicy()
    decisions = select_representatives(
        exact_clusters(normalize_step(problems, cfg)),
        problems if features is None else features,
        policy,
    )
    return _result("exact", cfg.params(), policy, problems, decisions, None, run_id)


def run_near(
    problems: pa.Table,
    config: NearConfig | None = None,
    *,
    features: pa.Table | None = None,
    policy: KeepPolicy | None = None,
    run_id: str | None = None,
    progress: Progress = no_progress,
) -> DedupResult:
    """Near dedup: matching texts → MinHash → linear LSH → clusters → keep policy."""
    cfg = config or NearConfig()
    policy = policy or KeepPolicy()
    found = near_clusters(problems, cfg, progress=progress)
    decisions = select_representatives(
        found.clusters, problems if features is None else features, policy
    )
    sim = found.similarity(
        decisions.column("problem_id").to_pylist(),
        decisions.column("representative").to_pylist(),
    )
    return _result("near", cfg.params(), policy, problems, decisions, sim, run_id)


def run_semantic(
    problems: pa.Table,
    vectors: pa.Table | EmbedResult,
    config: SemanticConfig | None = None,
    *,
    features: pa.Table | None = None,
    policy: KeepPolicy | None = None,
    run_id: str | None = None,
    progress: Progress = no_progress,
) -> DedupResult:
    """Semantic dedup over precomputed ``vectors`` of the matching texts (:func:`embed_step`)."""
    cfg = config or SemanticConfig()
    policy = policy or KeepPolicy()
    clusters = semantic_clusters(problems, vectors, cfg, progress=progress)
    decisions = select_representatives(clusters, problems if features is None else features, policy)
    sim = cosine_similarity(
        vectors,
        decisions.column("problem_id").to_pylist(),
        decisions.column("representative").to_pylist(),
    )
    return _result("semantic", cfg.params(), policy, problems, decisions, sim, run_id)
