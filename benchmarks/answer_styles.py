"""Realistic answer styles accepted, per synthetic family (and corrupted answers rejected).

    python benchmarks/answer_styles.py [--set tuned|heldout-a|heldout-b|heldout-c|real]
                                       [--families sat,sudoku] [--levels 1,5,10]
                                       [--items 2] [--seed 7]

``--set tuned`` (default): for every family, level and item, the reference answer is
written in each style of ``tests/pipelines/answer_styles.py`` (the styles the answer layer
was built with) and a wrong answer of the same shape in the same styles.
``--set heldout-a|b|c``: the same with ``tests/pipelines/heldout_answers.py``,
styles copied from real model outputs (reasoning-gym-eval completions, SynLogic answer
formats, BBH predictions, ZebraLogic JSON), written apart from the tuned styles; its
corrupted answers add hedges, corrections to a wrong answer and shape changes. Batch A
was written first and its failures fixed; batch B was written after those fixes and
measured once before its own; batch C after those (defaults: levels 2,4,7,9, seed 20251,
1 item).
Prints, per family: responses, the share the family's verifier accepts, the share a
baseline accepts in the same run — the pre-layer reading (``extract_answer``: tag, box,
final fence, "answer:" line) with the same parsers and rules — and how many corrupted
answers were accepted (must be 0). For the held-out sets it also prints how often a
self-correction whose last answer is right passes (a policy: two different answers are
``ambiguous``).

``--set real``: real responses (``tests/data/logic_responses/responses.jsonl.gz``:
reasoning-gym-eval completions of 11 chat models and BIG-Bench Hard Codex predictions,
mapped onto our families) against the source's own label: correct responses accepted,
wrong ones accepted, and verdicts of responses the source could not label.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import time
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

from tracemill.pipelines.extract import extract_answer
from tracemill.pipelines.synth import generate_problems, get_task, parse_levels, task_names
from tracemill.pipelines.verify import get_verifier

TESTS = Path(__file__).resolve().parents[1] / "tests"
STYLES_FILE = TESTS / "pipelines" / "answer_styles.py"
HELDOUT_FILE = TESTS / "pipelines" / "heldout_answers.py"
REAL_FILE = TESTS / "data" / "logic_responses" / "responses.jsonl.gz"


def load_module(path: Path, name: str) -> ModuleType:
    """A module of the test suite (test data), loaded by path."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_styles() -> ModuleType:
    """The tuned style module of the test suite."""
    return load_module(STYLES_FILE, "answer_styles")


def baseline_passes(family: str, row: dict, response: str) -> bool:
    """The reading before the shared layer: ``extract_answer`` then the family's rules."""
    answer = extract_answer(response).answer
    if not answer:
        return False
    task = get_task(family)
    try:
        result = task.check(json.loads(row["verifier_spec"]), answer)
    except (ValueError, TypeError, KeyError, IndexError):
        return False
    return (result if isinstance(result, float) else result.score) >= 1.0


