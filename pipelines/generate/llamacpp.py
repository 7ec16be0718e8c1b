"""In-process GGUF generation with llama.cpp (``llama_cpp``, from llama-cpp-python).

Optional: ``llama_cpp`` is imported only when this backend is made. One sample per
``create_chat_completion`` call (llama.cpp has no ``n``); with a fixed seed each sample
gets its own derived seed. Token counts come from the response's ``usage``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tracemill.pipelines.generate.base import (
    BackendError,
    GeneratedSample,
    GenerationRequest,
    build_sample,
)


class LlamaCppBackend:
    """Chat completions from a local GGUF file through ``llama_cpp.Llama``."""

    name = "llamacpp"

    def __init__(
        self,
        model: str,
        *,
        path: str | Path | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        chat_format: str | None = None,
        llm: Any = None,
    ) -> None:
        """``path``: the ``.gguf`` file (default ``model``)."""
        self.model = model
        self.path = str(path) if path is not None else model
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_gpu_layers = n_gpu_layers
        self.chat_format = chat_format
        self._llm = llm

    def load(self) -> Any:
        """Load the GGUF file once."""
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise BackendError("the llamacpp backend needs llama-cpp-python") from e
            self._llm = Llama(
                model_path=self.path,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_gpu_layers=self.n_gpu_layers,
                chat_format=self.chat_format,
                verbose=False,
            )
        return self._llm

    def generate(self, requests: Iterable[GenerationRequest]) -> Iterator[GeneratedSample]:
        """Yield one sample per index, in request order."""
        llm = self.load()
        for request in requests:
            p = request.params
            for index in request.indexes:
                t0 = time.perf_counter()
                seed = p.sample_seed(request.problem_id, index)
                response = llm.create_chat_completion(
                    messages=[dict(m) for m in request.messages],
                    temperature=p.temperature,
                    top_p=p.top_p,
                    max_tokens=p.max_tokens,
                    stop=list(p.stop) or None,
                    **({"seed": seed} if seed is not None else {}),
                    **p.extra_dict,
                )
                choice = response["choices"][0]
                usage = response.get("usage") or {}
                yield build_sample(
                    request,
                    index,
                    choice["message"].get("content"),
                    prompt_tokens=usage.get("prompt_tokens"),
                    completion_tokens=usage.get("completion_tokens"),
                    finish_reason=choice.get("finish_reason"),
                    latency_s=time.perf_counter() - t0,
                )
