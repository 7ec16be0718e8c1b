"""Run untrusted Python programs against test cases inside a bubblewrap sandbox.

Isolation (every run):

- a separate process tree under ``bwrap`` with all namespaces unshared (no network,
  own PID namespace, no further user namespaces), the harness as PID 1 and
  ``--die-with-parent``; the parent kills the whole tree at a wall-clock limit;
- a read-only view of the system: ``/usr`` (and the ``/lib*``, ``/bin`` links), a few
  ``/etc`` files the loader needs, the interpreter's prefix when it lives outside
  ``/usr``; the root and ``/dev`` are remounted read-only; no home, no repository, no
  ``/etc/shadow``;
- private, size-capped, empty tmpfs folders: ``/work`` (working directory, one
  subdirectory per case), ``/tmp`` and ``/dev/shm`` (``shm_mb``, small: POSIX shared
  memory is memory);
- a scrubbed environment (``--clearenv`` plus PATH/HOME/LANG);
- per-case limits set before exec: CPU seconds, address space, process count, file
  size, open files, no core dumps; per-case wall-clock timeout and stdout cap; after
  each case every process it left behind (daemons, fork-bomb survivors) is killed and
  the writable folders are emptied;
- **a memory cap per run** over all its processes together (``run_memory_mb``, default
  the problem's ``memory_mb`` plus ``run_overhead_mb`` for the harness), files in its
  tmpfs folders included. The harness's watchdog sums the proportional set size of
  every process of the case and the tmpfs usage every 20 ms (less often when many
  processes make a check costly) and ends the case above the cap (``memory_limit``).
  With a writable cgroup as well (see :mod:`.cgroups`; ``memory_cap`` ``"auto"`` or
  ``"cgroup"``) the kernel enforces a hard cap a little above it, and a process count
  per run; without one (``"watchdog"``, or ``"auto"`` where no cgroup is writable) a
  program can overshoot by what it allocates within one interval (tens of MB; more on
  a loaded machine), and each process is still held to ``memory_mb`` of address space;
- when the caller runs as root, bubblewrap itself is started as an unprivileged uid
  (root is exempt from the process-count limit).

All test cases of one problem run in one sandbox start: the harness
(``pipelines/verify/_harness.py``, copied in read-only) runs each case as its own child
and reports nonce-tagged JSON lines. Function-call and assertion-test programs run
after :data:`PREIMPORTS` (LiveCodeBench's import block: ``List``/``Optional``/… from
``typing``, ``collections``, ``heapq``, ``bisect``, ``math``, ``itertools``,
``functools`` and more, star-imported, with the built-ins restored after them), so a
LeetCode-style solution that uses ``List`` or ``deque`` without importing it works as it
does there; stdin/stdout programs are complete scripts and run as they are. The
settings and the (random) names of the input files reach the harness on its stdin; the
inputs sit in a folder nobody in the sandbox can list, so a case reads only its own.
Expected outputs never enter the sandbox. If bubblewrap is missing or cannot create the
sandbox, :class:`SandboxUnavailable` is raised; programs never run unsandboxed.

Staging folders are named ``tm-sandbox-<pid>-…``; :func:`remove_stale_staging` deletes
those of processes that died (each process does so once before its first run, and
``tracemill gc`` does too).
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
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from tracemill.pipelines.verify.cgroups import (
    CgroupSite,
    RunCgroup,
    find_site,
    remove_stale_cgroups,
)

log = logging.getLogger(__name__)

BWRAP_ENV = "TRACEMILL_BWRAP"
"""Environment variable naming the bubblewrap binary (default: ``bwrap`` on PATH)."""
PYTHON_ENV = "TRACEMILL_SANDBOX_PYTHON"
"""Environment variable naming the interpreter used inside the sandbox."""
HARNESS = Path(__file__).with_name("_harness.py")
ASSERT_RUNNER = Path(__file__).with_name("_assert_runner.py")
PREIMPORTS = """\
from string import *
from re import *
from datetime import *
from collections import *
from heapq import *
from bisect import *
from copy import *
from math import *
from random import *
from statistics import *
from itertools import *
from functools import *
from operator import *
from io import *
from sys import *
from json import *
from typing import *
import builtins as _tm_builtins
for _tm_name in [n for n in list(globals()) if hasattr(_tm_builtins, n) and n[:2] != "__"]:
    del globals()[_tm_name]
