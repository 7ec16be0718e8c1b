"""The catalog store on a PostgreSQL catalog: a throwaway local server, unix socket only."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from tracemill.catalogs import conform, problem_id
from tracemill.stores.catalog import CatalogError, CatalogLockedError, extension_path, open_catalog

pytestmark = pytest.mark.postgres

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REPO = Path(__file__).resolve().parents[2]
_db_numbers = itertools.count()


def _runner() -> list[str]:
    """The command prefix that runs PostgreSQL tools as a user initdb accepts."""
    if os.geteuid() != 0:
        return []  # any ordinary user may own a throwaway cluster
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' user to run initdb as")
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip("running as root and runuser is missing (initdb refuses root)")
    return [runuser, "-u", "postgres", "--"]


def _run(cmd: list[str], cwd: Path, timeout: float = 60) -> None:
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}): {out.stdout}{out.stderr}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Callable[[], str]]:
    """A PostgreSQL 15 cluster in a temp dir; yields a factory of fresh database DSNs."""
    for tool in ("initdb", "pg_ctl", "postgres", "createdb"):
        if not (PG_BIN / tool).exists():
            pytest.skip(f"PostgreSQL 15 binaries not found ({PG_BIN / tool})")
    if importlib.util.find_spec("duckdb_extension_postgres_scanner") is None:
        pytest.skip("duckdb-extension-postgres-scanner is not installed")
    prefix = _runner()
    user = "postgres" if prefix else pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="tm-pg-"))  # short: unix socket paths are limited
    data = root / "data"
    started = False
    try:
        if prefix:
            shutil.chown(root, user="postgres")
        _run(prefix + [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", user,
                       "-E", "UTF8", "--no-sync", "--no-instructions"], root)  # fmt: skip
        options = f"-k {root} -c listen_addresses='' -c fsync=off -c max_connections=40"
        started = True  # from here on a half-started server must be stopped too
        _run(prefix + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"),
                       "-o", options, "-w", "-t", "30", "start"], root)  # fmt: skip

        def new_database() -> str:
            name = f"tracemill_{next(_db_numbers)}"
            _run(prefix + [str(PG_BIN / "createdb"), "-h", str(root), "-U", user, name], root)
            return f"dbname={name} host={root} user={user}"

        yield new_database
    finally:
        if started:
            _stop(prefix, data, root)
        shutil.rmtree(root, ignore_errors=True)


def _stop(prefix: list[str], data: Path, root: Path) -> None:
    """Stop the cluster; kill the postmaster if pg_ctl cannot."""
    try:
        _run(prefix + [str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                       "-t", "20", "stop"], root, timeout=30)  # fmt: skip
        return
    except (RuntimeError, subprocess.TimeoutExpired):
        pass
    pid_file = data / "postmaster.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text().split()[0])
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def pg_catalog(
    pg_server: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A fresh PostgreSQL catalog URI, with a local data directory in TRACEMILL_DATA_PATH."""
    monkeypatch.setenv("TRACEMILL_DATA_PATH", str(tmp_path / "lake"))
    return "postgres:" + pg_server()


def problems(questions: list[str], source: str = "s") -> pa.Table:
    return conform(
        "problems",
        [
            {"problem_id": problem_id("math", q), "source": source, "domain": "math",
             "question": q}
            for q in questions
        ],
    )  # fmt: skip


def test_append_idempotence_snapshots_and_time_travel(pg_catalog: str, tmp_path: Path) -> None:
    with open_catalog(pg_catalog) as cat:
        assert not cat.config.embedded
        first = cat.append({"problems": problems(["a", "b", "c"])}, message="one")["problems"]
        assert (first.inserted, first.skipped) == (3, 0)
        s1 = cat.current_snapshot()
        again = cat.append({"problems": problems(["a", "b", "c", "d"])}, message="two")
        assert (again["problems"].inserted, again["problems"].skipped) == (1, 3)
        s2 = cat.current_snapshot()
        assert s2 > s1
        assert cat.count("problems", snapshot=s1) == 3
        assert cat.count("problems") == 4
        cat.append({"problems": problems(["a"])})  # nothing new: no snapshot
        assert cat.current_snapshot() == s2
        messages = [s["commit_message"] or "" for s in cat.snapshots().to_pylist()]
        assert any(m.startswith("one") for m in messages)
        assert any(m.startswith("two") for m in messages)
        # a large append registers a pyarrow-written Parquet file (ducklake_add_data_files)
        big = problems([f"q{i}" for i in range(2_500)])
        assert cat.append({"problems": big})["problems"].inserted == 2_500
        assert list((tmp_path / "lake" / "main" / "problems").glob("tracemill-*.parquet"))
        more = cat.append({"problems": problems([f"q{i}" for i in range(3_000)])})
        assert (more["problems"].inserted, more["problems"].skipped) == (500, 2_500)
    # another connection (a read-only one, as readers on other machines) sees it all
    with open_catalog(pg_catalog, read_only=True) as reader:
        assert reader.count("problems") == 4 + 3_000
        assert reader.count("problems", snapshot=s1) == 3
        assert reader.read("problems", where="question = 'q7'").num_rows == 1


WRITER = textwrap.dedent(
    """
    import json, logging, sys, time
    from pathlib import Path
    from tracemill.catalogs import conform, problem_id
    from tracemill.stores.catalog import open_catalog

    uri, go, phases = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
    retries = []
    class Count(logging.Handler):
        def emit(self, record):
            retries.append(record.getMessage())
    logging.getLogger("tracemill.stores.catalog").addHandler(Count(logging.WARNING))
    deadline = time.monotonic() + 30
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    began, report = time.time(), []
    with open_catalog(uri) as cat:  # on a new catalog, both processes create it at once
        for lo, hi, step in phases:
            inserted = skipped = 0
            for start in range(lo, hi, step):
                rows = [{"problem_id": problem_id("math", f"q{i}"), "source": "w",
                         "domain": "math", "question": f"q{i}"}
                        for i in range(start, min(start + step, hi))]
                r = cat.append({"problems": conform("problems", rows)})["problems"]
                inserted, skipped = inserted + r.inserted, skipped + r.skipped
            report.append([inserted, skipped])
    print(json.dumps({"phases": report, "retries": retries, "window": [began, time.time()]}))
    """
)


