"""Test harness that runs *inside* the code sandbox (standard library only).

It is copied read-only into the sandbox together with the program and the test inputs,
and runs as PID 1 of the sandbox's PID namespace, so the program cannot signal it (the
kernel drops signals to a namespace's init that it has no handler for). It reads a
nonce from stdin, then runs every test case as its own child process with per-case
resource limits, wall-clock timeout and output cap, and reports one nonce-tagged JSON
line per case on stdout. After each child it kills and reaps every other process of the
sandbox, so nothing a case leaves behind reaches the next one. Comparison with expected
outputs happens outside, in trusted code. ``--call`` mode is the child side of function-call tests.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import signal
import subprocess
import sys
import time

BOX = "/box"
WORK = "/work"


def _no_dump() -> None:
    """Make this process non-dumpable: its /proc files become unreadable to the program."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:  # noqa: BLE001 - best effort; the nonce still guards the report
        pass


def _limits(cfg: dict) -> None:
    """Per-case resource limits, applied in the child before exec."""
    mb = 1024 * 1024
    pairs = [
        (resource.RLIMIT_CPU, int(cfg["cpu_s"])),
        (resource.RLIMIT_AS, int(cfg["memory_mb"]) * mb),
        (resource.RLIMIT_NPROC, int(cfg["nproc"])),
        (resource.RLIMIT_FSIZE, int(cfg["fsize_mb"]) * mb),
        (resource.RLIMIT_NOFILE, int(cfg["nofile"])),
        (resource.RLIMIT_CORE, 0),
    ]
    for what, value in pairs:
        resource.setrlimit(what, (value, value))


def _sweep(limit_s: float = 2.0) -> None:
    """Kill and reap every other process of the sandbox: what the last child left behind.

    The harness is PID 1 of the sandbox's PID namespace, so any other process there
    descends from a finished child (a daemonized grandchild, fork-bomb survivors,
    zombies reparented to PID 1). Left alone they would hold process slots and CPU, or
    tamper with the files, of the next case.
    """
    me = os.getpid()
    end = time.monotonic() + limit_s
    while True:
        others = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me]
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        if not others or time.monotonic() > end:
            return
        time.sleep(0.005)


