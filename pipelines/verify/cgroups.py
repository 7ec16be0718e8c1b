"""One cgroup per sandbox start: a hard memory (and process-count) cap over all its processes.

Resource limits (``RLIMIT_AS``, ``RLIMIT_NPROC``) are per process or per user, so a
program that forks 64 children could use 64 times its memory limit. A cgroup counts
every process of a sandbox start together, files written to its tmpfs folders included,
and the kernel's OOM killer ends the program when the cap is reached.

Where run cgroups are created (the *site*), in order:

1. ``$TRACEMILL_SANDBOX_CGROUP`` (or :attr:`SandboxConfig.cgroup_parent
   <tracemill.pipelines.verify.sandbox.SandboxConfig.cgroup_parent>`): a cgroup directory
   this user may write. cgroup v2: a delegated directory whose ``cgroup.subtree_control``
   has (or accepts) ``memory``, e.g. one made by ``systemd-run --user -p Delegate=yes``;
   cgroup v1: a directory of the memory hierarchy.
2. cgroup v2 found by itself: this process's own cgroup when ``memory`` is already
   enabled for its children (rare: cgroup v2 forbids processes in inner nodes).
3. cgroup v1 (hybrid hosts): this process's own memory cgroup, and its own ``pids``
   cgroup when that hierarchy is mounted, when writable (typically as root).

When none is usable, :func:`find_site` returns None and the sandbox falls back to its
watchdog (see ``sandbox.py``). Run cgroups are named ``tm-sandbox-<pid>-<token>``, where
``<pid>`` is the verifying process; :func:`remove_stale_cgroups` deletes those whose
process has died (``tracemill gc`` does this).
"""

from __future__ import annotations

import logging
import os
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ENV = "TRACEMILL_SANDBOX_CGROUP"
"""Environment variable naming a writable cgroup directory for sandbox runs."""
PREFIX = "tm-sandbox-"
_NAME = re.compile(r"tm-sandbox-(\d+)-[0-9a-f]+")
_V2_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class CgroupSite:
    """Directories under which run cgroups are made: controller → parent directory."""

    version: int
    """1 (legacy hierarchies, one per controller) or 2 (the unified hierarchy)."""
    memory: Path
    pids: Path | None = None
    """Where process-count caps go (v2: the same directory as memory), if anywhere."""


def _own_paths() -> dict[str, str]:
    """Map each controller to this process's cgroup path (``""`` → the v2 unified path)."""
    out: dict[str, str] = {}
    try:
        text = Path("/proc/self/cgroup").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for ctrl in parts[1].split(",") if parts[1] else [""]:
            out[ctrl] = parts[2]
    return out


def _v1_mounts() -> dict[str, Path]:
    """Map each controller to the mount point of its cgroup v1 hierarchy."""
    out: dict[str, Path] = {}
    try:
        text = Path("/proc/self/mountinfo").read_text()
    except OSError:
        return out
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fields, extra = left.split(), right.split()
        if len(fields) < 5 or len(extra) < 3 or extra[0] != "cgroup":
            continue
        for opt in extra[2].split(","):
            if opt in ("memory", "pids"):
                out[opt] = Path(fields[4])
    return out


def _v2_site(directory: Path) -> CgroupSite | None:
    """A v2 site at ``directory`` if memory can be enabled for its children."""
    control = directory / "cgroup.subtree_control"
    try:
        enabled = control.read_text().split()
        if "memory" not in enabled:
            available = (directory / "cgroup.controllers").read_text().split()
            wanted = [c for c in ("memory", "pids") if c in available]
            control.write_text(" ".join("+" + c for c in wanted))
            enabled = control.read_text().split()
    except OSError:
        return None
    if "memory" not in enabled or not os.access(directory, os.W_OK):
        return None
    return CgroupSite(2, directory, directory if "pids" in enabled else None)


def _v1_writable(directory: Path, limit_file: str) -> bool:
    return (directory / limit_file).exists() and os.access(directory, os.W_OK)


