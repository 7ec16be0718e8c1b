"""Catalog debris: orphan data files of crashed writes are removed, nothing else is."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from tracemill.catalogs import TABLES
from tracemill.stores.catalog import open_catalog
from tracemill.stores.gc import no_clean_on_open, remove_catalog_debris
from typer.testing import CliRunner


def _problems(n, prefix="p"):
    return [
        {"problem_id": uuid.uuid5(uuid.NAMESPACE_OID, f"{prefix}{i}").hex, "source": "s",
         "domain": "math", "question": f"{prefix} question {i}"}
        for i in range(n)
    ]  # fmt: skip


def disk_files(catalog_dir: Path) -> set[str]:
    return {str(p) for p in (catalog_dir / "data").rglob("*.parquet")}


def referenced(catalog_dir: Path) -> set[str]:
    """Every data and delete file the catalog's current snapshot names."""
    found: set[str] = set()
    with no_clean_on_open(), open_catalog(catalog_dir, read_only=True) as store:
        for name in TABLES:
            for data, delete in store.con.execute(
                f"SELECT data_file, delete_file FROM ducklake_list_files('tm', '{name}')"
            ).fetchall():
                found.update(p for p in (data, delete) if p)
    return found


def plant(catalog_dir: Path, table: str, prefix: str) -> Path:
    """An orphan: a copy of a real data file under a fresh data-file name."""
    real = next((catalog_dir / "data" / "main" / "problems").glob("*.parquet"))
    path = catalog_dir / "data" / "main" / table / f"{prefix}-{uuid.uuid4()}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(real, path)
    return path


def test_orphans_go_at_the_next_write_and_other_files_stay(catalog_dir):
    with open_catalog(catalog_dir) as store:
        store.append({"problems": _problems(1200)})  # one file written by tracemill
        store.append({"problems": _problems(3, "small")})  # one file written by DuckLake
    kept = disk_files(catalog_dir)
    assert kept == referenced(catalog_dir) and len(kept) == 2
    orphans = [plant(catalog_dir, "problems", "tracemill"), plant(catalog_dir, "samples", "ducklake")]
    foreign = [catalog_dir / "data" / "main" / "problems" / "mine.parquet",
               catalog_dir / "data" / "exports" / "keep.parquet"]  # fmt: skip
    for path in foreign:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(orphans[0], path)
    with open_catalog(catalog_dir, read_only=True) as store:  # readers never delete
        assert store.count("problems") == 1203
    assert all(p.exists() for p in orphans)
    with open_catalog(catalog_dir) as store:  # the next write starts by cleaning up
        assert store.count("problems") == 1203
        report = remove_catalog_debris(store, dry_run=True)
    assert not any(p.exists() for p in orphans)
    assert all(p.exists() for p in foreign)
    assert sorted(report.foreign_files) == sorted(map(str, foreign))
    assert disk_files(catalog_dir) == kept | set(map(str, foreign))
    with open_catalog(catalog_dir, read_only=True) as store:
        assert store.count("problems") == 1203


def test_grace_period_and_dry_run(catalog_dir):
    with open_catalog(catalog_dir) as store:
        store.append({"problems": _problems(1200)})
    young = plant(catalog_dir, "problems", "tracemill")
    old = plant(catalog_dir, "problems", "tracemill")
    hours_ago = time.time() - 3 * 3600
    os.utime(old, (hours_ago, hours_ago))
    with no_clean_on_open(), open_catalog(catalog_dir) as store:
        preview = remove_catalog_debris(store, dry_run=True, older_than_s=3600)
        assert preview.orphan_files == [str(old)] and preview.bytes == old.stat().st_size
        assert young.exists() and old.exists()
        done = remove_catalog_debris(store, older_than_s=3600)
        assert done.orphan_files == [str(old)] and not done.dry_run
    assert young.exists() and not old.exists()


