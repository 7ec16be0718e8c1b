"""Math verification throughput: the worker pool versus a sequential in-process loop.

    python benchmarks/verify.py [--items 400] [--workers N]

Both paths verify the same items in the same run; prints items/s for each and the ratio
(pool start-up is reported separately, not counted in its throughput).
"""

from __future__ import annotations

import argparse
import os
import random
import time

from pipelines.verify import get_verifier
from pipelines.verify.pool import PoolItem, VerifierPool

TEMPLATES = [
    ("\\frac{{{a}}}{{{b}}}", "\\boxed{{{a}/{b}}}"),
    ("{a}", "The final answer is {a}."),
    ("({a},{b}]", "\\boxed{{({a}, {b}]}}"),
    ("\\{{{a},{b}\\}}", "\\boxed{{\\{{{b}, {a}\\}}}}"),
    ("x^2+{a}x", "\\boxed{{x(x+{a})}}"),
    ("{a}\\%", "\\boxed{{{a}\\%}}"),
    ("\\sqrt{{{a}}}", "\\boxed{{{a}^{{1/2}}}}"),
    (
        "\\begin{{pmatrix}}{a}&{b}\\end{{pmatrix}}",
        "\\boxed{{\\begin{{pmatrix}}{a}&{b}\\end{{pmatrix}}}}",
    ),
]


def make_items(n: int, seed: int = 0) -> list[PoolItem]:
    """`n` reference/response pairs; about a quarter are wrong."""
    rng = random.Random(seed)
    items = []
    for i in range(n):
        ref, resp = TEMPLATES[i % len(TEMPLATES)]
        a, b = rng.randint(2, 99), rng.randint(100, 199)
        wrong = rng.random() < 0.25
        items.append(
            PoolItem(
                "math",
                {"answer": ref.format(a=a, b=b)},
                "<think>work</think> " + resp.format(a=a + (1 if wrong else 0), b=b),
            )
        )
    return items


def main() -> None:
    """Run both paths and print the ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    items = make_items(args.items)
    verifier = get_verifier("math")
    verifier({"answer": "1"}, "\\boxed{1}")  # warm imports for the sequential path

    start = time.perf_counter()
    seq = [verifier(it.problem, it.response) for it in items]
    seq_s = time.perf_counter() - start

    t0 = time.perf_counter()
    with VerifierPool(args.workers) as pool:
        pool.verify(items[:1])  # waits until workers are up
        startup_s = time.perf_counter() - t0
        start = time.perf_counter()
        pooled = pool.verify(items)
        pool_s = time.perf_counter() - start

    agree = sum(a.passed == b.verdict.passed for a, b in zip(seq, pooled, strict=True))
    print(f"items: {len(items)}, workers: {args.workers}, verdicts agree: {agree}/{len(items)}")
    print(f"sequential in-process: {len(items) / seq_s:8.1f} items/s ({seq_s:.2f} s)")
    print(
        f"process pool:          {len(items) / pool_s:8.1f} items/s ({pool_s:.2f} s; "
        f"start-up {startup_s:.2f} s not counted)"
    )
    print(f"ratio pool / sequential: {seq_s / pool_s:.2f}x")


if __name__ == "__main__":
    main()
