import os
import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest
from tracemill.catalogs import SchemaError, conform, problem_id
from tracemill.stores.catalog import (
    CatalogConfig,
    CatalogError,
    CatalogLockedError,
    create_table_sql,
    open_catalog,
)


def problems(questions, source="s"):
    return conform(
        "problems",
        [
            {"problem_id": problem_id("math", q), "source": source, "domain": "math",
             "question": q}
            for q in questions
        ],
    )  # fmt: skip


def test_append_is_idempotent_and_counts_skips(catalog):
    first = catalog.append({"problems": problems(["a", "b", "c"])})["problems"]
    assert (first.inserted, first.skipped) == (3, 0)
    again = catalog.append({"problems": problems(["a", "b", "c", "d"])})["problems"]
    assert (again.inserted, again.skipped, again.total) == (1, 3, 4)
    assert catalog.count("problems") == 4


def test_duplicate_keys_within_a_batch_keep_the_first(catalog):
    batch = problems(["x", "x", "y"], source="first")
    batch = pa.concat_tables([batch, problems(["x"], source="later")])
    result = catalog.append({"problems": batch})["problems"]
    assert (result.inserted, result.skipped) == (2, 2)
    rows = catalog.read("problems", where="question = 'x'").to_pylist()
    assert [r["source"] for r in rows] == ["first"]


def test_multi_table_append_is_all_or_nothing(catalog):
    good = problems(["a"])
    bad_samples = pa.table({"sample_id": [None]}, schema=pa.schema([("sample_id", pa.string())]))
    with pytest.raises(SchemaError):
        catalog.append({"problems": good, "samples": bad_samples})
    assert catalog.count("problems") == 0
    # a failure inside the transaction (after problems were inserted) rolls back too
    before = catalog.current_snapshot()
    with pytest.raises(Exception):  # noqa: B017 - any engine error will do
        catalog.append({"problems": good, "runs": [{"run_id": "r", "flow": "f",
                        "started_at": "not a time", "status": "x"}]})  # fmt: skip
    assert catalog.count("problems") == 0
    assert catalog.current_snapshot() == before


def test_snapshots_and_time_travel(catalog):
    catalog.append({"problems": problems(["a"])}, message="one")
    s1 = catalog.current_snapshot()
    catalog.append({"problems": problems(["b", "c"])}, message="two")
    s2 = catalog.current_snapshot()
    assert s2 > s1
    assert catalog.count("problems", snapshot=s1) == 1
    assert catalog.count("problems", snapshot=s2) == 3
    assert [r["question"] for r in catalog.read("problems", snapshot=s1).to_pylist()] == ["a"]
    snaps = catalog.snapshots().to_pylist()
    messages = [s["commit_message"] for s in snaps]
    assert any(m and m.startswith("one") for m in messages)
    assert any(m and m.startswith("two") for m in messages)
    # an append that inserts nothing makes no snapshot
    catalog.append({"problems": problems(["a"])})
    assert catalog.current_snapshot() == s2


def test_data_files_are_parquet(catalog, catalog_dir):
    catalog.append({"problems": problems(["a"])})
    files = list((catalog_dir / "data").rglob("*"))
    assert any(f.suffix == ".parquet" for f in files)


def test_read_only_missing_catalog_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="no catalog"):
        with open_catalog(tmp_path / "nothing", read_only=True):
            pass


def test_uri_catalog_needs_data_path(monkeypatch):
    monkeypatch.delenv("TRACEMILL_DATA_PATH", raising=False)
    with pytest.raises(CatalogError, match="TRACEMILL_DATA_PATH"):
        CatalogConfig.resolve("postgres:dbname=tracemill host=localhost")
    monkeypatch.setenv("TRACEMILL_DATA_PATH", "s3://bucket/tm/")
    cfg = CatalogConfig.resolve("postgres:dbname=tracemill")
    assert (cfg.metadata, cfg.data_path, cfg.embedded) == (
        "postgres:dbname=tracemill", "s3://bucket/tm/", False)  # fmt: skip


def test_env_and_default_location(monkeypatch, tmp_path):
    monkeypatch.setenv("TRACEMILL_CATALOG", str(tmp_path / "c"))
    assert CatalogConfig.resolve().root == (tmp_path / "c").resolve()
    monkeypatch.delenv("TRACEMILL_CATALOG")
    monkeypatch.chdir(tmp_path)
    assert CatalogConfig.resolve().root == (tmp_path / "tracemill-data").resolve()


