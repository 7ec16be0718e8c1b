"""Near dedup: MinHash LSH over word or character n-grams (``datasketch``).

Steps, each a function over tables:

1. :func:`shingle_step` — the n-gram set of each question, hashed to 32-bit integers
   (CRC-32 of the UTF-8 n-gram, deterministic across processes). Word n-grams are over
   the word tokens of :func:`~pipelines.curate.normalize.word_tokens`; character
   n-grams over the exact-dedup normalization.
2. :func:`minhash_step` — a MinHash signature of ``num_perm`` values per problem.
3. :func:`lsh_edges` — candidate pairs from banded LSH (``MinHashLSH`` at
   ``threshold``), confirmed when the estimated Jaccard similarity (share of equal
   signature values) is at least ``threshold``; with ``number_guard`` pairs whose
   number signatures differ are dropped (renumbered problems are different problems).
4. :func:`~pipelines.curate.clusters.connected_clusters` — clusters.

:func:`near_clusters` runs all four.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa

from pipelines.curate.clusters import connected_clusters, edges_table
from pipelines.curate.normalize import (
    NormalizeConfig,
    char_texts,
    ngrams,
    number_signatures,
    word_tokens,
)

SHINGLES = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("shingles", pa.list_(pa.uint32())),
    ]
)
SIGNATURES = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("signature", pa.list_(pa.uint64())),
        pa.field("numbers", pa.string()),
    ]
)


@dataclass(frozen=True)
class NearConfig:
    """Parameters of MinHash near dedup."""

    threshold: float = 0.8
    """Minimum estimated Jaccard similarity of the n-gram sets."""
    num_perm: int = 128
    ngram: int = 5
    unit: Literal["word", "char"] = "word"
    seed: int = 1
    number_guard: bool = True
    """Never merge problems whose numeric literals differ."""
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    """Normalization before character n-grams (word n-grams use word tokens)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"near threshold must be in (0, 1], got {self.threshold}")
        if self.num_perm < 2:
            raise ValueError(f"num_perm must be at least 2, got {self.num_perm}")
        if self.ngram < 1:
            raise ValueError(f"ngram must be at least 1, got {self.ngram}")
        if self.unit not in ("word", "char"):
            raise ValueError(f"unit must be 'word' or 'char', got {self.unit!r}")

    def params(self) -> dict[str, object]:
        """JSON-able parameters (hashed into the dedup config id)."""
        out: dict[str, object] = {
            "method": "near",
            "threshold": self.threshold,
            "num_perm": self.num_perm,
            "ngram": self.ngram,
            "unit": self.unit,
            "seed": self.seed,
            "number_guard": self.number_guard,
        }
        if self.unit == "char":
            out["normalize"] = self.normalize.params()
        return out


def _hash(gram: str) -> int:
    return zlib.crc32(gram.encode("utf-8"))


def shingle_step(problems: pa.Table, config: NearConfig | None = None) -> pa.Table:
    """Hashed n-gram sets of every question (:data:`SHINGLES`)."""
    cfg = config or NearConfig()
    questions = problems.column("question")
    units: list[list[str]] | list[str]
    if cfg.unit == "word":
        units = word_tokens(questions)
    else:
        units = char_texts(questions, cfg.normalize)
    shingles = [sorted({_hash(g) for g in ngrams(u, cfg.ngram)}) for u in units]
    return pa.table(
        {"problem_id": problems.column("problem_id"), "shingles": shingles}, schema=SHINGLES
    )


def _identity(value: int) -> int:
    return value


