"""Adaptive vs fixed k on simulated students with known pass rates.

Each problem has a true pass rate; sample ``i`` of problem ``p`` passes with that
probability, decided by a hash of (seed, p, i), so the adaptive run sees a prefix of the
fixed-k run's samples, exactly as both would on a catalog (same sample ids). Printed per
population: samples drawn by each, the ratio, the share of problems whose adaptive level
equals the fixed-k level (target: >= 40 % fewer samples at >= 95 % agreement), and each
method's agreement with the true level.

Populations:
- ``u-shaped``: 30 % never solved, 25 % always solved, 45 % uniform in (0, 1) — the
  shape student pass rates over a mixed problem bank usually have;
- ``beta``: pass rates from Beta(0.3, 0.3) (U-shaped without exact 0 / 1);
- ``uniform``: pass rates uniform in (0, 1) (the worst case for adaptive stopping with
  ten narrow bins).

    .venv/bin/python benchmarks/grade.py [--problems 5000] [--k 64] [--population all]
"""

from __future__ import annotations

import argparse
import random
import time

from pipelines.grade import DEFAULT_BINS, GradingMethod, bernoulli_sampler, grade_problems

POPULATIONS = ("u-shaped", "beta", "uniform")


def population(kind: str, n: int, seed: int) -> dict[str, float]:
    """``n`` problem ids with their true pass rates."""
    rng = random.Random(f"{kind}:{seed}")
    rates = {}
    for i in range(n):
        if kind == "u-shaped":
            u = rng.random()
            p = 0.0 if u < 0.30 else 1.0 if u < 0.55 else rng.random()
        elif kind == "beta":
            p = rng.betavariate(0.3, 0.3)
        elif kind == "uniform":
            p = rng.random()
        else:
            raise ValueError(f"unknown population {kind!r}")
        rates[f"{kind}-{i:06d}"] = p
    return rates


def compare(kind: str, args: argparse.Namespace) -> dict[str, float]:
    """Run fixed and adaptive k on one population; return the figures."""
    rates = population(kind, args.problems, args.seed)
    ids = list(rates)
    sampler = bernoulli_sampler(rates, seed=args.seed)
    t0 = time.perf_counter()
    fixed = grade_problems(ids, sampler, GradingMethod("fixed_k", k=args.k))
    t1 = time.perf_counter()
    adaptive_method = GradingMethod(
        "adaptive_k",
        k=args.k,
        first_round=args.first_round,
        round_size=args.round_size,
        stop_confidence=args.stop_confidence,
    )
    adaptive = grade_problems(ids, sampler, adaptive_method)
    t2 = time.perf_counter()
    pairs = list(zip(fixed.results, adaptive.results, strict=True))
    agree = sum(f.level == a.level for f, a in pairs) / len(pairs)
    truth = {pid: DEFAULT_BINS.level(p) for pid, p in rates.items()}
    fixed_truth = sum(truth[f.problem_id] == f.level for f, _ in pairs) / len(pairs)
    adaptive_truth = sum(truth[a.problem_id] == a.level for _, a in pairs) / len(pairs)
    return {
        "fixed": fixed.samples_drawn,
        "adaptive": adaptive.samples_drawn,
        "ratio": adaptive.samples_drawn / fixed.samples_drawn,
        "agree": agree,
        "fixed_truth": fixed_truth,
        "adaptive_truth": adaptive_truth,
        "rounds": adaptive.rounds,
        "fixed_s": t1 - t0,
        "adaptive_s": t2 - t1,
    }


def main() -> None:
    """Print adaptive vs fixed k on each population."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=5000)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--first-round", type=int, default=4)
    ap.add_argument("--round-size", type=int, default=4)
    ap.add_argument("--stop-confidence", type=float, default=0.8)
    ap.add_argument("--population", choices=(*POPULATIONS, "all"), default="all")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    kinds = POPULATIONS if args.population == "all" else (args.population,)
    print(
        f"{args.problems} problems, k = {args.k}, rounds {args.first_round}+{args.round_size}, "
        f"stop confidence {args.stop_confidence}, default bins (10 levels of width 0.1)"
    )
    header = (
        f"{'population':<10} {'fixed k':>9} {'adaptive':>9} {'ratio':>6} {'fewer':>6} "
        f"{'agree':>6} {'truth fixed':>11} {'truth adapt':>11} {'target':>7}"
    )
    print(header)
    for kind in kinds:
        r = compare(kind, args)
        ok = (1 - r["ratio"]) >= 0.40 and r["agree"] >= 0.95
        print(
            f"{kind:<10} {r['fixed']:>9,} {r['adaptive']:>9,} {r['ratio']:>6.3f} "
            f"{1 - r['ratio']:>6.1%} {r['agree']:>6.1%} {r['fixed_truth']:>11.1%} "
            f"{r['adaptive_truth']:>11.1%} {'met' if ok else 'missed':>7}"
        )


if __name__ == "__main__":
    main()
