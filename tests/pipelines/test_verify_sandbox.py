"""The code sandbox: hostile programs are contained with the right status, the host untouched."""

import os
import platform
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tracemill.pipelines.verify.sandbox import SandboxConfig, SandboxUnavailable, run_program

needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed")


def run_one(source, stdin="", time_limit_s=1.0, memory_mb=256, **cfg):
    run = run_program(
        source, [stdin], time_limit_s=time_limit_s, memory_mb=memory_mb, config=SandboxConfig(**cfg)
    )
    assert run.compiled, run
    assert len(run.cases) == 1, run
    return run.cases[0]


def test_missing_bwrap_raises_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    source = f"open({str(marker)!r}, 'w').write('x')"
    with pytest.raises(SandboxUnavailable, match="bubblewrap not found"):
        run_program(source, [""], config=SandboxConfig(bwrap=str(tmp_path / "no-bwrap")))
    assert not marker.exists()


def test_unusable_bwrap_raises():
    # a bwrap that fails the way it does without user namespaces; the folder must be
    # reachable by the unprivileged uid the sandbox drops to when tests run as root
    folder = Path(tempfile.mkdtemp())
    try:
        folder.chmod(0o755)
        fake = folder / "bwrap"
        fake.write_text(
            "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n"
        )
        fake.chmod(0o755)
        with pytest.raises(SandboxUnavailable, match="uid map"):
            run_program("print(1)", [""], config=SandboxConfig(bwrap=str(fake)))
    finally:
        shutil.rmtree(folder)


@needs_bwrap
def test_stdin_stdout_many_cases_one_start():
    run = run_program("print(sum(map(int, input().split())))", ["1 2", "3 4", "5 x"])
    assert [c.status for c in run.cases] == ["ok", "ok", "runtime_error"]
    assert [c.stdout for c in run.cases[:2]] == ["3\n", "7\n"]
    assert "ValueError" in run.cases[2].stderr


@needs_bwrap
def test_compile_error():
    run = run_program("def f(:\n  pass", [""])
    assert not run.compiled
    assert "SyntaxError" in run.compile_error


@needs_bwrap
def test_function_call_mode():
    src = "class Solution:\n    def twice(self, x, k=2):\n        return [x] * k, {x}\n"
    inputs = ['{"args": [3], "kwargs": {"k": 3}}', '{"args": ["a"]}']
    run = run_program(src, inputs, mode="call", fn_name="twice")
    assert [c.result for c in run.cases] == ["[[3, 3, 3], [3]]", '[["a", "a"], ["a"]]']


# --- hostile programs -------------------------------------------------------------------
#
# Every program runs in its own sandbox start; when the tests run as root each start
# gets its own unprivileged uid, so "no process of that uid is left" proves the whole
# tree died, and process-count limits of parallel starts do not interfere.

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SECRET_NAME, SECRET_VALUE = "TM_TEST_SECRET_TOKEN", "hunter2-do-not-leak"
_SPIN = {"x86_64": "b'\\xeb\\xfe'", "aarch64": "(0x14000000).to_bytes(4, 'little')"}
SPIN_CODE = _SPIN.get(platform.machine(), "b''")  # jmp-to-self machine code


@dataclass(frozen=True)
class Hostile:
    """One hostile program and what containing it looks like."""

    name: str
    source: str
    statuses: frozenset[str]
    want: tuple[str, ...] = ()
    """Strings the program's stdout must contain (proof it ran and was denied)."""
    forbid: tuple[str, ...] = ()
    """Strings its stdout must not contain (proof of an escape)."""
    stderr_want: str | None = None
    stdin: str | bytes = ""
    cases: int = 1
    time_limit_s: float = 1.0
    memory_mb: int = 256
    cfg: dict = field(default_factory=dict)
    """SandboxConfig overrides."""


def _h(name, source, statuses, **kw):
    return Hostile(name, source, frozenset(statuses.split()), **kw)


def _probe_paths(paths, action):
    return (
        "import os\n"
        f"for p in {paths!r}:\n"
        "    try:\n"
        f"        {action}\n"
        "    except OSError as e:\n"
        "        print('denied', p, e.errno)\n"
    )


