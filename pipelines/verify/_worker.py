"""Entry point of a :class:`tracemill.pipelines.verify.pool.VerifierPool` worker process.

Run as ``python -m tracemill.pipelines.verify._worker IN_FD OUT_FD WARM MEMORY_MB``: it reads
``(index, verifier, problem, response)`` jobs from IN_FD and writes
``(index, verdict, seconds)`` to OUT_FD (pickled, via multiprocessing connections),
single-threaded so that math-verify's ``signal.alarm`` timeouts work.
"""

from __future__ import annotations

import sys
import time
from multiprocessing.connection import Connection

from tracemill.pipelines.verify.registry import Verdict, get_verifier, run_verifier


def _worker_main(
    conn_in: Connection, conn_out: Connection, warm: tuple[str, ...], memory_mb: int
) -> None:
    """Worker loop: receive ``(index, name, problem, response)``, send back a verdict."""
    if memory_mb:
        try:
            import resource

            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):  # pragma: no cover - platform without the limit
            pass
    for name in warm:
        # one trivial verification imports and warms everything the verifier needs, so
        # start-up cost is not charged to the first item's deadline
        # (not literally equal, so the math verifier's string fast path does not skip its parser)
        run_verifier(get_verifier(name), {"answer": "1"}, "\\boxed{\\frac{2}{2}}")
    conn_out.send(("ready", None, 0.0))
    while True:
        try:
            msg = conn_in.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        index, name, problem, response = msg
        start = time.perf_counter()
        try:
            verdict = run_verifier(get_verifier(name), problem, response)
        except KeyError as e:
            verdict = Verdict(False, 0.0, "verifier_error", {"error": str(e)[:500]})
        elapsed = time.perf_counter() - start
        try:
            conn_out.send((index, verdict, elapsed))
        except Exception as e:  # noqa: BLE001 - an unpicklable detail must not kill the worker
            safe = Verdict(verdict.passed, verdict.score, verdict.reason, {"error": repr(e)[:200]})
            conn_out.send((index, safe, elapsed))


if __name__ == "__main__":
    _worker_main(
        Connection(int(sys.argv[1]), writable=False),
        Connection(int(sys.argv[2]), readable=False),
        tuple(x for x in sys.argv[3].split(",") if x),
        int(sys.argv[4]),
    )
