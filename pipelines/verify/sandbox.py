"""Run untrusted Python programs against test cases inside a bubblewrap sandbox.

Isolation (every run):

- a separate process tree under ``bwrap`` with all namespaces unshared (no network,
  own PID namespace, no further user namespaces), the harness as PID 1 and
  ``--die-with-parent``; the parent kills the whole tree at a wall-clock limit;
- a read-only view of the system: ``/usr`` (and the ``/lib*``, ``/bin`` links), a few
  ``/etc`` files the loader needs, the interpreter's prefix when it lives outside
  ``/usr``; the root is remounted read-only; no home, no repository, no ``/etc/shadow``;
- a private, size-capped, empty tmpfs as working directory (``/work``, one
  subdirectory per case) and another as ``/tmp``;
- a scrubbed environment (``--clearenv`` plus PATH/HOME/LANG);
- per-case limits set before exec: CPU seconds, address space, process count, file
  size, open files, no core dumps; per-case wall-clock timeout and stdout cap; after
  each case every process it left behind (daemons, fork-bomb survivors) is killed;
- when the caller runs as root, bubblewrap itself is started as an unprivileged uid
  (root is exempt from the process-count limit).

All test cases of one problem run in one sandbox start: the harness
(``pipelines/verify/_harness.py``, copied in read-only) runs each case as its own child
and reports nonce-tagged JSON lines. If bubblewrap is missing or cannot create the
sandbox, :class:`SandboxUnavailable` is raised; programs never run unsandboxed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

BWRAP_ENV = "TRACEMILL_BWRAP"
"""Environment variable naming the bubblewrap binary (default: ``bwrap`` on PATH)."""
PYTHON_ENV = "TRACEMILL_SANDBOX_PYTHON"
"""Environment variable naming the interpreter used inside the sandbox."""
HARNESS = Path(__file__).with_name("_harness.py")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime")
_ROOT_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


class SandboxUnavailable(RuntimeError):
    """Bubblewrap is missing or cannot create a sandbox here; nothing was run."""


@dataclass(frozen=True)
class SandboxConfig:
    """Where bubblewrap and the interpreter are, and the limits every run gets."""

    bwrap: str | None = None
    """bubblewrap binary (None: ``$TRACEMILL_BWRAP`` or ``bwrap`` on PATH)."""
    python: str | None = None
    """Interpreter inside the sandbox (None: ``$TRACEMILL_SANDBOX_PYTHON``,
    ``/usr/bin/python3`` if present, else this process's base interpreter)."""
    unprivileged_uid: int = 65534
    """uid/gid bubblewrap runs as when the caller is root."""
    nproc: int = 64
    fsize_mb: int = 16
    nofile: int = 64
    tmpfs_mb: int = 64
    output_bytes: int = 1 << 20
    """Stdout kept per case; more is ``output_limit``."""
    startup_grace_s: float = 0.5
    """Wall-clock seconds added to each case's time limit for interpreter start-up."""
    max_wall_s: float = 120.0
    """Cap on one sandbox start, whatever the number of cases."""
    tmp_dir: str | None = None
    """Host directory for the per-run staging folder (must be traversable by the uid)."""


@dataclass(frozen=True)
class CaseResult:
    """What one test case did: harness status, exit code, output, timing."""

    index: int
    status: Literal["ok", "runtime_error", "timeout", "memory_limit", "output_limit"]
    returncode: int | None
    stdout: str
    stderr: str
    elapsed_s: float
    result: str | None = None
    """JSON text of the return value (function-call cases)."""


@dataclass(frozen=True)
class SandboxRun:
    """The outcome of one sandbox start."""

    compiled: bool
    compile_error: str | None
    cases: list[CaseResult] = field(default_factory=list)
    complete: bool = True
    """False when the run ended before every case reported (wall limit, harness gone)."""
    wall_s: float = 0.0
    note: str | None = None


def resolve_bwrap(config: SandboxConfig) -> str:
    """Path of the bubblewrap binary, or :class:`SandboxUnavailable`."""
    name = config.bwrap or os.environ.get(BWRAP_ENV) or "bwrap"
    path = name if os.sep in name else shutil.which(name)
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise SandboxUnavailable(
            f"bubblewrap not found ({name!r}); code verification needs it: install the "
            f"Debian/Ubuntu package 'bubblewrap' or set ${BWRAP_ENV}. Programs are never "
            "run unsandboxed."
        )
    return path


def resolve_python(config: SandboxConfig) -> str:
    """The interpreter the sandbox runs."""
    chosen = config.python or os.environ.get(PYTHON_ENV)
    if chosen:
        return chosen
    if os.path.exists("/usr/bin/python3"):
        return "/usr/bin/python3"
    return os.path.realpath(sys.executable)


def bwrap_command(config: SandboxConfig, box: str, python: str) -> list[str]:
    """The bubblewrap command line that runs the harness over staging folder `box`."""
    args = [
        resolve_bwrap(config),
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--as-pid-1",
        "--hostname",
        "sandbox",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for name in _ROOT_LINKS:
        host = "/" + name
        if os.path.islink(host):
            args += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            args += ["--ro-bind", host, host]
    for path in _ETC_FILES:
        args += ["--ro-bind-try", path, path]
    real = os.path.realpath(python)
    if not real.startswith("/usr/"):
        prefix = os.path.dirname(os.path.dirname(real))
        args += ["--ro-bind", prefix, prefix]
    size = str(config.tmpfs_mb * 1024 * 1024)
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        size,
        "--tmpfs",
        "/work",
        "--size",
        size,
        "--tmpfs",
        "/tmp",
        "--ro-bind",
        box,
        "/box",
        "--remount-ro",
        "/",
        "--chdir",
        "/work",
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/local/bin:/usr/bin:/bin",
        "--setenv",
        "HOME",
        "/work",
        "--setenv",
        "TMPDIR",
        "/tmp",
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--setenv",
        "PYTHONHASHSEED",
        "0",
        python,
        "-I",
        "-B",
        "/box/harness.py",
    ]
    return args


def _stage(box: Path, source: str, inputs: Sequence[str | bytes], meta: dict) -> None:
    """Write program, harness, inputs and case metadata, readable by any uid."""
    (box / "in").mkdir()
    (box / "solution.py").write_text(source, encoding="utf-8", errors="surrogatepass")
    shutil.copyfile(HARNESS, box / "harness.py")
    (box / "empty").write_bytes(b"")
    (box / "cases.json").write_text(json.dumps(meta), encoding="utf-8")
    for i, data in enumerate(inputs):
        raw = data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogatepass")
        (box / "in" / str(i)).write_bytes(raw)
    for path in [box, *box.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.kill()


def run_program(
    source: str,
    inputs: Sequence[str | bytes],
    *,
    mode: Literal["stdio", "call"] = "stdio",
    fn_name: str | None = None,
    time_limit_s: float = 2.0,
    memory_mb: int = 512,
    stop_after_timeout: bool = False,
    config: SandboxConfig | None = None,
) -> SandboxRun:
    """Run `source` once per input in one sandbox start; never runs it unsandboxed.

    In ``stdio`` mode each input is the program's stdin; in ``call`` mode each input is
    JSON ``{"args": [...], "kwargs": {...}}`` for a call of `fn_name`. With
    `stop_after_timeout`, cases after the first timeout are not run (and not reported).
    Raises :class:`SandboxUnavailable` when bubblewrap is missing or unusable.
    """
    cfg = config or SandboxConfig()
    if mode == "call" and not fn_name:
        raise ValueError("call mode needs fn_name")
    python = resolve_python(cfg)
    per_case_wall = float(time_limit_s) + cfg.startup_grace_s
    meta = {
        "mode": mode,
        "n": len(inputs),
        "fn_name": fn_name,
        "cpu_s": max(1, math.ceil(time_limit_s) + 1),
        "memory_mb": int(memory_mb),
        "nproc": cfg.nproc,
        "fsize_mb": cfg.fsize_mb,
        "nofile": cfg.nofile,
        "output_bytes": cfg.output_bytes,
        "wall_s": per_case_wall,
        "stop_after_timeout": bool(stop_after_timeout),
    }
    wall = min(cfg.max_wall_s, 10.0 + per_case_wall * (len(inputs) + 1) * 1.2)
    nonce = secrets.token_hex(16)
    box = Path(tempfile.mkdtemp(prefix="tm-sandbox-", dir=cfg.tmp_dir))
    try:
        _stage(box, source, inputs, meta)
        cmd = bwrap_command(cfg, str(box), python)
        kwargs: dict = {}
        if os.geteuid() == 0:
            uid = cfg.unprivileged_uid
            kwargs = {"user": uid, "group": uid, "extra_groups": []}
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                cwd="/",
                start_new_session=True,
                close_fds=True,
                **kwargs,
            )
        except OSError as e:
            raise SandboxUnavailable(f"cannot start bubblewrap: {e}") from e
        report_cap = len(inputs) * (2 * cfg.output_bytes + 32768) + 65536
        return _collect(proc, nonce, wall, report_cap)
    finally:
        shutil.rmtree(box, ignore_errors=True)


def _collect(proc: subprocess.Popen[bytes], nonce: str, wall: float, cap: int) -> SandboxRun:
    """Feed the nonce, read the harness report within `wall` seconds and `cap` bytes."""
    start = time.monotonic()
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(nonce.encode() + b"\n")
        proc.stdin.close()
    except OSError:
        pass
    out, err = bytearray(), bytearray()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, out)
    sel.register(proc.stderr, selectors.EVENT_READ, err)
    note = None
    try:
        while sel.get_map():
            left = start + wall - time.monotonic()
            if left <= 0:
                note = f"wall-clock limit of {wall:.0f}s reached; sandbox killed"
                break
            for key, _ in sel.select(timeout=min(left, 1.0)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                buf = key.data
                buf += chunk
                if buf is err:
                    del buf[:-8192]
                elif len(buf) > cap:
                    note = "sandbox report exceeded its size cap; sandbox killed"
                    break
            if note:
                break
    finally:
        sel.close()
        _kill_tree(proc)
        rc = proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    elapsed = time.monotonic() - start
    events = []
    tag = nonce + " "
    for line in bytes(out).decode("utf-8", "replace").splitlines():
        if line.startswith(tag):
            try:
                events.append(json.loads(line[len(tag) :]))
            except ValueError:
                continue
    if not events or events[0].get("event") != "start":
        stderr = bytes(err).decode("utf-8", "replace").strip()[-1000:]
        raise SandboxUnavailable(
            f"bubblewrap could not create the sandbox (exit code {rc}): {stderr or note or '?'}"
        )
    return _to_run(events, elapsed, note)


def _to_run(events: list[dict], elapsed: float, note: str | None) -> SandboxRun:
    compile_ev = next((e for e in events if e.get("event") == "compile"), None)
    if compile_ev is not None and not compile_ev.get("ok"):
        return SandboxRun(False, str(compile_ev.get("stderr", ""))[-2000:], [], True, elapsed, note)
    cases = [
        CaseResult(
            index=int(e["index"]),
            status=e["status"],
            returncode=e.get("rc"),
            stdout=e.get("stdout", ""),
            stderr=e.get("stderr", ""),
            elapsed_s=float(e.get("elapsed_s", 0.0)),
            result=e.get("result"),
        )
        for e in events
        if e.get("event") == "case"
    ]
    complete = any(e.get("event") == "done" for e in events)
    if not complete and note is None:
        note = "the sandbox ended before reporting every case"
    return SandboxRun(compile_ev is not None, None, cases, complete, elapsed, note)


def check_sandbox(config: SandboxConfig | None = None) -> None:
    """Run a trivial program; raise :class:`SandboxUnavailable` if that is impossible."""
    run = run_program("print(1)", [""], config=config)
    if not run.cases or run.cases[0].stdout.strip() != "1":
        raise SandboxUnavailable(f"sandbox self-test failed: {run}")