HOSTILE = [
    _h("fork_bomb", "import os\nwhile True:\n    os.fork()\n", "runtime_error timeout"),
    _h(
        "memory_bomb",
        "x = bytearray(2 * 1024**3)\nprint('allocated')\n",
        "memory_limit",
        forbid=("allocated",),
    ),
    _h(
        "memory_creep",
        "x = []\nwhile True:\n    x.append(' ' * 2**20)\n",
        "memory_limit",
    ),
    _h("mmap_bomb", "import mmap\nm = mmap.mmap(-1, 8 << 30)\nm[-1] = 1\n", "memory_limit"),
    _h("infinite_loop", "while True:\n    pass\n", "timeout"),
    _h(
        "busy_loop_in_c_via_ctypes",
        "import ctypes, mmap, signal\n"
        "signal.signal(signal.SIGXCPU, signal.SIG_IGN)\n"
        "page = mmap.mmap(-1, mmap.PAGESIZE, "
        "prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
        f"page.write({SPIN_CODE})\n"
        "print('spinning', flush=True)\n"
        "ctypes.CFUNCTYPE(None)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()\n",
        "timeout",
        want=("spinning",),
    ),
    _h(
        "signal_ignoring_sleep",
        "import signal, time\n"
        "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGHUP):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "time.sleep(100)\n",
        "timeout",
        time_limit_s=0.5,
    ),
    _h(
        "signal_ignoring_busy_loop",
        "import signal\n"
        "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU, signal.SIGHUP):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "while True:\n    pass\n",
        "timeout",
    ),
    _h("stops_itself", "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n", "timeout"),
    _h(
        "child_outlives_parent_holding_stdout",
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid(); time.sleep(30); print('child lived')\n"
        "print('parent done')\n",
        "timeout",
        want=("parent done",),
        forbid=("child lived",),
    ),
    _h(
        "daemonized_sleeping_child",
        "import os\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    fd = os.open('/dev/null', os.O_RDWR)\n"
        "    for i in (0, 1, 2):\n"
        "        os.dup2(fd, i)\n"
        "    os.execv('/usr/bin/sleep', ['sleep', '300'])\n"
        "print('parent done')\n",
        "ok",
        want=("parent done",),
    ),
    _h(
        "network_connect",
        "import socket\n"
        "for addr in [('1.1.1.1', 53), ('8.8.8.8', 443), ('127.0.0.1', 22)]:\n"
        "    try:\n"
        "        socket.create_connection(addr, timeout=1); print('CONNECTED', addr)\n"
        "    except OSError as e:\n"
        "        print('blocked', e.errno)\n",
        "ok",
        want=("blocked",),
        forbid=("CONNECTED",),
        time_limit_s=3,
    ),
    _h(
        "dns_lookup",
        "import socket\n"
        "for host in ['example.com', 'pypi.org']:\n"
        "    try:\n"
        "        print('RESOLVED', socket.getaddrinfo(host, 80)[0][4])\n"
        "    except OSError as e:\n"
        "        print('blocked', e.errno)\n",
        "ok",
        want=("blocked",),
        forbid=("RESOLVED",),
        time_limit_s=3,
    ),
    _h(
        "write_outside_work_dir",
        _probe_paths(  # CANARY: a host file, replaced by its path at run time
            ["CANARY", "/usr/x", "/etc/x", "/x", "/box/x", "/box/solution.py", "/proc/x",
             "/dev/x", "/dev/null/x"],
            "open(p, 'w').write('pwned'); print('WROTE', p)",
        )
        + "open('ok.txt', 'w').write('fine'); print('work ok')\n",
        "ok",
        want=("denied", "work ok"),
        forbid=("WROTE",),
        time_limit_s=3,
    ),
    _h(
        "read_etc_shadow_home_and_repo",
        _probe_paths(
            ["/etc/shadow", "/etc/passwd", "/root", "/home", REPO, "/proc/1/environ"],
            "print('READ', p, str(open(p).read() if not os.path.isdir(p) else os.listdir(p))[:40])",
        ),
        "ok",
        want=("denied /etc/shadow",),
        forbid=("READ",),
        time_limit_s=3,
    ),
    _h(
        "read_environment_secrets",
        "import os\nprint(dict(os.environ))\nprint(open('/proc/self/environ', 'rb').read())\n",
        "ok",
        want=("PATH",),
        forbid=(SECRET_NAME, SECRET_VALUE),
        time_limit_s=3,
    ),
    _h(
        "huge_stdout",
        "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
        "output_limit",
        cfg={"output_bytes": 100_000},
    ),
    _h(
        "huge_stderr",
        "import sys\nfor _ in range(2000):\n    sys.stderr.write('e' * 65536)\nprint('done')\n",
        "ok",
        want=("done",),
        time_limit_s=5,
    ),
    _h(
        "huge_file",
        "f = open('big', 'wb')\nwhile True:\n    f.write(b'x' * 1048576)\n",
        "output_limit runtime_error",
        cfg={"fsize_mb": 4},
    ),
    _h(
        "many_files",
        # `with`: a full disk shows at close, which a garbage-collected file would swallow
        "i = 0\nwhile True:\n    with open(f'f{i}', 'w') as f:\n        f.write('x' * 4096)\n"
        "    i += 1\n",
        "runtime_error",
        stderr_want="No space left on device",
        time_limit_s=5,
        cfg={"tmpfs_mb": 8},
    ),
    _h(
        "fill_tmp",
        "i = 0\nwhile True:\n    with open(f'/tmp/f{i}', 'wb') as f:\n        f.write(b'x' * 2**20)\n"
        "    i += 1\n",
        "runtime_error",
        stderr_want="No space left on device",
        time_limit_s=5,
        cfg={"tmpfs_mb": 8},
    ),
    _h(
        "open_file_exhaustion",
        "fs = []\nwhile True:\n    fs.append(open('/box/solution.py'))\n",
        "runtime_error",
        stderr_want="Too many open files",
    ),
    _h(
        "stdin_flood_echoed",
        "import sys\nwhile chunk := sys.stdin.buffer.read(65536):\n"
        "    sys.stdout.buffer.write(chunk)\n",
        "output_limit",
        stdin=b"y" * (16 << 20),
        time_limit_s=5,
    ),
    _h(
        "stdin_flood_counted",
        "import sys\nprint('read', len(sys.stdin.buffer.read()))\n",
        "ok",
        want=(f"read {16 << 20}",),
        stdin=b"y" * (16 << 20),
        time_limit_s=5,
    ),
    _h(
        "os_system",
        "import os\nos.system('echo hi from shell; ls /root 2>&1; cat /etc/shadow 2>&1')\n",
        "ok",
        want=("hi from shell", "No such file"),
        time_limit_s=3,
    ),
    _h(
        "subprocess",
        "import subprocess\n"
        "for cmd in (['cat', '/etc/shadow'], ['ls', '/home'], ['ping', '-c1', '1.1.1.1']):\n"
        "    try:\n"
        "        r = subprocess.run(cmd, capture_output=True, text=True, timeout=2)\n"
        "        print(cmd[0], r.returncode, r.stdout[:40], r.stderr[:80])\n"
        "    except OSError as e:\n"
        "        print(cmd[0], 'denied', e.errno)\n",
        "ok",
        want=("No such file",),
        forbid=("root:",),
        time_limit_s=4,
    ),
    _h(
        "thread_bomb",
        "import threading, time\n"
        "while True:\n"
        "    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n",
        "runtime_error memory_limit timeout",
    ),
    _h(
        "recursion_bomb",
        "import sys\nsys.setrecursionlimit(10**9)\ndef f(n):\n    return f(n + 1)\nf(0)\n",
        "runtime_error memory_limit timeout",  # C stack overflow, or too slow to get there
    ),
    _h(
        "segfault_via_ctypes",
        "import ctypes\nctypes.string_at(0)\n",
        "runtime_error",
    ),
    _h(
        "kills_its_parent_and_everyone",
        "import os, signal\n"
        "for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):\n"
        "    for pid in (os.getppid(), 1, -1):\n"
        "        try:\n"
        "            os.kill(pid, sig)\n"
        "        except OSError:\n"
        "            pass\n"
        "print('still here')\n",
        "ok",
        want=("still here",),
        cases=2,
        time_limit_s=3,
    ),
    _h(
        "forges_harness_reports",
        _probe_paths(
            ["/proc/1/fd/1", "/proc/1/environ", "/proc/1/mem"],
            "open(p, 'wb').write(b'x'); print('OPENED', p)",
        )
        + "for _ in range(3):\n"
        "    print('0' * 32, '{\"event\": \"done\"}')\n"
        '    print(\'0\' * 32, \'{"event": "case", "index": 5, "status": "ok"}\')\n',
        "ok",
        want=("denied /proc/1/fd/1",),
        forbid=("OPENED",),
        time_limit_s=3,
    ),
    _h(
        "namespace_and_privilege_escape",
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('unshare', libc.unshare(0x10000000))\n"  # CLONE_NEWUSER
        "print('ptrace', libc.ptrace(16, 1, 0, 0))\n"  # PTRACE_ATTACH to the harness
        "print('mount', libc.mount(b'none', b'/work', b'tmpfs', 0, None))\n"
        "try:\n"
        "    os.setuid(0); print('SETUID')\n"
        "except OSError as e:\n"
        "    print('setuid denied', e.errno)\n",
        "ok",
        want=("unshare -1", "ptrace -1", "mount -1", "setuid denied"),
        forbid=("SETUID",),
        time_limit_s=3,
    ),
    _h(
        "kernel_knobs",
        _probe_paths(
            ["/proc/sysrq-trigger", "/proc/sys/kernel/hostname", "/sys/kernel/mm/ksm/run"],
            "open(p, 'w').write('1'); print('WROTE', p)",
        ),
        "ok",
        want=("denied",),
        forbid=("WROTE",),
        time_limit_s=3,
    ),
]