del _tm_name, _tm_builtins
import string
import re
import datetime
import collections
import heapq
import bisect
import copy
import math
import random
import statistics
import itertools
import functools
import operator
import io
import sys
import json
sys.setrecursionlimit(50000)
"""
"""Run before function-call and assertion-test programs: LiveCodeBench's ``import_string``
(``lcb_runner/evaluation/testing_util.py``), star imports then plain ones. Where it runs
``from builtins import *`` to undo star imports that shadow built-ins (``math.pow``,
``re.compile``, ``io.open``), those names are deleted instead, so that the program and
the tests still look built-ins up at call time (``monkeypatch.setattr("builtins.input",
...)`` then reaches the program, as in plain Python)."""
STAGING_PREFIX = "tm-sandbox-"
STALE_AFTER_S = 3600.0
"""A staging folder this old belongs to no running sandbox (a start lasts ``max_wall_s``)."""
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
    """Size of each of ``/work`` and ``/tmp``."""
    shm_mb: int = 16
    """Size of ``/dev/shm``."""
    run_memory_mb: int | None = None
    """Memory cap of one run, all processes and tmpfs files together (None: the
    problem's ``memory_mb`` plus ``run_overhead_mb``)."""
    run_overhead_mb: int = 96
    """Added to ``memory_mb`` for the default run cap: the harness and interpreter start."""
    memory_cap: Literal["auto", "cgroup", "watchdog"] = "auto"
    """How the run cap is enforced: a cgroup when one is writable (``auto``), a cgroup or
    :class:`SandboxUnavailable` (``cgroup``), or the harness's watchdog (``watchdog``)."""
    cgroup_parent: str | None = None
    """cgroup directory for run cgroups (None: ``$TRACEMILL_SANDBOX_CGROUP`` or found)."""
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
    result_error: str | None = None
    """Why a function-call case has no result (unserialisable value, nothing written)."""


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
        str(config.shm_mb * 1024 * 1024),
        "--tmpfs",
        "/dev/shm",
        "--remount-ro",
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


def _stage(
    box: Path, source: str, inputs: Sequence[str | bytes], files: dict[str, str] | None = None
) -> list[str]:
    """Write program, harness, extra `files` and inputs, readable by any uid; the inputs' names.

    The input folder is made traversable but not listable (mode 0111), so only a process
    told a name (the harness) can open an input.
    """
    inbox = box / "in"
    inbox.mkdir()
    (box / "solution.py").write_text(source, encoding="utf-8", errors="surrogatepass")
    shutil.copyfile(HARNESS, box / "harness.py")
    shutil.copyfile(ASSERT_RUNNER, box / "assert_runner.py")
    (box / "preimports.py").write_text(PREIMPORTS, encoding="utf-8")
    for name, text in (files or {}).items():
        (box / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    (box / "empty").write_bytes(b"")
    names = []
    for data in inputs:
        name = secrets.token_hex(16)
        raw = data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogatepass")
        (inbox / name).write_bytes(raw)
        names.append(name)
    for path in [box, *box.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    inbox.chmod(0o111)
    return names


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    proc.kill()


_sites: dict[str | None, CgroupSite | None] = {}
_sites_lock = threading.Lock()
_cleaned: set[str] = set()


def memory_site(config: SandboxConfig) -> CgroupSite | None:
    """The cgroup site runs with `config` use, None for the watchdog (looked up once)."""
    if config.memory_cap == "watchdog":
        return None
    with _sites_lock:
        if config.cgroup_parent not in _sites:
            _sites[config.cgroup_parent] = find_site(config.cgroup_parent)
        site = _sites[config.cgroup_parent]
    if site is None and config.memory_cap == "cgroup":
        raise SandboxUnavailable(
            "memory_cap='cgroup' but no writable cgroup was found: set "
            "$TRACEMILL_SANDBOX_CGROUP to a delegated cgroup directory"
        )
    return site


def _forget_site(config: SandboxConfig) -> None:
    with _sites_lock:
        _sites[config.cgroup_parent] = None


def remove_stale_staging(
    folder: str | os.PathLike[str] | None = None, *, dry_run: bool = False
) -> list[str]:
    """Delete sandbox staging folders whose process died (or older than an hour).

    ``folder`` is where they are made (default: the system temp folder); ``dry_run``
    only lists them.
    """
    base = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    removed: list[str] = []
    try:
        entries = list(base.iterdir())
    except OSError:
        return removed
    now = time.time()
    for path in entries:
        if not path.name.startswith(STAGING_PREFIX) or path.is_symlink() or not path.is_dir():
            continue
        owner = path.name[len(STAGING_PREFIX) :].split("-", 1)[0]
        try:
            old = now - path.stat().st_mtime > STALE_AFTER_S
        except OSError:
            continue
        dead = owner.isdigit() and not _pid_alive(int(owner))
        if (dead or old) and dry_run:
            removed.append(str(path))
        elif dead or old:
            _unlock(path)
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(str(path))
    return removed


def _unlock(path: Path) -> None:
    """Make a staging folder's non-listable input folder removable again."""
    for child in (path / "in",):
        try:
            child.chmod(0o755)
        except OSError:
            pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_once(folder: str | None, site: CgroupSite | None) -> None:
    """Before this process's first run, remove what dead processes left in `folder`/`site`."""
    key = folder or tempfile.gettempdir()
    keys = [key, *([str(site.memory)] if site is not None else [])]
    with _sites_lock:
        todo = [k for k in keys if k not in _cleaned]
        _cleaned.update(todo)
    if key in todo and (removed := remove_stale_staging(key)):
        log.info("removed %d stale sandbox folder(s) in %s", len(removed), key)
    if site is not None and str(site.memory) in todo and (groups := remove_stale_cgroups(site)):
        log.info("removed %d stale sandbox cgroup(s) in %s", len(groups), site.memory)


def run_program(
    source: str,
    inputs: Sequence[str | bytes],
    *,
    mode: Literal["stdio", "call", "assert"] = "stdio",
    fn_name: str | None = None,
    time_limit_s: float = 2.0,
    memory_mb: int = 512,
    stop_after_timeout: bool = False,
    config: SandboxConfig | None = None,
    test_source: str | None = None,
    prelude: str | None = None,
) -> SandboxRun:
    """Run `source` once per input in one sandbox start; never runs it unsandboxed.

    In ``stdio`` mode each input is the program's stdin; in ``call`` mode each input is
    JSON ``{"args": [...], "kwargs": {...}}`` for a call of `fn_name`; in ``assert`` mode
    each input is the JSON case description of :mod:`.asserts` and `test_source` the
    (rewritten) test module, `prelude` code run before the program (HumanEval's prompt).
    With `stop_after_timeout`, cases after the first timeout are not run (and not reported).
    Raises :class:`SandboxUnavailable` when bubblewrap is missing or unusable.
    """
    cfg = config or SandboxConfig()
    if mode == "call" and not fn_name:
        raise ValueError("call mode needs fn_name")
    if mode == "assert" and test_source is None:
        raise ValueError("assert mode needs test_source")
    python = resolve_python(cfg)
    resolve_bwrap(cfg)  # a missing bwrap fails before anything is made
    site = memory_site(cfg)
    _clean_once(cfg.tmp_dir, site)
    run_mb = cfg.run_memory_mb or int(memory_mb) + cfg.run_overhead_mb
    group = None
    oom = 0
    if site is not None:
        try:
            # the watchdog ends a case at the cap; the cgroup is the hard backstop above it
            # (it also counts the harness and page cache), for bursts between two checks
            hard_mb = run_mb + max(64, run_mb // 4)
            group = RunCgroup.create(site, hard_mb * 1024 * 1024, cfg.nproc + 8)
        except OSError as e:
            if cfg.memory_cap == "cgroup":
                raise SandboxUnavailable(f"cannot create a sandbox cgroup: {e}") from e
            log.warning("cannot create sandbox cgroups in %s (%s); using the watchdog", site, e)
            _forget_site(cfg)
    per_case_wall = float(time_limit_s) + cfg.startup_grace_s
    settings = {
        "mode": mode,
        "fn_name": fn_name,
        "cpu_s": max(1, math.ceil(time_limit_s) + 1),
        "memory_mb": int(memory_mb),
        "nproc": cfg.nproc,
        "fsize_mb": cfg.fsize_mb,
        "nofile": cfg.nofile,
        "output_bytes": cfg.output_bytes,
        "wall_s": per_case_wall,
        "stop_after_timeout": bool(stop_after_timeout),
        "watchdog_bytes": run_mb * 1024 * 1024,
        "prelude": prelude is not None,
    }
    files = {"tests.py": test_source} if test_source is not None else {}
    if prelude is not None:
        files["prelude.py"] = prelude
    wall = min(cfg.max_wall_s, 10.0 + per_case_wall * (len(inputs) + 1) * 1.2)
    nonce = secrets.token_hex(16)
    box = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=cfg.tmp_dir))
    try:
        settings["inputs"] = _stage(box, source, inputs, files)
        cmd = bwrap_command(cfg, str(box), python)
        if group is not None:
            # wait on stdin until the parent has moved the process into the cgroup
            cmd = ["/bin/sh", "-c", 'read -r _ && exec "$@"', "sh", *cmd]
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
        preamble = (nonce + "\n" + json.dumps(settings) + "\n").encode()
        if group is not None:
            try:
                group.add(proc.pid)
            except OSError as e:
                _kill_tree(proc)
                proc.wait()
                for f in (proc.stdin, proc.stdout, proc.stderr):
                    f.close()  # type: ignore[union-attr]
                group.remove()
                _forget_site(cfg)
                if cfg.memory_cap == "cgroup":
                    raise SandboxUnavailable(f"cannot join the sandbox cgroup: {e}") from e
                log.warning("cannot join sandbox cgroups (%s); using the watchdog", e)
                return run_program(
                    source, inputs, mode=mode, fn_name=fn_name, time_limit_s=time_limit_s,
                    memory_mb=memory_mb, stop_after_timeout=stop_after_timeout, config=cfg,
                    test_source=test_source, prelude=prelude,
                )  # fmt: skip
            preamble = b"go\n" + preamble
        line_cap = 12 * cfg.output_bytes + 65536
        try:
            run = _collect(proc, preamble, nonce, wall, line_cap)
        finally:
            if group is not None:
                oom = group.oom_kills()
                group.remove()
        if oom:
            run = _blame_memory(run)
        return run
    finally:
        _unlock(box)
        shutil.rmtree(box, ignore_errors=True)


def _blame_memory(run: SandboxRun) -> SandboxRun:
    """After the cgroup's OOM killer acted: cases killed by SIGKILL hit the memory cap."""
    cases = [
        replace(c, status="memory_limit")
        if c.status == "runtime_error" and c.returncode == -signal.SIGKILL
        else c
        for c in run.cases
    ]
    return replace(run, cases=cases)


def _collect(
    proc: subprocess.Popen[bytes], preamble: bytes, nonce: str, wall: float, line_cap: int
) -> SandboxRun:
    """Send the preamble, read the harness's report lines within `wall` seconds.

    Lines are parsed as they arrive; a line longer than `line_cap` (no harness line is)
    ends the run.
    """
    start = time.monotonic()
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(preamble)
        proc.stdin.close()
    except OSError:
        pass
    tag = (nonce + " ").encode()
    events: list[dict] = []
    pending, err = bytearray(), bytearray()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    note = None
    try:
        while sel.get_map() and note is None:
            left = start + wall - time.monotonic()
            if left <= 0:
                note = f"wall-clock limit of {wall:.0f}s reached; sandbox killed"
                break
            for key, _ in sel.select(timeout=min(left, 1.0)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fileobj)
                    continue
                if key.data == "err":
                    err += chunk
                    del err[:-8192]
                    continue
                pending += chunk
                if b"\n" not in chunk:
                    lines = []
                else:  # split only when a line ended: a long line is not re-scanned per chunk
                    *lines, rest = pending.split(b"\n")
                    pending = bytearray(rest)
                for line in lines:
                    if line.startswith(tag):
                        try:
                            events.append(json.loads(line[len(tag) :]))
                        except (ValueError, RecursionError):
                            continue
                if len(pending) > line_cap:
                    note = "sandbox report line exceeded its size cap; sandbox killed"
                    break
    finally:
        sel.close()
        _kill_tree(proc)
        rc = proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    elapsed = time.monotonic() - start
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
            result_error=e.get("result_error"),
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