def test_gc_command(catalog_dir, tmp_path):
    from tracemill.flows.cli import app

    runner = CliRunner()
    empty = runner.invoke(app, ["gc", "--catalog", str(tmp_path / "none")])
    assert empty.exit_code == 0, empty.output
    assert "no catalog" in empty.output and not (tmp_path / "none").exists()
    with open_catalog(catalog_dir) as store:
        store.append({"problems": _problems(1200)})
    orphan = plant(catalog_dir, "problems", "tracemill")
    stale = tmp_path / "staging" / "tm-sandbox-999999999-abc"
    stale.mkdir(parents=True)
    dry = runner.invoke(
        app, ["gc", "--dry-run", "--catalog", str(catalog_dir), "--sandbox-dir", str(stale.parent)]
    )
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output and orphan.exists() and stale.exists()
    done = runner.invoke(
        app, ["gc", "--catalog", str(catalog_dir), "--sandbox-dir", str(stale.parent)]
    )
    assert done.exit_code == 0, done.output
    assert not orphan.exists() and not stale.exists()
    lines = {ln.split("│")[1].strip(): ln.split("│")[2].strip() for ln in done.output.splitlines()
             if ln.count("│") >= 3}  # fmt: skip
    assert lines["orphan data files"] == "1" and lines["sandbox folders"] == "1"
    with open_catalog(catalog_dir, read_only=True) as store:  # the dry run recorded nothing
        assert store.sql("SELECT flow FROM runs").column(0).to_pylist() == ["gc"]
    listed = runner.invoke(app, ["gc", "--catalog", str(catalog_dir), "--format", "json"])
    assert listed.exit_code == 0, listed.output
    counts = {r["what"]: r["count"] for r in map(json.loads, listed.output.splitlines())}
    assert counts["orphan data files"] == 0 and counts["sandbox folders"] == 0


INGEST = textwrap.dedent(
    """
    import sys, time
    import pyarrow as pa, pyarrow.parquet as pq
    from tracemill.flows.ingest import IngestStage, ingest

    src = sys.argv[2]
    n = 60_000
    pq.write_table(pa.table({"question": [f"problem {i}: what is {i} + {i}?" for i in range(n)],
                             "answer": [str(2 * i) for i in range(n)]}), src)

    def progress(done, total):
        print("committed", done, flush=True)
        time.sleep(0.05)

    cfg = IngestStage(paths=[src], source="big", domain="math", batch_rows=5_000)
    ingest(cfg, catalog=sys.argv[1], run_id="killed", progress=progress)
    """
)

