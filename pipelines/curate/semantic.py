"""Semantic dedup: embed → neighbours → clusters.

1. :func:`embed_step` — a vector per text from an injected :class:`Encoder`; vectors
   already known (the flow reads them from the embedding cache) are reused, equal texts
   are encoded once, and vectors are L2-normalized (inner product = cosine) and rounded
   to float16 precision, so cached and fresh vectors are the same numbers.
2. :func:`similar_pairs` — every pair with cosine at least the lowest threshold, among
   problems that the number guard lets merge. With the guard (default) only problems with
   the same sorted numbers are compared, so the search runs inside those groups: all
   pairs by one matrix product for groups up to :attr:`SemanticConfig.block` rows, and
   for larger groups (problems without numbers, or the guard off) an inverted-file
   search — spherical k-means cells of about :attr:`SemanticConfig.cell` rows, each row
   in its :attr:`SemanticConfig.probes` nearest cells, exact cosine inside every cell. At
   most ``k`` neighbours per row are kept. The cost grows linearly with the rows when the
   numbers split them, and as ``rows ** 1.5`` within one group.
3. Pairs are edges when their cosine reaches the pair's threshold
   (:meth:`SemanticConfig.pair_thresholds`): ``same_numbers_threshold`` when the two
   problems have the same non-empty numbers in the same order, ``no_numbers_threshold``
   when neither has a number (no number evidence: false matches between problems
   without numbers grow with the corpus), ``threshold`` otherwise
   (when the guard allows the pair at all: same numbers, in the same order or the same
   roles — :mod:`~tracemill.pipelines.curate.matching`). General sentence embeddings put
   problems that differ only in their numbers above 0.95 cosine, and those are different
   problems.
4. :func:`~tracemill.pipelines.curate.clusters.connected_clusters` — clusters.

The texts compared are the problems' matching texts (folded, instruction boilerplate
stripped). Library code never downloads a model: :class:`StaticModelEncoder` loads a
model2vec static model from a folder (the flow distills one from the packaged
all-MiniLM-L6-v2, see :mod:`tracemill.stores.embeddings`) and
:class:`SentenceTransformerEncoder` a sentence-transformers model from the name or path
it is given.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa
from tracemill.pipelines.curate.clusters import connected_clusters, edges_table
from tracemill.pipelines.curate.matching import (
    MatchConfig,
    NumberProfiles,
    number_profiles,
    unguarded,
)
from tracemill.pipelines.curate.progress import Progress, no_progress

log = logging.getLogger(__name__)

# Calibrated with `benchmarks/dedup.py --calibrate` (20,000 problems; MiniLM on 2,000):
# static 0.88: precision 0.996, recall 0.998; 0.90: 0.999 / 0.998; 0.92: 1.000 / 0.989.
# MiniLM 0.86-0.92: 1.000 / 1.000; 0.94: 1.000 / 0.990. The same-numbers threshold
# changed nothing down to 0.80 there (near dedup already joins those copies); it is set
# a little looser than the standard one, as the number guard makes such pairs safe.
# Pairs without numbers have no number evidence and their false matches grow with the
# corpus (100,000 problems, static: 0.90 gives precision 0.9952 / recall 0.9966, 0.92
# gives 0.9994 / 0.9868; every false pair was one without numbers), so they need more.
STATIC_THRESHOLD = 0.90
"""Calibrated cosine for the static (model2vec) encoder."""
STATIC_SAME_NUMBERS_THRESHOLD = 0.86
"""Calibrated cosine for the static encoder when the numbers match in order."""
STATIC_NO_NUMBERS_THRESHOLD = 0.92
"""Calibrated cosine for the static encoder between problems without numbers."""
MINILM_THRESHOLD = 0.88
"""Calibrated cosine for all-MiniLM-L6-v2 (and the default for other
sentence-transformers models)."""
MINILM_SAME_NUMBERS_THRESHOLD = 0.85
"""Calibrated cosine for all-MiniLM-L6-v2 when the numbers match in order."""
MINILM_NO_NUMBERS_THRESHOLD = 0.90
"""Cosine for all-MiniLM-L6-v2 between problems without numbers (the static model's
margin over its standard threshold; MiniLM was calibrated on fewer problems)."""


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


class StaticModelEncoder:
    """An :class:`Encoder` over a model2vec static model folder (loaded on first use).

    A static model embeds a text as the weighted mean of its tokens' vectors: no
    transformer runs, so it encodes thousands of texts per second on a CPU.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            from model2vec import StaticModel

            self._model = StaticModel.from_pretrained(self.path, quantize_to="float32")
        return self._model

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed ``texts`` (normalized float32 vectors)."""
        model = self._load()
        out = model.encode(
            texts, show_progress_bar=False, batch_size=4096, use_multiprocessing=False
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


def vectors_table(ids: list[str], matrix: np.ndarray, *, key: str = "problem_id") -> pa.Table:
    """A vectors table from ids (or text keys) and an ``(n, dim)`` matrix."""
    matrix = np.ascontiguousarray(matrix, dtype=np.float32)
    dim = matrix.shape[1] if matrix.ndim == 2 else 0
    flat = pa.array(matrix.reshape(-1), pa.float32())
    vec = pa.FixedSizeListArray.from_arrays(flat, dim)
    schema = vectors_schema(dim)
    if key != "problem_id":
        schema = pa.schema([pa.field(key, pa.string(), nullable=False), schema.field("vector")])
    return pa.table({key: pa.array(ids, pa.string()), "vector": vec}, schema=schema)


def vector_matrix(vectors: pa.Table) -> np.ndarray:
    """The vectors of a vectors table as an ``(n, dim)`` float32 array."""
    col = vectors.column("vector").combine_chunks()
    dim = col.type.list_size
    if vectors.num_rows == 0:
        return np.zeros((0, dim), dtype=np.float32)
    return col.flatten().to_numpy().astype(np.float32, copy=False).reshape(-1, dim)


def _normalize(matrix: np.ndarray) -> np.ndarray:
    """Unit rows, rounded to float16 precision (what the cache stores)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float16).astype(np.float32)


