"""Sandbox limits per run (memory of all processes together, /dev/shm), what a case can
see, and the clean-up of what killed verifying processes leave behind."""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from tracemill.pipelines.verify import cgroups
from tracemill.pipelines.verify._harness import Unserialisable, plain
from tracemill.pipelines.verify.sandbox import (
    STAGING_PREFIX,
    SandboxConfig,
    SandboxUnavailable,
    memory_site,
    remove_stale_staging,
    run_program,
)

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")
HAS_CGROUP = cgroups.find_site() is not None
MODES = ["watchdog", "auto"]
"""``auto`` is the cgroup where one is writable (this machine when root), else the watchdog."""

CHILD_MB = 48
FORKED_MEMORY = textwrap.dedent(
    f"""
    import os, sys, time
    kids = []
    for i in range(64):
        try:
            pid = os.fork()
        except OSError:
            break  # the process-count cap
        if pid == 0:
            try:
                block = b"x" * ({CHILD_MB} * 2**20)  # written, so resident
                print("allocated", flush=True)
                time.sleep(2)  # and held
            finally:
                os._exit(0)
        kids.append(pid)
    for pid in kids:
        os.waitpid(pid, 0)
    print("forked", len(kids))
    """
)


@needs_bwrap
@pytest.mark.parametrize("mode", MODES)
def test_forked_memory_is_capped_per_run(mode):
    # 64 processes of 48 MB each: 3 GB if the cap were per process; the run gets 352 MB
    cfg = SandboxConfig(memory_cap=mode, run_overhead_mb=96)
    start = time.monotonic()
    run = run_program(FORKED_MEMORY, [""], time_limit_s=3, memory_mb=256, config=cfg)
    (case,) = run.cases
    held = case.stdout.count("allocated")
    # the watchdog checks every 20 ms or so: allow a few children allocating meanwhile
    # (without a cap, about 60 of them would hold their memory)
    assert held * CHILD_MB <= 256 + 96 + 4 * CHILD_MB, (held, case)
    assert case.status in ("memory_limit", "ok"), case
    if mode == "watchdog" or HAS_CGROUP:
        assert case.status == "memory_limit", case
    assert time.monotonic() - start < 10


@needs_bwrap
def test_memory_within_the_cap_across_processes_is_fine():
    src = textwrap.dedent(
        """
        import os
        kids = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                block = bytearray(40 * 2**20)
                for j in range(0, len(block), 4096):
                    block[j] = 1
                os._exit(0)
            kids.append(pid)
        print(sum(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in kids))
        """
    )
    for mode in MODES:
        run = run_program(src, [""], memory_mb=256, config=SandboxConfig(memory_cap=mode))
        assert [(c.status, c.stdout) for c in run.cases] == [("ok", "0\n")], (mode, run)


@needs_bwrap
def test_dev_shm_is_small_and_private():
    host_before = shutil.disk_usage("/dev/shm").used if os.path.isdir("/dev/shm") else 0
    src = textwrap.dedent(
        """
        import os
        written = 0
        try:
            for i in range(4096):  # 1 MB files: each stays under the file-size limit
                with open(f"/dev/shm/fill{i}", "wb") as f:
                    f.write(b"x" * 2**20)
                written += 1
        except OSError as e:
            print("stopped", e.errno)
        print("written", written)
        from multiprocessing import shared_memory
        try:
            block = shared_memory.SharedMemory(create=True, size=64 * 2**20)
            block.buf[:] = b"y" * (64 * 2**20)
            print("SHARED 64 MB")
        except OSError as e:
            print("shared memory refused", e.errno)
        """
    )
    run = run_program(src, ["", ""], time_limit_s=3, config=SandboxConfig(shm_mb=8))
    for case in run.cases:  # the second case starts with an empty /dev/shm again
        assert "stopped 28" in case.stdout, case  # ENOSPC
        written = int(case.stdout.split("written ")[1].split()[0])
        assert 4 <= written <= 8, case
        assert "SHARED 64 MB" not in case.stdout, case
    if os.path.isdir("/dev/shm"):
        assert shutil.disk_usage("/dev/shm").used - host_before < 8 * 2**20


@needs_bwrap
def test_cases_see_only_their_own_input_and_a_clean_slate():
    src = textwrap.dedent(
        """
        import os, sys
        mine = sys.stdin.read().strip()
        try:
            listed = os.listdir("/box/in")
        except OSError as e:
            listed = f"denied {e.errno}"
        leftovers = sorted(os.listdir("/tmp") + os.listdir("/dev/shm") + os.listdir("/work"))
        for folder in ("/tmp", "/dev/shm", "."):
            open(os.path.join(folder, "state-" + mine), "w").write(mine)
        os.makedirs("/tmp/locked/deep", exist_ok=True)
        os.chmod("/tmp/locked", 0o500)
        print(mine, listed, leftovers)
        """
    )
    run = run_program(src, ["first", "second"])
    assert [c.stdout for c in run.cases] == [
        "first denied 13 ['case0']\n",
        "second denied 13 ['case1']\n",
    ], run


