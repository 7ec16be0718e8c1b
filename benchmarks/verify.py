"""Verification: math agreement with peer graders, extraction time, throughput.

    python benchmarks/verify.py [--items 400] [--workers N] [--fresh-items 24]
                                [--code-programs 8] [--code-cases 10] [--skip-code]
                                [--agreement-only] [--heldout-only]

Agreement: every case of ``tests/pipelines/math_equivalence_cases.py`` (the peer
graders' own test cases and ours) through the math verifier: agreement with each peer's
labels (all, and outside the documented policy choices), false negatives and false
accepts, and every disagreement with its reason. Extraction: seconds to extract the
answer of adversarial responses (unclosed ``\boxed{``, ``<answer>``, ``$``) at growing
sizes; the ratio of times at 4x the size stays near 4 (linear), where the old
extraction was quadratic on unclosed boxes.

Held-out: every case of ``tests/pipelines/math_heldout_cases.py`` (answer pairs from
graders and sources the verifier was never tuned on, labelled by their mathematics)
through the math verifier of the checkout that runs the script and, in the same run,
through plain math-verify (``parse`` then ``verify``, gold first, default settings): false
negatives and false accepts, all cases and outside the documented policies, per batch and
per source, and every miss. Run it with another checkout's interpreter to measure that
checkout on the same cases (``cd ../main && .venv/bin/python
/path/to/this/benchmarks/verify.py --heldout-only``): the cases are loaded by path.

Math: the worker pool versus a sequential in-process loop (all ``--items``) and versus
math-verify in a fresh interpreter per item (``--fresh-items`` of them, run
``--workers`` at a time, as a naive isolating verifier would). Pool start-up is
reported separately, not counted in its throughput.

Code: test cases/s running small stdin/stdout programs in the bubblewrap sandbox (all
cases of a program in one sandbox start, programs ``--workers`` at a time, the way
``verify_table`` runs them) versus a bare ``subprocess.run`` of the same programs per
case with the same parallelism (no isolation at all). Both paths' outputs are compared.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tracemill.pipelines.verify import get_verifier
from tracemill.pipelines.verify.pool import PoolItem, VerifierPool

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

FRESH_SCRIPT = """\
import json, sys
from math_verify import parse, verify
item = json.load(sys.stdin)
gold = parse("$" + item["problem"]["answer"] + "$")
print(json.dumps(bool(verify(gold, parse(item["response"])))))
"""
"""One item in a fresh interpreter: import math-verify, parse, verify (gold first), exit."""

PROGRAMS = [
    ("print(sum(map(int, input().split())))", lambda r: " ".join(map(str, r))),
    ("print(*sorted(map(int, input().split())))", lambda r: " ".join(map(str, r))),
    ("print(input()[::-1])", lambda r: "".join(chr(97 + x % 26) for x in r)),
    (
        "n = int(input())\na, b = 0, 1\nfor _ in range(n):\n    a, b = b, a + b\nprint(a)",
        lambda r: str(r[0] % 90),
    ),  # fmt: skip
    (
        "import sys\nprint(max(map(int, sys.stdin.read().split())))",
        lambda r: "\n".join(map(str, r)),
    ),  # fmt: skip
    ("s = input().split()\nprint(len(set(s)))", lambda r: " ".join(str(x % 7) for x in r)),
    (
        "import math\nprint(math.gcd(*map(int, input().split()[:2])))",
        lambda r: f"{r[0] + 1} {r[1] + 1}",
    ),  # fmt: skip
    ("x = int(input())\nprint('even' if x % 2 == 0 else 'odd')", lambda r: str(r[0])),
]
"""(program, input maker) pairs for the code benchmark."""


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


def fresh_process(item: PoolItem) -> bool:
    """Verify one item in a new interpreter (start-up and imports included)."""
    payload = json.dumps({"problem": dict(item.problem), "response": item.response})
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run(
        [sys.executable, "-c", FRESH_SCRIPT],
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    return bool(json.loads(out.stdout.strip().splitlines()[-1]))


def bench_math(args: argparse.Namespace) -> None:
    """Pool versus sequential in-process versus a fresh process per item."""
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

    fresh_items = items[: args.fresh_items]
    start = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as ex:
        fresh = list(ex.map(fresh_process, fresh_items))
    fresh_s = time.perf_counter() - start

    agree = sum(a.passed == b.verdict.passed for a, b in zip(seq, pooled, strict=True))
    agree_fresh = sum(a == b.passed for a, b in zip(fresh, seq, strict=False))
    pool_rate, seq_rate = len(items) / pool_s, len(items) / seq_s
    fresh_rate = len(fresh_items) / fresh_s if fresh_items else float("nan")
    print(f"== math: {len(items)} items, workers: {args.workers}")
    print(f"verdicts agree: pool {agree}/{len(items)}, fresh {agree_fresh}/{len(fresh_items)}")
    print(f"sequential in-process:  {seq_rate:8.1f} items/s ({seq_s:.2f} s)")
    print(
        f"process pool:           {pool_rate:8.1f} items/s ({pool_s:.2f} s; "
        f"start-up {startup_s:.2f} s not counted)"
    )
    print(
        f"fresh process per item: {fresh_rate:8.1f} items/s "
        f"({len(fresh_items)} items in {fresh_s:.2f} s, {args.workers} at a time)"
    )
    print(f"ratio pool / sequential:    {pool_rate / seq_rate:8.2f}x")
    print(f"ratio pool / fresh process: {pool_rate / fresh_rate:8.2f}x")


def bench_agreement() -> None:
    """Agreement with the peer graders' labels, FN/FA rates, every disagreement."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.pipelines.math_equivalence_cases import OWN_CASES, PEER_CASES
    from tests.pipelines.test_math_equivalence_suite import run_case

    print(f"== math agreement: {len(PEER_CASES)} peer cases, {len(OWN_CASES)} own cases")
    start = time.perf_counter()
    results = [(c, run_case(c)) for c in (*PEER_CASES, *OWN_CASES)]
    elapsed = time.perf_counter() - start
    by_src: dict[str, list[int]] = {}
    disagreements = []
    for case, verdict in results:
        if case.peer is None:
            continue
        row = by_src.setdefault(case.src, [0, 0, 0, 0])
        agree = verdict.passed == case.peer
        policy = (case.why or "").startswith("policy:")
        row[0] += agree
        row[1] += 1
        if not policy:
            row[2] += agree
            row[3] += 1
        if not agree:
            disagreements.append((case, verdict))
    print(f"{'source':16} {'agree (all)':>14} {'agree (outside policy)':>24}")
    totals = [0, 0, 0, 0]
    for src, row in sorted(by_src.items()):
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        print(f"{src:16} {row[0]:>5}/{row[1]:<4} {row[0] / row[1]:5.1%} "
              f"{row[2]:>10}/{row[3]:<4} {row[2] / row[3]:5.1%}")  # fmt: skip
    print(f"{'all peers':16} {totals[0]:>5}/{totals[1]:<4} {totals[0] / totals[1]:5.1%} "
          f"{totals[2]:>10}/{totals[3]:<4} {totals[2] / totals[3]:5.1%}")  # fmt: skip
    # truth: the peer's label, except where our documented policy differs; own labels
    positives = negatives = fn = fa = 0
    for case, verdict in results:
        policy = (case.why or "").startswith("policy:")
        truth = (case.want == "ok") if case.peer is None or policy else case.peer
        positives += truth
        negatives += not truth
        fn += truth and not verdict.passed
        fa += verdict.passed and not truth
    print(f"false negatives: {fn}/{positives} ({fn / positives:.1%}); "
          f"false accepts: {fa}/{negatives} ({fa / negatives:.1%}); {elapsed:.1f} s")  # fmt: skip
    print("disagreements with peer labels:")
    for case, verdict in disagreements:
        print(f"  [{case.src}/{case.test}] ref={case.ref!r:.40} resp={case.resp!r:.50} "
              f"peer={case.peer} ours={verdict.reason}: {case.why}")  # fmt: skip