def text_keys(texts: list[str]) -> list[str]:
    """A cache key per text: the first 16 bytes of its BLAKE2b hash, in hex."""
    return [hashlib.blake2b(t.encode("utf-8"), digest_size=16).hexdigest() for t in texts]


@dataclass
class EmbedResult:
    """Vectors for every input row, and which of them were encoded in this call."""

    ids: list[str]
    matrix: np.ndarray
    """``(n, dim)`` float32, in input order."""
    new_keys: list[str]
    """Keys of the texts encoded in this call (to add to the cache)."""
    new_rows: np.ndarray
    """The row of :attr:`matrix` holding each new key's vector."""
    key_column: str = "problem_id"
    fresh: int = 0
    """Rows whose vector was encoded in this call."""

    @property
    def vectors(self) -> pa.Table:
        """Every row's vector as a vectors table (``problem_id``, ``vector``)."""
        return vectors_table(self.ids, self.matrix)

    @property
    def new(self) -> pa.Table:
        """The vectors encoded in this call as a table (``key_column``, ``vector``)."""
        return vectors_table(self.new_keys, self.matrix[self.new_rows], key=self.key_column)

    def new_parts(self, rows: int = 100_000) -> Iterator[pa.Table]:
        """:attr:`new` in tables of at most ``rows`` rows (bounded memory)."""
        for start in range(0, len(self.new_keys), rows):
            part = self.new_rows[start : start + rows]
            keys = self.new_keys[start : start + rows]
            yield vectors_table(keys, self.matrix[part], key=self.key_column)

    @property
    def encoded(self) -> int:
        """Number of distinct texts encoded in this call."""
        return len(self.new_keys)

    @property
    def reused(self) -> int:
        """Number of rows whose vector was known."""
        return len(self.ids) - self.fresh