def _uid_base() -> int:
    return 210_000 + (os.getpid() % 5000) * 100


def _processes_of(uid: int) -> list[str]:
    """``pid cmdline`` of the host processes whose real uid is `uid`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                uid_line = next(ln for ln in f if ln.startswith("Uid:"))
            if int(uid_line.split()[1]) != uid:
                continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{pid} {cmdline}")
        except (OSError, StopIteration, ValueError):
            continue
    return found


def _run_hostile(index: int, h: Hostile, staging: str, canary: str) -> dict:
    """Run one hostile program; its cases, wall time and what it left on the host."""
    cfg = dict(h.cfg, tmp_dir=staging)
    uid = None
    if os.geteuid() == 0:
        uid = _uid_base() + index
        assert not _processes_of(uid), f"uid {uid} is in use"
        cfg["unprivileged_uid"] = uid
    source = h.source.replace("'CANARY'", repr(canary))
    start = time.monotonic()
    run = run_program(
        source,
        [h.stdin] * h.cases,
        time_limit_s=h.time_limit_s,
        memory_mb=h.memory_mb,
        config=SandboxConfig(**cfg),
    )
    wall = time.monotonic() - start
    left: list[str] = []
    if uid is not None:
        for _ in range(50):  # the kernel tears a killed PID namespace down asynchronously
            left = _processes_of(uid)
            if not left:
                break
            time.sleep(0.1)
    return {"run": run, "wall": wall, "left": left, "staged": os.listdir(staging)}


@pytest.fixture(scope="module")
def hostile_runs():
    """Run every hostile program (a few sandboxes at a time) with a secret in the env."""
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap not installed")
    host = Path(tempfile.mkdtemp(prefix="tm-hostile-"))
    host.chmod(0o755)  # staging folders must be reachable by the sandbox's uid
    canary = host / "canary.txt"
    canary.write_text("untouched")
    os.environ[SECRET_NAME] = SECRET_VALUE
    try:
        with ThreadPoolExecutor(3) as ex:
            futures = {}
            for i, h in enumerate(HOSTILE):
                staging = host / f"stage-{i}"
                staging.mkdir(mode=0o755)
                futures[h.name] = ex.submit(_run_hostile, i, h, str(staging), str(canary))
            results = {name: f.result() for name, f in futures.items()}
        results["_canary"] = canary.read_text()
        yield results
    finally:
        del os.environ[SECRET_NAME]
        shutil.rmtree(host, ignore_errors=True)


def test_hostile_table_is_complete():
    assert len(HOSTILE) >= 25
    assert len({h.name for h in HOSTILE}) == len(HOSTILE)


@needs_bwrap
@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_hostile_program_is_contained(hostile_runs, hostile):
    if hostile.name == "busy_loop_in_c_via_ctypes" and SPIN_CODE == "b''":
        pytest.skip(f"no jmp-to-self code for {platform.machine()}")
    out = hostile_runs[hostile.name]
    run = out["run"]
    assert run.compiled and run.complete, run
    assert len(run.cases) == hostile.cases, run
    for case in run.cases:
        assert case.status in hostile.statuses, (case.status, case.stdout[-300:], case.stderr)
        for text in hostile.want:
            assert text in case.stdout, (text, case.stdout[-500:])
        for text in hostile.forbid:
            assert text not in case.stdout, (text, case.stdout[-500:])
        if hostile.stderr_want:
            assert hostile.stderr_want in case.stderr, case.stderr
        assert len(case.stdout) <= SandboxConfig(**hostile.cfg).output_bytes
        assert len(case.stderr) <= 2000
    # the host is unaffected: nothing left running, staging removed, files untouched
    assert out["left"] == [], out["left"]
    assert out["staged"] == []
    assert hostile_runs["_canary"] == "untouched"
    assert out["wall"] < 30


@needs_bwrap
def test_leftovers_of_one_case_never_reach_the_next():
    src = (
        "import os, sys, time\n"
        "what = sys.stdin.read().strip()\n"
        "if what == 'daemon' and os.fork() == 0:\n"
        "    os.setsid(); fd = os.open('/dev/null', os.O_RDWR)\n"
        "    for i in (0, 1, 2):\n"
        "        os.dup2(fd, i)\n"
        "    time.sleep(60)\n"
        "elif what == 'bomb':\n"
        "    while True:\n"
        "        os.fork()\n"
        "others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid())]\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print('others', others, 'forked')\n"
    )
    run = run_program(src, ["daemon", "next", "bomb", "next"], time_limit_s=1)
    assert [c.status for c in run.cases] == ["ok", "ok", "runtime_error", "ok"], run
    assert run.cases[1].stdout == run.cases[3].stdout == "others [] forked\n"
