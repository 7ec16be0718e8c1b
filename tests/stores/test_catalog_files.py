"""Data files written by workers and committed by a driver; locks released between operations."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tracemill.catalogs import conform, problem_id
from tracemill.stores.catalog import (
    CatalogConfig,
    CatalogError,
    DataFile,
    ObjectStorage,
    open_catalog,
    write_data_file,
)

REPO = Path(__file__).resolve().parents[2]


def problems(questions: list[str]) -> list[dict]:
    return [
        {"problem_id": problem_id("math", q), "source": "s", "domain": "math", "question": q}
        for q in questions
    ]


def verdicts(ids: list[str], version: str = "1") -> list[dict]:
    return [
        {"sample_id": s, "problem_id": "p", "verifier": "exact", "verifier_version": version,
         "passed": True, "score": 1.0, "reason": "ok", "detail": "{}", "latency_s": 0.0}
        for s in ids
    ]  # fmt: skip


def test_a_committed_file_is_registered_without_a_copy(tmp_path):
    config = CatalogConfig.resolve(tmp_path / "c")
    with open_catalog(tmp_path / "c") as store:
        f = write_data_file(config, "problems", problems(["a", "b", "c"]))
        assert f is not None and f.rows == 3 and Path(f.path).is_file()
        result = store.commit_files([f], message="workers")
        assert (result["problems"].inserted, result["problems"].skipped) == (3, 0)
        files = store.sql("SELECT path FROM __ducklake_metadata_tm.ducklake_data_file")
        assert any(Path(f.path).name in p for p in files.column("path").to_pylist())
        assert store.count("problems") == 3
        assert "workers: problems+3" in store.snapshots().column("commit_message").to_pylist()


def test_a_file_committed_twice_or_a_repeated_task_adds_nothing(tmp_path):
    config = CatalogConfig.resolve(tmp_path / "c")
    with open_catalog(tmp_path / "c") as store:
        first = write_data_file(config, "problems", problems(["a", "b"]))
        retry = write_data_file(config, "problems", problems(["a", "b"]))  # a retried task
        assert store.commit_files([first])["problems"].inserted == 2
        snap = store.current_snapshot()
        result = store.commit_files([retry, None])
        assert (result["problems"].inserted, result["problems"].skipped) == (0, 2)
        assert not Path(retry.path).exists()  # deleted once the commit decided against it
        assert store.current_snapshot() == snap + 1 or store.count("problems") == 2
        assert store.count("problems") == 2


def test_a_partly_new_file_lands_as_a_file_of_just_its_new_rows(tmp_path):
    config = CatalogConfig.resolve(tmp_path / "c")
    with open_catalog(tmp_path / "c") as store:
        store.commit_files([write_data_file(config, "problems", problems(["a", "b"]))])
        mixed = write_data_file(config, "problems", problems(["b", "c", "d", "c"]))
        result = store.commit_files([mixed])
        assert (result["problems"].inserted, result["problems"].skipped) == (2, 2)
        rows = store.sql("SELECT question, count(*) AS n FROM problems GROUP BY ALL ORDER BY 1")
        assert rows.to_pylist() == [{"question": q, "n": 1} for q in "abcd"]
        assert not Path(mixed.path).exists()


def test_composite_keys_and_two_files_of_one_commit(tmp_path):
    config = CatalogConfig.resolve(tmp_path / "c")
    with open_catalog(tmp_path / "c") as store:
        a = write_data_file(config, "verdicts", verdicts(["s1", "s2"]))
        b = write_data_file(config, "verdicts", verdicts(["s2", "s3"]) + verdicts(["s2"], "2"))
        result = store.commit_files([a, b])
        assert (result["verdicts"].inserted, result["verdicts"].skipped) == (4, 1)
        assert store.count("verdicts") == 4


def test_a_failed_commit_commits_nothing_and_keeps_the_workers_files(tmp_path):
    config = CatalogConfig.resolve(tmp_path / "c")
    with open_catalog(tmp_path / "c") as store:
        good = write_data_file(config, "problems", problems(["a"]))
        missing = DataFile("problems", str(tmp_path / "gone.parquet"), 1)
        with pytest.raises(Exception):  # noqa: B017 - any read error aborts the commit
            store.commit_files([good, missing])
        assert store.count("problems") == 0
        assert Path(good.path).exists()  # a retry of the commit still has it
        assert store.commit_files([good])["problems"].inserted == 1
        with pytest.raises(KeyError):
            store.commit_files([DataFile("nope", good.path, 1)])
    with open_catalog(tmp_path / "c", read_only=True) as reader, pytest.raises(CatalogError):
        reader.commit_files([good])


def test_written_files_have_the_tables_exact_schema(tmp_path):
    config = CatalogConfig.resolve(tmp_path / "c")
    f = write_data_file(config, "problems", problems(["a"]))
    assert pq.read_schema(f.path).names == conform("problems", problems(["a"])).schema.names
    assert write_data_file(config, "problems", []) is None


def test_object_storage_settings_from_the_environment():
    s3 = ObjectStorage.from_env({"TRACEMILL_S3_ENDPOINT": "http://127.0.0.1:8333",
                                 "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s'x"})  # fmt: skip
    assert (s3.url_style, s3.use_ssl, s3.region) == ("path", False, "us-east-1")
    sql = s3.duckdb_secret_sql()
    assert "ENDPOINT '127.0.0.1:8333'" in sql and "USE_SSL false" in sql
    assert "SECRET 's''x'" in sql  # quoted
    assert "s'x" not in repr(s3)  # credentials stay out of logs
    aws = ObjectStorage.from_env({"AWS_REGION": "eu-west-1"})
    assert (aws.url_style, aws.use_ssl, aws.endpoint) == ("vhost", True, None)
    assert "KEY_ID" not in aws.duckdb_secret_sql()
    with pytest.raises(CatalogError, match="path' or 'vhost"):
        ObjectStorage.from_env({"TRACEMILL_S3_URL_STYLE": "weird"})


# -- readers and writers of an embedded catalog --------------------------------------------


def _append_in_subprocess(catalog: Path, question: str, timeout_s: float) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        f"""
        import time
        from tracemill.catalogs import problem_id
        from tracemill.stores.catalog import open_catalog
        t0 = time.monotonic()
        with open_catalog({str(catalog)!r}, lock_timeout_s={timeout_s}) as store:
            store.append({{"problems": [{{"problem_id": problem_id("math", {question!r}),
                           "source": "s", "domain": "math", "question": {question!r}}}]}})
        print("WROTE", round(time.monotonic() - t0, 2))
        """
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_a_releasing_writer_lets_another_process_in_between_operations(tmp_path):
    with open_catalog(tmp_path / "c", release=True) as store:
        store.append({"problems": problems(["mine"])})
        out = _append_in_subprocess(tmp_path / "c", "theirs", timeout_s=5)
        assert "WROTE" in out.stdout, out.stdout + out.stderr
        assert store.count("problems") == 2  # re-attached, sees the other process's row
        with store.hold():  # inside hold() the lock stays taken
            out = _append_in_subprocess(tmp_path / "c", "blocked", timeout_s=0.5)
            assert "locked by pid" in out.stderr + out.stdout


def test_a_long_reader_never_stalls_a_writer(tmp_path):
    with open_catalog(tmp_path / "c") as store:
        store.append({"problems": problems(["a"])})
    with open_catalog(tmp_path / "c", read_only=True) as reader:
        # the reader holds no lock: a writer that would wait more than 1 s for one fails
        out = _append_in_subprocess(tmp_path / "c", "b", timeout_s=1)
        assert "WROTE" in out.stdout, out.stdout + out.stderr
        assert reader.count("problems") == 1  # the reader's snapshot, as of its opening
    with open_catalog(tmp_path / "c", read_only=True) as reader:
        assert reader.count("problems") == 2


def probe_readers_during_distill(catalog: Path, timeout_s: float) -> tuple[list[float], set, str]:
    """Run a slow distill in a subprocess and open read-only stores while it runs.

    Returns each reader's wait (open + count), the counts seen, the writer's output.
    """
    with open_catalog(catalog) as store:
        store.append({"problems": problems([f"q{i}" for i in range(40)])})
    code = textwrap.dedent(
        f"""
        from tracemill.flows.distill import DistillStage, distill
        cfg = DistillStage(backend="fake", model="slow", n=2, batch_size=8,
                           backend_options={{"delay_s": 0.3, "batch_size": 4}})
        print("DONE", distill(cfg, catalog={str(catalog)!r}).samples)
        """
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    waits: list[float] = []
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        while writer.poll() is None and time.monotonic() < deadline:
            t0 = time.monotonic()
            with open_catalog(catalog, read_only=True, lock_timeout_s=timeout_s) as reader:
                seen.add(reader.count("samples"))
            waits.append(time.monotonic() - t0)
            time.sleep(0.3)
        out, err = writer.communicate(timeout=120)
    finally:
        if writer.poll() is None:
            writer.kill()
    return waits, seen, out + err


@pytest.mark.slow
def test_readers_get_in_between_the_batches_of_a_long_distill(tmp_path):
    # the 2 s figure is measured by benchmarks/scale.py; here: readers are never shut
    # out for the run, and they see the batches land one by one
    waits, seen, out = probe_readers_during_distill(tmp_path / "c", timeout_s=15)
    assert "DONE 80" in out, out
    assert len(waits) >= 3, waits
    assert len(seen) >= 3, seen
    # the CLI reader, once the writer is done, sees everything
    sql = subprocess.run([sys.executable, "-m", "tracemill.flows.cli", "sql",
                          "SELECT count(*) AS n FROM samples", "--catalog", str(tmp_path / "c"),
                          "--format", "csv"], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert sql.returncode == 0 and "80" in sql.stdout, sql.stdout + sql.stderr


def test_concurrent_threads_do_not_share_a_released_store_by_accident(tmp_path):
    # a store is one connection: the documented pattern is one thread at a time; hold()
    # nests, and release() inside a hold does nothing
    with open_catalog(tmp_path / "c", release=True) as store:
        with store.hold():
            store.release()
            assert store.count("problems") == 0
        done = []
        t = threading.Thread(target=lambda: done.append(store.count("problems")))
        t.start()
        t.join()
        assert done == [0]
