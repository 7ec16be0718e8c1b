"""A pool of worker processes that run registered verifiers under a hard per-item deadline.

math-verify bounds its own work with ``signal.alarm``, which only works in a main thread
and cannot interrupt long C-level arithmetic (``10^{10^{10^{10}}}``). Each worker here is
a separate single-threaded process, so the alarms work; the parent additionally enforces
a wall-clock deadline per item and, when it passes, kills that worker, records the item
as ``timeout`` and starts a replacement. A worker that dies (out of memory, crash) costs
one ``verifier_error`` verdict, never the pool.

Workers are fresh interpreters started with :mod:`subprocess` (see :class:`_Worker`).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from tracemill.pipelines.verify.registry import Verdict

log = logging.getLogger(__name__)

DEFAULT_DEADLINE_S = 10.0
"""Wall-clock seconds one item may take in a worker before it is killed."""
QUEUED = 2
"""Items sent ahead to each worker, so it starts the next one without waiting for the parent
(a math item takes milliseconds: with a round trip per item, 3,000 quick items ran at 2,670
items/s, queued ahead at 3,670, where parent and worker have cores of their own). The
deadline still counts from when an item starts running."""
POOL_PROBLEM_COLUMNS = (
    "problem_id",
    "domain",
    "task",
    "question",
    "answer",
    "verifier",
    "verifier_spec",
)
"""Problem columns sent to workers (the rest of a row is not needed to verify)."""


@dataclass(frozen=True)
class PoolItem:
    """One verification job: verifier name, problem row and response text."""

    verifier: str
    problem: Mapping[str, Any]
    response: str


@dataclass(frozen=True)
class PoolResult:
    """A verdict and the wall-clock seconds it took (including a deadline kill)."""

    verdict: Verdict
    latency_s: float


class _Worker:
    """One worker: a fresh interpreter and two pipes.

    A plain subprocess running :mod:`tracemill.pipelines.verify._worker` rather than
    ``multiprocessing``: spawn would re-import the caller's ``__main__`` (breaking
    scripts without a main guard), fork would copy the parent's threads.
    """

    def __init__(self, warm: tuple[str, ...], memory_mb: int | None) -> None:
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        env = dict(os.environ)
        paths = [p for p in sys.path if p and os.path.isdir(p)]
        env["PYTHONPATH"] = os.pathsep.join(paths)
        cmd = [
            sys.executable,
            "-m",
            "tracemill.pipelines.verify._worker",
            str(p2c_r),
            str(c2p_w),
            ",".join(warm),
            str(memory_mb or 0),
        ]
        try:
            self.proc = subprocess.Popen(
                cmd, pass_fds=(p2c_r, c2p_w), env=env, stdin=subprocess.DEVNULL, close_fds=True
            )
        finally:
            os.close(p2c_r)
            os.close(c2p_w)
        self.sender = Connection(p2c_w, readable=False)
        self.conn = Connection(c2p_r, writable=False)
        self.started = time.monotonic()
        self.ready = False
        self.jobs: deque[int] = deque()
        """Items sent and not yet answered, in order: the first is the one running."""
        self.job_start = 0.0
        """When the running item started (sent to an idle worker, or its predecessor answered)."""

    def _close(self) -> None:
        for c in (self.sender, self.conn):
            try:
                c.close()
            except OSError:
                pass

    def kill(self) -> None:
        try:
            self.proc.kill()
            self.proc.wait(5)
        finally:
            self._close()

    def stop(self) -> None:
        try:
            self.sender.send(None)
        except (OSError, ValueError):
            pass
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self._close()


class VerifierPool:
    """Worker processes running registered verifiers with a parent-enforced deadline.

    Use as a context manager; :meth:`verify` may be called many times on one pool.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        deadline_s: float = DEFAULT_DEADLINE_S,
        warm: Sequence[str] = ("math",),
        memory_mb: int | None = 4096,
        start_timeout_s: float = 120.0,
        queued: int = QUEUED,
    ) -> None:
        if deadline_s <= 0:
            raise ValueError("deadline_s must be positive")
        self.size = max(1, workers or os.cpu_count() or 1)
        self.deadline_s = deadline_s
        self.warm = tuple(warm)
        self.memory_mb = memory_mb
        self.start_timeout_s = start_timeout_s
        self.queued = max(1, queued)
        self._workers: list[_Worker] = []
        self.kills = 0
        """Workers killed for passing the deadline (or dying) since the pool started."""

    def __enter__(self) -> VerifierPool:
        self._fill()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fill(self) -> None:
        while len(self._workers) < self.size:
            self._workers.append(_Worker(self.warm, self.memory_mb))

    def close(self) -> None:
        """Stop every worker."""
        workers, self._workers = self._workers, []
        for w in workers:
            w.stop()

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._workers.remove(worker)
        self.kills += 1
        self._fill()

    def verify(
        self,
        items: Iterable[PoolItem],
        progress: Callable[[int], None] | None = None,
    ) -> list[PoolResult]:
        """Verify `items` in the workers; results come back in input order.

        ``progress(n_done)`` is called with the running count of finished items.
        """
        jobs = list(items)
        results: list[PoolResult | None] = [None] * len(jobs)
        pending = deque(range(len(jobs)))
        done = 0
        self._fill()

        def finish(index: int, verdict: Verdict, latency: float) -> None:
            nonlocal done
            results[index] = PoolResult(verdict, latency)
            done += 1
            if progress is not None:
                progress(done)

        def requeue(w: _Worker) -> None:
            """Items sent to `w` that it had not started go back to the front of the queue."""
            pending.extendleft(reversed(w.jobs))
            w.jobs.clear()

        while pending or any(w.jobs for w in self._workers):
            for w in list(self._workers):
                while w.ready and pending and len(w.jobs) < self.queued:
                    index = pending.popleft()
                    job = jobs[index]
                    problem = {k: job.problem.get(k) for k in POOL_PROBLEM_COLUMNS}
                    try:
                        w.sender.send((index, job.verifier, problem, job.response))
                    except (OSError, ValueError):
                        pending.appendleft(index)
                        requeue(w)
                        self._replace(w)
                        break
                    if not w.jobs:
                        w.job_start = time.monotonic()
                    w.jobs.append(index)
            now = time.monotonic()
            timeouts = [w.job_start + self.deadline_s - now for w in self._workers if w.jobs]
            starting = [w for w in self._workers if not w.ready]
            for w in starting:
                if now - w.started > self.start_timeout_s:
                    self.close()
                    raise RuntimeError(
                        f"verifier worker did not start within {self.start_timeout_s:.0f}s"
                    )
            wait_s = max(0.0, min(timeouts)) if timeouts else 1.0
            ready = wait([w.conn for w in self._workers], timeout=wait_s)
            for conn in ready:
                w = next((x for x in self._workers if x.conn is conn), None)
                if w is None:
                    continue
                try:
                    while True:  # every answer already in the pipe
                        msg = conn.recv()
                        if msg[0] == "ready":
                            w.ready = True
                        else:
                            index, verdict, _elapsed = msg
                            if w.jobs and w.jobs[0] == index:
                                w.jobs.popleft()
                                finish(index, verdict, time.monotonic() - w.job_start)
                                w.job_start = time.monotonic()  # the next one starts now
                        if not conn.poll():
                            break
                except (EOFError, OSError):
                    self._on_death(w, finish, requeue)
                    continue
            now = time.monotonic()
            for w in list(self._workers):
                if w.jobs and now - w.job_start > self.deadline_s:
                    index = w.jobs.popleft()
                    log.warning(
                        "verifier item %d passed the %.1fs deadline", index, self.deadline_s
                    )
                    detail = {"error": f"deadline of {self.deadline_s:g}s passed; worker killed"}
                    finish(index, Verdict(False, 0.0, "timeout", detail), now - w.job_start)
                    requeue(w)
                    self._replace(w)
        return [r for r in results if r is not None]

    def _on_death(
        self,
        w: _Worker,
        finish: Callable[[int, Verdict, float], None],
        requeue: Callable[[_Worker], None],
    ) -> None:
        code = w.proc.poll()
        if w.jobs:  # the running item killed it; the ones queued behind it run elsewhere
            detail = {"error": f"verifier worker died (exit code {code})"}
            finish(w.jobs.popleft(), Verdict(False, 0.0, "verifier_error", detail), 0.0)
            requeue(w)
        elif not w.ready:
            self.close()
            raise RuntimeError(f"verifier worker failed to start (exit code {code})")
        self._replace(w)
