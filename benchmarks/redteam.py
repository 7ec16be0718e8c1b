"""Red-team report: how many reward-hacking attempts each verifier resists.

    python benchmarks/redteam.py [--kind code --kind math ...] [--failures] [--json FILE]
                                 [--strict]

Runs every case of ``tests/redteam/cases_*.py`` (math, code, rules, ...: whatever files
exist) through ``verify_one``, the judge cases of ``tests/redteam/judge_cases.py``
through the ``judge`` verifier asking the scripted gullible judge of
``tests/redteam/judge_model.py``, and the length-reward cases of
``tests/redteam/length_cases.py`` through LASER / LASER-D, then prints per verifier:
attacks tried and resisted (the verdict the case is labelled with; the labelled reason
too where one is given), and honest controls tried and accepted. ``--failures`` lists
every case that did not get its label, ``--json`` writes the per-case results, and
``--strict`` exits 1 when any case did not (for CI).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REDTEAM = ROOT / "tests" / "redteam"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"redteam_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _is_control(case: dict[str, Any]) -> bool:
    return bool(case["passed"])


def _case_sets(kinds: set[str] | None) -> list[tuple[str, list[dict[str, Any]], Any]]:
    """(kind, cases, judge factory or None) of every case file (of ``kinds``, when given)."""
    sets: list[tuple[str, list[dict[str, Any]], Any]] = []
    for path in sorted(REDTEAM.glob("cases_*.py")):
        kind = path.stem.removeprefix("cases_")
        if not kinds or kind in kinds:
            sets.append((kind, _load(path).CASES, None))
    if (REDTEAM / "judge_cases.py").exists() and (not kinds or "judge" in kinds):
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))  # the judge files import tests.redteam.*
        gullible = importlib.import_module("tests.redteam.judge_model").GullibleJudge
        cases = importlib.import_module("tests.redteam.judge_cases").CASES
        sets.append(("judge", cases, lambda case: gullible(keep=case.get("keep", "start"))))
    return sets


def verifier_rows(kinds: set[str] | None) -> list[dict[str, Any]]:
    """One result per verifier case (of ``kinds``, when given)."""
    from tracemill.pipelines.verify import configure_judge, verifier_pool, verify_one

    rows: list[dict[str, Any]] = []
    with verifier_pool(1):
        for kind, cases, judge in _case_sets(kinds):
            for case in cases:
                start = time.monotonic()
                try:
                    if judge is not None:
                        configure_judge(judge(case))
                    _, verdict = verify_one(case["verifier"], case["problem"], case["response"])
                    got, reason = verdict.passed, verdict.reason
                except Exception as e:  # noqa: BLE001 - a crash is a finding, not a stop
                    got, reason = None, f"raised {type(e).__name__}: {e}"[:200]
                finally:
                    if judge is not None:
                        configure_judge(None)
                want_reason = case.get("reason")
                ok = got is case["passed"] and (want_reason is None or reason == want_reason)
                rows.append({
                    "kind": kind, "verifier": case["verifier"], "id": case["id"],
                    "control": _is_control(case), "ok": ok, "want": case["passed"],
                    "want_reason": want_reason, "got": got, "reason": reason,
                    "attack": case["attack"], "seconds": round(time.monotonic() - start, 3),
                })  # fmt: skip
    return rows


def length_rows() -> list[dict[str, Any]]:
    """One result per length-reward case."""
    cases = _load(REDTEAM / "length_cases.py")
    rows = []
    for case in cases.CASES:
        start = time.monotonic()
        try:
            got: Any = cases.run_case(case)
            ok = cases.matches(got, cases.expected(case))
        except Exception as e:  # noqa: BLE001 - a crash is a finding, not a stop
            got, ok = f"raised {type(e).__name__}: {e}"[:200], False
        rows.append({
            "kind": "length", "verifier": case["reward"][0], "id": case["id"],
            "control": bool(case["control"]), "ok": ok, "want": cases.expected(case),
            "want_reason": None, "got": got, "reason": None, "attack": case["attack"],
            "seconds": round(time.monotonic() - start, 3),
        })  # fmt: skip
    return rows


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (kind, verifier): attacks tried/resisted, controls tried/accepted, seconds."""
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"attacks": 0, "resisted": 0, "controls": 0, "accepted": 0, "seconds": 0.0}
    )
    for row in rows:
        g = groups[(row["kind"], row["verifier"])]
        if row["control"]:
            g["controls"] += 1
            g["accepted"] += row["ok"]
        else:
            g["attacks"] += 1
            g["resisted"] += row["ok"]
        g["seconds"] += row["seconds"]
    return [{"kind": k, "verifier": v, **g} for (k, v), g in sorted(groups.items())]


def main(argv: list[str] | None = None) -> int:
    """Run the red-team suite and print the report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--kind", action="append", help="only these kinds (code, math, rules, judge, length)"
    )
    parser.add_argument("--failures", action="store_true", help="list every case that failed")
    parser.add_argument("--json", type=Path, help="write per-case results to this file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any case failed")
    args = parser.parse_args(argv)
    kinds = set(args.kind) if args.kind else None
    start = time.monotonic()
    rows = verifier_rows(kinds - {"length"} if kinds else None) if kinds != {"length"} else []
    if not kinds or "length" in kinds:
        rows += length_rows()
    table = summary(rows)
    print(f"{'kind':<8} {'verifier':<20} {'attacks':>8} {'resisted':>9} {'controls':>9} "
          f"{'accepted':>9} {'seconds':>8}")  # fmt: skip
    for g in table:
        print(f"{g['kind']:<8} {g['verifier']:<20} {g['attacks']:>8} {g['resisted']:>9} "
              f"{g['controls']:>9} {g['accepted']:>9} {g['seconds']:>8.1f}")  # fmt: skip
    attacks = sum(g["attacks"] for g in table)
    resisted = sum(g["resisted"] for g in table)
    controls = sum(g["controls"] for g in table)
    accepted = sum(g["accepted"] for g in table)
    print(f"{'total':<29} {attacks:>8} {resisted:>9} {controls:>9} {accepted:>9} "
          f"{time.monotonic() - start:>8.1f}")  # fmt: skip
    failed = [r for r in rows if not r["ok"]]
    if args.failures and failed:
        print("\nnot as labelled:")
        for r in failed:
            what = "control rejected" if r["control"] else "attack not resisted"
            print(f"  {r['id']}: {what}; want {r['want']} {r['want_reason'] or ''}, got "
                  f"{r['got']} {r['reason'] or ''} ({r['attack']})")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
