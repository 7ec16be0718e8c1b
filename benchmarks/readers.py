"""Readers during a long write: ``tracemill sql`` latency while a distill commits batches.

    .venv/bin/python benchmarks/readers.py [--problems 120] [--delay 0.3]
                                           [--baseline-python ../main/.venv/bin/python]

An embedded catalog gets ``--problems`` problems; a distill (fake teacher that sleeps
``--delay`` s per 4 prompts, batches of 8, so it commits every few seconds) runs in a
subprocess while this script reads the catalog over and over, as a user would:

* ``cli``: ``python -m tracemill.flows.cli sql "SELECT count(*) FROM samples"`` in a
  fresh process (start-up, imports, opening the catalog, the query, the output);
* ``in-process``: ``open_catalog(read_only=True)`` + ``count`` in this process (the
  part of a read the catalog itself costs: waiting for the writer's batch, copying the
  metadata, attaching);
* ``baseline cli`` (with ``--baseline-python``): the same command run by another
  checkout's interpreter (e.g. main before a change), interleaved with ``cli`` so both
  see the same load.

Each prints the latency distribution (median, p90, max) and how many reads took over
2 s, and a CLI read's CPU time (what start-up and the read cost, apart from waiting);
the same reads with no writer, and the bare start-up of the CLI (the imports a
``tracemill sql`` process needs before it reads), are printed as the floor. The
machine's load average is printed too: on a shared machine it moves every figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUERY = "SELECT count(*) AS n FROM samples"
STARTUP = "import tracemill.flows.cli, tracemill.flows.commands.catalog, tracemill.stores.catalog"
"""What a ``tracemill sql`` process imports before it reads: the floor of a CLI read."""


def seed(catalog: Path, problems: int) -> None:
    from tracemill.catalogs import problem_id
    from tracemill.stores.catalog import open_catalog

    rows = [{"problem_id": problem_id("math", f"q{i}"), "source": "bench", "domain": "math",
             "question": f"q{i}", "answer": str(i)} for i in range(problems)]  # fmt: skip
    with open_catalog(catalog) as store:
        store.append({"problems": rows})


def start_writer(catalog: Path, delay: float) -> subprocess.Popen:
    code = textwrap.dedent(
        f"""
        from tracemill.flows.distill import DistillStage, distill
        cfg = DistillStage(backend="fake", model="slow", n=2, batch_size=8, verify=False,
                           backend_options={{"delay_s": {delay}, "batch_size": 4}})
        print("DONE", distill(cfg, catalog={str(catalog)!r}).samples)
        """
    )
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


CPU: dict[str, list[float]] = {}
"""CPU seconds (user + system) of each CLI read process, by interpreter."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_read(python: str, catalog: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    cpu0 = _children_cpu()
    out = subprocess.run(
        [python, "-m", "tracemill.flows.cli", "sql", QUERY, "--catalog", str(catalog),
         "--format", "csv"], capture_output=True, text=True, timeout=120, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    took = time.perf_counter() - t0
    CPU.setdefault(python, []).append(_children_cpu() - cpu0)
    if out.returncode != 0:
        raise RuntimeError(f"{python}: tracemill sql failed: {out.stderr[-2000:]}")
    return took, out.stdout.strip().splitlines()[-1]


def in_process_read(catalog: Path) -> tuple[float, str]:
    from tracemill.stores.catalog import open_catalog

    t0 = time.perf_counter()
    with open_catalog(catalog, read_only=True) as store:
        n = store.count("samples")
    return time.perf_counter() - t0, str(n)


def describe(name: str, waits: list[float]) -> str:
    if not waits:
        return f"{name:>22}: no reads"
    w = sorted(waits)
    p90 = w[min(len(w) - 1, int(0.9 * len(w)))]
    over = sum(x > 2.0 for x in w)
    return (f"{name:>22}: {len(w):3d} reads, median {w[len(w) // 2]:.2f} s, p90 {p90:.2f} s, "
            f"max {w[-1]:.2f} s, {over} over 2 s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=120)
    parser.add_argument("--delay", type=float, default=0.3, help="fake teacher s per 4 prompts")
    parser.add_argument(
        "--baseline-python", default=None, help="another checkout's interpreter, same run"
    )
    parser.add_argument("--idle-reads", type=int, default=5)
    args = parser.parse_args()
    readers: dict[str, object] = {"cli": lambda c: cli_read(sys.executable, c)}
    if args.baseline_python:
        readers["baseline cli"] = lambda c: cli_read(args.baseline_python, c)
    readers["in-process"] = in_process_read

    root = Path(tempfile.mkdtemp(prefix="tm-readers-"))
    try:
        catalog = root / "catalog"
        seed(catalog, args.problems)
        in_process_read(catalog)  # imports of this process are not part of a read
        print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
        writer = start_writer(catalog, args.delay)
        waits: dict[str, list[float]] = {name: [] for name in readers}
        seen: set[str] = set()
        t0 = time.perf_counter()
        try:
            while writer.poll() is None:
                for name, read in readers.items():
                    if writer.poll() is not None:
                        break
                    took, n = read(catalog)  # type: ignore[operator]
                    waits[name].append(took)
                    seen.add(n)
                    time.sleep(0.2)
            out, err = writer.communicate(timeout=300)
        finally:
            if writer.poll() is None:
                writer.kill()
        if "DONE" not in out:
            raise RuntimeError(f"the writer failed: {err[-3000:]}")
        print(f"writer: distill of {args.problems * 2} samples in "
              f"{time.perf_counter() - t0:.0f} s, committed batch by batch ({out.strip()}); "
              f"readers saw {len(seen)} distinct counts; "
              f"load average after: {os.getloadavg()[0]:.1f}")  # fmt: skip
        print("reads during the distill:")
        for name in readers:
            print(describe(name, waits[name]))
        pythons = {"cli": sys.executable, "baseline cli": args.baseline_python}
        for name, python in pythons.items():
            if python and CPU.get(python):
                cpu = sorted(CPU[python])
                print(f"{name:>22}: CPU per read (user + system) median "
                      f"{cpu[len(cpu) // 2]:.2f} s (the rest of its wall time: waiting for "
                      "a CPU or for the writer)")  # fmt: skip
        print("the same reads with no writer:")
        for name, read in readers.items():
            print(describe(name, [read(catalog)[0] for _ in range(args.idle_reads)]))  # type: ignore[operator]
        for name, python in pythons.items():
            if python:
                starts = []
                for _ in range(args.idle_reads):
                    t = time.perf_counter()
                    cmd = [python, "-c", STARTUP]
                    subprocess.run(cmd, capture_output=True, check=True, cwd=tempfile.gettempdir())
                    starts.append(time.perf_counter() - t)
                print(describe(f"{name} start-up only", starts))
        if args.baseline_python:
            ratio = (
                sorted(waits["baseline cli"])[len(waits["baseline cli"]) // 2]
                / sorted(waits["cli"])[len(waits["cli"]) // 2]
            )
            print(f"median cli read during the write: baseline / this checkout = {ratio:.2f}x")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
