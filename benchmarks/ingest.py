"""Ingest throughput: tracemill ingest vs. a plain Parquet write of the same table.

Generates N problems (default 1,000,000) as a Parquet file, then measures in one run:
- ``tracemill ingest`` of that file into a fresh catalog (read, map, ids, transactional
  idempotent appends);
- ``pyarrow.parquet.write_table`` of the same table (the baseline);
- a second ingest of the same file (everything skipped);
- for reference, ``write_table`` of the rows the catalog stores (the 16-column
  ``problems`` table with its ids, zstd-1 as the catalog writes it): how close ingest
  comes to writing its own output once.

Usage: python benchmarks/ingest.py [--rows N] [--batch-rows B]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def make_table(n: int) -> pa.Table:
    """N distinct math problems with answers and ids."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.integers(1, 10_000, n)
    b = rng.integers(1, 10_000, n)
    idx = np.arange(n)
    question = pc.binary_join_element_wise(
        pa.array(np.char.add("Problem ", idx.astype(str))),
        pa.array(np.char.add(np.char.add(": compute ", a.astype(str)), " + ")),
        pa.array(np.char.add(b.astype(str), " and give the result.")),
        "",
    )
    return pa.table({"id": idx.astype(str), "question": question, "answer": (a + b).astype(str)})


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    args = parser.parse_args()

    from tracemill.flows.ingest import IngestStage, ingest

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        t0 = time.perf_counter()
        table = make_table(args.rows)
        src = tmpdir / "problems.parquet"
        pq.write_table(table, src)
        print(f"generated {args.rows:,} problems in {time.perf_counter() - t0:.1f}s")

        t0 = time.perf_counter()
        pq.write_table(table, tmpdir / "baseline.parquet")
        baseline_s = time.perf_counter() - t0

        cfg = IngestStage(
            paths=[str(src)], source="bench", domain="math", batch_rows=args.batch_rows
        )
        t0 = time.perf_counter()
        report = ingest(cfg, catalog=str(tmpdir / "catalog"), run_id="bench")
        ingest_s = time.perf_counter() - t0
        assert report.problems_inserted == args.rows, report

        t0 = time.perf_counter()
        again = ingest(cfg, catalog=str(tmpdir / "catalog"), run_id="bench-2")
        rerun_s = time.perf_counter() - t0
        assert again.problems_skipped == args.rows and again.problems_inserted == 0

        from tracemill.stores.catalog import open_catalog

        with open_catalog(str(tmpdir / "catalog"), read_only=True) as store:
            stored = store.read("problems")
        t0 = time.perf_counter()
        pq.write_table(stored, tmpdir / "stored.parquet", compression="zstd", compression_level=1)
        stored_s = time.perf_counter() - t0

    ingest_rate = args.rows / ingest_s
    baseline_rate = args.rows / baseline_s
    ratio = ingest_rate / baseline_rate
    print(f"baseline pyarrow write_table: {baseline_rate:>12,.0f} rows/s ({baseline_s:.2f}s)")
    print(f"tracemill ingest:             {ingest_rate:>12,.0f} rows/s ({ingest_s:.2f}s)")
    print(f"ratio ingest / baseline:      {ratio:>12.3f}  (target >= 0.5)")
    print(f"second ingest, all {args.rows:,} skipped:  {rerun_s:.2f}s "
          f"({args.rows / rerun_s:,.0f} rows/s)")
    stored_rate = args.rows / stored_s
    print(f"reference: write_table of the stored {stored.num_columns}-column rows: "
          f"{stored_rate:,.0f} rows/s ({stored_s:.2f}s); ingest / that: "
          f"{ingest_rate / stored_rate:.3f}")


if __name__ == "__main__":
    main()
