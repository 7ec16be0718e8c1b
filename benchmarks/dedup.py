"""Curation at scale: the default ``tracemill curate`` on generated problems with planted
duplicates, against semhash and MiniLM, in one run.

The corpus (``dedup_corpus.py``: numeric and number-free problems; planted exact,
reformatted, reworded, reordered, boilerplate-wrapped — also in held-out phrasings —,
re-cased and mixed copies; renumbered and number-swapped negatives; retargeted and
one-word sibling hard negatives, scored apart) is written to a fresh catalog, and then,
in one run:

1. **default curate, end to end**: ``curate(CurateStage())`` — exact, near and semantic
   dedup with the static encoder — in a child process: wall time, peak memory (the
   child's max RSS), time per phase (from the progress callback), precision and recall
   by pair counting against the true families (hard negatives left out), recall per
   planted kind, planted negatives merged, and quality after each method of the chain.
   The static model is distilled beforehand (one time, cached; its time is printed).
2. **semhash** (``SemHash.from_records`` + ``self_deduplicate``; dev extra) on the same
   texts with the same static model at the static threshold, in its own child process
   with a time limit: time, peak memory, precision and recall.
3. **MiniLM** (the packaged all-MiniLM-L6-v2, CPU): its encoding rate on
   ``--minilm-rows`` matching texts, and the ratio of the default curate's rate to it
   (the target is at least 20x); the default curate of a ``--minilm-rows`` corpus with
   MiniLM vs the static encoder, each at its calibrated thresholds (precision, recall).
4. **decontamination** (word 8-grams with vectorized screening) against the leaked
   benchmark: precision, recall, rows/s.
5. **near dedup vs the per-row datasketch path** it replaced on the first
   ``--near-baseline-rows`` rows: speed-up, bit-identical shingles and signatures, the
   same clusters (LSH now pairs bucket members with the bucket's first member only).
6. ``--calibrate``: precision and recall over a grid of semantic thresholds (standard
   and same-numbers) for the static encoder and MiniLM (how the defaults were chosen).

The machine's load average is printed before and after (the machine may be shared).

Usage: python benchmarks/dedup.py [--rows N] [--seed S] [--calibrate]
       [--minilm-rows M | --no-minilm] [--no-semhash] [--semhash-timeout SECONDS]
       [--near-baseline-rows R] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dedup_corpus import (  # noqa: E402
    KINDS,
    Corpus,
    format_score,
    make_corpus,
    planted_counts,
    score,
)

if TYPE_CHECKING:
    from tracemill.pipelines.curate import NearConfig


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} on {os.cpu_count()} cores"


def _rate(name: str, rows: int, secs: float) -> None:
    print(f"  {name:<30} {secs:8.2f}s {rows / max(secs, 1e-9):12,.0f} rows/s")


# -- the catalog and the end-to-end run ---------------------------------------------------


def write_catalog(corpus: Corpus, root: Path) -> float:
    """Write the corpus as ``problems`` into a fresh catalog; returns seconds."""
    from tracemill.stores.catalog import open_catalog

    t0 = time.perf_counter()
    table = corpus.table
    problems = pa.table(
        {
            "problem_id": table.column("problem_id"),
            "source": table.column("source"),
            "domain": pa.array(["math"] * table.num_rows, pa.string()),
            "question": table.column("question"),
        }
    )
    with open_catalog(str(root)) as store:
        for start in range(0, problems.num_rows, 250_000):
            store.append({"problems": problems.slice(start, 250_000)}, check_keys=False)
    return time.perf_counter() - t0


class _PhaseClock:
    """A progress callback recording when each phase was first and last reported."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.start = time.perf_counter()

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.first.setdefault(phase, now)
        self.last[phase] = now

    def spans(self) -> dict[str, float]:
        """Seconds from the phase's first report (or the previous phase's end) to its last."""
        out: dict[str, float] = {}
        previous = self.start
        for phase in sorted(self.first, key=self.first.__getitem__):
            begin = min(self.first[phase], max(previous, self.start))
            out[phase] = self.last[phase] - begin
            previous = self.last[phase]
        return out


