"""Every reasoning-gym family end to end: synth → distill + verify → calibrate.

For each registered ``rg:`` family (or those given with ``--families``), in a throwaway
catalog: synthesize items at the chosen levels, sample a teacher and verify its answers
as they are committed, then calibrate a student (measured pass rate per level).
Without ``--model`` both are an oracle that answers right up to ``--knows`` (so a
working family reads pass rate 1 at those levels and 0 above); with ``--model`` the
student is a real model (``--backend``), whose pass rates are then the measurement.

Prints one line per family (synth items/s, teacher accept rate, calibration per level)
and how many families worked end to end::

    .venv/bin/python benchmarks/rg_families.py --levels 1,5,10 --per-level 2
    .venv/bin/python benchmarks/rg_families.py --families rg:chain_sum --model ./tiny \\
        --backend transformers --per-level 20 --k 4
"""

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any


def oracle(truth: dict[str, tuple[str, int]], up_to: int) -> Callable[[Any, int], str]:
    """A model that answers right up to a level (answers looked up by problem id)."""

    def respond(request: Any, index: int) -> str:
        answer, level = truth[request.problem_id]
        return f"<answer>{answer if level <= up_to else 'no idea'}</answer>"

    return respond


def run_family(family: str, args: argparse.Namespace, root: Path) -> tuple[bool, float, Any, dict]:
    """One family end to end in its own catalog under ``root``."""
    from tracemill.flows.distill import DistillStage, distill
    from tracemill.flows.grade import CalibrateStage, calibrate
    from tracemill.pipelines.generate.fake import FakeBackend
    from tracemill.pipelines.grade import calibration_problems
    from tracemill.stores.catalog import open_catalog

    catalog = root / family.replace(":", "_")
    levels = [int(x) for x in args.levels.split(",")]
    t0 = time.perf_counter()
    problems = calibration_problems(family, levels, args.per_level, seed=args.seed)
    synth_s = time.perf_counter() - t0
    truth = {r["problem_id"]: (r["answer"], r["source_level"]) for r in problems.to_pylist()}
    with open_catalog(catalog) as store:
        store.append({"problems": problems})
    report = distill(
        DistillStage(backend="fake", model="oracle", n=1, max_tokens=100_000),
        catalog=str(catalog),
        backend=FakeBackend("oracle", respond=oracle(truth, 10)),
    )
    if args.model:
        cfg = CalibrateStage(family=family, model=args.model, backend=args.backend,
                             levels=args.levels, per_level=args.per_level, k=args.k,
                             method="fixed_k", max_tokens=args.max_tokens, item_seed=args.seed,
                             plots=False)  # fmt: skip
        factory = None
    else:
        cfg = CalibrateStage(family=family, model="oracle-student", backend="fake",
                             levels=args.levels, per_level=args.per_level, k=args.k,
                             method="fixed_k", max_tokens=100_000, item_seed=args.seed,
                             plots=False)  # fmt: skip

        def factory(kind: str, model: str, options: dict) -> Any:
            return FakeBackend(model, respond=oracle(truth, args.knows))

    with open_catalog(catalog) as store:
        counters, _ = calibrate(cfg, store=store, run_id="bench", report_dir=catalog / "cal",
                                backend_factory=factory)  # fmt: skip
    rates = counters["calibration"]
    ok = report.verified == report.accepted == len(truth)
    if not args.model:
        ok = ok and all(
            rates.get(str(lv)) == (1.0 if lv <= args.knows else 0.0) for lv in levels
        )
    return ok, problems.num_rows / max(synth_s, 1e-9), report, rates


def main() -> int:
    """Run the families; exit 1 unless all worked."""
    from tracemill.pipelines.synth import get_task, task_names

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", default="", help="comma-separated (default: every rg:)")
    parser.add_argument("--levels", default="1,5,10")
    parser.add_argument("--per-level", type=int, default=2)
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--knows", type=int, default=5, help="oracle: levels it answers right")
    parser.add_argument("--model", default=None, help="a real student instead of the oracle")
    parser.add_argument("--backend", default="transformers")
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    families = [f for f in args.families.split(",") if f] or task_names(source="reasoning-gym")
    get_task(families[0])  # import reasoning-gym before timing anything
    worked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for family in families:
            t0 = time.perf_counter()
            try:
                ok, rate, report, rates = run_family(family, args, Path(tmp))
            except Exception:  # noqa: BLE001 - report and go on to the next family
                print(f"{family:<32} FAILED\n{traceback.format_exc(limit=3)}", flush=True)
                continue
            worked += ok
            cal = " ".join(f"L{lv}={r:.2f}" for lv, r in rates.items() if r is not None)
            print(f"{family:<32} {'ok ' if ok else 'BAD'} synth {rate:8.1f} items/s  "
                  f"teacher {report.accepted}/{report.verified} accepted  calibration {cal}  "
                  f"({time.perf_counter() - t0:.1f}s)", flush=True)  # fmt: skip
    print(f"\n{worked} of {len(families)} families worked end to end "
          "(synth → distill + verify → calibrate)")  # fmt: skip
    return 0 if worked == len(families) else 1


if __name__ == "__main__":
    sys.exit(main())