def embed_step(
    problems: pa.Table,
    encoder: Encoder | None,
    *,
    known: pa.Table | None = None,
    batch_size: int = 1024,
    text_column: str = "question",
    key_column: str = "problem_id",
    progress: Progress = no_progress,
) -> EmbedResult:
    """Vectors for ``problems``' ``text_column``, encoding only texts not ``known``.

    ``known`` holds ``key_column`` and ``vector``; keys of equal texts must be equal
    (problem ids, or :func:`text_keys`). ``encoder`` may be None when every vector is
    known (re-thresholding); a missing one then raises ``ValueError``. Vectors are written
    straight into one ``(n, dim)`` matrix (memory: the matrix and one batch).
    """
    ids = problems.column("problem_id").to_pylist()
    keys = problems.column(key_column).to_pylist()
    texts = problems.column(text_column)
    n = len(ids)
    have: dict[str, int] = {}
    known_matrix = np.zeros((0, 0), dtype=np.float32)
    if known is not None and known.num_rows:
        known_matrix = vector_matrix(known)
        have = {k: i for i, k in enumerate(known.column(key_column).to_pylist())}
    first: dict[str, int] = {}  # key -> first row with it
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    new_keys = [k for k in first if k not in have]
    new_rows = np.fromiter((first[k] for k in new_keys), dtype=np.int64, count=len(new_keys))
    if len(new_keys) and encoder is None:
        raise ValueError(f"{len(new_keys)} problem(s) have no cached vector and no encoder")
    dim = known_matrix.shape[1] if known_matrix.size else 0
    out: np.ndarray | None = None if not dim else np.empty((n, dim), dtype=np.float32)
    progress("encode", 0, len(new_rows))
    for start in range(0, len(new_rows), batch_size):
        rows = new_rows[start : start + batch_size]
        batch = texts.take(pa.array(rows)).to_pylist()
        vecs = _normalize(encoder.encode([t or "" for t in batch]))  # type: ignore[union-attr]
        if out is None:
            dim = vecs.shape[1]
            out = np.empty((n, dim), dtype=np.float32)
        elif vecs.shape[1] != dim:
            raise ValueError(
                f"cached vectors have {dim} dimensions, the encoder gives {vecs.shape[1]}"
            )
        out[rows] = vecs
        progress("encode", min(start + batch_size, len(new_rows)), len(new_rows))
    if out is None:
        out = np.zeros((n, dim), dtype=np.float32)
    source = np.fromiter((first[k] for k in keys), dtype=np.int64, count=n)
    from_known = np.fromiter((have.get(k, -1) for k in keys), dtype=np.int64, count=n)
    cached = np.flatnonzero(from_known >= 0)
    if len(cached):
        out[cached] = known_matrix[from_known[cached]]
    copies = np.flatnonzero((from_known < 0) & (source != np.arange(n)))
    if len(copies):
        out[copies] = out[source[copies]]
    return EmbedResult(ids, out, new_keys, new_rows, key_column=key_column, fresh=n - len(cached))


