"""Near dedup: MinHash LSH over word or character n-grams, vectorized with numpy.

Steps, each a function over tables:

1. :func:`shingle_step` — the n-gram set of each question, hashed to 32-bit integers
   (CRC-32 of the UTF-8 n-gram, deterministic across processes). Word n-grams are over
   the word tokens of :func:`~tracemill.pipelines.curate.normalize.word_tokens`; character
   n-grams over the exact-dedup normalization.
2. :func:`minhash_step` — a MinHash signature of ``num_perm`` values per problem.
3. :func:`lsh_edges` — candidate pairs from banded LSH (the bands and rows of
   ``datasketch.MinHashLSH`` at ``threshold``), confirmed when the estimated Jaccard
   similarity (share of equal signature values) is at least ``threshold``; with
   ``number_guard`` pairs whose number signatures differ are dropped (renumbered problems
   are different problems).
4. :func:`~tracemill.pipelines.curate.clusters.connected_clusters` — clusters.

:func:`near_clusters` runs all four.

Every step works on blocks of rows at once instead of one object per row, and gives
bit-identical results to the per-row ``datasketch`` code it replaced:

* the CRC-32 of every n-gram comes from the CRC register at each byte of its text
  (``crc(w) = P[end] ^ shift_len(P[start]) ^ crc(len zero bytes)``, CRC being linear), so
  each text is walked once whatever ``ngram`` (texts over 8 KiB take the per-row path);
* signatures use datasketch's ``affine32`` scheme (its default since 2.0): the shingle
  pre-mixed with the MurmurHash3 finalizer, then ``a * h + b mod 2**32`` with ``(a, b)``
  drawn from ``numpy.random.RandomState(seed)`` exactly as datasketch draws them;
* LSH groups equal bands by sorting instead of inserting rows one by one into an index,
  and confirms each candidate pair once, in chunks, in the first band where it collides.

Results do not depend on row order or block size. ``datasketch`` is still used for the
LSH band layout (:func:`lsh_bands`) and is the reference the tests compare against.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tracemill.pipelines.curate.clusters import connected_clusters, edges_table
from tracemill.pipelines.curate.normalize import (
    NormalizeConfig,
    ngrams,
    normalize_texts,
    number_signatures,
    text_bytes,
    word_texts,
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


def _equal_key_pairs(keys: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """All pairs ``i < j`` with ``keys[i] == keys[j]``, in chunks (memory stays bounded)."""
    order = np.argsort(keys, kind="stable")  # equal keys keep ascending rows
    sorted_key = keys[order]
    head = np.ones(len(order), dtype=bool)
    head[1:] = sorted_key[1:] != sorted_key[:-1]
    starts = np.flatnonzero(head)
    size = np.diff(np.append(starts, len(order)))
    end = np.repeat(starts + size, size)
    pos = np.flatnonzero(np.repeat(size, size) > 1)
    gap = 1
    while len(pos):  # the pairs (p, p + gap) inside each group, for growing gaps
        pos = pos[pos + gap < end[pos]]
        for s in range(0, len(pos), _PAIR_CHUNK):
            chunk = pos[s : s + _PAIR_CHUNK]
            yield order[chunk], order[chunk + gap]
        gap += 1


def _number_codes(numbers: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """An integer per number signature (equal signatures, equal codes; null is -1)."""
    arr = numbers.combine_chunks() if isinstance(numbers, pa.ChunkedArray) else numbers
    return pc.fill_null(pc.dictionary_encode(arr).indices, -1).to_numpy()


def lsh_edges(signatures: pa.Table, config: NearConfig | None = None) -> pa.Table:
    """Confirmed near-duplicate pairs (:data:`~tracemill.pipelines.curate.clusters.EDGES`)."""
    cfg = config or NearConfig()
    n = signatures.num_rows
    if n < 2:
        return edges_table([], [], [])
    sig = signature_matrix(signatures)
    if sig.shape[1] != cfg.num_perm:
        raise ValueError(f"Expecting signatures of {cfg.num_perm} values, got {sig.shape[1]}")
    if sig.max() <= _MAX32:
        sig = sig.astype(np.uint32)  # half the memory traffic; equality is unchanged
    # an empty question keeps the initial signature: it takes no part
    live = np.flatnonzero(sig.min(axis=1) != _MAX32)
    codes = _number_codes(signatures.column("numbers")) if cfg.number_guard else None
    bands, rows = lsh_bands(cfg.threshold, cfg.num_perm)
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for band in range(bands):
        keys = _band_keys(sig[live, band * rows : (band + 1) * rows])
        for i, j in _equal_key_pairs(keys):
            i, j = live[i], live[j]
            equal = sig[i] == sig[j]
            # confirm each pair once, in the first band where it collides (the key is a
            # hash: check the band itself too)
            ok = equal[:, band * rows : (band + 1) * rows].all(axis=1)
            if band:
                earlier = equal[:, : band * rows].reshape(len(i), band, rows)
                ok &= ~earlier.all(axis=2).any(axis=1)
            sim = equal.sum(axis=1, dtype=np.int64) / sig.shape[1]  # == .mean(axis=1)
            ok &= sim >= cfg.threshold
            if codes is not None:
                ok &= codes[i] == codes[j]
            found.append((i[ok], j[ok], sim[ok]))
    if not found:
        return edges_table([], [], [])
    lo, hi, sim = (np.concatenate(part) for part in zip(*found, strict=True))
    ids = signatures.column("problem_id")
    return edges_table(ids.take(pa.array(lo)).to_pylist(), ids.take(pa.array(hi)).to_pylist(), sim)


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
    "lsh_bands",
    "lsh_edges",
    "minhash_step",
    "near_clusters",
    "shingle_step",
    "signature_matrix",
    "signature_similarity",
]
