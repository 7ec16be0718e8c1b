"""Scale-out on this machine: verify and synth throughput on 1 vs 2 Ray nodes, commit cost.

    .venv/bin/python benchmarks/scale.py [--problems 250 --n 64] [--synth 12000] [--no-pin]

A Ray cluster of one node (1 CPU) is started on 127.0.0.2, measured, then a second node
(1 CPU, 127.0.0.3) joins and the same work is measured again on a fresh catalog (same
problems and samples, so the same verdicts). Scaling efficiency = (rate on 2 nodes /
rate on 1 node) / 2.

Nodes are pinned (default on a machine of 2+ cores): node i runs, with everything it
starts (raylet, actors, their math workers), on core i only, so a node of 1 CPU is one
core, as on a real machine. Unpinned (``--no-pin``), "1 CPU" is only a label: the
1-node run spreads its actor, its math worker and Ray's own processes over both cores
and leaves nothing for the second node to add. The driver (this process: planning,
reading batches, committing data files) is never pinned: on 2 cores it takes its time
from the nodes, as it would on a head node that is also a worker. The ``reference`` line
(pure-CPU Ray tasks, no tracemill) shows what two nodes give at the time of the run; on
a shared machine the load moves between phases, so compare each figure with it. Then, on
the 2-node cluster, 1 and 2 workers (verifier actors; reference tasks in flight) are
alternated ``--trials`` times, each 1-worker figure next to its 2-worker one.

Verify is timed end to end: actor start-up and each actor's math worker (2-3 s) are in
both the 1- and the 2-worker figure, so short runs understate what a long run scales to
(16,000 samples by default). Readers during writes: ``benchmarks/readers.py``.

Also: a verify driver's read of one batch from a catalog of ``--read-samples`` samples,
by sample id (every data file's ids scanned) against by row span (the batch's own files);
and the commit overhead per data file: files written as a worker would
(write_data_file), each committed in its own transaction (commit_files: key check +
ducklake_add_data_files), against store.append of the same rows (which writes the file
itself), on an embedded catalog.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import shutil
import string
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the test services start the cluster (loopback only)


def prepare(catalog: Path, problems: int, n: int) -> int:
    """Math problems from examples/ plus fake teacher samples (``\\boxed{i}``) to verify."""
    from tracemill.flows.distill import DistillStage, distill
    from tracemill.flows.ingest import IngestStage, ingest_stage
    from tracemill.flows.stages import StageContext

    ingest_stage(StageContext(str(catalog), "bench", REPO),
                 IngestStage(paths=["examples/math.jsonl"], source="m", domain="math"))  # fmt: skip
    cfg = DistillStage(backend="fake", model="bench-teacher", n=n, verify=False,
                       batch_size=4096, limit=problems)  # fmt: skip
    return distill(cfg, catalog=str(catalog)).samples


def run_verify(
    catalog: Path, address: str, batch: int, workers: int | None = None
) -> tuple[float, dict]:
    from tracemill.flows.verify import verify_samples
    from tracemill.stores.catalog import open_catalog

    with open_catalog(catalog, release=True) as store:
        t0 = time.perf_counter()
        out = verify_samples(store, run_id="bench", batch_size=batch, executor="ray",
                             ray_address=address, ray_workers=workers)  # fmt: skip
        return time.perf_counter() - t0, out


def run_synth(catalog: Path, count: int, chunk: int) -> tuple[float, dict]:
    from tracemill.flows.synth import SynthStage, synthesize
    from tracemill.stores.catalog import open_catalog

    cfg = SynthStage(family="sat", count=count, level=10, chunk_size=chunk, executor="ray")
    with open_catalog(catalog, release=True) as store:
        t0 = time.perf_counter()
        out = synthesize(cfg, store=store, run_id="bench")
        return time.perf_counter() - t0, out


def spin(n: int) -> int:
    """Pure CPU work: the reference for what two nodes on this machine can give at best."""
    x = 0
    for i in range(n):
        x += i * i
    return x


def run_reference(address: str, tasks: int, n: int, in_flight: int = 4) -> float:
    from tracemill.flows.executor import map_tasks

    for _ in map_tasks(spin, [(1,)] * in_flight, address=address, in_flight=in_flight):
        pass  # untimed: a node whose workers were killed (verify actors) starts new ones
    t0 = time.perf_counter()
    for _ in map_tasks(spin, [(n,)] * tasks, address=address, in_flight=in_flight):
        pass
    return tasks / (time.perf_counter() - t0)


def commit_overhead(root: Path, files: int, rows: int) -> None:
    from tracemill.catalogs import problem_id
    from tracemill.stores.catalog import CatalogConfig, open_catalog, write_data_file

    def batch(i: int) -> list[dict]:
        return [{"problem_id": problem_id("math", f"q{i}-{j}"), "source": "s", "domain": "math",
                 "question": f"q{i}-{j}"} for j in range(rows)]  # fmt: skip

    config = CatalogConfig.resolve(root / "files")
    with open_catalog(root / "files") as store:
        written = [write_data_file(config, "problems", batch(i)) for i in range(files)]
        t0 = time.perf_counter()
        for f in written:
            store.commit_files([f])
        per_file = (time.perf_counter() - t0) / files
        again = time.perf_counter()
        store.commit_files([write_data_file(config, "problems", batch(0))])  # all rows exist
        repeat = time.perf_counter() - again
    with open_catalog(root / "append") as store:
        t0 = time.perf_counter()
        for i in range(files):
            store.append({"problems": batch(i)})
        per_append = (time.perf_counter() - t0) / files
    print(f"commit_files: {per_file * 1000:.1f} ms per data file of {rows} rows "
          f"(store.append of the same rows, file written inside: {per_append * 1000:.1f} ms; "
          f"ratio {per_file / per_append:.2f}); a file whose rows all exist: "
          f"{repeat * 1000:.1f} ms")  # fmt: skip


def batch_reads(root: Path, samples: int, batch: int, per_file: int = 20_000) -> None:
    """A verify driver's read of one batch (samples + problems) by id vs by row span.

    ``samples`` samples of 2,000-character completions (random words) in files of
    ``per_file``; the
    pending samples of a verify in their order (row order), batches taken across the
    table. By id alone every batch scans every file's ids; by span only its own files.
    """
    import datetime

    from tracemill.catalogs import problem_id, sample_id
    from tracemill.flows.verify import _read_batch, pending_samples
    from tracemill.stores.catalog import open_catalog

    now = datetime.datetime.now(datetime.UTC)
    rng = random.Random(0)  # 1,000 paragraphs of random words: compresses like real text
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))) for _ in range(5000)]
    texts = [" ".join(rng.choices(words, k=300))[:2000] for _ in range(1000)]
    pids = [problem_id("math", f"question {i}") for i in range(samples // 8)]
    with open_catalog(root / "reads") as store:
        store.append({"problems": [{"problem_id": p, "source": "s", "domain": "math",
                                    "question": f"question {i}", "answer": str(i),
                                    "verifier": "math"} for i, p in enumerate(pids)]})  # fmt: skip
        for lo in range(0, samples, per_file):
            store.append({"samples": [{
                "sample_id": sample_id(pids[k // 8], "m", {}, k % 8), "problem_id": pids[k // 8],
                "role": "teacher", "origin": "generate", "model": "m", "backend": "fake",
                "params": "{}", "sample_index": k % 8, "created_at": now,
                "completion": f"{texts[k % 1000]} \\boxed{{{k // 8}}}"}
                for k in range(lo, min(samples, lo + per_file))]})  # fmt: skip
    with open_catalog(root / "reads", release=True) as store:
        todo, _ = pending_samples(store)
        starts = range(0, todo.num_rows - batch, max(batch, todo.num_rows // 8))
        seconds = {}
        with store.hold():  # the driver reads inside a round's attach: its cost not counted
            for how, cols in (("by id", ["sample_id"]), ("by span", ["sample_id", "row_id"])):
                t0 = time.perf_counter()
                for start in starts:
                    got, _ = _read_batch(store, todo.slice(start, batch).select(cols))
                    assert got.num_rows == batch
                seconds[how] = (time.perf_counter() - t0) / len(starts)
    print(f"verify driver, one batch of {batch} read from {samples} samples: by id "
          f"{seconds['by id'] * 1000:.0f} ms, by row span {seconds['by span'] * 1000:.0f} ms "
          f"({seconds['by id'] / seconds['by span']:.1f}x)")  # fmt: skip
    shutil.rmtree(root / "reads", ignore_errors=True)


def interleaved(root: Path, address: str, args: argparse.Namespace) -> None:
    """1 vs 2 workers on the 2-node cluster, alternated (1, 2, 1, 2, …).

    The phases above are minutes apart, and on a shared machine the load moves between
    them (the reference line shows by how much); here each 1-worker run sits next to a
    2-worker run, one verifier actor (one node's CPU) against two.
    """
    rates: dict[tuple[str, int], list[float]] = {}
    for trial in range(args.trials):
        for workers in (1, 2):
            ref = run_reference(address, 16, 3_000_000, in_flight=workers)
            rates.setdefault(("reference", workers), []).append(ref)
            catalog = root / f"verify-t{trial}-w{workers}"
            prepare(catalog, args.problems, args.n)
            seconds, out = run_verify(catalog, address, args.batch, workers)
            rates.setdefault(("verify", workers), []).append(out["verified"] / seconds)
            print(f"interleaved trial {trial + 1}, {workers} worker(s): reference {ref:.2f} "
                  f"tasks/s; verify {out['verified'] / seconds:.0f}/s "
                  f"(nodes used: {out['ray_nodes']})")  # fmt: skip
    for work in ("reference", "verify"):
        pairs = [two / one for one, two in zip(rates[(work, 1)], rates[(work, 2)], strict=True)]
        shown = ", ".join(f"{p / 2:.2f}" for p in pairs)
        mean = sum(pairs) / len(pairs) / 2
        print(f"{work}, 1 vs 2 workers interleaved: scaling efficiency per trial {shown}; "
              f"mean {mean:.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=250)
    parser.add_argument("--n", type=int, default=64, help="samples per problem to verify")
    parser.add_argument("--batch", type=int, default=512,
                        help="verify batch (one file each; 512 is verify's default)")  # fmt: skip
    parser.add_argument("--synth", type=int, default=12_000, help="sat items to synthesize")
    parser.add_argument("--chunk", type=int, default=1000, help="sat items per synth task")
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--read-samples", type=int, default=200_000,
                        help="catalog size for the batch-read figure (0: skip it)")  # fmt: skip
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=2, help="interleaved 1/2-worker pairs")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction,
                        default=len(os.sched_getaffinity(0)) >= 2,
                        help="run node i on core i only (default: 2+ cores)")  # fmt: skip
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from tests.cluster import services

    root = Path(tempfile.mkdtemp(prefix="tm-scale-"))
    try:
        commit_overhead(root, args.files, args.rows)
        if args.read_samples:
            batch_reads(root, args.read_samples, args.batch)
        cats = {nodes: root / f"verify-{nodes}" for nodes in (1, 2)}
        for cat in cats.values():
            samples = prepare(cat, args.problems, args.n)
        print(f"verify: {samples} math samples (math-verify, one worker per actor), "
              f"batches of {args.batch}; synth: {args.synth} sat items at level 10, "
              f"chunks of {args.chunk}")  # fmt: skip
        print(f"nodes pinned to a core each: {'yes' if args.pin else 'no'}; the driver (this "
              "process) is not pinned")  # fmt: skip
        with services.ray_cluster(root / "ray", nodes=1, cpus=1, pin=args.pin) as cluster:
            os.environ.update(cluster.env)
            os.environ["TRACEMILL_RAY_NODE_IP"] = cluster.head_ip
            from tracemill.flows.executor import connect

            ray = connect(cluster.address)
            results: dict[tuple[str, int], float] = {}
            for nodes in (1, 2):
                if nodes == 2:
                    services.add_ray_node(cluster, root / "ray", cpus=1, pin=args.pin)
                    deadline = time.monotonic() + 60
                    while sum(n["Alive"] for n in ray.nodes()) < 2 and time.monotonic() < deadline:
                        time.sleep(0.5)
                run_synth(root / f"warm-{nodes}", 2 * args.chunk, args.chunk)  # warm workers
                results[("reference", nodes)] = run_reference(cluster.address, 16, 3_000_000)
                print(f"reference (pure-CPU Ray tasks) on {nodes} node(s): "
                      f"{results[('reference', nodes)]:.2f} tasks/s")
                seconds, out = run_verify(cats[nodes], cluster.address, args.batch)
                results[("verify", nodes)] = out["verified"] / seconds
                print(f"verify on {nodes} node(s): {out['verified']} samples in {seconds:.1f} s "
                      f"= {results[('verify', nodes)]:.0f}/s (nodes used: {out['ray_nodes']})")
                seconds, out = run_synth(root / f"synth-{nodes}", args.synth, args.chunk)
                results[("synth", nodes)] = out["generated"] / seconds
                print(f"synth on {nodes} node(s): {out['generated']} items in {seconds:.1f} s "
                      f"= {results[('synth', nodes)]:.0f}/s (nodes used: {out['ray_nodes']})")
            for work in ("reference", "verify", "synth"):
                speedup = results[(work, 2)] / results[(work, 1)]
                print(f"{work}: 2-node speed-up {speedup:.2f}x, "
                      f"scaling efficiency {speedup / 2:.2f}")  # fmt: skip
            interleaved(root, cluster.address, args)
            ray.shutdown()
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