@dataclass(frozen=True)
class SemanticConfig:
    """Parameters of semantic dedup."""

    model: str = "all-MiniLM-L6-v2-static"
    """Name of the encoder's model (part of the config id and the cache key)."""
    threshold: float = STATIC_THRESHOLD
    """Minimum cosine of an edge."""
    same_numbers_threshold: float | None = STATIC_SAME_NUMBERS_THRESHOLD
    """Minimum cosine when both problems have the same numbers in the same order
    (None: ``threshold``)."""
    no_numbers_threshold: float | None = STATIC_NO_NUMBERS_THRESHOLD
    """Minimum cosine when neither problem has a number (None: ``threshold``)."""
    k: int = 16
    """Neighbours kept per problem (bounds the pairs in big groups of look-alikes)."""
    exact_below: int = 20_000
    """Decontamination: exact search below this many benchmark vectors, HNSW above."""
    number_guard: bool = True
    """Never merge problems whose numbers (or their order and roles) differ."""
    match: MatchConfig = field(default_factory=MatchConfig)
    """How :func:`semantic_clusters` builds the matching texts (the flow embeds them)."""
    block: int = 4096
    """Groups up to this many rows are compared all pairs at once."""
    cell: int = 512
    """Rows per k-means cell in larger groups."""
    probes: int = 2
    """Cells each row of a large group joins."""

    def __post_init__(self) -> None:
        for name in ("threshold", "same_numbers_threshold", "no_numbers_threshold"):
            value = getattr(self, name)
            if value is not None and not -1.0 <= value <= 1.0:
                raise ValueError(f"semantic {name} must be in [-1, 1], got {value}")
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if self.probes < 1 or self.cell < 2 or self.block < 2:
            raise ValueError("probes must be at least 1, cell and block at least 2")

    @property
    def lowest(self) -> float:
        """The lowest threshold any pair can pass."""
        values = (self.threshold, self.same_numbers_threshold, self.no_numbers_threshold)
        return min(v for v in values if v is not None)

    def pair_thresholds(self, same_order: np.ndarray, no_numbers: np.ndarray) -> np.ndarray:
        """The cosine each pair must reach.

        By whether its numbers match in order, and whether it has none.
        """
        same = self.same_numbers_threshold
        none = self.no_numbers_threshold
        out = np.where(same_order, self.threshold if same is None else same, self.threshold)
        return np.where(no_numbers, self.threshold if none is None else none, out)

    def params(self) -> dict[str, object]:
        """JSON-able parameters (hashed into the dedup config id)."""
        return {
            "method": "semantic",
            "model": self.model,
            "threshold": self.threshold,
            "same_numbers_threshold": self.same_numbers_threshold,
            "no_numbers_threshold": self.no_numbers_threshold,
            "k": self.k,
            "number_guard": self.number_guard,
            "match": self.match.params(),
            "search": {"version": 2, "block": self.block, "cell": self.cell,
                       "probes": self.probes},
        }  # fmt: skip


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
            ndim=data.shape[1], metric="cos", dtype="f32", connectivity=16, expansion_add=128
        )
        index.add(np.arange(n, dtype=np.uint64), data)
        found = index.search(q, k)
    keys = np.asarray(found.keys, dtype=np.int64).reshape(len(q), -1)
    dist = np.asarray(found.distances, dtype=np.float64).reshape(len(q), -1)
    counts = np.asarray(found.counts).reshape(-1)
    valid = np.arange(keys.shape[1])[None, :] < counts[:, None]
    keys = np.where(valid, keys, -1)
    return keys, np.where(valid, 1.0 - dist, -np.inf)


# -- the pair search -------------------------------------------------------------------

_PAIR_CHUNK = 65_536
_SMALL = 48  # groups up to this size: every pair enumerated at once


class _Pairs:
    """Collects ``(i, j, cosine)`` pairs, ``i < j``, at least ``floor``."""

    def __init__(self, floor: float) -> None:
        self.floor = floor
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, i: np.ndarray, j: np.ndarray, sim: np.ndarray) -> None:
        keep = (sim >= self.floor) & (i != j)
        if keep.any():
            i, j, sim = i[keep], j[keep], sim[keep]
            self.parts.append((np.minimum(i, j), np.maximum(i, j), sim))

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        i, j, sim = (np.concatenate(p) for p in zip(*self.parts, strict=True))
        # one row per pair (a pair can be found in several cells)
        order = np.lexsort((j, i))
        i, j, sim = i[order], j[order], sim[order]
        head = np.ones(len(i), dtype=bool)
        head[1:] = (i[1:] != i[:-1]) | (j[1:] != j[:-1])
        return i[head], j[head], sim[head]


def _small_groups(
    matrix: np.ndarray, rows: np.ndarray, starts: np.ndarray, sizes: np.ndarray, out: _Pairs
) -> None:
    """Every pair inside many small groups (``rows[starts[g] : starts[g] + sizes[g]]``)."""
    pos = np.repeat(starts, sizes) + (
        np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    )
    end = np.repeat(starts + sizes, sizes)
    gap = 1
    while len(pos):
        inside = pos + gap < end
        pos, end = pos[inside], end[inside]
        for s in range(0, len(pos), _PAIR_CHUNK):
            chunk = pos[s : s + _PAIR_CHUNK]
            i, j = rows[chunk], rows[chunk + gap]
            sim = np.einsum("ij,ij->i", matrix[i], matrix[j])
            out.add(i, j, sim)
        gap += 1


