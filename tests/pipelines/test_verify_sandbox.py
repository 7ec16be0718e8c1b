"""The code sandbox: hostile programs are contained with the right status."""

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from pipelines.verify.sandbox import SandboxConfig, SandboxUnavailable, run_program

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
def test_network_is_unreachable():
    src = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 53), timeout=1); print('CONNECTED')\n"
        "except OSError as e: print('blocked', e)\n"
        "try:\n"
        "    socket.getaddrinfo('example.com', 80); print('RESOLVED')\n"
        "except OSError as e: print('blocked', e)\n"
    )
    case = run_one(src)
    assert "CONNECTED" not in case.stdout and "RESOLVED" not in case.stdout
    assert case.stdout.count("blocked") == 2


@needs_bwrap
def test_cannot_write_outside_work_dir():
    src = (
        "import os\n"
        "for p in ['/usr/x', '/etc/x', '/x', '/box/x', '/proc/x']:\n"
        "    try:\n"
        "        open(p, 'w').write('pwned'); print('WROTE', p)\n"
        "    except OSError:\n"
        "        print('denied', p)\n"
        "open('ok.txt', 'w').write('fine'); print('work ok')\n"
    )
    case = run_one(src)
    assert "WROTE" not in case.stdout
    assert "work ok" in case.stdout


@needs_bwrap
def test_cannot_read_secrets_or_the_repo():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    src = (
        "import os\n"
        f"for p in ['/etc/shadow', '/etc/passwd', '/root', '/home', {repo!r}, '/proc/1/environ']:\n"
        "    try:\n"
        "        data = open(p).read() if not os.path.isdir(p) else os.listdir(p)\n"
        "        print('READ', p, str(data)[:40])\n"
        "    except OSError:\n"
        "        print('denied', p)\n"
        "print(sorted(os.environ))\n"
    )
    os.environ["TM_TEST_SECRET"] = "hunter2"
    try:
        case = run_one(src)
    finally:
        del os.environ["TM_TEST_SECRET"]
    assert "READ" not in case.stdout, case.stdout
    assert "TM_TEST_SECRET" not in case.stdout and "hunter2" not in case.stdout


@needs_bwrap
def test_infinite_loop_times_out():
    start = time.monotonic()
    case = run_one("while True:\n    pass", time_limit_s=1)
    assert case.status == "timeout"
    assert time.monotonic() - start < 10


@needs_bwrap
def test_sleep_and_signal_ignoring_loop_time_out():
    src = (
        "import signal, time\n"
        "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGXCPU):\n"
        "    signal.signal(s, signal.SIG_IGN)\n"
        "time.sleep(100)\n"
    )
    case = run_one(src, time_limit_s=0.5)
    assert case.status == "timeout"


@needs_bwrap
def test_fork_bomb_is_contained():
    src = "import os\nwhile True:\n    os.fork()\n"
    start = time.monotonic()
    case = run_one(src, time_limit_s=1)
    assert case.status in {"runtime_error", "timeout"}
    assert time.monotonic() - start < 15


@needs_bwrap
def test_memory_hog_hits_memory_limit():
    case = run_one("x = bytearray(2 * 1024**3)\nprint('allocated')", memory_mb=256)
    assert case.status == "memory_limit"
    assert "allocated" not in case.stdout


@needs_bwrap
def test_huge_output_is_capped():
    case = run_one(
        "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", output_bytes=100_000
    )
    assert case.status == "output_limit"
    assert len(case.stdout) <= 100_000


@needs_bwrap
def test_huge_file_hits_file_size_limit():
    src = "f = open('big', 'wb')\nwhile True:\n    f.write(b'x' * 1048576)\n"
    case = run_one(src, fsize_mb=4)
    assert case.status in {"output_limit", "runtime_error"}


@needs_bwrap
def test_killing_the_parent_does_not_stop_the_harness():
    src = (
        "import os, signal\n"
        "for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):\n"
        "    for pid in (os.getppid(), 1, -1):\n"
        "        try:\n"
        "            os.kill(pid, sig)\n"
        "        except OSError:\n"
        "            pass\n"
        "print('still here')\n"
    )
    run = run_program(src, ["", ""], time_limit_s=1)
    assert run.complete
    assert len(run.cases) == 2


@needs_bwrap
def test_orphaned_child_dies_with_the_sandbox(tmp_path):
    src = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid(); time.sleep(30); print('child lived')\n"
        "print('parent done')\n"
    )
    start = time.monotonic()
    case = run_one(src, time_limit_s=1)
    assert "parent done" in case.stdout
    assert "child lived" not in case.stdout
    assert time.monotonic() - start < 10


@needs_bwrap
def test_os_system_and_subprocess_stay_inside():
    src = (
        "import os, subprocess\n"
        "os.system('echo hi from shell; ls /root 2>&1')\n"
        "print(subprocess.run(['id', '-u'], capture_output=True, text=True).stdout)\n"
    )
    case = run_one(src)
    assert "hi from shell" in case.stdout
    assert "No such file" in case.stdout  # /root does not exist in the sandbox


@needs_bwrap
def test_function_call_mode():
    src = "class Solution:\n    def twice(self, x, k=2):\n        return [x] * k, {x}\n"
    inputs = ['{"args": [3], "kwargs": {"k": 3}}', '{"args": ["a"]}']
    run = run_program(src, inputs, mode="call", fn_name="twice")
    assert [c.result for c in run.cases] == ["[[3, 3, 3], [3]]", '[["a", "a"], ["a"]]']


@needs_bwrap
def test_thread_and_recursion_bombs_are_contained():
    threads = (
        "import threading, time\n"
        "while True:\n"
        "    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
    )
    recursion = "import sys\nsys.setrecursionlimit(10**9)\ndef f(n):\n    return f(n + 1)\nf(0)\n"
    run = run_program(threads, [""], time_limit_s=1, memory_mb=256)
    assert run.cases[0].status in {"runtime_error", "memory_limit", "timeout"}
    run = run_program(recursion, [""], time_limit_s=1, memory_mb=256)
    assert run.cases[0].status in {"runtime_error", "memory_limit", "timeout"}