def run_styles(args: argparse.Namespace) -> None:
    """Per-family acceptance of a style set (tuned or held-out)."""
    heldout = args.set.startswith("heldout")
    module = load_module(HELDOUT_FILE, "heldout_answers") if heldout else load_styles()
    batch = args.set.rsplit("-", 1)[-1] if heldout else ""

    def styles(family: str, row: dict) -> list:
        return module.styles(family, row, batch) if heldout else module.styles(family, row)

    def corrupted(family: str, row: dict) -> list:
        return module.corrupted(family, row, batch) if heldout else module.corrupted(family, row)

    families = [f for f in args.families.split(",") if f] or task_names(source="tracemill")
    levels = parse_levels(args.levels or ("2,4,7,9" if heldout else "1,5,10"))
    seed = args.seed if args.seed is not None else (20251 if heldout else 7)
    items = args.items or (1 if heldout else 2)
    header = (
        f"{'family':22} {'styles':>6} {'responses':>9} {'accepted':>9} {'baseline':>9} "
        f"{'corrupted ok':>12}" + (f" {'correction ok':>13}" if heldout else "")
    )
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    elapsed = 0.0
    misses: dict[str, Counter[str]] = {}
    for family in families:
        verify = get_verifier(family)
        c: Counter[str] = Counter()
        names: set[str] = set()
        for level in levels:
            for row in generate_problems(family, items, level=level, seed=seed).to_pylist():
                for name, response in styles(family, row):
                    names.add(name)
                    start = time.perf_counter()
                    passed = verify(row, response).passed
                    elapsed += time.perf_counter() - start
                    c["ok"] += passed
                    c["base"] += baseline_passes(family, row, response)
                    c["n"] += 1
                    if not passed:
                        misses.setdefault(family, Counter())[name] += 1
                for _, response in corrupted(family, row):
                    c["bad"] += verify(row, response).passed
                    c["bad_n"] += 1
                if heldout:
                    for _, response in module.policy_cases(family, row):
                        c["policy"] += verify(row, response).passed
                        c["policy_n"] += 1
        totals.update(c)
        line = (
            f"{family:22} {len(names):6d} {c['n']:9d} {c['ok'] / c['n']:9.1%} "
            f"{c['base'] / c['n']:9.1%} {c['bad']:5d} / {c['bad_n']:<5d}"
        )
        if heldout:
            line += f" {c['policy']:6d} / {c['policy_n']:<5d}"
        print(line)
    n = totals["n"]
    print("-" * len(header))
    line = (
        f"{'all':22} {'':6} {n:9d} {totals['ok'] / n:9.1%} {totals['base'] / n:9.1%} "
        f"{totals['bad']:5d} / {totals['bad_n']:<5d}"
    )
    if heldout:
        line += f" {totals['policy']:6d} / {totals['policy_n']:<5d}"
    print(line)
    print(f"mean verification time {1000 * elapsed / max(n, 1):.2f} ms per response")
    for family, styles_missed in sorted(misses.items()):
        print(f"not accepted: {family}: {dict(styles_missed)}")


def run_real(args: argparse.Namespace) -> None:
    """Real responses against their source's label."""
    families = {f for f in args.families.split(",") if f}
    with gzip.open(REAL_FILE, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    groups: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    disagreements: list[tuple[str, str, dict[str, Any]]] = []
    for row in rows:
        if families and row["family"] not in families:
            continue
        verdict = get_verifier(row["family"])(row, row["response"])
        c = groups[(row["family"], row["source"])]
        label = row["source_label"]
        if label is None:
            c[f"unlabelled:{verdict.reason}"] += 1
            continue
        c["right_n" if label else "wrong_n"] += 1
        c["right_ok" if label else "wrong_ok"] += verdict.passed
        if verdict.passed != label:
            disagreements.append((row["id"], verdict.reason, verdict.detail))
    header = (
        f"{'family':20} {'source':20} {'right accepted':>15} {'wrong accepted':>15}  unlabelled"
    )
    print(header)
    print("-" * len(header))
    for (family, source), c in sorted(groups.items()):
        unlabelled = {k.split(":", 1)[1]: v for k, v in c.items() if k.startswith("unlabelled:")}
        print(
            f"{family:20} {source:20} {c['right_ok']:7d} / {c['right_n']:<5d} "
            f"{c['wrong_ok']:7d} / {c['wrong_n']:<5d}  {dict(sorted(unlabelled.items()))}"
        )
    for rid, reason, detail in disagreements:
        print(f"disagrees with source: {rid}: {reason} {json.dumps(detail)[:160]}")


def main() -> None:
    """Run the requested set and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        default="tuned",
        choices=["tuned", "heldout-a", "heldout-b", "heldout-c", "real"],
    )
    parser.add_argument("--families", default="", help="comma-separated (default: the native ones)")
    parser.add_argument("--levels", default="", help="default 1,5,10 (tuned), 2,4,7,9 (held-out)")
    parser.add_argument("--items", type=int, default=0, help="items per family and level")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    if args.set == "real":
        run_real(args)
    else:
        run_styles(args)


if __name__ == "__main__":
    main()