def _block_pairs(
    matrix: np.ndarray, rows: np.ndarray, k: int, out: _Pairs, queries: np.ndarray | None = None
) -> None:
    """The top ``k`` neighbours of each of ``queries`` (default: ``rows``) among ``rows``."""
    data = matrix[rows]
    q_rows = rows if queries is None else queries
    for s in range(0, len(q_rows), 2048):
        q = q_rows[s : s + 2048]
        sims = (matrix[q] if queries is not None else data[s : s + 2048]) @ data.T
        kk = min(k + 1, sims.shape[1])
        if kk < sims.shape[1]:
            top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        else:
            top = np.broadcast_to(np.arange(sims.shape[1]), sims.shape)
        val = np.take_along_axis(sims, top, axis=1)
        out.add(np.repeat(q, top.shape[1]), rows[top].reshape(-1), val.reshape(-1))


def _kmeans(data: np.ndarray, cells: int, seed: int = 0, iterations: int = 6) -> np.ndarray:
    """Spherical k-means centroids of ``data`` (rows are unit vectors)."""
    rng = np.random.RandomState(seed)
    sample = data[rng.choice(len(data), size=min(len(data), cells * 40), replace=False)]
    centroids = sample[rng.choice(len(sample), size=cells, replace=False)].copy()
    for _ in range(iterations):
        assign = np.argmax(sample @ centroids.T, axis=1)
        sums = np.zeros_like(centroids)
        np.add.at(sums, assign, sample)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        sums[empty] = sample[rng.choice(len(sample), size=int(empty.sum()))]
        norms[empty] = 1.0
        centroids = sums / norms
    return centroids.astype(np.float32)


def _large_group(
    matrix: np.ndarray, rows: np.ndarray, cfg: SemanticConfig, out: _Pairs, depth: int = 0
) -> None:
    """Pairs inside a large group: k-means cells, each row in its nearest ``probes`` cells."""
    cells = max(2, int(round(len(rows) / cfg.cell)))
    data = matrix[rows]
    centroids = _kmeans(data, cells, seed=depth)
    probes = min(cfg.probes, cells)
    member_cell = np.empty((len(rows), probes), dtype=np.int64)
    for s in range(0, len(rows), 8192):
        sims = data[s : s + 8192] @ centroids.T
        member_cell[s : s + 8192] = np.argpartition(-sims, probes - 1, axis=1)[:, :probes]
    flat_rows = np.repeat(np.arange(len(rows)), probes)
    flat_cells = member_cell.reshape(-1)
    order = np.argsort(flat_cells, kind="stable")
    flat_cells, flat_rows = flat_cells[order], flat_rows[order]
    bounds = np.searchsorted(flat_cells, np.arange(cells + 1))
    for c in range(cells):
        members = rows[flat_rows[bounds[c] : bounds[c + 1]]]
        if len(members) < 2:
            continue
        if len(members) > cfg.block and depth < 2 and len(members) < len(rows):
            _large_group(matrix, members, cfg, out, depth + 1)
        else:
            _block_pairs(matrix, members, cfg.k, out)


