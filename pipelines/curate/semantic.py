"""Semantic dedup: embed → index → neighbours → clusters.

1. :func:`embed_step` — a vector per question from an injected :class:`Encoder`;
   vectors already known (the flow reads them from the embedding cache) are reused and
   only the missing questions are encoded. Vectors are L2-normalized, so the inner
   product is the cosine similarity.
2. :func:`neighbour_edges` — the ``k`` nearest neighbours of every vector in a
   ``usearch`` index: exact (brute force) search below ``exact_below`` vectors,
   approximate HNSW search above. Pairs with cosine similarity at least ``threshold``
   are edges; with ``number_guard`` (default) pairs whose numeric literals differ are
   dropped, because general sentence embeddings put problems that differ only in their
   numbers above 0.95 cosine, and those are different problems.
3. :func:`~tracemill.pipelines.curate.clusters.connected_clusters` — clusters.

Library code never downloads a model: :class:`SentenceTransformerEncoder` loads a
sentence-transformers model from the name or path it is given (the flow passes the
packaged all-MiniLM-L6-v2 folder by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
from tracemill.pipelines.curate.clusters import (
    connected_clusters,
    edges_table,
    filter_edges,
    same_signature_mask,
)
from tracemill.pipelines.curate.normalize import number_signatures

log = logging.getLogger(__name__)


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns texts into a ``(len(texts), dim)`` float array."""

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts``."""
        ...


class SentenceTransformerEncoder:
    """An :class:`Encoder` over a sentence-transformers model (loaded on first use)."""

    def __init__(self, model: str, *, device: str | None = None, batch_size: int = 64) -> None:
        self.model = model
        self.device = device
        self.batch_size = batch_size
        self._st: Any = None

    def _load(self) -> Any:
        if self._st is None:
            from sentence_transformers import SentenceTransformer

            self._st = SentenceTransformer(self.model, device=self.device)
        return self._st

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` (normalized float32 vectors)."""
        st = self._load()
        out = st.encode(
            texts,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(out, dtype=np.float32)


def vectors_schema(dim: int) -> pa.Schema:
    """Schema of a vectors table: ``problem_id`` and a ``dim``-float ``vector``."""
    return pa.schema(
        [
            pa.field("problem_id", pa.string(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), dim), nullable=False),
        ]
    )


def vectors_table(ids: list[str], matrix: np.ndarray) -> pa.Table:
    """A vectors table from ids and an ``(n, dim)`` matrix."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    dim = matrix.shape[1] if matrix.ndim == 2 else 0
    flat = pa.array(matrix.reshape(-1), pa.float32())
    vec = pa.FixedSizeListArray.from_arrays(flat, dim)
    return pa.table(
        {"problem_id": pa.array(ids, pa.string()), "vector": vec}, schema=vectors_schema(dim)
    )


def vector_matrix(vectors: pa.Table) -> np.ndarray:
    """The vectors of a vectors table as an ``(n, dim)`` float32 array."""
    col = vectors.column("vector").combine_chunks()
    dim = col.type.list_size
    if vectors.num_rows == 0:
        return np.zeros((0, dim), dtype=np.float32)
    return col.flatten().to_numpy().astype(np.float32, copy=False).reshape(-1, dim)


def _normalize(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


@dataclass
class EmbedResult:
    """Vectors for every input problem, and how many were encoded now."""

    vectors: pa.Table
    """Every problem's vector, in input order."""
    new: pa.Table
    """The vectors encoded in this call (to add to the cache)."""

    @property
    def encoded(self) -> int:
        """Number of questions encoded in this call."""
        return self.new.num_rows

    @property
    def reused(self) -> int:
        """Number of vectors taken from ``known``."""
        return self.vectors.num_rows - self.new.num_rows


def embed_step(
    problems: pa.Table,
    encoder: Encoder | None,
    *,
    known: pa.Table | None = None,
    batch_size: int = 1024,
) -> EmbedResult:
    """Vectors for ``problems`` (``problem_id``, ``question``), encoding only unknown ones.

    ``encoder`` may be None when every vector is ``known`` (re-thresholding); a missing
    one then raises ``ValueError``.
    """
    ids = problems.column("problem_id").to_pylist()
    questions = problems.column("question").to_pylist()
    have: dict[str, int] = {}
    known_matrix = np.zeros((0, 0), dtype=np.float32)
    if known is not None and known.num_rows:
        known_matrix = vector_matrix(known)
        have = {pid: i for i, pid in enumerate(known.column("problem_id").to_pylist())}
    missing = [i for i, pid in enumerate(ids) if pid not in have]
    new_parts: list[np.ndarray] = []
    if missing:
        if encoder is None:
            raise ValueError(f"{len(missing)} problem(s) have no cached vector and no encoder")
        for start in range(0, len(missing), batch_size):
            chunk = missing[start : start + batch_size]
            new_parts.append(_normalize(encoder.encode([questions[i] for i in chunk])))
    new_matrix = np.concatenate(new_parts) if new_parts else None
    dim = (
        new_matrix.shape[1]
        if new_matrix is not None
        else known_matrix.shape[1]
        if known_matrix.size
        else 0
    )
    if known_matrix.size and dim != known_matrix.shape[1]:
        raise ValueError(
            f"cached vectors have {known_matrix.shape[1]} dimensions, the encoder gives {dim}"
        )
    out = np.zeros((len(ids), dim), dtype=np.float32)
    for i, pid in enumerate(ids):
        j = have.get(pid)
        if j is not None:
            out[i] = known_matrix[j]
    if new_matrix is not None:
        out[np.asarray(missing)] = new_matrix
        new = vectors_table([ids[i] for i in missing], new_matrix)
    else:
        new = vectors_table([], np.zeros((0, dim), dtype=np.float32))
    return EmbedResult(vectors_table(ids, out), new)


