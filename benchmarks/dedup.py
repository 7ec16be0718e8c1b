"""Exact and near dedup throughput and quality on a generated corpus with planted duplicates.

Generates N problems (default 100,000) from word templates; a share of them get planted
copies: exact (re-cased, re-spaced, LaTeX spacing), near (reworded, reordered clause)
and renumbered (same words, other numbers: a *different* problem that must not merge).
Measured in one run:

- exact dedup (``run_exact``: normalize, group, keep policy) vs. ``pandas
  drop_duplicates`` on the raw question (the baseline; it finds only byte-identical
  copies);
- near dedup (``run_near``: shingle, MinHash, LSH, clusters, keep policy), per stage
  rows/s, vs. naive all-pairs Jaccard of the same shingle sets on a subset of M rows,
  extrapolated quadratically to N (word 3-grams, threshold 0.6: planted near copies
  have a true Jaccard of 0.7);
- precision and recall of the planted pairs for both methods.

Usage: python benchmarks/dedup.py [--rows N] [--pairs-subset M]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pyarrow as pa

WORDS = (
    "integer prime triangle circle square polygon sequence series function matrix vector "
    "graph vertex edge probability coin die card digit remainder divisor multiple factor "
    "root polynomial equation inequality angle radius chord tangent area volume perimeter "
    "ratio rate speed distance time worker tank pipe train ship bag ball box marble"
).split()
VERBS = "find compute determine evaluate calculate show".split()


def make_corpus(n: int, seed: int = 0) -> tuple[pa.Table, list[tuple[int, int, str]]]:
    """N questions and the planted (original, copy, kind) index pairs."""
    rng = np.random.default_rng(seed)
    base_n = int(n * 0.8)
    questions: list[str] = []
    for i in range(base_n):
        words = rng.choice(WORDS, size=18)
        a, b = rng.integers(2, 999, size=2)
        verb = VERBS[i % len(VERBS)]
        questions.append(
            f"Problem {i}: a {words[0]} and a {words[1]} share {a} {words[2]} with the "
            f"{words[3]} {words[4]} {words[5]}; given {b} {words[6]} of each {words[7]} "
            f"{words[8]} {words[9]} {words[10]}, {verb} the {words[11]} {words[12]} "
            f"{words[13]} of the {words[14]} {words[15]} {words[16]} {words[17]}."
        )
    planted: list[tuple[int, int, str]] = []
    kinds = ("exact", "near", "renumbered")
    while len(questions) < n:
        src = int(rng.integers(0, base_n))
        kind = kinds[len(questions) % 3]
        q = questions[src]
        if kind == "exact":
            copy = "  " + q.upper().replace("; ", " ;\\, ") + " "
        elif kind == "near":
            head, tail = q.split("; ", 1)
            copy = tail.rstrip(".").capitalize() + "; " + head[0].lower() + head[1:] + "."
            copy = copy.replace(" share ", " have in common ")
        else:
            copy = q.replace(f"Problem {src}:", f"Problem {src + 10**7}:")
        planted.append((src, len(questions), kind))
        questions.append(copy)
    ids = [f"{i:08d}" for i in range(n)]
    return pa.table({"problem_id": ids, "question": questions}), planted


def quality(rows: pa.Table, planted: list[tuple[int, int, str]], kinds: set[str]) -> str:
    """Precision / recall of dropped copies against the planted pairs of ``kinds``."""
    clusters: dict[str, str] = {}
    for pid, cluster in zip(
        rows.column("problem_id").to_pylist(), rows.column("cluster").to_pylist(), strict=True
    ):
        clusters[pid] = cluster
    found = 0
    wrong = 0
    expected = 0
    for src, copy, kind in planted:
        a, b = f"{src:08d}", f"{copy:08d}"
        same = a in clusters and clusters.get(a) == clusters.get(b)
        if kind in kinds:
            expected += 1
            found += same
        elif kind == "renumbered":
            wrong += same
    merged_pairs = found + wrong
    precision = found / merged_pairs if merged_pairs else 1.0
    recall = found / expected if expected else 1.0
    return f"precision {precision:.3f}, recall {recall:.3f} (renumbered merged: {wrong})"


def naive_pairs(shingles: list[list[int]], threshold: float) -> int:
    """All-pairs exact Jaccard over shingle sets (the near-dedup baseline)."""
    sets = [set(s) for s in shingles]
    hits = 0
    for i in range(len(sets)):
        si = sets[i]
        for j in range(i + 1, len(sets)):
            sj = sets[j]
            inter = len(si & sj)
            if inter and inter / (len(si) + len(sj) - inter) >= threshold:
                hits += 1
    return hits


def main() -> None:
    """Run the benchmark and print the figures."""
    from pipelines.curate import NearConfig, run_exact, run_near
    from pipelines.curate.clusters import connected_clusters
    from pipelines.curate.near import lsh_edges, minhash_step, shingle_step

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pairs-subset", type=int, default=1_500)
    parser.add_argument("--threshold", type=float, default=0.6)
    args = parser.parse_args()
    n = args.rows

    table, planted = make_corpus(n)
    print(f"corpus: {n:,} problems, {len(planted):,} planted copies (exact/near/renumbered)")

    # exact
    t0 = time.perf_counter()
    exact = run_exact(table)
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    frame = table.to_pandas()
    baseline_kept = len(frame.drop_duplicates(subset="question"))
    t_pandas = time.perf_counter() - t0
    print(
        f"exact  tracemill: {t_exact:6.2f}s {n / t_exact:10,.0f} rows/s, dropped "
        f"{exact.dropped:,}; {quality(exact.rows, planted, {'exact'})}"
    )
    print(
        f"exact  pandas drop_duplicates (raw text): {t_pandas:6.2f}s {n / t_pandas:10,.0f} "
        f"rows/s, dropped {n - baseline_kept:,}; ratio tracemill/pandas time "
        f"{t_exact / t_pandas:.1f}x"
    )

    # near, stage by stage, then the whole method
    cfg = NearConfig(threshold=args.threshold, ngram=3)
    t0 = time.perf_counter()
    shingles = shingle_step(table, cfg)
    t1 = time.perf_counter()
    signatures = minhash_step(shingles, table, cfg)
    t2 = time.perf_counter()
    edges = lsh_edges(signatures, cfg)
    t3 = time.perf_counter()
    connected_clusters(edges)
    t4 = time.perf_counter()
    for name, secs in (
        ("shingle", t1 - t0),
        ("minhash", t2 - t1),
        ("lsh", t3 - t2),
        ("cluster", t4 - t3),
    ):
        print(f"near   stage {name:8s} {secs:6.2f}s {n / secs:10,.0f} rows/s")
    t0 = time.perf_counter()
    near = run_near(table, cfg)
    t_near = time.perf_counter() - t0
    print(
        f"near   tracemill: {t_near:6.2f}s {n / t_near:10,.0f} rows/s, dropped "
        f"{near.dropped:,}; {quality(near.rows, planted, {'exact', 'near'})}"
    )
    m = min(args.pairs_subset, n)
    subset = shingles.column("shingles").to_pylist()[:m]
    t0 = time.perf_counter()
    naive_pairs(subset, args.threshold)
    t_sub = time.perf_counter() - t0
    t_naive = t_sub * (n / m) ** 2
    print(
        f"near   naive all-pairs Jaccard: {t_sub:.2f}s on {m:,} rows, extrapolated to "
        f"{n:,}: {t_naive:,.0f}s ({n / t_naive:,.1f} rows/s); ratio naive/tracemill "
        f"{t_naive / t_near:,.0f}x"
    )


if __name__ == "__main__":
    main()
