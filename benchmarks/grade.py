"""Adaptive vs fixed k: simulated students with known pass rates, and a tiny local model.

Each problem has a true pass rate; sample ``i`` of problem ``p`` passes with that
probability, decided by a hash of (seed, p, i), so the adaptive run sees a prefix of the
fixed-k run's samples, exactly as both would on a catalog (same sample ids). Printed per
population: samples drawn by each, the ratio, the share of problems whose adaptive level
equals the fixed-k level (target: >= 40 % fewer samples at >= 95 % agreement), and each
method's agreement with the true level.

Under each row, ``oracle`` stops the same sample streams by the same rule at the same
confidence, but knowing every problem's true pass rate instead of estimating it: what a
perfect prior would save. Where even the oracle misses the target, no stopping rule
meets it on that population with these bins and this k (the remaining samples can move
a fixed-k estimate across a 0.1-wide bin however well the rate is known).

Populations:
- ``u-shaped``: 30 % never solved, 25 % always solved, 45 % uniform in (0, 1) — the
  shape student pass rates over a mixed problem bank usually have;
- ``beta``: pass rates from Beta(0.3, 0.3) (U-shaped without exact 0 / 1);
- ``uniform``: pass rates uniform in (0, 1) (the worst case for adaptive stopping with
  ten narrow bins).

Tiny local model (``--tiny-problems``, 0 skips it): the full ``grade`` path —
``tracemill.flows.grade.grade`` on a fresh catalog with the ``transformers`` backend on CPU —
with :mod:`tracemill.pipelines.grade.guesser`, a random 2-layer Llama built on the spot that
answers "guess the digit …" problems with one digit (checked by the ``exact``
verifier), at temperature 1. Its true pass rate per problem comes from its logits
(U-shaped with init std 0.5, near uniform with 0.2; ``--tiny-scale`` lists the stds,
one row each). The adaptive run goes
first and generates what it draws; the fixed-k run then reuses those samples (same
sample ids) and generates the rest, so both grade the same sample streams, as on any
catalog. Printed: samples drawn by each, ratio, level agreement, agreement with the
true level, and the wall time of each run.

    .venv/bin/python benchmarks/grade.py [--problems 5000] [--k 64] [--population all]
        [--tiny-problems 1000] [--tiny-scale 0.5,0.2] [--threads 2]
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracemill.pipelines.grade import (  # noqa: E402
    DEFAULT_BINS,
    GradingMethod,
    bernoulli_sampler,
    grade_problems,
)

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
        stop_rule=args.stop_rule,
    )
    adaptive = grade_problems(ids, sampler, adaptive_method)
    t2 = time.perf_counter()
    pairs = list(zip(fixed.results, adaptive.results, strict=True))
    agree = sum(f.level == a.level for f, a in pairs) / len(pairs)
    truth = {pid: DEFAULT_BINS.level(p) for pid, p in rates.items()}
    fixed_truth = sum(truth[f.problem_id] == f.level for f, _ in pairs) / len(pairs)
    adaptive_truth = sum(truth[a.problem_id] == a.level for _, a in pairs) / len(pairs)
    return {
        "fixed_levels": {f.problem_id: f.level for f in fixed.results},
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


def oracle(kind: str, args: argparse.Namespace, fixed_levels: dict[str, int]) -> dict:
    """Adaptive k stopped by an oracle that knows each true rate (same rounds and samples)."""
    import numpy as np

    rates = population(kind, args.problems, args.seed)
    ids = list(rates)
    sampler = bernoulli_sampler(rates, seed=args.seed)
    index = {pid: i for i, pid in enumerate(ids)}
    passed = np.zeros((len(ids), args.k), dtype=int)
    for o in sampler({pid: range(args.k) for pid in ids}):
        passed[index[o.problem_id], o.sample_index] = int(o.passed)
    return oracle_stream(ids, passed, rates, fixed_levels, args)


def oracle_stream(
    ids: list[str],
    passed: Any,
    rates: dict[str, float],
    fixed_levels: dict[str, int],
    args: argparse.Namespace,
) -> dict:
    """The oracle over known sample outcomes ``passed[problem, index]`` (0/1)."""
    import numpy as np
    from tracemill.pipelines.grade.stopping import oracle_agreement

    cum = np.asarray(passed).cumsum(axis=1)
    p = np.array([rates[pid] for pid in ids])
    confidence = args.stop_confidence or 0.95
    stop_n = np.full(len(ids), args.k)
    active = np.arange(len(ids))
    n = min(args.first_round, args.k)
    while active.size and n < args.k:
        m = cum[active, n - 1]
        prob = oracle_agreement(np.full(active.size, n), m, args.k, DEFAULT_BINS, p[active])
        stop = prob >= confidence
        stop_n[active[stop]] = n
        active = active[~stop]
        n = min(n + args.round_size, args.k)
    levels = [DEFAULT_BINS.level(cum[i, s - 1] / s) for i, s in enumerate(stop_n)]
    agree = sum(levels[i] == fixed_levels[pid] for i, pid in enumerate(ids)) / len(ids)
    truth = sum(levels[i] == DEFAULT_BINS.level(p[i]) for i in range(len(ids))) / len(ids)
    fixed_truth = sum(
        fixed_levels[pid] == DEFAULT_BINS.level(p[i]) for i, pid in enumerate(ids)
    ) / len(ids)
    drawn = int(stop_n.sum())
    fixed = len(ids) * args.k
    return {
        "fixed": fixed,
        "adaptive": drawn,
        "ratio": drawn / fixed,
        "agree": agree,
        "fixed_truth": fixed_truth,
        "adaptive_truth": truth,
    }


def compare_tiny(args: argparse.Namespace, scale: float) -> dict[str, float]:
    """Adaptive then fixed k through ``tracemill.flows.grade.grade`` on the tiny guessing model."""
    import torch
    from tracemill.flows.grade import GradeStage, grade
    from tracemill.pipelines.grade.guesser import build_guesser, guess_problems, true_pass_rates
    from tracemill.stores.catalog import open_catalog
    from transformers.utils import logging as hf_logging

    torch.set_num_threads(args.threads)
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    with tempfile.TemporaryDirectory(prefix="tm-grade-bench-") as tmp:
        t0 = time.perf_counter()
        model_dir = build_guesser(Path(tmp) / "guesser", scale=scale, seed=args.seed)
        problems = guess_problems(args.tiny_problems, seed=args.seed)
        truth_rates = true_pass_rates(model_dir, problems)
        build_s = time.perf_counter() - t0
        ids = [p["problem_id"] for p in problems]
        common = {
            "model": "tiny-guesser",
            "backend": "transformers",
            "backend_options": {"path": str(model_dir), "device": "cpu", "batch_size": 256},
            "k": args.k,
            "first_round": args.first_round,
            "round_size": args.round_size,
            "stop_confidence": args.stop_confidence,
            "stop_rule": args.stop_rule,
            "temperature": 1.0,
            "top_p": 1.0,
            "max_tokens": 1,
            "seed": args.seed,
            "plots": False,
            "batch_problems": max(1, len(problems)),
        }
        with open_catalog(Path(tmp) / "catalog") as store:
            store.append({"problems": problems})
            table = store.read("problems")
            runs = {}
            for method in ("adaptive_k", "fixed_k"):
                t = time.perf_counter()
                cfg = GradeStage(method=method, **common)
                out = grade(cfg, table, store=store, run_id=method)
                runs[method] = (out, time.perf_counter() - t)
            outcomes = store.sql(
                "SELECT s.problem_id, s.sample_index, v.passed FROM samples s "
                "JOIN verdicts v USING (sample_id) WHERE s.role = 'student'"
            ).to_pylist()
    (adaptive, adaptive_s), (fixed, fixed_s) = runs["adaptive_k"], runs["fixed_k"]
    level = {
        m: dict(
            zip(
                out.grades.column("problem_id").to_pylist(),
                out.grades.column("level").to_pylist(),
                strict=True,
            )
        )
        for m, (out, _) in runs.items()
    }
    truth = {pid: DEFAULT_BINS.level(p) for pid, p in truth_rates.items()}
    n = len(ids)
    import numpy as np

    passed = np.zeros((n, args.k), dtype=int)
    row_of = {pid: i for i, pid in enumerate(ids)}
    for o in outcomes:
        passed[row_of[o["problem_id"]], o["sample_index"]] = int(o["passed"])
    oracle_row = oracle_stream(ids, passed, truth_rates, level["fixed_k"], args)
    a_drawn = adaptive.counters["samples_drawn"]
    f_drawn = fixed.counters["samples_drawn"]
    return {
        "fixed": f_drawn,
        "adaptive": a_drawn,
        "ratio": a_drawn / f_drawn,
        "agree": sum(level["adaptive_k"][p] == level["fixed_k"][p] for p in ids) / n,
        "fixed_truth": sum(level["fixed_k"][p] == truth[p] for p in ids) / n,
        "adaptive_truth": sum(level["adaptive_k"][p] == truth[p] for p in ids) / n,
        "adaptive_generated": adaptive.counters["samples_generated"],
        "fixed_generated": fixed.counters["samples_generated"],
        "fixed_reused": fixed.counters["samples_reused"],
        "adaptive_s": adaptive_s,
        "fixed_s": fixed_s,
        "build_s": build_s,
        "true_levels": len(set(truth.values())),
        "oracle": oracle_row,
    }


def _row(name: str, r: dict[str, float]) -> str:
    ok = (1 - r["ratio"]) >= 0.40 and r["agree"] >= 0.95
    return (
        f"{name:<10} {r['fixed']:>9,} {r['adaptive']:>9,} {r['ratio']:>6.3f} "
        f"{1 - r['ratio']:>6.1%} {r['agree']:>6.1%} {r['fixed_truth']:>11.1%} "
        f"{r['adaptive_truth']:>11.1%} {'met' if ok else 'missed':>7}"
    )


def main() -> None:
    """Print adaptive vs fixed k on each population."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=5000)
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--first-round", type=int, default=4)
    ap.add_argument("--round-size", type=int, default=4)
    ap.add_argument("--stop-rule", choices=("predictive", "interval"), default="predictive")
    ap.add_argument("--stop-confidence", type=float, default=None, help="default per rule")
    ap.add_argument("--population", choices=(*POPULATIONS, "all"), default="all")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tiny-problems", type=int, default=1000, help="0 skips the tiny model")
    ap.add_argument("--tiny-scale", default="0.5,0.2", help="guesser init stds, one row each")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (tiny model)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    kinds = POPULATIONS if args.population == "all" else (args.population,)
    print(
        f"{args.problems} problems, k = {args.k}, rounds {args.first_round}+{args.round_size}, "
        f"stop rule {args.stop_rule}, stop confidence {args.stop_confidence or 'default'}, "
        "default bins (10 levels of width 0.1)"
    )
    header = (
        f"{'population':<10} {'fixed k':>9} {'adaptive':>9} {'ratio':>6} {'fewer':>6} "
        f"{'agree':>6} {'truth fixed':>11} {'truth adapt':>11} {'target':>7}"
    )
    print(header)
    for kind in kinds:
        r = compare(kind, args)
        print(_row(kind, r), flush=True)
        if args.stop_rule == "predictive":
            print(_row("  oracle", oracle(kind, args, r["fixed_levels"])), flush=True)
    scales = [float(x) for x in args.tiny_scale.split(",") if x] if args.tiny_problems else []
    notes = []
    for scale in scales:
        r = compare_tiny(args, scale)
        print(_row(f"tiny s={scale:g}", r), flush=True)
        if args.stop_rule == "predictive":
            print(_row("  oracle", r["oracle"]), flush=True)
        notes.append(
            f"  s={scale:g}: {r['true_levels']} distinct true levels; adaptive "
            f"{r['adaptive_s']:.1f}s, generated {r['adaptive_generated']:,}; fixed k "
            f"{r['fixed_s']:.1f}s, reused {r['fixed_reused']:,} and generated "
            f"{r['fixed_generated']:,}"
        )
    if notes:
        print(
            f"\ntiny s=…: {args.tiny_problems} 'guess the digit' problems graded through "
            "flows.grade.grade by a random 2-layer Llama (init std s) on the transformers "
            f"backend, CPU, {args.threads} threads, temperature 1, max_tokens 1; truth from "
            "its logits"
        )
        print("\n".join(notes))


if __name__ == "__main__":
    main()