@dataclass(frozen=True)
class SemanticConfig:
    """Parameters of semantic dedup."""

    model: str = "all-MiniLM-L6-v2"
    """Name of the encoder's model (part of the config id and the cache key)."""
    threshold: float = 0.95
    """Minimum cosine similarity of an edge."""
    k: int = 16
    """Neighbours searched per vector."""
    exact_below: int = 20_000
    """Exact search below this many vectors, HNSW above."""
    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 64
    number_guard: bool = True
    """Never merge problems whose numeric literals differ."""

    def __post_init__(self) -> None:
        if not -1.0 <= self.threshold <= 1.0:
            raise ValueError(f"semantic threshold must be in [-1, 1], got {self.threshold}")
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")

    def params(self) -> dict[str, object]:
        """JSON-able parameters (hashed into the dedup config id)."""
        return {
            "method": "semantic",
            "model": self.model,
            "threshold": self.threshold,
            "k": self.k,
            "number_guard": self.number_guard,
        }


def search_neighbours(
    matrix: np.ndarray, queries: np.ndarray, k: int, config: SemanticConfig | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` neighbours of ``queries`` in ``matrix``: ``(indices, cosine)`` arrays.

    Missing neighbours have index -1. Exact below ``config.exact_below`` rows, HNSW above.
    """
    from usearch.index import Index, MetricKind, search

    cfg = config or SemanticConfig()
    n = len(matrix)
    k = max(1, min(k, n))
    if n == 0 or len(queries) == 0:
        return np.full((len(queries), k), -1), np.zeros((len(queries), k))
    data = np.ascontiguousarray(matrix, dtype=np.float32)
    q = np.ascontiguousarray(queries, dtype=np.float32)
    if n < cfg.exact_below:
        found = search(data, q, k, MetricKind.Cos, exact=True)
    else:
        index = Index(
            ndim=data.shape[1],
            metric="cos",
            dtype="f32",
            connectivity=cfg.connectivity,
            expansion_add=cfg.expansion_add,
            expansion_search=cfg.expansion_search,
        )
        index.add(np.arange(n, dtype=np.uint64), data)
        found = index.search(q, k)
    keys = np.asarray(found.keys, dtype=np.int64).reshape(len(q), -1)
    dist = np.asarray(found.distances, dtype=np.float64).reshape(len(q), -1)
    counts = np.asarray(found.counts).reshape(-1)
    valid = np.arange(keys.shape[1])[None, :] < counts[:, None]
    keys = np.where(valid, keys, -1)
    return keys, np.where(valid, 1.0 - dist, -np.inf)


def neighbour_edges(
    vectors: pa.Table, config: SemanticConfig | None = None, *, numbers: list[str] | None = None
) -> pa.Table:
    """Edges between vectors with cosine at least ``threshold`` among ``k`` neighbours.

    ``numbers`` (number signatures in the order of ``vectors``) enables the guard.
    """
    cfg = config or SemanticConfig()
    ids = np.asarray(vectors.column("problem_id").to_pylist(), dtype=object)
    if len(ids) < 2:
        return edges_table([], [], [])
    matrix = vector_matrix(vectors)
    keys, sims = search_neighbours(matrix, matrix, cfg.k + 1, cfg)
    rows = np.repeat(np.arange(len(ids)), keys.shape[1])
    cols = keys.reshape(-1)
    sim = sims.reshape(-1)
    ok = (cols >= 0) & (cols != rows) & (sim >= cfg.threshold)
    edges = edges_table(ids[rows[ok]].tolist(), ids[cols[ok]].tolist(), np.minimum(sim[ok], 1.0))
    if cfg.number_guard and numbers is not None:
        edges = filter_edges(edges, same_signature_mask(edges, ids.tolist(), numbers))
    return edges


def semantic_clusters(
    problems: pa.Table, vectors: pa.Table, config: SemanticConfig | None = None
) -> pa.Table:
    """Neighbours → clusters for ``vectors`` (``problems`` gives the number signatures)."""
    cfg = config or SemanticConfig()
    numbers = None
    if cfg.number_guard:
        by_id = dict(
            zip(
                problems.column("problem_id").to_pylist(),
                number_signatures(problems.column("question")),
                strict=True,
            )
        )
        numbers = [by_id.get(pid, "") for pid in vectors.column("problem_id").to_pylist()]
    return connected_clusters(neighbour_edges(vectors, cfg, numbers=numbers))


def cosine_similarity(vectors: pa.Table, a: list[str], b: list[str]) -> np.ndarray:
    """Cosine similarity of each pair ``(a[i], b[i])`` of normalized vectors."""
    if not a:
        return np.zeros(0)
    matrix = vector_matrix(vectors)
    index = {pid: i for i, pid in enumerate(vectors.column("problem_id").to_pylist())}
    ia = np.fromiter((index[x] for x in a), dtype=np.int64, count=len(a))
    ib = np.fromiter((index[x] for x in b), dtype=np.int64, count=len(b))
    return np.clip(np.einsum("ij,ij->i", matrix[ia], matrix[ib]), -1.0, 1.0)
