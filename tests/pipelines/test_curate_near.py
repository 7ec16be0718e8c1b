"""The vectorized near-dedup steps against the per-row datasketch code they replaced."""

import random
import zlib

import numpy as np
import pyarrow as pa
import pytest
from datasketch import MinHash, MinHashLSH
from tracemill.pipelines.curate import (
    NearConfig,
    connected_clusters,
    lsh_edges,
    minhash_step,
    near_clusters,
    shingle_step,
)
from tracemill.pipelines.curate.clusters import edges_table
from tracemill.pipelines.curate.near import lsh_bands, signature_matrix
from tracemill.pipelines.curate.normalize import (
    char_texts,
    ngrams,
    number_signature,
    number_signatures,
    word_texts,
    word_tokens,
)

BASE = (
    "A farmer has a rectangular field whose length is three times its width and whose "
    "perimeter is {p} metres; find the area of the field in square metres"
)
WORDS = "apple box coin drawer each find gives has how many more pages reads the total".split()


def corpus(n: int, seed: int = 0) -> pa.Table:
    """Random word problems, a third of them with a near copy (one word changed)."""
    rng = random.Random(seed)
    questions: list[str] = []
    while len(questions) < n:
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 30))]
        words.insert(rng.randint(0, len(words)), str(rng.randint(1, 99)))
        questions.append(" ".join(words))
        if rng.random() < 0.3 and len(questions) < n:
            copy = list(words)
            copy[rng.randrange(len(copy))] = rng.choice(WORDS)
            questions.append(" ".join(copy).upper())
    questions[:6] = [
        "",
        "Ｆｉｎｄ  ｔｈｅ ａｒｅａ – ｃａｆé ﬁeld İstanbul",
        "x",
        BASE.format(p=64) + " " + "9" * 300,  # one n-gram longer than the CRC tables
        BASE.format(p=64) * 60,  # longer than the vectorized CRC walk
        "Straße, naïve café: 12 × 3.5 = ?",
    ]
    return pa.table({"problem_id": [f"q{i:04d}" for i in range(n)], "question": questions})


def reference_shingles(questions: list[str], cfg: NearConfig) -> list[list[int]]:
    """The per-row code near dedup used before: a set of CRC-32s of n-gram strings."""
    units = word_tokens(questions) if cfg.unit == "word" else char_texts(questions, cfg.normalize)
    return [sorted({zlib.crc32(g.encode("utf-8")) for g in ngrams(u, cfg.ngram)}) for u in units]


def reference_edges(signatures: pa.Table, cfg: NearConfig) -> set[tuple[str, str, float]]:
    """The per-row LSH it replaced: insert every row into ``MinHashLSH``, query each."""
    ids = signatures.column("problem_id").to_pylist()
    numbers = signatures.column("numbers").to_pylist()
    sig = signature_matrix(signatures)
    lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm)
    template = MinHash(num_perm=cfg.num_perm, seed=cfg.seed)
    empty = np.all(sig == template.hashvalues.astype(np.uint64), axis=1)
    minhashes = []
    for i in range(len(ids)):
        m = template.copy()
        m.hashvalues = sig[i]
        minhashes.append(m)
        if not empty[i]:
            lsh.insert(i, m)
    out = set()
    for i, m in enumerate(minhashes):
        for j in [] if empty[i] else lsh.query(m):
            sim = float((sig[i] == sig[j]).mean())
            same = numbers[i] == numbers[j] or not cfg.number_guard
            if j > i and sim >= cfg.threshold and same:
                out.add((min(ids[i], ids[j]), max(ids[i], ids[j]), sim))
    return out


def edge_set(edges: pa.Table) -> set[tuple[str, str, float]]:
    return {(r["a"], r["b"], r["similarity"]) for r in edges.to_pylist()}


def cluster_sets(edges: pa.Table) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for row in connected_clusters(edges).to_pylist():
        groups.setdefault(row["cluster"], set()).add(row["problem_id"])
    return {frozenset(g) for g in groups.values()}


CONFIGS = [
    NearConfig(threshold=0.6, ngram=3),
    NearConfig(threshold=0.8, ngram=5, num_perm=64, seed=7),
    NearConfig(threshold=0.7, ngram=10, unit="char"),
    NearConfig(threshold=0.5, ngram=1, unit="char", number_guard=False),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: f"{c.unit}{c.ngram}")
