"""Generation overhead: the tracemill ``distill`` path versus the bare engine, same run.

    python benchmarks/generate.py                                   # fake engine (CPU)
    python benchmarks/generate.py --backend fake --engine-ms 20     # simulated engine time
    python benchmarks/generate.py --backend transformers            # tiny local Llama (CPU)
    python benchmarks/generate.py --backend transformers --model PATH --device cuda
    python benchmarks/generate.py --backend vllm --model PATH       # GPU machine with vLLM

Both paths get the same prompts and sampling params with fixed output lengths
(``min_new_tokens`` for transformers, ``ignore_eos`` for vLLM), so token counts match.
The tracemill path is ``tracemill.flows.distill.distill`` on a fresh catalog: planning sample ids,
generation through the backend, sample rows, and one catalog transaction per batch
(verification off unless ``--verify``). The bare path calls the engine directly:
``backend.generate`` for fake, ``model.generate`` for transformers, one ``llm.chat`` for
vLLM. Prints both throughputs (completion tokens/s and samples/s) and the ratio
tracemill / bare (target >= 0.97 on vLLM).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracemill.catalogs import problem_id  # noqa: E402
from tracemill.flows.distill import DistillStage, distill  # noqa: E402
from tracemill.pipelines.generate import GenerationRequest, SamplingParams, make_backend  # noqa: E402
from tracemill.stores.catalog import open_catalog  # noqa: E402


def seed_catalog(path: Path, problems: int) -> list[dict[str, Any]]:
    """``problems`` arithmetic questions in a fresh catalog."""
    rows = []
    for i in range(problems):
        q = f"What is {i} plus {i + 1}? Put the final answer in \\boxed{{}}."
        rows.append(
            {
                "problem_id": problem_id("math", q),
                "source": "bench",
                "domain": "math",
                "question": q,
                "answer": str(2 * i + 1),
                "verifier": "math",
            }
        )
    with open_catalog(path) as store:
        store.append({"problems": rows})
    return rows


def make_engine(args: argparse.Namespace, tmp: Path) -> tuple[Any, dict[str, Any]]:
    """The backend under test and the extra sampling params that fix output lengths."""
    if args.backend == "fake":
        words = " ".join(["step"] * (args.max_tokens - 1))

        def respond(request: GenerationRequest, index: int) -> str:
            return f"<think>{words}</think> \\boxed{{{index}}}"

        return make_backend(
            "fake",
            "fake",
            respond=respond,
            delay_s=args.engine_ms / 1000,
            batch_size=args.batch_size,
        ), {}
    if args.backend == "transformers":
        path = args.model
        if path is None:
            from tests.pipelines.tiny_lm import build_model

            path = str(build_model(tmp / "tiny-lm", hidden=args.hidden, layers=args.layers))
        backend = make_backend(
            "transformers",
            args.model or "tiny-lm",
            path=path,
            batch_size=args.batch_size,
            device=args.device,
        )
        backend.load()
        return backend, {"min_new_tokens": args.max_tokens}
    if args.backend == "vllm":
        if args.model is None:
            raise SystemExit("--backend vllm needs --model PATH")
        backend = make_backend("vllm", args.model, mode=args.vllm_mode, chunk_size=args.chunk_size)
        backend.load()
        return backend, {"ignore_eos": True}
    raise SystemExit(f"unsupported backend {args.backend}")


def requests_for(rows: list[dict[str, Any]], n: int, params: SamplingParams) -> list[Any]:
    """One request per problem for ``n`` samples (what distill plans on an empty catalog)."""
    return [
        GenerationRequest(
            r["problem_id"], ({"role": "user", "content": r["question"]},), tuple(range(n)), params
        )
        for r in rows
    ]


def bare(args: argparse.Namespace, backend: Any, requests: list[Any]) -> tuple[int, int]:
    """Run the engine directly; return (samples, completion tokens)."""
    if args.backend == "fake":
        out = list(backend.generate(requests))
        return len(out), sum(s.completion_tokens or 0 for s in out)
    if args.backend == "transformers":
        import torch

        model, tok = backend.load()
        params = requests[0].params
        jobs = [r.messages for r in requests for _ in r.indexes]
        samples = tokens = 0
        for start in range(0, len(jobs), args.batch_size):
            chunk = jobs[start : start + args.batch_size]
            texts = [
                tok.apply_chat_template(list(m), add_generation_prompt=True, tokenize=False)
                for m in chunk
            ]
            enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            enc = {k: v.to(model.device) for k, v in enc.items()}
            with torch.inference_mode():
                out = model.generate(
                    **enc,
                    max_new_tokens=params.max_tokens,
                    min_new_tokens=params.max_tokens,
                    do_sample=False,
                    pad_token_id=tok.pad_token_id,
                )
            samples += len(chunk)
            tokens += (out.shape[1] - enc["input_ids"].shape[1]) * len(chunk)
        return samples, tokens
    from vllm import SamplingParams as VSamplingParams

    llm = backend.load()
    p = requests[0].params
    sp = VSamplingParams(
        n=len(requests[0].indexes),
        temperature=p.temperature,
        max_tokens=p.max_tokens,
        ignore_eos=True,
    )
    outs = llm.chat([list(r.messages) for r in requests], sampling_params=sp, use_tqdm=False)
    comps = [c for o in outs for c in o.outputs]
    return len(comps), sum(len(c.token_ids) for c in comps)


def main() -> None:
    """Run both paths and print throughputs and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", default="fake", choices=["fake", "transformers", "vllm"])
    ap.add_argument("--model", default=None, help="model path (default: tiny local Llama)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--problems", type=int, default=None)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=None)
    ap.add_argument("--batch-size", type=int, default=None, help="engine batch (fake/hf)")
    ap.add_argument("--commit-batch", type=int, default=None, help="samples per commit")
    ap.add_argument("--chunk-size", type=int, default=1024, help="vllm chat mode: per chat()")
    ap.add_argument("--vllm-mode", default="stream", choices=["stream", "chat"])
    ap.add_argument("--hidden", type=int, default=32, help="random Llama width (no --model)")
    ap.add_argument("--layers", type=int, default=2, help="random Llama depth (no --model)")
    ap.add_argument("--engine-ms", type=float, default=0.0, help="fake: ms per engine batch")
    ap.add_argument("--verify", action="store_true", help="verify in the tracemill path")
    ap.add_argument("--repeat", type=int, default=2, help="alternate runs; best of each")
    args = ap.parse_args()
    b_times: list[float] = []
    t_times: list[float] = []
    defaults = {
        "fake": (2000, 64, 64, 512),
        "transformers": (16, 16, 8, 64),
        "vllm": (512, 512, 0, 2048),
    }[args.backend]
    args.problems = args.problems or defaults[0]
    args.max_tokens = args.max_tokens or defaults[1]
    args.batch_size = args.batch_size or defaults[2] or 1
    args.commit_batch = args.commit_batch or defaults[3]

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        backend, extra = make_engine(args, tmp)
        params = SamplingParams(temperature=0.0, max_tokens=args.max_tokens, extra=extra)
        cfg = DistillStage(
            backend=args.backend,
            model=getattr(backend, "model", "fake"),
            n=args.n,
            temperature=0.0,
            max_tokens=args.max_tokens,
            sampling=extra,
            batch_size=args.commit_batch,
            verify=args.verify,
        )
        rows: list[dict[str, Any]] = []
        for rep in range(args.repeat):
            catalog = tmp / f"catalog-{rep}"  # fresh each time: distill must do all the work
            rows = seed_catalog(catalog, args.problems)
            requests = requests_for(rows, args.n, params)
            if rep == 0:  # warm-up: one engine batch's worth through each path
                bare(args, backend, requests[: max(1, args.batch_size // args.n)])
            t0 = time.perf_counter()
            b_samples, b_tokens = bare(args, backend, requests)
            b_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            report = distill(cfg, catalog=str(catalog), run_id="bench", backend=backend)
            t_times.append(time.perf_counter() - t0)
    b_s, t_s = min(b_times), min(t_times)

    assert report.samples == b_samples, (report.samples, b_samples)
    t_tokens = report.tokens_out
    print(
        f"backend={args.backend} problems={args.problems} n={args.n} "
        f"max_tokens={args.max_tokens} commit_batch={args.commit_batch} "
        f"best of {args.repeat} alternating runs"
    )
    print(
        f"bare      : {b_samples} samples, {b_tokens} tokens in {b_s:.2f}s = "
        f"{b_tokens / b_s:,.0f} tok/s, {b_samples / b_s:,.1f} samples/s"
    )
    print(
        f"tracemill : {report.samples} samples, {t_tokens} tokens in {t_s:.2f}s = "
        f"{t_tokens / t_s:,.0f} tok/s, {report.samples / t_s:,.1f} samples/s "
        f"({report.batches} commits)"
    )
    print(
        f"overhead per sample: {(t_s - b_s) / max(report.samples, 1) * 1e6:,.0f} us "
        "(planning, rows, commits; catalog open/close included)"
    )
    print(f"ratio tracemill/bare (tok/s): {(t_tokens / t_s) / (b_tokens / b_s):.3f}")


if __name__ == "__main__":
    main()