def _writers(uri: str, tmp_path: Path, plans: list[list[tuple[int, int, int]]]) -> list[dict]:
    """One writer process per plan (phases of lo, hi, step), started together; their reports."""
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, uri, str(go), json.dumps(plan)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for plan in plans
    ]
    reports = []
    try:
        time.sleep(1.0)  # both import and wait at the start line
        go.touch()
        for proc in procs:
            out, err = proc.communicate(timeout=90)
            assert proc.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return reports


def test_two_processes_append_concurrently(pg_catalog: str, tmp_path: Path) -> None:
    # phase 1 overlaps on q300..q1499: many small INSERTed batches against one 1200-row
    # batch written as a registered Parquet file; phase 2 is disjoint
    a, b = _writers(
        pg_catalog,
        tmp_path,
        [[(0, 1_500, 250), (2_000, 2_400, 50)], [(300, 1_500, 1_200), (3_000, 3_400, 50)]],
    )
    assert a["window"][0] < b["window"][1] and b["window"][0] < a["window"][1]  # concurrent
    (a_ins, a_skip), (a2_ins, _) = a["phases"]
    (b_ins, b_skip), (b2_ins, _) = b["phases"]
    assert (a_ins + a_skip, b_ins + b_skip) == (1_500, 1_200)
    assert a_ins + b_ins == 1_500  # every overlapping key was inserted exactly once
    assert (a2_ins, b2_ins) == (400, 400)
    with open_catalog(pg_catalog, read_only=True) as cat:
        row = cat.sql("SELECT count(*) AS n, count(DISTINCT problem_id) AS k FROM problems")
        assert row.to_pylist() == [{"n": 2_300, "k": 2_300}]
        messages = [s["commit_message"] or "" for s in cat.snapshots().to_pylist()]
        assert sum(m.startswith("create tables") for m in messages) == 1


def test_a_conflicting_commit_is_retried_without_duplicates(
    pg_catalog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_catalog(pg_catalog) as a, open_catalog(pg_catalog) as b:
        write = a._write
        calls: list[int] = []

        def write_then_interfere(name: str, rows: pa.Table, written: list[Path]) -> None:
            write(name, rows, written)
            calls.append(rows.num_rows)
            if len(calls) == 1:
                # meanwhile another writer (bypassing the writer lock) commits key "x" and
                # alters the table, so a's commit is a DuckLake logical conflict
                b.con.register("p", problems(["x"]))
                b.con.execute("BEGIN")
                b.con.execute("INSERT INTO problems SELECT * FROM p")
                b.con.execute("COMMENT ON TABLE problems IS 'touched'")
                b.con.execute("COMMIT")

        monkeypatch.setattr(a, "_write", write_then_interfere)
        result = a.append({"problems": problems(["x", "y"])})["problems"]
        assert calls == [2, 1]  # the retry re-checked keys: only "y" was new
        assert (result.inserted, result.skipped) == (1, 1)
        assert a.count("problems") == 2


def test_a_writer_waits_for_the_writer_lock_then_gives_up(pg_catalog: str) -> None:
    with open_catalog(pg_catalog) as a, open_catalog(pg_catalog, lock_timeout_s=0.3) as b:
        with a._writer_lock():
            began = time.monotonic()
            with pytest.raises(CatalogLockedError, match="writer lock") as err:
                b.append({"problems": problems(["x"])})
            assert 0.25 < time.monotonic() - began < 5
            # the error names the holder: its backend, the tracemill process, since when
            assert f"tracemill pid {os.getpid()}" in str(err.value), str(err.value)
            assert "backend pid" in str(err.value) and "since 20" in str(err.value)
        assert b.append({"problems": problems(["x"])})["problems"].inserted == 1


def test_object_storage_data_path_loads_httpfs(
    pg_server: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACEMILL_DATA_PATH", "s3://tracemill-test-bucket/lake/")
    with open_catalog("postgres:" + pg_server()) as cat:  # tables are metadata: no S3 access
        loaded = cat.sql(
            "SELECT extension_name FROM duckdb_extensions() WHERE loaded ORDER BY 1"
        ).column(0).to_pylist()  # fmt: skip
        assert {"ducklake", "httpfs", "postgres_scanner"} <= set(loaded)
        assert cat.count("problems") == 0


def test_bad_uri_is_a_clear_error(pg_server: Callable[[], str], tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("TRACEMILL_DATA_PATH", str(tmp_path / "lake"))
    dsn = dict(part.split("=", 1) for part in pg_server().split())
    with pytest.raises(CatalogError, match="cannot open catalog postgres:.*no_such_db"):
        with open_catalog(f"postgres:dbname=no_such_db host={dsn['host']} user={dsn['user']}"):
            pass
    with pytest.raises(CatalogError, match="cannot open catalog"):
        with open_catalog(f"postgres:dbname=x host={tmp_path / 'no-server'}"):
            pass


def test_missing_extension_package_is_a_clear_error() -> None:
    with pytest.raises(CatalogError, match="pip install duckdb-extension-nothing=="):
        extension_path("duckdb-extension-nothing", "nothing")
    assert extension_path("duckdb-extension-postgres-scanner", "postgres_scanner").endswith(
        "postgres_scanner.duckdb_extension"
    )
