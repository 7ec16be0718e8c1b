"""The transformers backend on tiny Llamas built locally (random and fixed-output weights)."""

import pytest
from tracemill.pipelines.generate import GenerationRequest, SamplingParams, make_backend

from tests.pipelines.tiny_lm import CHAIN, build_model

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    root = tmp_path_factory.mktemp("tiny-lm")
    return {
        "chain": build_model(root / "chain", chain=True),
        "random": build_model(root / "random"),
    }


def req(pid, indexes, **params):
    return GenerationRequest(
        pid, [{"role": "user", "content": "what is 2 plus 2"}], indexes, SamplingParams(**params)
    )


def test_greedy_chain_model_think_split_and_exact_counts(models):
    backend = make_backend(
        "transformers", "tiny-chain", path=str(models["chain"]), batch_size=4, device="cpu"
    )
    out = list(
        backend.generate(
            [
                req("p1", (0, 1), temperature=0.0, max_tokens=20),
                req("p2", (5,), temperature=0.0, max_tokens=20),
            ]
        )
    )
    assert [(s.problem_id, s.sample_index) for s in out] == [("p1", 0), ("p1", 1), ("p2", 5)]
    for s in out:
        assert s.reasoning == "let me think"
        assert s.final == "the answer is 4"
        assert s.finish_reason == "stop"
        # chat template: "<|user|> what is 2 plus 2 <|assistant|>" is 7 tokens
        assert s.prompt_tokens == 7
        assert s.completion_tokens == len(CHAIN)  # eos included, padding not
        assert s.reasoning_tokens == CHAIN.index("</think>") + 1
    # truncation: the same chain cut at 3 tokens, marked `length`
    (cut,) = list(backend.generate([req("p3", (0,), temperature=0.0, max_tokens=3)]))
    assert (cut.finish_reason, cut.completion_tokens) == ("length", 3)
    assert cut.reasoning == "let me" and cut.final == ""
    # stop strings end the text before the stop, as servers do
    (stopped,) = list(
        backend.generate([req("p4", (0,), temperature=0.0, max_tokens=20, stop=("answer",))])
    )
    assert stopped.finish_reason == "stop" and stopped.final == "the"


def test_random_model_n_samples_seeded(models):
    backend = make_backend(
        "transformers", "tiny-random", path=str(models["random"]), batch_size=3, device="cpu"
    )
    params = {"temperature": 1.0, "max_tokens": 6, "seed": 11}
    first = list(backend.generate([req("p1", (0, 1, 2, 3), **params)]))
    again = list(backend.generate([req("p1", (0, 1, 2, 3), **params)]))
    assert [s.sample_index for s in first] == [0, 1, 2, 3]
    assert [s.completion for s in first] == [s.completion for s in again]
    assert len({s.completion for s in first}) > 1  # sampled, not greedy copies
    for s in first:
        assert 1 <= s.completion_tokens <= 6
        assert s.finish_reason in ("stop", "length")
        assert (s.finish_reason == "length") == (s.completion_tokens == 6)
        assert s.prompt_tokens == 7 and s.latency_s > 0


@pytest.mark.gpu
def test_cuda_bf16_matches_the_chain(models):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    backend = make_backend(
        "transformers", "tiny-chain", path=str(models["chain"]), device="cuda", batch_size=8
    )
    out = list(
        backend.generate([req(f"p{i}", (0, 1), temperature=0.0, max_tokens=20) for i in range(6)])
    )
    assert len(out) == 12
    assert {(s.reasoning, s.final, s.completion_tokens) for s in out} == {
        ("let me think", "the answer is 4", len(CHAIN))
    }


def test_distill_with_transformers_backend_resolves_local_path(models, catalog_dir):
    from tracemill.catalogs import problem_id
    from tracemill.flows.distill import DistillStage, distill
    from tracemill.stores.catalog import open_catalog

    q = "what is 2 plus 2"
    with open_catalog(catalog_dir) as store:
        store.append(
            {
                "problems": [
                    {
                        "problem_id": problem_id("math", q),
                        "source": "t",
                        "domain": "math",
                        "question": q,
                        "answer": "4",
                        "verifier": "math",
                    }
                ]
            }
        )
    cfg = DistillStage(
        backend="transformers",
        model=str(models["chain"]),
        model_name="tiny",
        device="cpu",
        n=2,
        temperature=0.0,
        max_tokens=12,
        verify=False,
    )
    report = distill(cfg, catalog=str(catalog_dir))
    assert (report.samples, report.tokens_out, report.truncated) == (2, 2 * len(CHAIN), 0)
    with open_catalog(catalog_dir) as store:
        rows = store.read("samples").to_pylist()
    assert {(r["model"], r["backend"], r["final"], r["extracted_answer"]) for r in rows} == {
        ("tiny", "transformers", "the answer is 4", "4")
    }