def _run(cmd: list[str], stdin_path: str, cwd: str, cfg: dict, result_pipe: bool) -> dict:
    """Run one child; return its status, exit code, capped stdout, stderr tail and result."""
    cap = int(cfg["output_bytes"])
    wall = float(cfg["wall_s"])
    rfd = wfd = -1
    pass_fds: tuple[int, ...] = ()
    if result_pipe:
        rfd, wfd = os.pipe()
        pass_fds = (wfd,)
        cmd = [*cmd, str(wfd)]
    with open(stdin_path, "rb") as stdin:
        start = time.monotonic()
        proc = subprocess.Popen(
            cmd,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            pass_fds=pass_fds,
            start_new_session=True,
            preexec_fn=lambda: _limits(cfg),
        )
    if wfd >= 0:
        os.close(wfd)
    bufs = {"out": bytearray(), "err": bytearray(), "res": bytearray()}
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")  # type: ignore[arg-type]
    sel.register(proc.stderr, selectors.EVENT_READ, "err")  # type: ignore[arg-type]
    if rfd >= 0:
        sel.register(rfd, selectors.EVENT_READ, "res")
    over = timed_out = False
    while sel.get_map():
        left = start + wall - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for key, _ in sel.select(timeout=min(left, 0.5)):
            fd = key.fd
            chunk = os.read(fd, 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            buf = bufs[key.data]
            if key.data == "err":
                buf += chunk
                del buf[:-8192]
                continue
            buf += chunk
            if len(buf) > cap:
                over = True
        if over:
            break
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    if timed_out or over:
        proc.kill()
    try:
        rc = proc.wait(timeout=max(1.0, start + wall - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        timed_out = True
    elapsed = time.monotonic() - start
    _sweep()
    for f in (proc.stdout, proc.stderr):
        f.close()  # type: ignore[union-attr]
    if rfd >= 0:
        os.close(rfd)
    err = bytes(bufs["err"]).decode("utf-8", "replace")
    if over or rc == -signal.SIGXFSZ:
        status = "output_limit"
    elif timed_out or rc == -signal.SIGXCPU:
        status = "timeout"
    elif "MemoryError" in err or "[Errno 12] Cannot allocate memory" in err:
        status = "memory_limit"
    elif rc != 0:
        status = "runtime_error"
    else:
        status = "ok"
    return {
        "status": status,
        "rc": rc,
        "elapsed_s": round(elapsed, 4),
        "stdout": bytes(bufs["out"][:cap]).decode("utf-8", "replace"),
        "stderr": err[-2000:],
        "result": bytes(bufs["res"][:cap]).decode("utf-8", "replace") if result_pipe else None,
    }


def main() -> int:
    """Run all cases of /box/cases.json and report them."""
    nonce = sys.stdin.readline().strip()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as PID 1, only handled signals arrive
    _no_dump()
    with open(os.path.join(BOX, "cases.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    py = sys.executable
    flags = ["-I", "-B"]

    def say(obj: dict) -> None:
        sys.stdout.write(nonce + " " + json.dumps(obj) + "\n")
        sys.stdout.flush()

    say({"event": "start"})
    empty = os.path.join(BOX, "empty")
    check = "import sys; compile(open(sys.argv[1], 'rb').read(), 'solution.py', 'exec')"
    res = _run([py, *flags, "-c", check, os.path.join(BOX, "solution.py")], empty, WORK, cfg, False)
    if res["status"] != "ok":
        say({"event": "compile", "ok": False, **res})
        return 0
    say({"event": "compile", "ok": True})
    for i in range(int(cfg["n"])):
        cwd = os.path.join(WORK, f"case{i}")
        os.makedirs(cwd, exist_ok=True)
        stdin = os.path.join(BOX, "in", str(i))
        if cfg["mode"] == "call":
            me = os.path.join(BOX, "harness.py")
            cmd = [py, *flags, me, "--call", os.path.join(BOX, "solution.py"), cfg["fn_name"]]
            res = _run(cmd, stdin, cwd, cfg, True)
        else:
            res = _run([py, *flags, os.path.join(BOX, "solution.py")], stdin, cwd, cfg, False)
        say({"event": "case", "index": i, **res})
        if res["status"] == "timeout" and cfg.get("stop_after_timeout"):
            break  # the rest would most likely time out too; the caller counts them so
    say({"event": "done"})
    return 0


def _plain(value: object) -> object:
    """A JSON-friendly form of a return value (tuples → lists, sets → sorted lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [_plain(v) for v in value]
        try:
            return sorted(items)  # type: ignore[type-var]
        except TypeError:
            return items
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def call_main(src_path: str, fn_name: str, result_fd: int) -> int:
    """Child side of a function-call case: import the program, call, write the result."""
    case = json.loads(sys.stdin.read() or "{}")
    out = os.fdopen(result_fd, "w")
    with open(src_path, encoding="utf-8") as f:
        source = f.read()
    ns: dict = {"__name__": "solution", "__file__": "solution.py"}
    exec(compile(source, "solution.py", "exec"), ns)  # noqa: S102 - this is the sandbox
    fn = ns.get(fn_name)
    if fn is None and isinstance(ns.get("Solution"), type):
        fn = getattr(ns["Solution"](), fn_name, None)
    if not callable(fn):
        sys.stderr.write(f"NameError: no function named {fn_name!r}\n")
        return 1
    value = fn(*case.get("args", []), **case.get("kwargs", {}))
    out.write(json.dumps(_plain(value)))
    out.flush()
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--call":
        sys.exit(call_main(sys.argv[2], sys.argv[3], int(sys.argv[4])))
    sys.exit(main())