def test_steps_are_bit_identical_to_the_per_row_code(cfg: NearConfig) -> None:
    table = corpus(300)
    questions = table.column("question").to_pylist()
    shingles = shingle_step(table, cfg, block_rows=64)
    assert shingles.column("shingles").to_pylist() == reference_shingles(questions, cfg)

    signatures = minhash_step(shingles, table, cfg, block_rows=50)
    sig = signature_matrix(signatures)
    for i, values in enumerate(shingles.column("shingles").to_pylist()):
        m = MinHash(num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=int, scheme="affine32")
        m.update_batch(values)
        assert sig[i].tolist() == m.hashvalues.tolist()
    assert signatures.column("numbers").to_pylist() == [number_signature(q) for q in questions]

    # LSH pairs each bucket member with the bucket's first member only (linear), so its
    # edges are some of datasketch's all-pairs edges, and the clusters are the same
    edges = lsh_edges(signatures, cfg)
    assert edges.num_rows > 0
    reference = reference_edges(signatures, cfg)
    assert edge_set(edges) <= reference
    a, b, sim = (list(col) for col in zip(*reference, strict=True))
    assert cluster_sets(edges) == cluster_sets(edges_table(a, b, sim))


def test_estimate_matches_datasketch_jaccard() -> None:
    cfg = NearConfig(threshold=0.6, ngram=3)
    texts = [BASE.format(p=64), BASE.format(p=64).replace("farmer has", "farmer owns")]
    table = pa.table({"problem_id": ["a", "b"], "question": texts})
    sig = signature_matrix(minhash_step(shingle_step(table, cfg), table, cfg))
    a, b = (
        MinHash(num_perm=cfg.num_perm, seed=cfg.seed, hashvalues=row, scheme="affine32")
        for row in sig
    )
    assert (sig[0] == sig[1]).mean() == a.jaccard(b) > 0.6


def test_near_duplicates_at_the_threshold_are_found_and_distinct_texts_are_not() -> None:
    cfg = NearConfig(threshold=0.6, ngram=3)
    q = BASE.format(p=64)
    texts = [
        q,
        q.replace("farmer has", "farmer owns"),  # one word changed
        q.replace("perimeter", "boundary"),  # one word changed elsewhere
        "Prove that there are infinitely many primes of the form 4k + 3",
        "Prove that there are infinitely many primes of the form 4k + 1",  # renumbered
        "Count the lattice points inside a circle of radius 10 centred at the origin",
    ]
    table = pa.table({"problem_id": [f"p{i}" for i in range(len(texts))], "question": texts})
    signatures = minhash_step(shingle_step(table, cfg), table, cfg)
    edges = edge_set(lsh_edges(signatures, cfg))
    # a star: p1 and p2 join p0 (the bucket's first member); p1-p2 adds nothing
    assert {(a, b) for a, b, _ in edges} == {("p0", "p1"), ("p0", "p2")}
    assert all(sim >= cfg.threshold for _, _, sim in edges)
    # a bar the pairs cannot reach: no edge
    strict = NearConfig(threshold=0.95, ngram=3)
    assert lsh_edges(minhash_step(shingle_step(table, strict), table, strict), strict).num_rows == 0


def test_results_do_not_depend_on_row_order_or_block_size() -> None:
    cfg = NearConfig(threshold=0.6, ngram=3)
    table = corpus(400, seed=1)
    base = minhash_step(shingle_step(table, cfg), table, cfg)
    edges = lsh_edges(base, cfg)
    clusters = connected_clusters(edges)
    order = np.random.default_rng(0).permutation(table.num_rows)
    shuffled = table.take(pa.array(order))
    for block in (1, 7, 1000):
        signatures = minhash_step(
            shingle_step(shuffled, cfg, block_rows=block), shuffled, cfg, block_rows=block + 2
        )
        by_id = dict(
            zip(
                signatures.column("problem_id").to_pylist(),
                signatures.column("signature").to_pylist(),
                strict=True,
            )
        )
        assert [by_id[p] for p in base.column("problem_id").to_pylist()] == (
            base.column("signature").to_pylist()
        )
        got = lsh_edges(signatures, cfg)
        assert got.equals(edges)
        assert connected_clusters(got).equals(clusters)