def _curate_child(catalog: str, models: str, options: dict[str, Any], queue: Any) -> None:
    os.environ["TRACEMILL_MODELS"] = models
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tracemill.flows.curate import CurateStage, curate

    clock = _PhaseClock()
    t0 = time.perf_counter()
    report = curate(CurateStage(**options), catalog=catalog, progress=clock)
    wall = time.perf_counter() - t0
    queue.put(
        {
            "wall": wall,
            "rss_mb": _rss_mb(),
            "phases": clock.spans(),
            "counts": report.counts(),
        }
    )


def run_child(target: Any, args: tuple, timeout: float | None = None) -> dict[str, Any] | None:
    """Run ``target(*args, queue)`` in a fresh (spawned) process; its result or None."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    try:
        result = queue.get(timeout=timeout)
    except Exception:  # noqa: BLE001 — queue.Empty on a timeout, or the child died
        result = None
    if result is None and proc.is_alive():
        proc.kill()
    proc.join()
    return result


def dedup_labels(catalog: str, n: int, methods: tuple[str, ...]) -> np.ndarray:
    """Cluster labels from the ``dedup`` rows of ``methods`` (dropped → representative)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from tracemill.stores.catalog import open_catalog

    quoted = ", ".join(f"'{m}'" for m in methods)
    with open_catalog(catalog, read_only=True) as store:
        rows = store.sql(
            f"SELECT problem_id, representative FROM dedup WHERE NOT kept AND method IN ({quoted})"
        )
    a = np.asarray([int(x) for x in rows.column("problem_id").to_pylist()], dtype=np.int64)
    b = np.asarray([int(x) for x in rows.column("representative").to_pylist()], dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def bench_end_to_end(
    corpus: Corpus, workdir: Path, models: Path, label: str, options: dict[str, Any]
) -> dict[str, Any] | None:
    """Write the corpus to a catalog, run curate in a child; print time, memory, quality."""
    n = corpus.table.num_rows
    catalog = workdir / f"catalog-{label}"
    shutil.rmtree(catalog, ignore_errors=True)
    secs = write_catalog(corpus, catalog)
    print(f"\n== {label}: default curate of {n:,} problems, end to end ==")
    print(f"  catalog written in {secs:.1f}s ({n / secs:,.0f} rows/s; not part of curate)")
    result = run_child(_curate_child, (str(catalog), str(models), options))
    if result is None:
        print("  curate child failed (see its traceback above)")
        return None
    counts = result["counts"]
    print(
        f"  curate: {result['wall']:.1f}s ({n / result['wall']:,.0f} problems/s), "
        f"peak memory {result['rss_mb'] / 1024:.2f} GB, kept {counts['kept']:,}, "
        f"rows inserted {counts['inserted']:,}"
    )
    print("  phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in result["phases"].items()))
    for method in ("exact", "near", "semantic"):
        if f"{method}.dropped" in counts:
            extra = ""
            if method == "semantic":
                extra = (
                    f" ({counts.get('semantic.model')}, cos >= {counts.get('semantic.threshold')}"
                    f", same numbers >= {counts.get('semantic.same_numbers_threshold')}"
                    f", no numbers >= {counts.get('semantic.no_numbers_threshold')}; "
                    f"encoded {counts.get('semantic.encoded', 0):,})"
                )
            print(f"  {method:<9} dropped {counts[f'{method}.dropped']:>9,}{extra}")
    chain: tuple[str, ...] = ()
    for method in ("exact", "near", "semantic"):
        if f"{method}.dropped" not in counts:
            continue
        chain = (*chain, method)
        labels = dedup_labels(str(catalog), n, chain)
        s = score(corpus, labels)
        print(format_score(" + ".join(chain), s))
        result["score"] = s
    shutil.rmtree(catalog, ignore_errors=True)
    return result


# -- semhash -----------------------------------------------------------------------------


def _semhash_child(texts: list[str], model_path: str, threshold: float, queue: Any) -> None:
    from model2vec import StaticModel
    from semhash import SemHash

    model = StaticModel.from_pretrained(model_path)
    records = [{"id": str(i), "question": q} for i, q in enumerate(texts)]
    t0 = time.perf_counter()
    sh = SemHash.from_records(records, columns=["question"], model=model)
    result = sh.self_deduplicate(threshold=threshold)
    wall = time.perf_counter() - t0
    pairs = [(int(d.record["id"]), int(d.duplicate_of["id"])) for d in result.filtered]
    queue.put({"wall": wall, "rss_mb": _rss_mb(), "pairs": pairs})


def bench_semhash(
    corpus: Corpus, model_path: Path, threshold: float, timeout: float, ours: float | None
) -> None:
    """semhash on the same texts with the same static model, in a child with a time limit."""
    try:
        import semhash  # noqa: F401
    except ImportError:
        print("\nsemhash not installed (dev extra): baseline skipped")
        return
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = corpus.table.num_rows
    print(f"\n== semhash (same texts, same static model, cos >= {threshold}) ==")
    texts = corpus.table.column("question").to_pylist()
    result = run_child(_semhash_child, (texts, str(model_path), threshold), timeout)
    if result is None:
        print(f"  semhash did not finish within {timeout:.0f}s (killed)")
        return
    pairs = np.asarray(result["pairs"], dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    labels = connected_components(graph, directed=False)[1]
    print(
        f"  semhash: {result['wall']:.1f}s ({n / result['wall']:,.0f} problems/s), "
        f"peak memory {result['rss_mb'] / 1024:.2f} GB"
    )
    print(format_score("semhash", score(corpus, labels)))
    if ours:
        print(f"  time ratio semhash / tracemill default curate: {result['wall'] / ours:.2f}x")


# -- MiniLM ------------------------------------------------------------------------------


def minilm_rate(texts: list[str]) -> float:
    """Rows/s of the packaged MiniLM encoding ``texts`` on the CPU (after a warm-up)."""
    from tracemill.pipelines.curate import SentenceTransformerEncoder
    from tracemill.stores.embeddings import packaged_minilm_path

    enc = SentenceTransformerEncoder(str(packaged_minilm_path()), device="cpu", batch_size=64)
    enc.encode(texts[:64])
    t0 = time.perf_counter()
    enc.encode(texts)
    return len(texts) / (time.perf_counter() - t0)


def bench_minilm(
    rows: int, seed: int, workdir: Path, models: Path, curate_rate: float | None
) -> None:
    """MiniLM's encoding rate, the ratio to the default curate, and its dedup quality."""
    from tracemill.pipelines.curate import matching_texts

    corpus = make_corpus(rows, seed=seed + 1)
    texts = matching_texts(corpus.table.column("question"), corpus.table.column("source"))
    print(f"\n== MiniLM (packaged all-MiniLM-L6-v2, CPU) on {rows:,} problems ==")
    rate = minilm_rate(texts)
    print(f"  MiniLM encoding alone: {rate:,.0f} problems/s")
    if curate_rate:
        print(
            f"  default curate (static encoder, whole chain): {curate_rate:,.0f} problems/s "
            f"= {curate_rate / rate:.1f}x MiniLM encoding alone (target >= 20x)"
        )
    for label, encoder in (("static", "static"), ("MiniLM", "minilm")):
        bench_end_to_end(corpus, workdir, models, f"{label} encoder", {"encoder": encoder})


# -- decontamination ---------------------------------------------------------------------


def bench_decontam(corpus: Corpus) -> None:
    """n-gram decontamination (vectorized screening) against the leaked benchmark."""
    from tracemill.pipelines.curate import Benchmark, DecontamConfig, ngram_matches

    n = corpus.table.num_rows
    bench = [Benchmark("genbench", tuple(corpus.benchmark))]
    print(f"\n== decontam: {n:,} problems vs {len(corpus.benchmark)} benchmark items ==")
    t0 = time.perf_counter()
    matches = ngram_matches(corpus.table, bench, DecontamConfig())
    secs = time.perf_counter() - t0
    flagged = {int(p) for p in matches.column("problem_id").to_pylist()}
    tp = len(flagged & corpus.leaks)
    _rate("decontam 8-gram", n, secs)
    print(
        f"  precision {tp / len(flagged) if flagged else 1.0:.3f}  recall "
        f"{tp / len(corpus.leaks) if corpus.leaks else 1.0:.3f} (flagged {len(flagged)}, "
        f"planted leaks {len(corpus.leaks)})"
    )


# -- near dedup vs the per-row path it replaced (baseline only) -----------------------------


def rowwise_shingles(table: pa.Table, cfg: NearConfig) -> pa.Table:
    """Shingles the old way: a Python set of CRC-32s of n-gram strings per row."""
    from tracemill.pipelines.curate.near import SHINGLES
    from tracemill.pipelines.curate.normalize import char_texts, ngrams, word_tokens

    questions = table.column("question")
    if cfg.unit == "word":
        units: list = word_tokens(questions)
    else:
        units = char_texts(questions, cfg.normalize)
    n = cfg.ngram
    shingles = [sorted({zlib.crc32(g.encode("utf-8")) for g in ngrams(u, n)}) for u in units]
    return pa.table(
        {"problem_id": table.column("problem_id"), "shingles": shingles}, schema=SHINGLES
    )


def rowwise_minhash(shingles: pa.Table, table: pa.Table, cfg: NearConfig) -> pa.Table:
    """Signatures the old way: one ``datasketch.MinHash`` per row, numbers per row."""
    from datasketch import MinHash
    from tracemill.pipelines.curate.near import SIGNATURES
    from tracemill.pipelines.curate.normalize import number_signature

    sets = shingles.column("shingles").to_pylist()
    minhashes = MinHash.generator(
        (s or [] for s in sets), num_perm=cfg.num_perm, seed=cfg.seed, hashfunc=int
    )
    signatures = [m.hashvalues.astype(np.uint64).tolist() for m in minhashes]
    numbers = [number_signature(q or "") for q in table.column("question").to_pylist()]
    return pa.table(
        {"problem_id": shingles.column("problem_id"), "signature": signatures, "numbers": numbers},
        schema=SIGNATURES,
    )


def rowwise_lsh(signatures: pa.Table, cfg: NearConfig) -> pa.Table:
    """Edges the old way: insert every row into ``MinHashLSH``, then query every row."""
    from datasketch import MinHash, MinHashLSH
    from tracemill.pipelines.curate.clusters import edges_table
    from tracemill.pipelines.curate.near import signature_matrix

    ids = signatures.column("problem_id").to_pylist()
    sig = signature_matrix(signatures)
    lsh = MinHashLSH(threshold=cfg.threshold, num_perm=cfg.num_perm)
    template = MinHash(num_perm=cfg.num_perm, seed=cfg.seed)
    empty = np.all(sig == template.hashvalues.astype(np.uint64), axis=1)
    hashes = []
    with lsh.insertion_session() as session:
        for i in range(len(ids)):
            m = template.copy()
            m.hashvalues = sig[i]
            hashes.append(m)
            if not empty[i]:
                session.insert(i, m, check_duplication=False)
    left, right = [], []
    for i, m in enumerate(hashes):
        if not empty[i]:
            for j in lsh.query(m):
                if j > i:
                    left.append(i)
                    right.append(j)
    li, ri = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    sim = (sig[li] == sig[ri]).mean(axis=1)
    ok = sim >= cfg.threshold
    if cfg.number_guard:
        numbers = np.asarray(signatures.column("numbers").to_pylist(), dtype=object)
        ok &= numbers[li] == numbers[ri]
    id_arr = np.asarray(ids, dtype=object)
    return edges_table(id_arr[li[ok]].tolist(), id_arr[ri[ok]].tolist(), sim[ok])


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def bench_near_baseline(corpus: Corpus, rows: int) -> None:
    """Vectorized near steps vs the per-row datasketch path on the same rows."""
    from tracemill.pipelines.curate import NearConfig
    from tracemill.pipelines.curate.clusters import connected_clusters
    from tracemill.pipelines.curate.near import lsh_edges, minhash_step, shingle_step

    table = corpus.table.slice(0, rows)
    n = table.num_rows
    cfg = NearConfig()
    warm = table.slice(0, 500)
    lsh_edges(minhash_step(shingle_step(warm, cfg), warm, cfg), cfg)
    print(f"\n== near dedup steps vs the per-row datasketch path ({n:,} rows, same run) ==")
    ours, base = {}, {}
    sh, ours["shingle"] = _timed(shingle_step, table, cfg)
    sig, ours["minhash"] = _timed(minhash_step, sh, table, cfg)
    edges, ours["lsh"] = _timed(lsh_edges, sig, cfg)
    rsh, base["shingle"] = _timed(rowwise_shingles, table, cfg)
    rsig, base["minhash"] = _timed(rowwise_minhash, rsh, table, cfg)
    redges, base["lsh"] = _timed(rowwise_lsh, rsig, cfg)
    print(f"    {'stage':<10}{'per-row rows/s':>16}{'vectorized rows/s':>20}{'speed-up':>10}")
    for stage in ("shingle", "minhash", "lsh"):
        print(
            f"    {stage:<10}{n / base[stage]:16,.0f}{n / ours[stage]:20,.0f}"
            f"{base[stage] / ours[stage]:9.1f}x"
        )

    def members(e: pa.Table) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for r in connected_clusters(e).to_pylist():
            groups.setdefault(r["cluster"], set()).add(r["problem_id"])
        return {frozenset(g) for g in groups.values()}

    print(
        f"    shingles bit-identical: {sh.equals(rsh)}; signatures bit-identical: "
        f"{sig.column('signature').equals(rsig.column('signature'))}; same clusters: "
        f"{members(edges) == members(redges)} (edges: {edges.num_rows:,} star vs "
        f"{redges.num_rows:,} all pairs)"
    )


# -- calibration -------------------------------------------------------------------------


def _survivors(corpus: Corpus) -> pa.Table:
    """The problems exact and near dedup keep (what semantic dedup sees), with matching."""
    import pyarrow.compute as pc
    from tracemill.pipelines.curate import matching_texts, run_exact, run_near

    table = corpus.table
    table = table.append_column(
        "matching",
        pa.array(matching_texts(table.column("question"), table.column("source")), pa.string()),
    )
    for run in (run_exact, run_near):
        dropped = run(table).dropped_ids
        table = table.filter(
            pc.invert(pc.is_in(table.column("problem_id"), value_set=pa.array(dropped)))
        )
    return table


def calibrate(corpus: Corpus, name: str, encoder: Any, grid: list[float]) -> None:
    """Precision/recall of exact + near + semantic over a grid of semantic thresholds."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from tracemill.pipelines.curate import SemanticConfig, embed_step, run_exact, run_near
    from tracemill.pipelines.curate.matching import number_profiles
    from tracemill.pipelines.curate.semantic import similar_pairs

    n = corpus.table.num_rows
    base_edges: list[tuple[int, int]] = []
    for run in (run_exact, run_near):
        rows = run(corpus.table).rows.filter(pa.compute.invert(pa.compute.field("kept")))
        base_edges += [
            (int(a), int(b))
            for a, b in zip(
                rows.column("problem_id").to_pylist(),
                rows.column("representative").to_pylist(),
                strict=True,
            )
        ]
    survivors = _survivors(corpus)
    t0 = time.perf_counter()
    vecs = embed_step(survivors, encoder, text_column="matching")
    enc_secs = time.perf_counter() - t0
    texts = survivors.column("matching").to_pylist()
    profiles = number_profiles(texts)
    floor = min(grid)
    floor_cfg = SemanticConfig(
        threshold=floor, same_numbers_threshold=floor, no_numbers_threshold=floor
    )
    i, j, sim = similar_pairs(vecs.matrix, profiles.multiset, floor_cfg)
    allowed = profiles.allowed(i, j)
    same = profiles.same_order(i, j)
    ids = np.asarray([int(p) for p in survivors.column("problem_id").to_pylist()])
    print(
        f"\n== calibration: {name}, {n:,} problems ({survivors.num_rows:,} after exact + near; "
        f"encoded in {enc_secs:.1f}s) =="
    )
    print("  rows: threshold (numbers differ in order or no numbers); columns: same numbers")
    print("  cell: precision/recall (hard negatives merged: retargeted+sibling)")
    header = "".join(f"{t:>22.2f}" for t in grid)
    print(f"  {'':>6}{header}")
    for t in grid:
        cells = []
        for t_same in grid:
            thr = np.where(same, t_same, t)
            ok = allowed & (sim >= thr)
            a = np.concatenate([np.asarray([e[0] for e in base_edges], dtype=np.int64), ids[i[ok]]])
            b = np.concatenate([np.asarray([e[1] for e in base_edges], dtype=np.int64), ids[j[ok]]])
            graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
            labels = connected_components(graph, directed=False)[1]
            s = score(corpus, labels)
            merged = s["merged"]
            assert isinstance(merged, dict)
            hard = merged["retargeted"] + merged["sibling"]
            cells.append(f"{s['precision']:.3f}/{s['recall']:.3f} ({hard:>3})")
        print(f"  {t:>6.2f}" + "".join(f"{c:>22}" for c in cells))


# -- the run -------------------------------------------------------------------------------


def static_model(models: Path) -> Path:
    """The distilled static model under ``models`` (distilled now when missing)."""
    os.environ["TRACEMILL_MODELS"] = str(models)
    from tracemill.stores.embeddings import _static_folder, static_model_path

    fresh = not (models / _static_folder()).exists()
    t0 = time.perf_counter()
    path = static_model_path(None)
    if fresh:
        print(f"static model distilled in {time.perf_counter() - t0:.0f}s (one time): {path}")
    else:
        print(f"static model distilled earlier: {path}")
    return path


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="problems in the corpus")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minilm-rows", type=int, default=2_000)
    parser.add_argument("--no-minilm", action="store_true")
    parser.add_argument("--no-semhash", action="store_true")
    parser.add_argument("--semhash-timeout", type=float, default=1_800)
    parser.add_argument("--near-baseline-rows", type=int, default=20_000, help="0 skips it")
    parser.add_argument("--calibrate", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument(
        "--models", type=Path, default=None, help="where the static model is (or goes)"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    start = time.perf_counter()
    print(_load() + " (start)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dedup-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    models = (args.models or Path.home() / ".cache" / "tracemill" / "models").expanduser()
    path = static_model(models)
    t0 = time.perf_counter()
    corpus = make_corpus(args.rows, seed=args.seed)
    counts = planted_counts(corpus)
    print(
        f"corpus: {args.rows:,} problems in {time.perf_counter() - t0:.0f}s; planted "
        + ", ".join(f"{k} {counts[k]:,}" for k in KINDS)
        + f"; benchmark leaks {len(corpus.leaks):,}"
    )
    if args.calibrate:
        from tracemill.pipelines.curate import (
            SentenceTransformerEncoder,
            StaticModelEncoder,
        )
        from tracemill.stores.embeddings import packaged_minilm_path

        grid = [0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.92, 0.94]
        calibrate(corpus, "static", StaticModelEncoder(str(path)), grid)
        small = make_corpus(args.minilm_rows, seed=args.seed)
        enc = SentenceTransformerEncoder(str(packaged_minilm_path()), device="cpu")
        calibrate(small, "MiniLM", enc, grid)
        calibrate(make_corpus(args.minilm_rows, seed=args.seed), "static (same rows)",
                  StaticModelEncoder(str(path)), grid)  # fmt: skip
        return
    from tracemill.pipelines.curate.semantic import STATIC_THRESHOLD

    result = bench_end_to_end(corpus, workdir, models, "default", {})
    curate_secs = result["wall"] if result else None
    if not args.no_semhash:
        bench_semhash(corpus, path, STATIC_THRESHOLD, args.semhash_timeout, curate_secs)
    if not args.no_minilm:
        rate = args.rows / curate_secs if curate_secs else None
        bench_minilm(args.minilm_rows, args.seed, workdir, models, rate)
    bench_decontam(corpus)
    if args.near_baseline_rows:
        bench_near_baseline(corpus, min(args.near_baseline_rows, args.rows))
    print(f"\n{_load()} (end); total {time.perf_counter() - start:.0f}s")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
