"""Crash safety and concurrency of ingest, with real processes."""

import os
import signal
import subprocess
import sys
import textwrap

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tracemill.stores.catalog import open_catalog

BATCH = 5_000
ROWS = 60_000

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from tracemill.flows.ingest import IngestStage, ingest

    def progress(done, total):
        print(f"committed {done}/{total}", flush=True)
        time.sleep(float(sys.argv[4]))

    cfg = IngestStage(paths=[sys.argv[2]], source=sys.argv[3], domain="math",
                      batch_rows=int(sys.argv[5]))
    report = ingest(cfg, catalog=sys.argv[1], run_id="crash-test", progress=progress)
    print("DONE", report.problems_inserted, report.problems_skipped, flush=True)
    """
)


def make_parquet(path, n, prefix="q"):
    pq.write_table(
        pa.table({"question": [f"{prefix} problem number {i}: what is {i} + {i}?" for i in range(n)],
                  "answer": [str(2 * i) for i in range(n)],
                  "id": [f"{prefix}{i}" for i in range(n)]}),
        path,
    )  # fmt: skip
    return path


def start(catalog_dir, src, source, delay="0", batch=BATCH):
    return subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(catalog_dir), str(src), source, delay, str(batch)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def check_no_duplicates(catalog_dir):
    with open_catalog(catalog_dir) as store:
        n, distinct = store.con.execute(
            "SELECT count(*), count(DISTINCT problem_id) FROM problems"
        ).fetchone()
    assert n == distinct
    return n


@pytest.mark.slow
def test_sigkill_mid_ingest_then_rerun_completes(tmp_path, catalog_dir):
    src = make_parquet(tmp_path / "big.parquet", ROWS)
    proc = start(catalog_dir, src, "big", delay="0.05")
    committed = 0
    for line in proc.stdout:
        if line.startswith("committed"):
            committed += 1
            if committed == 3:
                break
    # kill while later batches are being built and committed
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    n = check_no_duplicates(catalog_dir)
    assert n % BATCH == 0, f"a partial batch landed: {n} rows"
    assert 3 * BATCH <= n < ROWS
    rerun = start(catalog_dir, src, "big")
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    inserted, skipped = map(int, out.strip().splitlines()[-1].split()[1:])
    assert inserted == ROWS - n and skipped == n
    assert check_no_duplicates(catalog_dir) == ROWS


@pytest.mark.slow
def test_two_processes_ingest_at_once(tmp_path, catalog_dir):
    a = make_parquet(tmp_path / "a.parquet", 20_000, prefix="a")
    b = make_parquet(tmp_path / "b.parquet", 20_000, prefix="b")
    procs = [start(catalog_dir, a, "a", batch=2_000), start(catalog_dir, b, "b", batch=2_000)]
    outputs = [p.communicate(timeout=300) for p in procs]
    ok = 0
    for proc, (out, err) in zip(procs, outputs, strict=True):
        if proc.returncode == 0:
            ok += 1
            assert "DONE 20000 0" in out
        else:  # the only acceptable failure is a clear lock error
            assert "locked by another process" in err, err
    assert ok >= 1
    assert check_no_duplicates(catalog_dir) == 20_000 * ok