def find_site(explicit: str | None = None) -> CgroupSite | None:
    """Where this process can create capped cgroups, or None (see the module docstring)."""
    chosen = explicit or os.environ.get(CGROUP_ENV)
    if chosen:
        directory = Path(chosen)
        if (directory / "cgroup.controllers").exists():
            return _v2_site(directory)
        if _v1_writable(directory, "memory.limit_in_bytes"):
            return CgroupSite(1, directory)
        log.warning("%s=%s is not a writable cgroup directory; ignored", CGROUP_ENV, chosen)
        return None
    own = _own_paths()
    mounts = _v1_mounts()
    if "memory" in mounts and "memory" in own:
        memory = mounts["memory"] / own["memory"].lstrip("/")
        if _v1_writable(memory, "memory.limit_in_bytes"):
            pids = None
            if "pids" in mounts and "pids" in own:
                candidate = mounts["pids"] / own["pids"].lstrip("/")
                if _v1_writable(candidate, "cgroup.procs"):
                    pids = candidate
            return CgroupSite(1, memory, pids)
        return None
    if "" in own and (_V2_ROOT / "cgroup.controllers").exists():
        own_dir = _V2_ROOT / own[""].lstrip("/")
        try:
            if "memory" in (own_dir / "cgroup.subtree_control").read_text().split():
                return _v2_site(own_dir)
        except OSError:
            return None
    return None


class RunCgroup:
    """The cgroup(s) of one sandbox start; create with :meth:`create`, then :meth:`remove`."""

    def __init__(self, site: CgroupSite, dirs: list[Path]) -> None:
        self.site = site
        self.dirs = dirs

    @classmethod
    def create(cls, site: CgroupSite, memory_bytes: int, pids: int) -> RunCgroup:
        """Make the run's cgroup(s) with their caps (OSError when that is not allowed)."""
        name = f"{PREFIX}{os.getpid()}-{os.urandom(6).hex()}"
        made: list[Path] = []
        try:
            memory = site.memory / name
            memory.mkdir()
            made.append(memory)
            if site.version == 2:
                (memory / "memory.max").write_text(str(memory_bytes))
                if (memory / "memory.swap.max").exists():
                    (memory / "memory.swap.max").write_text("0")
                if site.pids is not None:
                    (memory / "pids.max").write_text(str(pids))
            else:
                (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
                memsw = memory / "memory.memsw.limit_in_bytes"
                if memsw.exists():  # no swapping past the cap either
                    memsw.write_text(str(memory_bytes))
                if site.pids is not None:
                    pid_dir = site.pids / name
                    pid_dir.mkdir()
                    made.append(pid_dir)
                    (pid_dir / "pids.max").write_text(str(pids))
        except OSError:
            cls(site, made).remove()
            raise
        return cls(site, made)

    def add(self, pid: int) -> None:
        """Move process ``pid`` (which has not started any child yet) into the cgroup(s)."""
        for directory in self.dirs:
            (directory / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        """How many processes the kernel killed for reaching the memory cap."""
        memory = self.dirs[0] if self.dirs else None
        if memory is None:
            return 0
        name = "memory.events" if self.site.version == 2 else "memory.oom_control"
        try:
            for line in (memory / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def pids(self) -> list[int]:
        """Processes still in the cgroup(s)."""
        found: set[int] = set()
        for directory in self.dirs:
            try:
                found.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                continue
        return sorted(found)

    def remove(self, wait_s: float = 5.0) -> bool:
        """Kill whatever is left in the cgroup(s) and delete them; False if one remains."""
        deadline = time.monotonic() + wait_s
        left = list(self.dirs)
        while left:
            for pid in self.pids():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for directory in list(left):
                try:
                    directory.rmdir()
                    left.remove(directory)
                except FileNotFoundError:
                    left.remove(directory)
                except OSError:
                    pass  # busy: processes still exiting
            if left and time.monotonic() > deadline:
                log.warning("could not remove sandbox cgroup(s) %s", left)
                return False
            if left:
                time.sleep(0.01)
        return True


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_cgroups(site: CgroupSite | None = None, *, dry_run: bool = False) -> list[str]:
    """Delete run cgroups left by verifying processes that died; their paths."""
    site = site if site is not None else find_site()
    if site is None:
        return []
    removed: list[str] = []
    for parent in {site.memory, *([site.pids] if site.pids else [])}:
        try:
            children = list(parent.iterdir())
        except OSError:
            continue
        for child in children:
            match = _NAME.fullmatch(child.name)
            if not match or not child.is_dir() or _pid_alive(int(match.group(1))):
                continue
            if dry_run or RunCgroup(site, [child]).remove(wait_s=2.0):
                removed.append(str(child))
    return removed
