"""Test harness that runs *inside* the code sandbox (standard library only).

It is copied read-only into the sandbox together with the program and the test inputs,
and runs as PID 1 of the sandbox's PID namespace, so the program cannot signal it (the
kernel drops signals to a namespace's init that it has no handler for). It reads a nonce
and the run's settings from stdin, then runs every test case as its own child process
with per-case resource limits, wall-clock timeout and output cap, and reports one
nonce-tagged JSON line per case on stdout.

What the program can and cannot reach:

- expected outputs are never in the sandbox: comparison happens outside, in trusted
  code, on the plain values reported here;
- the test inputs sit in a directory that cannot be listed, under random names only
  the harness knows (from its stdin), so a case can read its own input (its stdin) and
  no other;
- after each case every other process of the sandbox is killed and reaped, and the
  writable folders (``/work``, ``/tmp``, ``/dev/shm``) are emptied, so nothing a case
  leaves behind (processes, files, state) reaches the next one;
- a watchdog here caps the memory of all of a case's processes together, with the files
  they wrote (checked every 20 ms, or less often when a check gets costly; where
  ``sandbox.py`` could make a cgroup, the kernel enforces the same cap exactly as well).

``--call`` mode is the child side of function-call tests: it runs the pre-imports
(``preimports.py``: the names LiveCodeBench's harness provides), then the program, calls
the function and writes the return value to a pipe as plain JSON built with the
built-in types' own methods (an ``int`` subclass is written as its integer value,
whatever its ``__eq__``, ``__repr__`` or ``__str__`` say); other objects are reported as
unserialisable. In ``assert`` mode each case is a process of ``assert_runner.py`` (see
``_assert_runner.py``), whose report lines are forwarded as they are, untrusted.
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
SCRUB = ("/work", "/tmp", "/dev/shm")
"""Writable folders emptied after every case."""
MAX_DEPTH = 100
"""Deepest nesting of a return value that is serialised."""


_LIBC: list = []
"""The C library, loaded once before any fork (children must not load libraries)."""


def _no_dump() -> None:
    """Make this process non-dumpable: its /proc files become unreadable to the program."""
    try:
        import ctypes

        _LIBC.append(ctypes.CDLL(None))
        _LIBC[0].prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
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
    # under a cgroup memory cap the kernel's OOM killer must pick the program, never us.
    # A child of a non-dumpable process may not write its own /proc files until exec
    # resets the flag: set it back first (exec would anyway)
    try:
        if _LIBC:
            _LIBC[0].prctl(4, 1, 0, 0, 0)
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass


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


def _scrub() -> None:
    """Empty the writable folders (after :func:`_sweep`, so nobody writes meanwhile)."""
    for top in SCRUB:
        try:
            names = os.listdir(top)
        except OSError:
            continue
        for name in names:
            _remove(os.path.join(top, name))


def _remove(path: str) -> None:
    """Delete a file or folder tree, undoing permissions a case took away (same uid).

    Iterative, so a case's deeply nested folders cannot exhaust the recursion limit.
    """
    stack = [(path, False)]
    while stack:
        top, listed = stack.pop()
        try:
            if not os.path.isdir(top) or os.path.islink(top):
                os.unlink(top)
            elif listed:
                os.rmdir(top)
            else:
                os.chmod(top, 0o700)
                stack.append((top, True))
                stack.extend((os.path.join(top, n), False) for n in os.listdir(top))
        except OSError:
            pass  # best effort: the folders are private to this sandbox and vanish with it


def _memory_used() -> int:
    """Bytes used by every process but this one (proportional set size) and tmpfs files."""
    me = os.getpid()
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/smaps_rollup", "rb") as f:
                for line in f:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile, or a zombie
    for top in SCRUB:
        try:
            st = os.statvfs(top)
        except OSError:
            continue
        total += (st.f_blocks - st.f_bfree) * st.f_frsize
    return total


def _run(
    cmd: list[str],
    stdin_path: str,
    cwd: str,
    cfg: dict,
    result_pipe: bool,
    raw_result: bool = False,
) -> dict:
    """Run one child; return its status, exit code, capped stdout, stderr tail and result.

    With `raw_result` the result pipe's text is passed on as it is (capped), not parsed.
    """
    cap = int(cfg["output_bytes"])
    wall = float(cfg["wall_s"])
    watch = cfg.get("watchdog_bytes")
    tick = 0.02 if watch else 0.5
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
    over = timed_out = out_of_memory = False
    checked, interval = start, tick
    while sel.get_map():
        now = time.monotonic()
        left = start + wall - now
        if left <= 0:
            timed_out = True
            break
        if watch and now - checked >= interval:
            used = _memory_used()
            checked = time.monotonic()
            # many processes make a check dear: keep its cost under a tenth of the time
            interval = max(tick, 10 * (checked - now))
            if used > int(watch):
                out_of_memory = True
                break
        for key, _ in sel.select(timeout=min(left, tick)):
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
    if timed_out or over or out_of_memory:
        proc.kill()
    try:
        rc = proc.wait(timeout=max(1.0, start + wall - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
        timed_out = True
    elapsed = time.monotonic() - start
    _sweep()
    _scrub()
    for f in (proc.stdout, proc.stderr):
        f.close()  # type: ignore[union-attr]
    if rfd >= 0:
        os.close(rfd)
    err = bytes(bufs["err"]).decode("utf-8", "replace")
    if over or rc == -signal.SIGXFSZ:
        status = "output_limit"
    elif out_of_memory:
        status = "memory_limit"
    elif timed_out or rc == -signal.SIGXCPU:
        status = "timeout"
    elif "MemoryError" in err or "[Errno 12] Cannot allocate memory" in err:
        status = "memory_limit"
    elif rc != 0:
        status = "runtime_error"
    else:
        status = "ok"
    report = {
        "status": status,
        "rc": rc,
        "elapsed_s": round(elapsed, 4),
        "stdout": bytes(bufs["out"][:cap]).decode("utf-8", "replace"),
        "stderr": err[-2000:],
    }
    if result_pipe and raw_result:
        raw = bytes(bufs["res"])
        if len(raw) > cap:
            report.update(result=None, result_error="report larger than its cap")
        else:
            report.update(result=raw.decode("utf-8", "replace"), result_error=None)
    elif result_pipe:
        report.update(_read_result(bytes(bufs["res"]), cap))
    return report


def _read_result(raw: bytes, cap: int) -> dict:
    """``result`` (canonical JSON text of the value) or ``result_error`` from a call child.

    The pipe is written by the process that ran the program, so its bytes are untrusted:
    anything but one well-formed document is an error, never a value.
    """
    if len(raw) > cap:
        return {"result": None, "result_error": "return value larger than the output cap"}
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return {"result": None, "result_error": "no well-formed result was written"}
    if isinstance(doc, dict) and set(doc) == {"value"}:
        try:
            return {"result": json.dumps(doc["value"]), "result_error": None}
        except (ValueError, RecursionError):
            return {"result": None, "result_error": "result nested too deeply"}
    if isinstance(doc, dict) and set(doc) == {"unserialisable"}:
        what = str(doc["unserialisable"])[:200]
        return {"result": None, "result_error": f"unserialisable return value: {what}"}
    return {"result": None, "result_error": "no well-formed result was written"}


def main() -> int:
    """Run every case the settings on stdin name, and report them."""
    nonce = sys.stdin.readline().strip()
    cfg = json.loads(sys.stdin.readline())
    sys.stdin.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as PID 1, only handled signals arrive
    _no_dump()
    py = sys.executable
    flags = ["-I", "-B"]

    def say(obj: dict) -> None:
        sys.stdout.write(nonce + " " + json.dumps(obj) + "\n")
        sys.stdout.flush()

    say({"event": "start"})
    empty = os.path.join(BOX, "empty")
    check = "import sys; compile(open(sys.argv[1], 'rb').read(), 'solution.py', 'exec')"
    if cfg.get("prelude"):  # or, as the runner does, the prelude continued by the program
        check = (
            "import sys\nsrc = open(sys.argv[1], 'rb').read()\ntry:\n"
            "    compile(src, 'solution.py', 'exec')\nexcept SyntaxError:\n"
            "    pre = open(sys.argv[2], 'rb').read()\n"
            "    pre += b'' if pre.endswith(b'\\n') else b'\\n'\n"
            "    compile(pre + src, 'solution.py', 'exec')\n"
        )
    sources = [os.path.join(BOX, "solution.py"), os.path.join(BOX, "prelude.py")]
    res = _run([py, *flags, "-c", check, *sources], empty, WORK, cfg, False)
    if res["status"] != "ok":
        say({"event": "compile", "ok": False, **res})
        return 0
    say({"event": "compile", "ok": True})
    for i, name in enumerate(cfg["inputs"]):
        cwd = os.path.join(WORK, f"case{i}")
        os.makedirs(cwd, exist_ok=True)
        stdin = os.path.join(BOX, "in", name)
        if cfg["mode"] == "call":
            me = os.path.join(BOX, "harness.py")
            cmd = [py, *flags, me, "--call", os.path.join(BOX, "solution.py"), cfg["fn_name"],
                   os.path.join(BOX, "preimports.py")]  # fmt: skip
            res = _run(cmd, stdin, cwd, cfg, True)
        elif cfg["mode"] == "assert":
            runner = os.path.join(BOX, "assert_runner.py")
            prelude = os.path.join(BOX, "prelude.py") if cfg.get("prelude") else ""
            files = ("solution.py", "tests.py", "preimports.py")
            cmd = [py, *flags, runner, *(os.path.join(BOX, f) for f in files), prelude]
            res = _run(cmd, stdin, cwd, cfg, True, raw_result=True)
        else:
            res = _run([py, *flags, os.path.join(BOX, "solution.py")], stdin, cwd, cfg, False)
        say({"event": "case", "index": i, **res})
        if res["status"] == "timeout" and cfg.get("stop_after_timeout"):
            break  # the rest would most likely time out too; the caller counts them so
    say({"event": "done"})
    return 0


class Unserialisable(Exception):
    """A return value that has no plain JSON form."""


def plain(value: object, depth: int = 0) -> object:
    """The JSON form of a return value, built only with the built-in types' own methods.

    Subclasses of built-in types are read through the base type (``int.__int__``,
    ``str.__str__``, ``list.__iter__`` …), so no method the program defined runs here:
    an ``int`` subclass whose ``__eq__`` always says True is written as its integer.
    Tuples become lists and sets sorted lists (when their items sort). NumPy scalars and
    arrays go through ``tolist()``. Anything else raises :class:`Unserialisable`.
    """
    if depth > MAX_DEPTH:
        raise Unserialisable(f"nested deeper than {MAX_DEPTH}")
    if value is None or value is True or value is False:
        return value
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, list):
        return [plain(v, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, tuple):
        return [plain(v, depth + 1) for v in tuple.__iter__(value)]
    if isinstance(value, dict):
        return {_key(k): plain(v, depth + 1) for k, v in dict.items(value)}
    if isinstance(value, (set, frozenset)):
        base = set if isinstance(value, set) else frozenset
        items = [plain(v, depth + 1) for v in base.__iter__(value)]
        try:
            return sorted(items)  # type: ignore[type-var]
        except TypeError:
            return items
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return plain(value.tolist(), depth + 1)  # type: ignore[attr-defined]
    raise Unserialisable(type(value).__qualname__)


def _key(key: object) -> str:
    """A dict key as JSON object keys are: text (``1`` → ``"1"``, as before)."""
    value = plain(key, MAX_DEPTH)
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, int, float)):
        return str(value)
    raise Unserialisable(f"dict key of type {type(key).__qualname__}")


def call_main(src_path: str, fn_name: str, preimports: str, result_fd: int) -> int:
    """Child side of a function-call case: run the program, call, write the plain result.

    The program's namespace first gets the names of ``preimports`` (a file; "" for none).

    Everything that writes the result is bound before the program runs; any exception the
    program raises (``SystemExit`` and ``KeyboardInterrupt`` included) is a runtime error.
    The program can still write to the result pipe itself: what it writes is read as an
    untrusted JSON document, so forging it is no better than returning that value.
    """
    write, dumps, exit_now = os.write, json.dumps, os._exit
    out_flush, err_flush = sys.stdout.flush, sys.stderr.flush
    try:
        case = json.loads(sys.stdin.read() or "{}")
        with open(src_path, encoding="utf-8") as f:
            source = f.read()
        ns: dict = {"__name__": "solution", "__file__": "solution.py"}
        if preimports:
            with open(preimports, encoding="utf-8") as f:
                exec(compile(f.read(), "preimports.py", "exec", dont_inherit=True), ns)  # noqa: S102
        exec(compile(source, "solution.py", "exec", dont_inherit=True), ns)  # noqa: S102
        fn = ns.get(fn_name)
        if fn is None and isinstance(ns.get("Solution"), type):
            fn = getattr(ns["Solution"](), fn_name, None)
        if not callable(fn):
            sys.stderr.write(f"NameError: no function named {fn_name!r}\n")
            return 1
        value = fn(*case.get("args", []), **case.get("kwargs", {}))
        try:
            doc = {"value": plain(value)}
        except Unserialisable as e:
            doc = {"unserialisable": str(e)}
        text = dumps(doc).encode("utf-8")
    except BaseException:  # noqa: BLE001 - SystemExit(0) from the program is a failure too
        import traceback

        traceback.print_exc()
        try:
            err_flush()
        finally:
            exit_now(1)
    while text:
        text = text[write(result_fd, text) :]
    try:
        out_flush()
        err_flush()
    finally:
        exit_now(0)  # no atexit hook or leftover thread of the program runs after this
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 6 and sys.argv[1] == "--call":
        sys.exit(call_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
    sys.exit(main())
