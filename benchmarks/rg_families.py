"""Every reasoning-gym family end to end: synth → distill + verify → calibrate.

In one throwaway catalog: synthesize items of every registered ``rg:`` family (or those
given with ``--families``) at the chosen levels, sample a teacher on all of them in one
distill run, verifying each answer with its family's verifier as it is committed, then
calibrate a student per family (measured pass rate per level). Without ``--model`` the
teacher and the student are oracles: the teacher answers every item right, the student
right up to level ``--knows`` (so a working family reads pass rate 1 at those levels and 0
above); with ``--model`` the student is a real model (``--backend``), whose pass rates are
then the measurement.

A family counts as working end to end when its items were synthesized, every teacher
sample of it was verified and accepted, and (oracle student) its calibration reads 1
up to ``--knows`` and 0 above. Prints one line per family (synth items/s, teacher
accepted/verified, calibration per level, seconds) and the count::

    .venv/bin/python benchmarks/rg_families.py                       # every rg: family
    .venv/bin/python benchmarks/rg_families.py --families rg:chain_sum,rg:sokoban
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


def synthesize(families: list[str], args: argparse.Namespace) -> tuple[dict, dict, dict]:
    """Each family's calibration items: (tables, items/s, errors) keyed by family."""
    from tracemill.pipelines.grade import calibration_problems

    levels = [int(x) for x in args.levels.split(",")]
    tables, rates, errors = {}, {}, {}
    for family in families:
        t0 = time.perf_counter()
        try:
            table = calibration_problems(family, levels, args.per_level, seed=args.seed)
        except Exception:  # noqa: BLE001 - report and go on to the next family
            errors[family] = "synth: " + traceback.format_exc(limit=3)
            continue
        tables[family] = table
        rates[family] = table.num_rows / max(time.perf_counter() - t0, 1e-9)
    return tables, rates, errors


def teacher_counts(store: Any) -> dict[str, tuple[int, int, int]]:
    """Per family (the problem's verifier): (samples, verified, accepted)."""
    rows = store.sql(
        "SELECT p.verifier AS family, count(DISTINCT s.sample_id) AS samples, "
        "count(DISTINCT v.sample_id) AS verified, "
        "count(DISTINCT CASE WHEN v.passed THEN v.sample_id END) AS accepted "
        "FROM samples s JOIN problems p USING (problem_id) "
        "LEFT JOIN verdicts v ON v.sample_id = s.sample_id AND v.verifier = p.verifier "
        "GROUP BY p.verifier"
    ).to_pylist()
    return {r["family"]: (r["samples"], r["verified"], r["accepted"]) for r in rows}


def calibrate_family(
    family: str, truth: dict, args: argparse.Namespace, store: Any, root: Path
) -> dict[str, Any]:
    """The family's measured pass rate per level (``calibration`` counters)."""
    from tracemill.flows.grade import CalibrateStage, calibrate
    from tracemill.pipelines.generate.fake import FakeBackend

    common = {"family": family, "levels": args.levels, "per_level": args.per_level, "k": args.k,
              "method": "fixed_k", "item_seed": args.seed, "plots": False}  # fmt: skip
    factory = None
    if args.model:
        cfg = CalibrateStage(model=args.model, backend=args.backend, max_tokens=args.max_tokens,
                             **common)  # fmt: skip
    else:
        cfg = CalibrateStage(model="oracle-student", backend="fake", max_tokens=100_000, **common)

        def factory(kind: str, model: str, options: dict) -> Any:
            return FakeBackend(model, respond=oracle(truth, args.knows))

    report_dir = root / "cal" / family.replace(":", "_")
    counters, _ = calibrate(cfg, store=store, run_id="bench", report_dir=report_dir,
                            backend_factory=factory)  # fmt: skip
    return counters["calibration"]


def main() -> int:
    """Run the families; exit 1 unless all worked."""
    import pyarrow as pa
    from tracemill.flows.distill import DistillStage, distill
    from tracemill.pipelines.generate.fake import FakeBackend
    from tracemill.pipelines.synth import get_task, task_names
    from tracemill.stores.catalog import open_catalog

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
    levels = [int(x) for x in args.levels.split(",")]
    start = time.perf_counter()
    tables, rates, errors = synthesize(families, args)
    truth = {
        r["problem_id"]: (r["answer"], r["source_level"])
        for table in tables.values()
        for r in table.select(["problem_id", "answer", "source_level"]).to_pylist()
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        catalog = root / "catalog"
        with open_catalog(catalog) as store:
            if tables:
                store.append({"problems": pa.concat_tables(list(tables.values()))})
        t0 = time.perf_counter()
        distill(
            DistillStage(backend="fake", model="oracle", n=1, max_tokens=100_000),
            catalog=str(catalog),
            backend=FakeBackend("oracle", respond=oracle(truth, 10)),
        )
        distill_s = time.perf_counter() - t0
        worked = 0
        with open_catalog(catalog) as store:
            teacher = teacher_counts(store)
            for family in families:
                if family in errors:
                    print(f"{family:<32} FAILED {errors[family]}", flush=True)
                    continue
                t0 = time.perf_counter()
                try:
                    cal = calibrate_family(family, truth, args, store, root)
                except Exception:  # noqa: BLE001 - report and go on to the next family
                    print(f"{family:<32} FAILED calibrate: {traceback.format_exc(limit=3)}",
                          flush=True)  # fmt: skip
                    continue
                samples, verified, accepted = teacher.get(family, (0, 0, 0))
                # a narrow level can repeat an item (tower_of_hanoi's 3-disk puzzles): the
                # catalog keeps one problem per distinct question, and one sample of each
                distinct = len(set(tables[family].column("problem_id").to_pylist()))
                ok = samples == verified == accepted == distinct
                if not args.model:
                    ok = ok and all(
                        cal.get(str(lv)) == (1.0 if lv <= args.knows else 0.0) for lv in levels
                    )
                worked += ok
                shown = " ".join(f"L{lv}={r:.2f}" for lv, r in cal.items() if r is not None)
                print(f"{family:<32} {'ok ' if ok else 'BAD'} synth {rates[family]:8.1f} items/s  "
                      f"teacher {accepted}/{verified} accepted  calibration {shown}  "
                      f"(calibrate {time.perf_counter() - t0:.1f}s)", flush=True)  # fmt: skip
    print(f"\none distill over {len(truth)} items of {len(tables)} families: {distill_s:.1f}s; "
          f"all in {time.perf_counter() - start:.0f}s")  # fmt: skip
    print(f"{worked} of {len(families)} families worked end to end "
          "(synth → distill + verify → calibrate)")  # fmt: skip
    return 0 if worked == len(families) else 1


if __name__ == "__main__":
    sys.exit(main())