def test_create_table_sql_matches_schema():
    sql = create_table_sql("samples")
    assert "prompt STRUCT(role VARCHAR, content VARCHAR)[]" in sql
    assert "sample_id VARCHAR NOT NULL" in sql


def test_second_writer_gets_a_clear_lock_error(catalog_dir):
    with open_catalog(catalog_dir):
        code = textwrap.dedent(
            f"""
            from tracemill.stores.catalog import open_catalog, CatalogLockedError
            try:
                with open_catalog({str(catalog_dir)!r}, lock_timeout_s=0.5):
                    print("opened")
            except CatalogLockedError as e:
                print("LOCKED", e)
            """
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
    assert "LOCKED" in out.stdout, out.stdout + out.stderr
    assert "one writer at a time" in out.stdout
    # the error names the holder: this process, its command, since when
    assert f"locked by pid {os.getpid()} on " in out.stdout
    assert "holding it since 20" in out.stdout
    assert CatalogLockedError.__mro__[1] is CatalogError


def sample_rows(n):
    return conform(
        "samples",
        [
            {"sample_id": f"s{i}", "problem_id": "p", "role": "teacher", "origin": "generate",
             "model": "m", "backend": "fake", "params": "{}", "sample_index": i,
             "prompt": [{"role": "user", "content": f"q{i}"}], "completion": f"c{i}"}
            for i in range(n)
        ],
    )  # fmt: skip


def test_large_appends_are_registered_parquet_files(catalog, catalog_dir):
    batch = sample_rows(2_500)
    result = catalog.append({"samples": batch})["samples"]
    assert (result.inserted, result.skipped) == (2_500, 0)
    back = catalog.read("samples", where="sample_index < 3")
    assert back.sort_by("sample_index").to_pylist() == batch.slice(0, 3).to_pylist()
    assert list((catalog_dir / "data" / "main" / "samples").glob("tracemill-*.parquet"))
    again = catalog.append({"samples": sample_rows(3_000)})["samples"]
    assert (again.inserted, again.skipped) == (500, 2_500)


def test_failed_large_append_leaves_no_rows_and_no_files(catalog, catalog_dir):
    bad_run = [{"run_id": "r", "flow": "f", "started_at": "not a time", "status": "x"}]
    with pytest.raises(Exception):  # noqa: B017
        catalog.append({"samples": sample_rows(2_000), "runs": bad_run})
    assert catalog.count("samples") == 0
    assert not list((catalog_dir / "data").rglob("tracemill-*.parquet"))


def _sample_batches(sizes):
    rows, start = [], 0
    for size in sizes:
        rows.append({"samples": sample_rows(start + size).slice(start)})
        start += size
    return rows


def _files(catalog_dir):
    return sorted((catalog_dir / "data").rglob("tracemill-*.parquet"))


def test_append_many_commits_each_batch_in_order(catalog, catalog_dir):
    batches = _sample_batches([1_200, 1_500, 10, 1_100])
    before = catalog.current_snapshot()
    results = list(catalog.append_many(batches, message="many", check_keys=False, workers=2))
    assert [r["samples"].inserted for r in results] == [1_200, 1_500, 10, 1_100]
    assert catalog.count("samples") == 3_810
    assert catalog.current_snapshot() == before + 4  # one snapshot per batch
    assert len(_files(catalog_dir)) == 3  # the 10-row batch was INSERTed
    # with key checks it is plain append: repeated keys are skipped
    again = list(catalog.append_many(_sample_batches([1_300]), check_keys=True))
    assert (again[0]["samples"].inserted, again[0]["samples"].skipped) == (0, 1_300)


def test_append_many_failure_keeps_earlier_batches_and_leaves_no_files(catalog, catalog_dir):
    batches = _sample_batches([1_200, 1_300, 1_400, 1_500])
    bad = sample_rows(1_000).to_pylist()
    bad[5]["sample_index"] = "five"  # does not conform: raises when it is prepared
    batches.insert(2, {"samples": bad})
    committed = []
    with pytest.raises(SchemaError):
        for result in catalog.append_many(batches, check_keys=False, workers=2):
            committed.append(result["samples"].inserted)
    # files for batches after the bad one may have been written ahead: all are gone
    assert committed == [1_200, 1_300] and catalog.count("samples") == 2_500
    assert len(_files(catalog_dir)) == 2


def test_append_many_stopped_early_deletes_files_written_ahead(catalog, catalog_dir):
    batches = _sample_batches([1_000] * 6)
    many = catalog.append_many(batches, check_keys=False, workers=3)
    next(many)
    many.close()  # the caller stops: batches written ahead never commit
    assert catalog.count("samples") == 1_000
    assert len(_files(catalog_dir)) == 1


def test_append_many_rolled_back_batch_leaves_no_rows_and_no_files(catalog, catalog_dir):
    bad_run = [{"run_id": "r", "flow": "f", "started_at": "not a time", "status": "x"}]
    batches = [*_sample_batches([1_100]), {"samples": sample_rows(2_300).slice(1_100),
                                           "runs": bad_run}]  # fmt: skip
    with pytest.raises(Exception):  # noqa: B017 - the engine's cast error
        list(catalog.append_many(batches, check_keys=False))
    assert catalog.count("samples") == 1_100 and catalog.count("runs") == 0
    assert len(_files(catalog_dir)) == 1


def test_new_rows_and_unchecked_append(catalog):
    catalog.append({"samples": sample_rows(10)})
    fresh = catalog.new_rows("samples", sample_rows(15))
    assert sorted(fresh.column("sample_index").to_pylist()) == list(range(10, 15))
    catalog.append({"samples": fresh}, check_keys=False)
    assert catalog.count("samples") == 15


def test_new_positions_first_of_each_missing_key(catalog):
    catalog.append({"samples": sample_rows(3)})  # s0, s1, s2 exist
    keys = pa.array(["s9", "s1", "s9", "s5", "s0", "s5", "s7"])
    assert catalog.new_positions("samples", keys).to_pylist() == [0, 3, 6]
    assert catalog.new_positions("samples", pa.array([], pa.string())).to_pylist() == []
    # every path: repeats or not, against an empty table or not
    assert catalog.new_positions("samples", pa.array(["s1", "s8", "s0", "s6"])).to_pylist() == [1, 3]
    assert catalog.new_positions("problems", pa.array(["b", "a", "c"])).to_pylist() == [0, 1, 2]
    assert catalog.new_positions("problems", pa.array(["b", "a", "b", "a", "c"])).to_pylist() == [
        0, 1, 4
    ]


def test_record_export_sets_the_target_of_one_dataset_version(catalog):
    row = {"name": "d", "kind": "sft", "query": "SELECT 1", "rows": 1}
    catalog.append({"datasets": [{**row, "version": 1}, {**row, "version": 2}]})
    before = catalog.current_snapshot()
    catalog.record_export("d", 2, "/exports/d")
    targets = {r["version"]: r["export_target"] for r in catalog.read("datasets").to_pylist()}
    assert targets == {1: None, 2: "/exports/d"}
    assert catalog.current_snapshot() == before + 1
    assert catalog.read("datasets", snapshot=before).column("export_target").null_count == 2
    with pytest.raises(CatalogError, match="no dataset 'd' version 3"):
        catalog.record_export("d", 3, "/x")


def test_all_distinct_fast_path_and_fallbacks():
    import hashlib

    from tracemill.stores.catalog import _all_distinct

    ids = [hashlib.md5(str(i).encode()).hexdigest() for i in range(500)]
    assert _all_distinct(pa.array(ids))
    assert not _all_distinct(pa.array([*ids, ids[7]]))
    # same first 16 digits, different ids: the prefix check defers to the exact count
    twins = ["0" * 16 + "a" * 16, "0" * 16 + "b" * 16]
    assert _all_distinct(pa.array(ids + twins))
    assert not _all_distinct(pa.array(ids + twins + twins[:1]))
    # slices and chunks (buffer offsets), upper-case or other strings, tiny inputs
    assert not _all_distinct(pa.array([ids[3], *ids]).slice(0, 10))
    assert _all_distinct(pa.array([ids[3], *ids]).slice(1))
    assert not _all_distinct(pa.chunked_array([ids[:10], ids[5:20]]))
    assert not _all_distinct(pa.array([i.upper() for i in ids] + [ids[0].upper()]))
    assert _all_distinct(pa.array(["a", "b", "c"])) and not _all_distinct(pa.array(["a", "a"]))
    assert _all_distinct(pa.array([ids[0]]))


def test_extension_signatures_are_checked_unless_trusted(monkeypatch, tmp_path):
    """Unsigned extensions stay refused by default; the opt-out is explicit."""
    import duckdb
    from tracemill.stores.catalog import TRUST_EXTENSIONS_ENV, _duckdb_config

    monkeypatch.delenv(TRUST_EXTENSIONS_ENV, raising=False)
    assert _duckdb_config(autoload=False)["allow_unsigned_extensions"] is False
    con = duckdb.connect(config=_duckdb_config(autoload=False))
    assert con.sql("select current_setting('allow_unsigned_extensions')").fetchone() == (False,)
    fake = tmp_path / "evil.duckdb_extension"
    fake.write_bytes(b"\0" * 1024)
    with pytest.raises(duckdb.Error):
        con.execute(f"LOAD '{fake}'")
    monkeypatch.setenv(TRUST_EXTENSIONS_ENV, "1")
    assert _duckdb_config(autoload=False)["allow_unsigned_extensions"] is True


def _old_spec(name, dropped):
    """Table ``name`` as tracemill wrote it before ``dropped`` columns were added."""
    from tracemill.catalogs import TABLES
    from tracemill.catalogs.schemas import TableSpec

    spec = TABLES[name]
    old = pa.schema([f for f in spec.schema if f.name not in dropped])
    return TableSpec(name, old, spec.key, spec.doc)


RUNS_ADDED = ("parent_run_id", "label", "config", "duration_s", "prompt_tokens",
              "completion_tokens", "cost_usd")  # fmt: skip


def test_catalog_written_by_older_code_gains_new_columns(catalog_dir, monkeypatch):
    """A catalog created before the runs/samples columns were added stays readable.

    The old tables are made from the schemas as they were (the new columns left out), with
    rows on both write paths (INSERT and registered Parquet files); a read-only open reads
    the new columns as null, and the first open for writing adds them in one commit.
    """
    from datetime import UTC, datetime

    from tracemill.catalogs import TABLES

    now = datetime(2026, 1, 1, tzinfo=UTC)
    new_runs, new_samples = TABLES["runs"], TABLES["samples"]
    with monkeypatch.context() as old:
        old.setitem(TABLES, "runs", _old_spec("runs", RUNS_ADDED))
        old.setitem(TABLES, "samples", _old_spec("samples", ("cost_usd",)))
        with open_catalog(catalog_dir) as store:
            store.append({"runs": [{"run_id": "r0", "flow": "ingest", "started_at": now,
                                    "status": "completed", "counts": "{}"}]})  # fmt: skip
            rows = [{"sample_id": f"s{i:04d}", "problem_id": "p", "role": "teacher",
                     "origin": "generate", "model": "m", "backend": "fake", "params": "{}",
                     "sample_index": i, "completion": "c", "run_id": "r0"}
                    for i in range(1200)]  # fmt: skip
            store.append({"samples": rows})  # >= 1000 rows: a registered Parquet file
            old_snapshot = store.current_snapshot()
            columns = set(store.sql("DESCRIBE runs").column(0).to_pylist())
            assert not columns & set(RUNS_ADDED)
    assert TABLES["runs"] is new_runs and TABLES["samples"] is new_samples

    with open_catalog(catalog_dir, read_only=True) as store:  # never migrates
        (run,) = store.read("runs").to_pylist()
        assert run["run_id"] == "r0" and run["cost_usd"] is None and run["config"] is None
        assert store.read("samples").column("cost_usd").null_count == 1200
        assert store.current_snapshot() == old_snapshot

    with open_catalog(catalog_dir) as store:
        message = store.snapshots().column("commit_message").to_pylist()[-1]
        assert "add columns" in message and "runs.cost_usd" in message
        assert "samples.cost_usd" in message
        store.append({
            "runs": [{"run_id": "r1", "flow": "distill", "started_at": now,
                      "status": "completed", "cost_usd": 0.25, "parent_run_id": "r0"}],
            "samples": [{**rows[0], "sample_id": "new", "cost_usd": 0.001}],
        })  # fmt: skip
        runs = store.read("runs").sort_by("run_id").to_pylist()
        assert [(r["run_id"], r["cost_usd"], r["parent_run_id"]) for r in runs] == [
            ("r0", None, None), ("r1", 0.25, "r0")]  # fmt: skip
        costs = store.sql("SELECT count(*) AS n, sum(cost_usd) AS c FROM samples").to_pylist()
        assert costs == [{"n": 1201, "c": 0.001}]
        # time travel to before the migration reads the old shape, new columns as null
        before = store.read("runs", snapshot=old_snapshot).to_pylist()
        assert [r["run_id"] for r in before] == ["r0"] and before[0]["label"] is None
        snapshots = store.current_snapshot()
    with open_catalog(catalog_dir) as store:  # migrated once: a later open changes nothing
        assert store.current_snapshot() == snapshots