def similar_pairs(
    matrix: np.ndarray,
    groups: np.ndarray,
    config: SemanticConfig | None = None,
    *,
    order_key: np.ndarray | None = None,
    progress: Progress = no_progress,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs ``(i, j, cosine)``, ``i < j``, of one group with cosine at least ``lowest``.

    See the module docstring; ``order_key`` orders the rows of a group (row-order
    independent results).
    """
    cfg = config or SemanticConfig()
    n = len(matrix)
    out = _Pairs(cfg.lowest)
    if n < 2:
        return out.result()
    rank = np.arange(n) if order_key is None else np.asarray(order_key)
    order = np.lexsort((rank, groups))
    g = groups[order]
    starts = np.flatnonzero(np.append(True, g[1:] != g[:-1]))
    sizes = np.diff(np.append(starts, n))
    small = (sizes > 1) & (sizes <= _SMALL)
    _small_groups(matrix, order, starts[small], sizes[small], out)
    bigger = np.flatnonzero(sizes > _SMALL)
    done = n - int(sizes[bigger].sum())
    progress("neighbours", done, n)
    for g_at in bigger.tolist():
        rows = order[starts[g_at] : starts[g_at] + sizes[g_at]]
        if len(rows) <= cfg.block:
            _block_pairs(matrix, rows, cfg.k, out)
        else:
            _large_group(matrix, rows, cfg, out)
        done += len(rows)
        progress("neighbours", done, n)
    return out.result()


@dataclass
class SemanticResult:
    """What :func:`semantic_clusters` found."""

    clusters: pa.Table
    edges: pa.Table


def profiles_for(texts: list[str], guard: bool) -> NumberProfiles:
    """Number profiles of matching texts, or profiles letting everything merge."""
    return number_profiles(texts) if guard else unguarded(len(texts))


def semantic_edges(
    ids: list[str],
    matrix: np.ndarray,
    profiles: NumberProfiles,
    config: SemanticConfig | None = None,
    *,
    progress: Progress = no_progress,
) -> pa.Table:
    """Edges of the similar pairs that reach their threshold and the guard allows."""
    cfg = config or SemanticConfig()
    if len(ids) < 2:
        return edges_table([], [], [])
    id_arr = np.asarray(ids, dtype=object)
    rank = _rank(ids)
    progress("neighbours", 0, len(ids))
    i, j, sim = similar_pairs(matrix, profiles.multiset, cfg, order_key=rank, progress=progress)
    thresholds = cfg.pair_thresholds(profiles.same_order(i, j), ~profiles.has_numbers[i])
    ok = profiles.allowed(i, j) & (sim >= thresholds)
    i, j, sim = i[ok], j[ok], np.minimum(sim[ok], 1.0)
    return edges_table(id_arr[i].tolist(), id_arr[j].tolist(), sim)


def _rank(ids: list[str]) -> np.ndarray:
    import pyarrow.compute as pc

    arr = pa.array(ids, pa.string())
    return pc.rank(arr, sort_keys="ascending", tiebreaker="first").to_numpy().astype(np.int64)


def neighbour_edges(
    vectors: pa.Table,
    config: SemanticConfig | None = None,
    *,
    texts: list[str] | None = None,
) -> pa.Table:
    """Semantic edges of a vectors table (``texts``: matching texts for the guard)."""
    cfg = config or SemanticConfig()
    ids = vectors.column("problem_id").to_pylist()
    guard = cfg.number_guard and texts is not None
    profiles = profiles_for(texts or [], True) if guard else unguarded(len(ids))
    return semantic_edges(ids, vector_matrix(vectors), profiles, cfg)


def semantic_clusters(
    problems: pa.Table,
    vectors: pa.Table | EmbedResult,
    config: SemanticConfig | None = None,
    *,
    progress: Progress = no_progress,
) -> pa.Table:
    """Neighbours → clusters for ``vectors`` (``problems`` gives the matching texts)."""
    from tracemill.pipelines.curate.near import matching_column, profiles_column

    cfg = config or SemanticConfig()
    if isinstance(vectors, EmbedResult):
        ids, matrix = vectors.ids, vectors.matrix
    else:
        ids, matrix = vectors.column("problem_id").to_pylist(), vector_matrix(vectors)
    problem_ids = problems.column("problem_id").to_pylist()
    if problem_ids != ids:  # vectors in another order (or of other problems): align
        position = {pid: i for i, pid in enumerate(problem_ids)}
        problems = problems.take(pa.array([position[pid] for pid in ids]))
    texts = matching_column(problems, cfg.match)
    if cfg.number_guard:
        profiles = profiles_column(problems, texts)
    else:
        profiles = unguarded(len(ids))
    return connected_clusters(semantic_edges(ids, matrix, profiles, cfg, progress=progress))


def cosine_similarity(vectors: pa.Table | EmbedResult, a: list[str], b: list[str]) -> np.ndarray:
    """Cosine similarity of each pair ``(a[i], b[i])`` of normalized vectors."""
    if not a:
        return np.zeros(0)
    if isinstance(vectors, EmbedResult):
        ids, matrix = vectors.ids, vectors.matrix
    else:
        ids, matrix = vectors.column("problem_id").to_pylist(), vector_matrix(vectors)
    index = {pid: i for i, pid in enumerate(ids)}
    ia = np.fromiter((index[x] for x in a), dtype=np.int64, count=len(a))
    ib = np.fromiter((index[x] for x in b), dtype=np.int64, count=len(b))
    return np.clip(np.einsum("ij,ij->i", matrix[ia], matrix[ib]), -1.0, 1.0)