def test_lsh_bands_are_datasketch_s() -> None:
    lsh = MinHashLSH(threshold=0.7, num_perm=128)
    assert lsh_bands(0.7, 128) == (lsh.b, lsh.r)


def test_empty_and_tiny_inputs() -> None:
    cfg = NearConfig()
    empty = pa.table(
        {"problem_id": pa.array([], pa.string()), "question": pa.array([], pa.string())}
    )
    shingles = shingle_step(empty, cfg)
    assert shingles.num_rows == 0
    assert lsh_edges(minhash_step(shingles, empty, cfg), cfg).num_rows == 0
    blanks = pa.table({"problem_id": ["a", "b"], "question": ["", "!!"]})
    signatures = minhash_step(shingle_step(blanks, cfg), blanks, cfg)
    assert signature_matrix(signatures).tolist() == [[2**32 - 1] * 128] * 2
    assert lsh_edges(signatures, cfg).num_rows == 0  # empty questions take no part
    with pytest.raises(ValueError, match="128"):
        lsh_edges(signatures, NearConfig(num_perm=64))


def test_vectorized_text_helpers_match_the_scalar_ones() -> None:
    rng = random.Random(3)
    alphabet = list("0000123456789....  \t\n\x0b\x0c\r\x1c\x1f\x00-+*/^=<>aZx_,;()$\\") + [
        "é", "１", "٣", "\u00a0", "İ", "ß", "ﬁ",
    ]  # fmt: skip
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(3000)]
    texts += ["0", "000", "0.0", "007.50", "1.2.3.4", "5.", ".5", "- 5", "--5", "x^2 - 6x + 3"]
    arr = pa.chunked_array([texts[:1000], texts[1000:]]).slice(1, len(texts) - 1)
    assert number_signatures(arr) == [number_signature(t) for t in texts[1:]]
    assert number_signatures(pa.array([None, "a 1"])) == ["", "1"]
    assert word_texts(arr).to_pylist() == [" ".join(w) for w in word_tokens(texts[1:])]
    assert word_texts([None, "A-b"]).to_pylist() == ["", "a b"]


def test_lsh_is_linear_on_template_heavy_data(monkeypatch) -> None:
    """Thousands of template siblings share buckets: pairs stay linear in the rows."""
    from tracemill.pipelines.curate import near

    confirmed = []
    original = near._Confirm.__call__

    def counting(self, i, j, lo, hi):
        confirmed.append(len(i))
        return original(self, i, j, lo, hi)

    monkeypatch.setattr(near._Confirm, "__call__", counting)
    n = 3000
    texts = [
        f"A rectangular field is exactly {i} metres long and the farmer walks around it twice "
        "every single morning before breakfast with the dog"
        for i in range(n)
    ]
    table = pa.table({"problem_id": [f"t{i:05d}" for i in range(n)], "question": texts})
    loose = NearConfig(threshold=0.5, number_guard=False)
    bands, _ = lsh_bands(loose.threshold, loose.num_perm)
    found = near.near_clusters(table, loose)
    # all pairs would be n * (n - 1) / 2 = 4.5 million per band
    assert sum(confirmed) <= bands * loose.rounds * n
    assert found.clusters.num_rows > 0.99 * n  # nearly every sibling joins one cluster
    # with the guard the numbers split the buckets: nothing to confirm, nothing merged
    confirmed.clear()
    guarded = near.near_clusters(table, NearConfig(threshold=0.5))
    assert sum(confirmed) == 0 and guarded.clusters.num_rows == 0


def test_near_clusters_compare_matching_texts() -> None:
    q = BASE.format(p=64)
    texts = [q, "Question: " + q + " Show your work.", BASE.format(p=80)]
    table = pa.table({"problem_id": ["a", "b", "c"], "question": texts})
    found = near_clusters(table, NearConfig())
    assert set(found.clusters.column("problem_id").to_pylist()) == {"a", "b"}
    assert found.similarity(["b"], ["a"]).tolist() == [1.0]
