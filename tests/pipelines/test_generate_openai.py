"""The openai backend against a real HTTP server on 127.0.0.1 (no mocked client)."""

import pytest
from tracemill.pipelines.generate import (
    BackendError,
    GenerationRequest,
    SamplingParams,
    make_backend,
)

from tests.pipelines.openai_stub import OpenAIStub, StubScript


def backend(stub, **kw):
    opts = {
        "base_url": stub.base_url,
        "concurrency": 4,
        "backoff_s": 0.001,
        "max_backoff_s": 0.01,
        "max_retries": 3,
        "timeout_s": 10,
    }
    opts.update(kw)
    return make_backend("openai", "stub-model", **opts)


def req(pid, indexes, **params):
    return GenerationRequest(
        pid, [{"role": "user", "content": f"question {pid}"}], indexes, SamplingParams(**params)
    )


def test_retries_429_and_500_then_succeeds():
    with OpenAIStub(StubScript(fail=[429, 500, 502])) as stub:
        b = backend(stub, concurrency=1)
        out = list(b.generate([req("p1", (0,), max_tokens=7, temperature=0.2)]))
    assert stub.statuses == [429, 500, 502, 200]
    assert b.retries == 3 and b.calls == 4
    (s,) = out
    assert (s.problem_id, s.sample_index, s.finish_reason) == ("p1", 0, "stop")
    assert s.reasoning == "thinking 0 about question p1"
    assert s.final == "answer 0 seed None to: question p1"
    assert (s.prompt_tokens, s.completion_tokens) == (2, 12)
    sent = stub.requests[-1]
    assert (sent["model"], sent["max_tokens"], sent["temperature"]) == ("stub-model", 7, 0.2)
    assert "n" not in sent and "seed" not in sent


def test_gives_up_after_max_retries():
    with OpenAIStub(StubScript(fail=[500] * 10)) as stub:
        b = backend(stub, max_retries=2)
        with pytest.raises(BackendError, match="giving up after 3 attempts"):
            list(b.generate([req("p1", (0,))]))
    assert len(stub.requests) == 3


def test_n_emulated_by_repeated_calls_with_distinct_seeds():
    with OpenAIStub(StubScript(support_n=False)) as stub:
        b = backend(stub)
        out = list(b.generate([req("p1", (0, 2, 3), seed=7), req("p2", (1,), seed=7)]))
    assert len(stub.requests) == 4 and all("n" not in r for r in stub.requests)
    assert sorted((s.problem_id, s.sample_index) for s in out) == [
        ("p1", 0),
        ("p1", 2),
        ("p1", 3),
        ("p2", 1),
    ]
    seeds = [r["seed"] for r in stub.requests]
    assert len(set(seeds)) == 4
    assert all(s.completion_tokens is not None for s in out)


def test_server_n_one_call_per_request():
    with OpenAIStub() as stub:
        b = backend(stub, server_n=True)
        out = list(b.generate([req("p1", (0, 1, 2))]))
    assert len(stub.requests) == 1 and stub.requests[0]["n"] == 3
    assert sorted(s.sample_index for s in out) == [0, 1, 2]
    assert {s.final for s in out} == {f"answer {i} seed None to: question p1" for i in range(3)}
    # usage covers all choices: per-sample completion tokens are unknown, prompt tokens not
    assert {(s.prompt_tokens, s.completion_tokens) for s in out} == {(2, None)}


def test_reasoning_content_and_usage_details():
    with OpenAIStub(StubScript(reasoning=True, finish_reason="length")) as stub:
        (s,) = list(backend(stub).generate([req("p9", (0,))]))
    assert s.reasoning == "thinking 0 about question p9"
    assert s.final == "answer 0 seed None to: question p9"
    assert s.completion == f"<think>\n{s.reasoning}\n</think>\n\n{s.final}"
    assert (s.reasoning_tokens, s.finish_reason, s.truncated) == (3, "length", True)


def test_rejected_request_yields_error_sample_not_exception():
    with OpenAIStub(StubScript(reject_status=400)) as stub:
        out = list(backend(stub).generate([req("p1", (0, 1))]))
    assert len(stub.requests) == 2
    assert [s.finish_reason for s in out] == ["error", "error"]
    assert "BadRequestError" in out[0].error


def test_unknown_model_stops_the_run():
    with OpenAIStub(StubScript(reject_status=404)) as stub:
        with pytest.raises(BackendError, match="refused"):
            list(backend(stub).generate([req(f"p{i}", (0,)) for i in range(20)]))
    assert len(stub.requests) <= 8  # stops early: at most the requests already in flight


def test_bounded_concurrency_and_many_requests():
    with OpenAIStub(StubScript(delay_s=0.02)) as stub:
        b = backend(stub, concurrency=3)
        out = list(b.generate(req(f"p{i}", (0, 1)) for i in range(15)))
    assert len(out) == 30 and len(stub.requests) == 30
    assert 2 <= stub.max_in_flight <= 3
    assert len({(s.problem_id, s.sample_index) for s in out}) == 30


def test_consumer_stopping_early_stops_the_loop():
    with OpenAIStub() as stub:
        gen = backend(stub, concurrency=2).generate(req(f"p{i}", (0,)) for i in range(100))
        first = next(gen)
        gen.close()
        assert first.problem_id.startswith("p")
    assert len(stub.requests) < 20


@pytest.mark.parametrize(
    "reported, server_n, expected",
    [(0.003, False, [0.003, 0.003]), (0.003, True, [0.0015, 0.0015]),
     (None, False, [None, None]), ("free", False, [None, None]), (-1, False, [None, None]),
     ("NaN", False, [None, None])],
)  # fmt: skip
def test_usage_reported_cost_is_kept_per_sample(reported, server_n, expected):
    """``usage.cost`` (OpenRouter) becomes the sample's cost; one call for n shares it."""
    with OpenAIStub(StubScript(cost=reported)) as stub:
        out = list(backend(stub, server_n=server_n).generate([req("p1", (0, 1))]))
    assert [s.cost_usd for s in sorted(out, key=lambda s: s.sample_index)] == pytest.approx(
        expected
    )
