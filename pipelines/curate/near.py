"""Near dedup: MinHash LSH over word or character n-grams, vectorized with numpy.

Steps, each a function over tables or arrays:

1. :func:`shingle_step` — the n-gram set of each question, hashed to 32-bit integers
   (CRC-32 of the UTF-8 n-gram, deterministic across processes). Word n-grams are over
   the word tokens of :func:`~tracemill.pipelines.curate.normalize.word_tokens`; character
   n-grams over the exact-dedup normalization.
2. :func:`minhash_step` — a MinHash signature of ``num_perm`` values per problem
   (:func:`minhash_matrix` runs steps 1 and 2 block by block into one ``uint32`` matrix,
   so memory stays at ``4 * num_perm`` bytes per row: 512 MB for a million rows).
3. :func:`lsh_pairs` — candidate pairs from banded LSH (the bands and rows of
   ``datasketch.MinHashLSH`` at ``threshold``), **linear in the rows**: inside a bucket
   every member is paired with the bucket's first member only (datatrove's trick), never
   with every other member. A pair is confirmed when the estimated Jaccard similarity
   (share of equal signature values) is at least ``threshold`` and the number guard
   allows it; members the first one rejects are paired with the first of the rejected
   ones, for at most ``rounds`` rounds. Confirmed pairs join a union–find (connected
   components, recomputed after each band), and later bands skip the pairs it already
   joined. With the number guard the bucket key includes the problem's sorted numbers,
   so template siblings that differ only in their numbers never share a bucket.
4. :func:`~tracemill.pipelines.curate.clusters.connected_clusters` — clusters.

:func:`near_clusters` runs all four on the problems' matching texts
(:mod:`~tracemill.pipelines.curate.matching`: folded, instruction boilerplate stripped)
with the number guard of their number profiles.

Because a bucket is a star, a member that the first member rejects and that no later
round or band pairs with a third member stays out of the cluster; every edge is still
a confirmed pair, and on data without such chains the clusters equal those of all
pairs (the tests compare with datasketch's all-pairs ``MinHashLSH``).

Shingles and signatures are bit-identical to the per-row ``datasketch`` code they
replaced:

* the CRC-32 of every n-gram comes from the CRC register at each byte of its text
  (``crc(w) = P[end] ^ shift_len(P[start]) ^ crc(len zero bytes)``, CRC being linear), so
  each text is walked once whatever ``ngram`` (texts over 8 KiB take the per-row path);
* signatures use datasketch's ``affine32`` scheme (its default since 2.0): the shingle
  pre-mixed with the MurmurHash3 finalizer, then ``a * h + b mod 2**32`` with ``(a, b)``
  drawn from ``numpy.random.RandomState(seed)`` exactly as datasketch draws them.

Results do not depend on row order or block size: bucket members are ordered by their
problem id. ``datasketch`` is still used for the LSH band layout (:func:`lsh_bands`) and
is the reference the tests compare against.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tracemill.pipelines.curate.clusters import connected_clusters, edges_table
from tracemill.pipelines.curate.matching import (
    PROFILE_COLUMNS,
    MatchConfig,
    NumberProfiles,
    matching_texts,
    number_profiles,
    profiles_of,
)
from tracemill.pipelines.curate.normalize import (
    NormalizeConfig,
    ngrams,
    normalize_texts,
    number_signatures,
    text_bytes,
    word_texts,
)
from tracemill.pipelines.curate.progress import Progress, no_progress

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

BLOCK_ROWS = 8_192
"""Rows per block in :func:`shingle_step` and :func:`minhash_step` (bounds memory only)."""
_MAX_ROW_BYTES = 8_192  # longer texts take the per-row path: the CRC walk is per byte position
_MAX_TABLE_SPAN = 256  # longer n-grams (bytes) are hashed with zlib one by one
_PIECE = 1 << 15  # shingles per MinHash piece (the scratch array stays in the CPU cache)
_PAIR_CHUNK = 4_096  # candidate pairs compared at once (bounds memory, stays in cache)
_MAX32 = np.uint32(0xFFFFFFFF)
_MIX = np.uint64(0x9E3779B97F4A7C15)


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
    match: MatchConfig = field(default_factory=MatchConfig)
    """How :func:`near_clusters` builds the matching texts it compares."""
    rounds: int = 3
    """Star rounds per bucket (see the module docstring)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"near threshold must be in (0, 1], got {self.threshold}")
        if self.num_perm < 2:
            raise ValueError(f"num_perm must be at least 2, got {self.num_perm}")
        if self.ngram < 1:
            raise ValueError(f"ngram must be at least 1, got {self.ngram}")
        if self.unit not in ("word", "char"):
            raise ValueError(f"unit must be 'word' or 'char', got {self.unit!r}")
        if self.rounds < 1:
            raise ValueError(f"rounds must be at least 1, got {self.rounds}")

    def params(self) -> dict[str, object]:
        """JSON-able parameters (hashed into the dedup config id)."""
        out: dict[str, object] = {
            "method": "near",
            "lsh": "star-1",
            "rounds": self.rounds,
            "match": self.match.params(),
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


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` hashes first, which is much slower here)."""
    # stable (timsort) merges the runs of sorted rows that shingle keys come in
    values = np.sort(values, kind="stable")
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _hash(gram: str) -> int:
    return zlib.crc32(gram.encode("utf-8"))


@cache
def _crc_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CRC-32 (zlib) tables: one-byte step, shift by ``L`` zero bytes, CRC of ``L`` zeros.

    ``step[x]`` advances the raw register (no init, no final xor) by a zero byte from
    ``x``'s low byte; ``shift[(L * 4 + k) * 256 + v]`` is register ``v << 8k`` advanced by
    ``L`` zero bytes (``L <= _MAX_TABLE_SPAN``); ``zeros[L]`` is ``crc32(bytes(L))``.
    """
    step = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        step = np.where(step & 1, (step >> 1) ^ np.uint32(0xEDB88320), step >> 1)
    shift = np.empty((_MAX_TABLE_SPAN + 1, 4, 256), dtype=np.uint32)
    shift[0] = np.arange(256, dtype=np.uint32) << (np.arange(4, dtype=np.uint32)[:, None] * 8)
    for length in range(1, _MAX_TABLE_SPAN + 1):
        prev = shift[length - 1]
        shift[length] = step[prev & 0xFF] ^ (prev >> 8)
    zeros = np.array([zlib.crc32(bytes(n)) for n in range(_MAX_TABLE_SPAN + 1)], np.uint32)
    for table in (step, shift, zeros):
        table.flags.writeable = False
    return step, shift.reshape(-1), zeros


def _units(buf: np.ndarray, offsets: np.ndarray, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """First and past-the-end byte of every character, or of every word between spaces."""
    if unit == "char":
        starts = np.flatnonzero((buf & 0xC0) != 0x80)  # UTF-8 lead bytes
        return starts, np.append(starts[1:], len(buf))
    space = buf == 0x20
    text_start = np.zeros(len(buf), dtype=bool)
    text_start[offsets[:-1][offsets[:-1] < len(buf)]] = True
    text_last = np.zeros(len(buf), dtype=bool)
    text_last[offsets[1:][offsets[1:] > 0] - 1] = True
    word = ~space
    starts = np.flatnonzero(word & (text_start | np.concatenate(([False], space[:-1]))))
    ends = np.flatnonzero(word & (text_last | np.concatenate((space[1:], [False])))) + 1
    return starts, ends


def _windows(count: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row, first and last unit of every n-gram, given the units per row.

    A text of at most ``n`` units is one n-gram; units are numbered row after row.
    """
    first = np.cumsum(count) - count
    per = np.where(count > 0, np.maximum(count - n + 1, 1), 0)
    wrow = np.repeat(np.arange(len(count)), per)
    lo = np.arange(len(wrow)) - np.repeat(np.cumsum(per) - per - first, per)
    hi = lo - 1 + np.minimum(n, np.repeat(count, per))
    return wrow, lo, hi


def _prefix_crc(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Raw CRC-32 register after every prefix of every text.

    Text ``r`` is ``buf[starts[r] : starts[r] + lengths[r]]``; the register after its first
    ``j`` bytes is at ``out[starts[r] + r + j]``. One step per byte position, over all
    texts at once (longest first, so the texts still running are a prefix).
    """
    step = _crc_tables()[0]
    out = np.zeros(len(buf) + len(starts), dtype=np.uint32)
    order = np.argsort(-lengths, kind="stable")
    src = starts[order]
    gap = order + 1
    running = np.searchsorted(-lengths[order], -np.arange(1, lengths.max(initial=0) + 1), "right")
    reg = np.zeros(len(order), dtype=np.uint32)
    for j, k in enumerate(running.tolist()):
        at = src[:k] + j
        cur = reg[:k]
        cur = step[(cur ^ buf[at]) & 0xFF] ^ (cur >> 8)
        reg[:k] = cur
        out[at + gap[:k]] = cur
    return out


def _span_crc(
    buf: np.ndarray, prefix: np.ndarray, text: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """``zlib.crc32(buf[lo:hi])`` of spans of text ``text`` (``prefix``: :func:`_prefix_crc`)."""
    _, shift, zeros = _crc_tables()
    crc = np.empty(len(lo), dtype=np.uint32)
    length = hi - lo
    short = length <= _MAX_TABLE_SPAN
    every = bool(short.all())
    t, a, b, size = (text, lo, hi, length)
    if not every:
        t, a, b, size = text[short], lo[short], hi[short], length[short]
    head = prefix[a + t]
    base = size * 1024
    moved = shift[base + (head & 0xFF)]
    moved ^= shift[base + 256 + ((head >> 8) & 0xFF)]
    moved ^= shift[base + 512 + ((head >> 16) & 0xFF)]
    moved ^= shift[base + 768 + (head >> 24)]
    value = prefix[b + t] ^ moved ^ zeros[size]
    if every:
        return value
    crc[short] = value
    for i in np.flatnonzero(~short).tolist():
        crc[i] = zlib.crc32(buf[lo[i] : hi[i]].tobytes())
    return crc


def _row_shingles(text: str, unit: str, n: int) -> list[int]:
    """Sorted hashed n-grams of one prepared text (the per-row path, for long texts)."""
    units: list[str] | str = (text.split(" ") if text else []) if unit == "word" else text
    return sorted({_hash(g) for g in ngrams(units, n)})


def _shingle_block(texts: pa.Array | pa.ChunkedArray, unit: str, n: int) -> pa.Array:
    """Hashed n-gram sets of prepared texts (words joined by single spaces, or chars)."""
    buf, offsets = text_bytes(texts)
    n_rows = len(offsets) - 1
    lengths = np.diff(offsets)
    starts, ends = _units(buf, offsets, unit)
    count = np.diff(np.searchsorted(starts, offsets))
    long_rows = np.flatnonzero(lengths > _MAX_ROW_BYTES)
    if len(long_rows):
        short = lengths <= _MAX_ROW_BYTES
        keep = np.repeat(short, count)
        starts, ends = starts[keep], ends[keep]
        count, lengths = np.where(short, count, 0), np.where(short, lengths, 0)
    wrow, first, last = _windows(count, n)
    prefix = _prefix_crc(buf, offsets[:-1], lengths)
    crc = _span_crc(buf, prefix, wrow, starts[first], ends[last])
    parts = [(wrow.astype(np.uint64) << np.uint64(32)) | crc]
    for r in long_rows.tolist():
        text = buf[offsets[r] : offsets[r + 1]].tobytes().decode("utf-8")
        hashes = np.asarray(_row_shingles(text, unit, n), dtype=np.uint64)
        parts.append((np.uint64(r) << np.uint64(32)) | hashes)
    keys = _sorted_unique(np.concatenate(parts))  # sorted by row, then hash
    counts = np.bincount((keys >> np.uint64(32)).astype(np.int64), minlength=n_rows)
    list_offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    values = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return pa.ListArray.from_arrays(pa.array(list_offsets), pa.array(values))


def shingle_step(
    problems: pa.Table, config: NearConfig | None = None, *, block_rows: int = BLOCK_ROWS
) -> pa.Table:
    """Hashed n-gram sets of every question (:data:`SHINGLES`)."""
    cfg = config or NearConfig()
    questions = problems.column("question")
    chunks = []
    for start in range(0, problems.num_rows, block_rows):
        part = questions.slice(start, block_rows)
        if cfg.unit == "word":
            texts = word_texts(part)
        else:
            texts = normalize_texts(part, cfg.normalize)
        chunks.append(_shingle_block(texts, cfg.unit, cfg.ngram))
    shingles = pa.chunked_array(chunks, type=SHINGLES.field("shingles").type)
    return pa.table(
        {"problem_id": problems.column("problem_id"), "shingles": shingles}, schema=SHINGLES
    )


@cache
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` of datasketch's ``affine32`` MinHash, drawn the way it draws them."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.flags.writeable = b.flags.writeable = False
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (datasketch's pre-mix of the input hash)."""
    h = h ^ (h >> 16)
    h = h * np.uint32(0x85EBCA6B)
    h ^= h >> 13
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def _minhash_block(
    values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """``(rows, num_perm)`` signatures of the sets ``values[offsets[i] : offsets[i + 1]]``.

    Row pieces of about :data:`_PIECE` shingles, one permutation at a time, so the
    scratch array stays in cache; an empty set keeps the initial ``2**32 - 1``.
    """
    n = len(offsets) - 1
    out = np.full((len(a), n), _MAX32, dtype=np.uint32)
    hv = _fmix32(values.astype(np.uint32, copy=False))
    r0 = 0
    while r0 < n:
        r1 = int(np.searchsorted(offsets, offsets[r0] + _PIECE, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n)
        rows = r0 + np.flatnonzero(offsets[r0 + 1 : r1 + 1] > offsets[r0:r1])
        if len(rows):
            piece = hv[offsets[r0] : offsets[r1]]
            at = offsets[rows] - offsets[r0]
            tmp = np.empty_like(piece)
            for k in range(len(a)):
                np.multiply(piece, a[k], out=tmp)
                np.add(tmp, b[k], out=tmp)
                out[k, rows] = np.minimum.reduceat(tmp, at)
        r0 = r1
    return out.T


def minhash_step(
    shingles: pa.Table,
    problems: pa.Table | None = None,
    config: NearConfig | None = None,
    *,
    block_rows: int = BLOCK_ROWS,
) -> pa.Table:
    """MinHash signatures of shingle sets (:data:`SIGNATURES`).

    ``problems`` (with ``question``) supplies the number signatures for the guard; without
    it the ``numbers`` column is null.
    """
    cfg = config or NearConfig()
    a, b = _permutations(cfg.num_perm, cfg.seed)
    column = shingles.column("shingles")
    chunks = []
    for start in range(0, shingles.num_rows, block_rows):
        part = column.slice(start, block_rows).combine_chunks()
        sizes = pc.fill_null(pc.list_value_length(part), 0).to_numpy()
        offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        values = pc.list_flatten(part).to_numpy(zero_copy_only=False)
        sig = _minhash_block(values, offsets, a, b)
        flat = pa.array(sig.astype(np.uint64, order="C").ravel())
        step = np.arange(0, len(sig) * cfg.num_perm + 1, cfg.num_perm, dtype=np.int32)
        chunks.append(pa.ListArray.from_arrays(pa.array(step), flat))
    numbers: list[str | None]
    if problems is not None:
        numbers = list(number_signatures(problems.column("question")))
    else:
        numbers = [None] * shingles.num_rows
    return pa.table(
        {
            "problem_id": shingles.column("problem_id"),
            "signature": pa.chunked_array(chunks, type=SIGNATURES.field("signature").type),
            "numbers": pa.array(numbers, pa.string()),
        },
        schema=SIGNATURES,
    )


def _shingle_texts(questions: pa.Array | pa.ChunkedArray, cfg: NearConfig) -> pa.Array:
    """The texts n-grams are taken from (words joined by spaces, or normalized chars)."""
    if cfg.unit == "word":
        return word_texts(questions)
    return normalize_texts(questions, cfg.normalize)


def minhash_matrix(
    texts: pa.Array | pa.ChunkedArray | list[str],
    config: NearConfig | None = None,
    *,
    block_rows: int = BLOCK_ROWS,
    progress: Progress = no_progress,
) -> np.ndarray:
    """``(n, num_perm)`` ``uint32`` MinHash signatures of ``texts``, block by block.

    The same values as :func:`minhash_step` over :func:`shingle_step`, without keeping
    any shingle table (memory: the matrix and one block).
    """
    cfg = config or NearConfig()
    arr = pa.array(texts, pa.string()) if isinstance(texts, list) else texts
    a, b = _permutations(cfg.num_perm, cfg.seed)
    n = len(arr)
    out = np.empty((n, cfg.num_perm), dtype=np.uint32)
    progress("minhash", 0, n)
    for start in range(0, n, block_rows):
        part = arr.slice(start, block_rows)
        shingles = _shingle_block(_shingle_texts(part, cfg), cfg.unit, cfg.ngram)
        sizes = pc.fill_null(pc.list_value_length(shingles), 0).to_numpy()
        offsets = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        values = pc.list_flatten(shingles).to_numpy(zero_copy_only=False)
        out[start : start + len(part)] = _minhash_block(values, offsets, a, b)
        progress("minhash", min(start + block_rows, n), n)
    return out


def signature_matrix(signatures: pa.Table) -> np.ndarray:
    """The signatures as an ``(n, num_perm)`` uint64 array."""
    if signatures.num_rows == 0:
        return np.zeros((0, 0), dtype=np.uint64)
    flat = signatures.column("signature").combine_chunks().flatten().to_numpy()
    return flat.reshape(signatures.num_rows, -1)


@cache
def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """Bands and rows per band of ``datasketch.MinHashLSH`` at ``threshold``."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def _band_keys(cols: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each row of ``cols`` (equal rows, equal keys)."""
    key = np.zeros(len(cols), dtype=np.uint64)
    for c in range(cols.shape[1]):
        key = (key ^ cols[:, c]) * _MIX
        key ^= key >> np.uint64(29)
    return key


def _components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` nodes given edges ``(i, j)``."""
    if len(i) == 0:
        return np.arange(n)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _stars(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For positions sorted by ``group``: each group's first position, and the others."""
    head = np.ones(len(group), dtype=bool)
    head[1:] = group[1:] != group[:-1]
    first = np.flatnonzero(head)
    anchor = np.repeat(first, np.diff(np.append(first, len(group))))
    other = np.flatnonzero(~head)
    return anchor[other], other


class _Confirm:
    """Confirms candidate pairs: band equal, estimated Jaccard, number guard."""

    def __init__(self, sig: np.ndarray, cfg: NearConfig, profiles: NumberProfiles | None) -> None:
        self.sig = sig
        self.cfg = cfg
        self.profiles = profiles

    def __call__(
        self, i: np.ndarray, j: np.ndarray, lo: int, hi: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(ok, similarity)`` of pairs ``(i, j)`` colliding in columns ``lo:hi``."""
        ok = np.zeros(len(i), dtype=bool)
        sim = np.zeros(len(i))
        for s in range(0, len(i), _PAIR_CHUNK):
            a, b = i[s : s + _PAIR_CHUNK], j[s : s + _PAIR_CHUNK]
            equal = self.sig[a] == self.sig[b]
            part = equal.sum(axis=1, dtype=np.int64) / self.sig.shape[1]  # == .mean(axis=1)
            good = equal[:, lo:hi].all(axis=1) & (part >= self.cfg.threshold)
            if self.profiles is not None:
                good &= self.profiles.allowed(a, b)
            ok[s : s + len(a)] = good
            sim[s : s + len(a)] = part
        return ok, sim


def lsh_pairs(
    sig: np.ndarray,
    config: NearConfig | None = None,
    *,
    profiles: NumberProfiles | None = None,
    order_key: np.ndarray | None = None,
    progress: Progress = no_progress,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Confirmed near-duplicate pairs ``(i, j, similarity)`` of signature rows.

    Linear in the rows (see the module docstring). ``profiles`` enables the number guard;
    ``order_key`` (e.g. the rank of each problem id) orders bucket members, so results do
    not depend on row order.
    """
    cfg = config or NearConfig()
    n = len(sig)
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if n < 2:
        return none
    if sig.shape[1] != cfg.num_perm:
        raise ValueError(f"Expecting signatures of {cfg.num_perm} values, got {sig.shape[1]}")
    if sig.dtype != np.uint32 and sig.max() <= _MAX32:
        sig = sig.astype(np.uint32)  # half the memory traffic; equality is unchanged
    # an empty question keeps the initial signature: it takes no part
    live = np.flatnonzero(sig.min(axis=1) != _MAX32)
    rank = (np.arange(n) if order_key is None else np.asarray(order_key))[live]
    mix = None
    if profiles is not None:
        mix = profiles.multiset[live].astype(np.uint64) * _MIX
    confirm = _Confirm(sig, cfg, profiles)
    bands, rows = lsh_bands(cfg.threshold, cfg.num_perm)
    label = np.arange(n)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    progress("lsh", 0, bands)
    for band in range(bands):
        lo, hi = band * rows, (band + 1) * rows
        keys = _band_keys(sig[live, lo:hi])
        if mix is not None:
            keys ^= mix
            keys *= _MIX
        order = np.lexsort((rank, keys))
        group = keys[order]
        starts = np.flatnonzero(np.append(True, group[1:] != group[:-1]))
        size = np.diff(np.append(starts, len(group)))
        pending = np.flatnonzero(np.repeat(size, size) > 1)
        for _ in range(cfg.rounds):
            if len(pending) < 2:
                break
            at, other = _stars(group[pending])
            i, j = live[order[pending[at]]], live[order[pending[other]]]
            todo = label[i] != label[j]  # joined by an earlier band: nothing to add
            ok, sim = confirm(i[todo], j[todo], lo, hi)
            found.append((i[todo][ok], j[todo][ok], sim[ok]))
            # the rejected ones try again among themselves
            rejected = np.zeros(len(other), dtype=bool)
            rejected[np.flatnonzero(todo)[~ok]] = True
            pending = pending[other[rejected]]
        all_i = np.concatenate([f[0] for f in found]) if found else np.zeros(0, np.int64)
        all_j = np.concatenate([f[1] for f in found]) if found else np.zeros(0, np.int64)
        label = _components(n, all_i, all_j)
        progress("lsh", band + 1, bands)
    if not found:
        return none
    return tuple(np.concatenate(part) for part in zip(*found, strict=True))  # type: ignore[return-value]


def _number_codes(numbers: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An integer per number signature (equal signatures, equal codes; null is -1)."""
    arr = numbers.combine_chunks() if isinstance(numbers, pa.ChunkedArray) else numbers
    return pc.fill_null(pc.dictionary_encode(arr).indices, -1).to_numpy()


def _id_rank(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The rank of each id in sorted order (row-order independent tie breaks)."""
    return pc.rank(ids, sort_keys="ascending", tiebreaker="first").to_numpy().astype(np.int64)


def lsh_edges(
    signatures: pa.Table,
    config: NearConfig | None = None,
    *,
    profiles: NumberProfiles | None = None,
) -> pa.Table:
    """Confirmed near-duplicate pairs (:data:`~tracemill.pipelines.curate.clusters.EDGES`).

    Without ``profiles`` the guard compares the ``numbers`` column (the sorted numbers).
    """
    cfg = config or NearConfig()
    if signatures.num_rows < 2:
        return edges_table([], [], [])
    sig = signature_matrix(signatures)
    if profiles is None and cfg.number_guard:
        codes = _number_codes(signatures.column("numbers"))
        profiles = NumberProfiles(codes, codes, codes, codes >= 0)
    elif not cfg.number_guard:
        profiles = None
    ids = signatures.column("problem_id")
    lo, hi, sim = lsh_pairs(sig, cfg, profiles=profiles, order_key=_id_rank(ids))
    if len(lo) == 0:
        return edges_table([], [], [])
    return edges_table(ids.take(pa.array(lo)).to_pylist(), ids.take(pa.array(hi)).to_pylist(), sim)


@dataclass
class NearResult:
    """What :func:`near_clusters` found, with what it needs to explain it."""

    clusters: pa.Table
    signatures: np.ndarray
    """``(n, num_perm)`` signatures in input order."""
    ids: list[str]

    def similarity(self, a: list[str], b: list[str]) -> np.ndarray:
        """Estimated Jaccard similarity of each pair ``(a[i], b[i])``."""
        if not a:
            return np.zeros(0)
        index = {pid: i for i, pid in enumerate(self.ids)}
        ia = np.fromiter((index[x] for x in a), dtype=np.int64, count=len(a))
        ib = np.fromiter((index[x] for x in b), dtype=np.int64, count=len(b))
        return (self.signatures[ia] == self.signatures[ib]).mean(axis=1)


def matching_column(problems: pa.Table, match: MatchConfig) -> list[str]:
    """The problems' matching texts: their ``matching`` column, else computed."""
    if "matching" in problems.column_names:
        return problems.column("matching").to_pylist()
    sources = problems.column("source") if "source" in problems.column_names else None
    return matching_texts(problems.column("question"), sources, match)


def profiles_column(problems: pa.Table, texts: list[str]) -> NumberProfiles:
    """The problems' number profiles: their profile columns, else computed from ``texts``."""
    if all(name in problems.column_names for name in PROFILE_COLUMNS):
        return profiles_of(problems)
    return number_profiles(texts)


def near_clusters(
    problems: pa.Table,
    config: NearConfig | None = None,
    *,
    progress: Progress = no_progress,
) -> NearResult:
    """Matching texts → MinHash → linear LSH → clusters.

    ``problems`` needs ``problem_id`` and ``question`` (``source`` scopes recurring
    boilerplate); ``matching`` and the number profile columns, when present, are used
    instead of computing them (they must come from the same :class:`MatchConfig`).
    """
    cfg = config or NearConfig()
    ids = problems.column("problem_id")
    texts = matching_column(problems, cfg.match)
    sig = minhash_matrix(pa.array(texts, pa.string()), cfg, progress=progress)
    profiles = profiles_column(problems, texts) if cfg.number_guard else None
    lo, hi, sim = lsh_pairs(sig, cfg, profiles=profiles, order_key=_id_rank(ids), progress=progress)
    id_list = ids.to_pylist()
    id_arr = np.asarray(id_list, dtype=object)
    clusters = connected_clusters(edges_table(id_arr[lo].tolist(), id_arr[hi].tolist(), sim))
    return NearResult(clusters, sig, id_list)


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
    "NearResult",
    "lsh_bands",
    "lsh_edges",
    "lsh_pairs",
    "minhash_matrix",
    "minhash_step",
    "near_clusters",
    "shingle_step",
    "signature_matrix",
    "signature_similarity",
]