def test_plain_serialises_values_with_builtin_methods_only():
    class Liar(int):
        def __eq__(self, other):
            return True

        def __hash__(self):
            return 0

        def __repr__(self):
            return "999"

        __str__ = __repr__

        def __int__(self):
            return 999

    class LyingList(list):
        def __iter__(self):
            return iter([999])

    class LyingDict(dict):
        def items(self):
            return [("x", 999)]

    assert plain(Liar(3)) == 3 and type(plain(Liar(3))) is int
    assert plain(LyingList([1, 2])) == [1, 2]
    assert plain(LyingDict(a=1)) == {"a": 1}
    assert plain((1, {2, 1}, frozenset({"b", "a"}))) == [1, [1, 2], ["a", "b"]]
    assert plain({1: None, "k": 2.5}) == {"1": None, "k": 2.5}
    for bad in (object(), iter([1]), b"bytes", [[[[object()]]]]):
        with pytest.raises(Unserialisable):
            plain(bad)
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(Unserialisable, match="deeper"):
        plain(deep)


@needs_bwrap
def test_call_results_are_reported_plain_and_errors_separately():
    src = textwrap.dedent(
        """
        class Liar(int):
            def __eq__(self, other): return True
            def __repr__(self): return "999"
        def f(kind):
            if kind == "liar":
                return Liar(7)
            if kind == "object":
                return object()
            if kind == "exit":
                raise SystemExit(0)
            return (1, 2)
        """
    )
    inputs = [json.dumps({"args": [k]}) for k in ("liar", "object", "exit", "tuple")]
    run = run_program(src, inputs, mode="call", fn_name="f")
    got = [(c.status, c.result, c.result_error) for c in run.cases]
    assert got == [
        ("ok", "7", None),
        ("ok", None, "unserialisable return value: object"),
        ("runtime_error", None, "no well-formed result was written"),
        ("ok", "[1, 2]", None),
    ], got


def test_memory_cap_cgroup_mode_refuses_without_a_cgroup(monkeypatch, tmp_path):
    monkeypatch.setenv(cgroups.CGROUP_ENV, str(tmp_path))  # not a cgroup directory
    cfg = SandboxConfig(memory_cap="cgroup", cgroup_parent=str(tmp_path))
    with pytest.raises(SandboxUnavailable, match="no writable cgroup"):
        memory_site(cfg)
    assert memory_site(SandboxConfig(memory_cap="watchdog")) is None


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_remove_stale_staging(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    stale = tmp_path / f"{STAGING_PREFIX}{dead}-abc"
    live = tmp_path / f"{STAGING_PREFIX}{alive}-def"
    old = tmp_path / f"{STAGING_PREFIX}{alive}-old"
    other = tmp_path / "unrelated"
    for folder in (stale, live, old, other):
        (folder / "in").mkdir(parents=True)
        (folder / "in" / "secret-name").write_text("x")
        (folder / "in").chmod(0o111)
    hour_ago = time.time() - 7200
    os.utime(old, (hour_ago, hour_ago))
    removed = remove_stale_staging(tmp_path)
    assert sorted(removed) == sorted([str(stale), str(old)])
    assert live.exists() and other.exists() and not stale.exists() and not old.exists()
    for folder in (live, other):
        (folder / "in").chmod(0o755)


KILLED_RUN = textwrap.dedent(
    """
    import sys
    from tracemill.pipelines.verify.sandbox import SandboxConfig, run_program
    print("starting", flush=True)
    run_program("import time\\nprint('up', flush=True)\\ntime.sleep(60)", [""], time_limit_s=30,
                config=SandboxConfig(tmp_dir=sys.argv[1]))
    """
)


@needs_bwrap
def test_sigkill_of_the_verifier_leaves_nothing_after_clean_up():
    staging = Path(tempfile.mkdtemp(prefix="tm-killed-"))
    staging.chmod(0o755)  # reachable by the sandbox's unprivileged uid
    site = cgroups.find_site()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLED_RUN, str(staging)], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline() == "starting\n"
        deadline = time.monotonic() + 20
        while not list(staging.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the sandbox is running the program
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        left = list(staging.iterdir())
        assert [p.name.split("-")[2] for p in left] == [str(proc.pid)], left
        groups = []
        if site is not None:
            groups = [
                p for p in site.memory.iterdir() if p.name.startswith(f"tm-sandbox-{proc.pid}-")
            ]
            assert len(groups) == 1, groups  # left behind by the killed process
        assert remove_stale_staging(staging) == [str(left[0])]
        assert list(staging.iterdir()) == []
        if site is not None:
            assert str(groups[0]) in cgroups.remove_stale_cgroups(site)
            assert not groups[0].exists()
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@needs_bwrap
@pytest.mark.skipif(not HAS_CGROUP, reason="no writable cgroup here")
def test_run_cgroups_are_removed_after_each_run():
    site = cgroups.find_site()
    assert site is not None
    mine = f"tm-sandbox-{os.getpid()}-"
    run = run_program("print(1)", ["", ""])
    assert [c.stdout for c in run.cases] == ["1\n", "1\n"]
    for parent in {site.memory, site.pids} - {None}:
        assert not [p for p in parent.iterdir() if p.name.startswith(mine)]


@needs_bwrap
def test_the_oom_killer_picks_the_program_not_the_harness():
    src = "import os\nos.fork() or print(open('/proc/self/oom_score_adj').read().strip())\n"
    run = run_program(src, [""])
    assert [c.stdout for c in run.cases] == ["1000\n"], run  # the harness keeps 0
