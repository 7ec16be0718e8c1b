"""Realistic answer styles accepted, per synthetic family (and corrupted answers rejected).

    python benchmarks/answer_styles.py [--families sat,sudoku] [--levels 1,5,10]
                                       [--items 2] [--seed 7]

For every family, level and item, the reference answer is written in each realistic
style of ``tests/pipelines/answer_styles.py`` (R1 tags and boxed arrays, GPT-4o tables
and bold labels, fences with prose after them, Python lists, bare final lines, …) and a
wrong answer of the same shape in the same styles. Prints, per family: responses, the
share accepted by the family's verifier, the share a baseline accepts in the same run —
the pre-layer reading (``extract_answer``: tag, box, final fence, "answer:" line) with
the same parsers and rules — and how many corrupted answers were accepted (must be 0).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType

from tracemill.pipelines.extract import extract_answer
from tracemill.pipelines.synth import generate_problems, get_task, parse_levels, task_names
from tracemill.pipelines.verify import get_verifier

STYLES_FILE = Path(__file__).resolve().parents[1] / "tests" / "pipelines" / "answer_styles.py"


def load_styles() -> ModuleType:
    """The style module of the test suite (test data, loaded by path)."""
    spec = importlib.util.spec_from_file_location("answer_styles", STYLES_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


def main() -> None:
    """Run every requested family and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", default="", help="comma-separated (default: all)")
    parser.add_argument("--levels", default="1,5,10")
    parser.add_argument("--items", type=int, default=2, help="items per family and level")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    styles = load_styles()
    families = [f for f in args.families.split(",") if f] or task_names()
    levels = parse_levels(args.levels)
    header = (
        f"{'family':22} {'styles':>6} {'responses':>9} {'accepted':>9} {'baseline':>9} "
        f"{'corrupted ok':>12}"
    )
    print(header)
    print("-" * len(header))
    totals = [0, 0, 0, 0, 0]
    elapsed = 0.0
    for family in families:
        verify = get_verifier(family)
        n = ok = base = bad = bad_n = 0
        names: set[str] = set()
        for level in levels:
            rows = generate_problems(family, args.items, level=level, seed=args.seed).to_pylist()
            for row in rows:
                for name, response in styles.styles(family, row):
                    names.add(name)
                    start = time.perf_counter()
                    ok += verify(row, response).passed
                    elapsed += time.perf_counter() - start
                    base += baseline_passes(family, row, response)
                    n += 1
                for _, response in styles.corrupted(family, row):
                    bad += verify(row, response).passed
                    bad_n += 1
        totals = [
            totals[0] + n,
            totals[1] + ok,
            totals[2] + base,
            totals[3] + bad,
            totals[4] + bad_n,
        ]
        share = f"{ok / n:9.1%} {base / n:9.1%}"
        print(f"{family:22} {len(names):6d} {n:9d} {share} {bad:5d} / {bad_n:<5d}")
    n, ok, base, bad, bad_n = totals
    print("-" * len(header))
    print(f"{'all':22} {'':6} {n:9d} {ok / n:9.1%} {base / n:9.1%} {bad:5d} / {bad_n:<5d}")
    print(f"mean verification time {1000 * elapsed / max(n, 1):.2f} ms per response")


if __name__ == "__main__":
    main()