def minhash_step(
    shingles: pa.Table, problems: pa.Table | None = None, config: NearConfig | None = None
) -> pa.Table:
    """MinHash signatures of shingle sets (:data:`SIGNATURES`).

    ``problems`` (with ``question``) supplies the number signatures for the guard; without
    it the ``numbers`` column is null.
    """
    from datasketch import MinHash

    cfg = config or NearConfig()
    sets = shingles.column("shingles").to_pylist()
    signatures = [
        m.hashvalues.astype(np.uint64)
        for m in MinHash.generator(
            (s or [] for s in sets), num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=_identity
        )
    ]
    numbers: list[str | None]
    if problems is not None:
        numbers = list(number_signatures(problems.column("question")))
    else:
        numbers = [None] * shingles.num_rows
    return pa.table(
        {
            "problem_id": shingles.column("problem_id"),
            "signature": [s.tolist() for s in signatures],
            "numbers": numbers,
        },
        schema=SIGNATURES,
    )


def signature_matrix(signatures: pa.Table) -> np.ndarray:
    """The signatures as an ``(n, num_perm)`` uint64 array."""
    if signatures.num_rows == 0:
        return np.zeros((0, 0), dtype=np.uint64)
    flat = signatures.column("signature").combine_chunks().flatten().to_numpy()
    return flat.reshape(signatures.num_rows, -1)


def lsh_edges(signatures: pa.Table, config: NearConfig | None = None) -> pa.Table:
    """Confirmed near-duplicate pairs (:data:`~pipelines.curate.clusters.EDGES`)."""
    from datasketch import MinHash, MinHashLSH

    cfg = config or NearConfig()
    ids = signatures.column("problem_id").to_pylist()
    sig = signature_matrix(signatures)
    if len(ids) < 2:
        return edges_table([], [], [])
    lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm)
    template = MinHash(num_perm=cfg.num_perm, seed=cfg.seed)
    # an empty question keeps the initial signature: it takes no part
    empty = np.all(sig == template.hashvalues.astype(np.uint64), axis=1)
    hashes = []
    with lsh.insertion_session() as session:
        for i in range(len(ids)):
            m = template.copy()
            m.hashvalues = sig[i]
            hashes.append(m)
            if not empty[i]:
                session.insert(i, m, check_duplication=False)
    left: list[int] = []
    right: list[int] = []
    for i, m in enumerate(hashes):
        if empty[i]:
            continue
        for j in lsh.query(m):
            if j > i:
                left.append(i)
                right.append(j)
    if not left:
        return edges_table([], [], [])
    li, ri = np.asarray(left), np.asarray(right)
    sim = (sig[li] == sig[ri]).mean(axis=1)
    ok = sim >= cfg.threshold
    if cfg.number_guard:
        numbers = np.asarray(signatures.column("numbers").to_pylist(), dtype=object)
        ok &= numbers[li] == numbers[ri]
    li, ri, sim = li[ok], ri[ok], sim[ok]
    id_arr = np.asarray(ids, dtype=object)
    return edges_table(id_arr[li].tolist(), id_arr[ri].tolist(), sim)


def near_clusters(
    problems: pa.Table, config: NearConfig | None = None
) -> tuple[pa.Table, pa.Table]:
    """Shingle → MinHash → LSH → clusters; returns ``(clusters, signatures)``."""
    cfg = config or NearConfig()
    signatures = minhash_step(shingle_step(problems, cfg), problems, cfg)
    return connected_clusters(lsh_edges(signatures, cfg)), signatures


def signature_similarity(signatures: pa.Table, a: list[str], b: list[str]) -> np.ndarray:
    """Estimated Jaccard similarity of each pair ``(a[i], b[i])`` from their signatures."""
    if not a:
        return np.zeros(0)
    sig = signature_matrix(signatures)
    index = {pid: i for i, pid in enumerate(signatures.column("problem_id").to_pylist())}
    ia = np.fromiter((index[x] for x in a), dtype=np.int64, count=len(a))
    ib = np.fromiter((index[x] for x in b), dtype=np.int64, count=len(b))
    return (sig[ia] == sig[ib]).mean(axis=1)


__all__ = [
    "SHINGLES",
    "SIGNATURES",
    "NearConfig",
    "lsh_edges",
    "minhash_step",
    "near_clusters",
    "shingle_step",
    "signature_matrix",
    "signature_similarity",
]