@pytest.mark.slow
def test_kill9_during_ingest_leaves_no_orphans_after_next_write_or_gc(tmp_path, catalog_dir):
    from tracemill.flows.cli import app

    src = tmp_path / "big.parquet"
    seen_orphans = 0
    for attempt, cleanup in enumerate(("next write", "gc")):
        proc = subprocess.Popen(
            [sys.executable, "-c", INGEST, str(catalog_dir), str(src)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        committed = 0
        for line in proc.stdout:
            committed += line.startswith("committed")
            if committed == 2 + attempt:
                break
        os.kill(proc.pid, signal.SIGKILL)  # while later batches' files are being written
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
        seen_orphans += len(disk_files(catalog_dir) - referenced(catalog_dir))
        if cleanup == "next write":
            with open_catalog(catalog_dir) as store:  # any write: here, more problems
                store.append({"problems": _problems(10, "after-kill")})
        else:
            result = CliRunner().invoke(app, ["gc", "--catalog", str(catalog_dir)])
            assert result.exit_code == 0, result.output
        assert disk_files(catalog_dir) == referenced(catalog_dir), cleanup
    assert seen_orphans > 0  # the kills did leave debris to clean


DRIVER_THAT_DIES = textwrap.dedent(
    """
    import sys
    from tracemill.stores.catalog import CatalogConfig, write_data_file

    rows = [{"problem_id": f"{i:032x}", "source": "s", "domain": "math", "question": f"q{i}"}
            for i in range(5)]
    print(write_data_file(CatalogConfig.resolve(sys.argv[1]), "problems", rows).path)
    """
)


def test_killed_workers_files_go_once_their_driver_is_gone_never_while_in_flight(
    catalog_dir, monkeypatch
):
    from tracemill.stores.catalog import (
        WORKER_OWNER_ENV,
        CatalogConfig,
        owner_host,
        process_owner,
        write_data_file,
    )

    with open_catalog(catalog_dir) as store:
        store.append({"problems": _problems(1200)})
    config = CatalogConfig.resolve(catalog_dir)
    monkeypatch.delenv(WORKER_OWNER_ENV, raising=False)

    def worker_file(owner: str | None, age_s: float = 0.0, prefix: str = "w") -> Path:
        if owner is None:
            monkeypatch.delenv(WORKER_OWNER_ENV, raising=False)
        else:
            monkeypatch.setenv(WORKER_OWNER_ENV, owner)
        path = Path(write_data_file(config, "problems", _problems(4, prefix)).path)
        if age_s:
            then = time.time() - age_s
            os.utime(path, (then, then))
        return path

    # a driver whose process ended before it committed (killed): its file goes at once
    out = subprocess.run([sys.executable, "-c", DRIVER_THAT_DIES, str(catalog_dir)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    dead = Path(out.stdout.strip())
    assert dead.exists() and dead.name.startswith(f"tracemill-worker-{owner_host()}_")
    me = process_owner()
    live = worker_file(None, prefix="live")  # this process: a driver that will commit it
    assert live.name.startswith(f"tracemill-worker-{me}-")
    live_old = worker_file(me, age_s=3 * 3600, prefix="live-old")  # slow, still in flight
    live_stale = worker_file(me, age_s=2 * 86_400, prefix="stale")  # a day: a killed attempt
    host, pid, started = me.rsplit("_", 2)
    reused = worker_file(f"{host}_{pid}_{int(started) - 500}", prefix="reused")  # pid reused
    elsewhere = worker_file("node-7.example_4242_1700000000", prefix="far")  # can't check
    elsewhere_old = worker_file("node-7.example_4242_1700000000", 2 * 3600, "far-old")
    legacy = catalog_dir / "data" / "main" / "problems" / f"tracemill-worker-{uuid.uuid4()}.parquet"
    shutil.copyfile(live, legacy)  # named before files carried their owner
    legacy_old = legacy.with_name(f"tracemill-worker-{uuid.uuid4()}.parquet")
    shutil.copyfile(live, legacy_old)
    os.utime(legacy_old, (time.time() - 2 * 3600,) * 2)
    gone = {dead, live_stale, reused, elsewhere_old, legacy_old}
    kept = {live, live_old, elsewhere, legacy}

    with no_clean_on_open(), open_catalog(catalog_dir) as store:
        preview = remove_catalog_debris(store, dry_run=True)
    assert set(map(Path, preview.worker_files)) == gone == set(map(Path, preview.orphan_files))
    assert set(map(Path, preview.in_flight_files)) == kept and not preview.foreign_files
    assert all(p.exists() for p in gone | kept)
    with open_catalog(catalog_dir) as store:  # the next write's clean-up takes them
        from tracemill.stores.catalog import DataFile

        # ... and the in-flight file is still there for its driver to commit
        assert store.commit_files([DataFile("problems", str(live), 4)])["problems"].inserted == 4
    assert not any(p.exists() for p in gone) and all(p.exists() for p in kept)
    assert str(live) in referenced(catalog_dir)
    for path in (elsewhere, legacy):
        os.utime(path, (time.time() - 120,) * 2)
    with no_clean_on_open(), open_catalog(catalog_dir) as store:  # a grace the user gives
        done = remove_catalog_debris(store, older_than_s=60)  # for owners it cannot check
    assert set(map(Path, done.worker_files)) == {elsewhere, legacy}
    assert set(map(Path, done.in_flight_files)) == {live_old} and live_old.exists()
    with open_catalog(catalog_dir, read_only=True) as store:
        assert store.count("problems") == 1204


def test_a_new_catalog_opened_released_cleans_up_without_error(catalog_dir, caplog):
    # creating the tables of a new catalog used to release it before the clean-up ran
    # ("Failed to find attached database"), so a crashed first write's files stayed
    import logging

    with open_catalog(catalog_dir, release=True) as store:
        store.append({"problems": _problems(3)})
    orphan = plant(catalog_dir, "problems", "tracemill")
    (catalog_dir / "catalog.ducklake").unlink()  # a new catalog over an old data path
    with caplog.at_level(logging.WARNING, logger="tracemill.stores.gc"):
        with open_catalog(catalog_dir, release=True) as store:
            assert store.count("problems") == 0
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert not orphan.exists()