def _load_heldout() -> Any:
    """The held-out cases module, loaded by path (the running checkout's tracemill stays)."""
    path = Path(__file__).resolve().parents[1] / "tests" / "pipelines" / "math_heldout_cases.py"
    spec = importlib.util.spec_from_file_location("math_heldout_cases", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["math_heldout_cases"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _plain_math_verify(case: Any) -> bool:
    """Plain math-verify: parse (gold wrapped in ``$…$``), then verify, defaults throughout."""
    from math_verify import parse, verify

    def latex(text: str) -> str:
        return text if "$" in text or "\\boxed" in text else f"${text}$"

    try:
        gold = parse(latex(case.ref))
        pred = parse(latex(case.resp) if case.level == "answer" else case.resp)
        return bool(verify(gold, pred))
    except BaseException:  # noqa: BLE001 - math-verify's timeouts derive from BaseException
        return False


def bench_heldout() -> None:
    """FN / FA on the held-out set: this checkout's math verifier and plain math-verify."""
    from tracemill.pipelines.verify.math_answer import (
        check_math,
        compare_answers,
        config_from_spec,
    )

    import tracemill

    cases_module = _load_heldout()
    batches = {"first": cases_module.FIRST_BATCH, "second": cases_module.SECOND_BATCH}
    print(f"== math held-out: {sum(map(len, batches.values()))} cases; tracemill from "
          f"{Path(tracemill.__file__).resolve().parents[1]}")  # fmt: skip
    start = time.perf_counter()
    rows = []
    for batch, cases in batches.items():
        for case in cases:
            cfg = config_from_spec(json.dumps(case.spec) if case.spec else None)
            if case.level == "answer":
                verdict = compare_answers(case.ref, case.resp, cfg, case.question)
            else:
                verdict = check_math(case.ref, case.resp, cfg, case.question)
            rows.append((batch, case, verdict, _plain_math_verify(case)))
    elapsed = time.perf_counter() - start

    def rates(selected: list[Any], which: int) -> str:
        pos = [r for r in selected if r[1].truth]
        neg = [r for r in selected if not r[1].truth]
        fn = sum(not (r[2].passed if which == 0 else r[3]) for r in pos)
        fa = sum(bool(r[2].passed if which == 0 else r[3]) for r in neg)
        return (f"FN {fn:>3}/{len(pos):<3} {fn / max(len(pos), 1):6.1%}  "
                f"FA {fa:>3}/{len(neg):<3} {fa / max(len(neg), 1):6.1%}")  # fmt: skip

    groups: list[tuple[str, list[Any]]] = [("all", rows)]
    groups.append(("outside policy", [r for r in rows if not r[1].policy]))
    groups += [(f"batch {b}", [r for r in rows if r[0] == b]) for b in batches]
    sources = sorted({r[1].src for r in rows})
    groups += [(f"src {s}", [r for r in rows if r[1].src == s]) for s in sources]
    print(f"{'':22} {'tracemill math':34} {'plain math-verify':34}")
    for name, selected in groups:
        print(f"{name:22} {rates(selected, 0):34} {rates(selected, 1):34}")
    print(f"({elapsed:.1f} s for both)")
    print("tracemill misses:")
    for batch, case, verdict, _ in rows:
        if verdict.passed != case.truth:
            kind = "FN" if case.truth else "FA"
            print(f"  {kind} [{batch}/{case.src}] ref={case.ref!r:.50} resp={case.resp!r:.60} "
                  f"-> {verdict.reason} {case.policy or ''}")  # fmt: skip
    print("plain math-verify false accepts:")
    for batch, case, _, plain in rows:
        if plain and not case.truth:
            print(f"  FA [{batch}/{case.src}] ref={case.ref!r:.50} resp={case.resp!r:.60}")


def bench_extraction() -> None:
    """Extraction time on adversarial responses at growing sizes (linear in size)."""
    from tracemill.pipelines.extract import extract_answer
    from tracemill.pipelines.verify.math_extract import find_math_answer

    shapes = {
        "unclosed \\boxed{": "\\boxed{",
        "unclosed <answer>": "<answer>",
        "lone $": "$ x ",
        "unclosed \\(": "\\( 1 ",
        "plain prose": "the value is 12 and then ",
    }
    print("== extraction: seconds for extract_answer + find_math_answer")
    for name, unit in shapes.items():
        times = []
        for size in (250_000, 1_000_000):
            text = unit * (size // len(unit))
            start = time.perf_counter()
            extract_answer(text)
            find_math_answer(text)
            times.append(time.perf_counter() - start)
        print(f"{name:22} 0.25 MB {times[0]:7.3f} s   1 MB {times[1]:7.3f} s   "
              f"ratio x4 size: {times[1] / max(times[0], 1e-9):5.1f}")  # fmt: skip


def make_code_jobs(n_programs: int, n_cases: int, seed: int = 0) -> list[tuple[str, list[str]]]:
    """(program, inputs) jobs: the benchmark programs cycled, random inputs each."""
    rng = random.Random(seed)
    jobs = []
    for i in range(n_programs):
        source, make_input = PROGRAMS[i % len(PROGRAMS)]
        inputs = [make_input([rng.randint(1, 10**6) for _ in range(20)]) for _ in range(n_cases)]
        jobs.append((source, inputs))
    return jobs


def bare_run(python: str, folder: Path, job: tuple[str, list[str]], index: int) -> list[str]:
    """Each case of `job` as a plain ``subprocess.run`` (no isolation); outputs."""
    source, inputs = job
    path = folder / f"prog{index}.py"
    path.write_text(source)
    outs = []
    for data in inputs:
        res = subprocess.run(
            [python, "-I", "-B", str(path)], input=data, capture_output=True, text=True, timeout=10
        )
        outs.append(res.stdout)
    return outs


def bench_code(args: argparse.Namespace) -> None:
    """Sandboxed test cases/s versus bare subprocess.run of the same programs."""
    from tracemill.pipelines.verify.sandbox import (
        SandboxConfig,
        SandboxUnavailable,
        check_sandbox,
        resolve_python,
        run_program,
    )

    print(f"== code: {args.code_programs} programs x {args.code_cases} cases, "
          f"{args.workers} at a time")  # fmt: skip
    try:
        check_sandbox()
    except SandboxUnavailable as e:
        print(f"skipped: {e}")
        return
    python = resolve_python(SandboxConfig())
    jobs = make_code_jobs(args.code_programs, args.code_cases)
    n_cases = sum(len(inputs) for _, inputs in jobs)

    def sandboxed(job: tuple[str, list[str]]) -> list[str]:
        run = run_program(job[0], job[1], time_limit_s=5.0)
        return [c.stdout for c in sorted(run.cases, key=lambda c: c.index)]

    start = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as ex:
        boxed = list(ex.map(sandboxed, jobs))
    box_s = time.perf_counter() - start

    folder = Path(tempfile.mkdtemp(prefix="tm-bench-"))
    try:
        start = time.perf_counter()
        with ThreadPoolExecutor(args.workers) as ex:
            bare = list(ex.map(bare_run, [python] * len(jobs), [folder] * len(jobs), jobs,
                               range(len(jobs))))  # fmt: skip
        bare_s = time.perf_counter() - start
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    same = sum(a == b for x, y in zip(boxed, bare, strict=True) for a, b in zip(x, y, strict=True))
    box_rate, bare_rate = n_cases / box_s, n_cases / bare_s
    print(f"outputs agree: {same}/{n_cases}")
    print(f"sandbox (one start per program): {box_rate:8.1f} cases/s ({box_s:.2f} s)")
    print(f"bare subprocess.run per case:    {bare_rate:8.1f} cases/s ({bare_s:.2f} s)")
    print(f"ratio sandbox / bare subprocess: {box_rate / bare_rate:8.2f}x")


def main() -> None:
    """Run the math and code benchmarks."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--fresh-items", type=int, default=24)
    parser.add_argument("--code-programs", type=int, default=8)
    parser.add_argument("--code-cases", type=int, default=10)
    parser.add_argument("--skip-code", action="store_true")
    parser.add_argument("--agreement-only", action="store_true")
    parser.add_argument("--heldout-only", action="store_true")
    args = parser.parse_args()
    bench_heldout()
    if args.heldout_only:
        return
    bench_agreement()
    bench_extraction()
    if args.agreement_only:
        return
    bench_math(args)
    if not args.skip_code:
        bench_code(args)


if __name__ == "__main__":
    main()
