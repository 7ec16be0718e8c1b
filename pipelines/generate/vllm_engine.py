"""The offline vLLM engine (``vllm.LLM``) on GPUs; vLLM is imported only when used.

Requests are fed to ``llm.chat`` in chunks of ``chunk_size`` requests: the engine
schedules each chunk with continuous batching, the chat template is applied by the
engine, and results come back per chunk so the caller can commit while the next chunk
is submitted. A request asks for all its missing indexes at once (``n``); with a fixed
seed each index becomes its own ``n=1`` request with a derived seed, so a resumed run
regenerates exactly the samples a complete run would have produced.

Install with the ``vllm`` extra on a GPU machine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipelines.generate.base import (
    BackendError,
    GeneratedSample,
    GenerationRequest,
    build_sample,
    chunked,
)

log = logging.getLogger(__name__)


class VLLMBackend:
    """Batched offline generation with ``vllm.LLM.chat``."""

    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        path: str | Path | None = None,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        dtype: str = "auto",
        chunk_size: int = 512,
        chat_template: str | None = None,
        enable_prefix_caching: bool = True,
        llm: Any = None,
        **engine_options: Any,
    ) -> None:
        """``path``: local weights (default ``model``); ``engine_options`` go to ``vllm.LLM``."""
        self.model = model
        self.path = str(path) if path is not None else model
        self.tensor_parallel_size = int(tensor_parallel_size)
        self.gpu_memory_utilization = float(gpu_memory_utilization)
        self.max_model_len = max_model_len
        self.dtype = dtype
        self.chunk_size = max(1, int(chunk_size))
        self.chat_template = chat_template
        self.enable_prefix_caching = enable_prefix_caching
        self.engine_options = engine_options
        self._llm = llm

    def load(self) -> Any:
        """Start the engine once and return it."""
        if self._llm is not None:
            return self._llm
        try:
            from vllm import LLM
        except ImportError as e:
            raise BackendError(
                "the vllm backend needs vLLM on a GPU machine: pip install 'tracemill[vllm]'"
            ) from e
        options: dict[str, Any] = {
            "model": self.path,
            "tensor_parallel_size": self.tensor_parallel_size,
            "gpu_memory_utilization": self.gpu_memory_utilization,
            "dtype": self.dtype,
            "enable_prefix_caching": self.enable_prefix_caching,
            **self.engine_options,
        }
        if self.max_model_len is not None:
            options["max_model_len"] = self.max_model_len
        t0 = time.perf_counter()
        self._llm = LLM(**options)
        log.info("vLLM engine for %s ready in %.1fs", self.model, time.perf_counter() - t0)
        return self._llm

    def _vllm_params(self, request: GenerationRequest, n: int, seed: int | None) -> Any:
        from vllm import SamplingParams as VSamplingParams

        p = request.params
        return VSamplingParams(
            n=n,
            temperature=p.temperature,
            top_p=p.top_p,
            max_tokens=p.max_tokens,
            seed=seed,
            stop=list(p.stop) or None,
            **p.extra_dict,
        )

    def _units(self, requests: Iterable[GenerationRequest]) -> Iterator[
        tuple[GenerationRequest, tuple[int, ...], int | None]
    ]:
        for r in requests:
            if not r.indexes:
                continue
            if r.params.seed is None:
                yield r, r.indexes, None
            else:
                for i in r.indexes:
                    yield r, (i,), r.params.sample_seed(r.problem_id, i)

    def generate(self, requests: Iterable[GenerationRequest]) -> Iterator[GeneratedSample]:
        """Yield samples chunk by chunk (``chunk_size`` engine requests per ``chat`` call)."""
        llm = self.load()
        for chunk in chunked(self._units(requests), self.chunk_size):
            conversations = [[dict(m) for m in r.messages] for r, _, _ in chunk]
            params = [self._vllm_params(r, len(idx), seed) for r, idx, seed in chunk]
            t0 = time.perf_counter()
            kwargs: dict[str, Any] = {"sampling_params": params, "use_tqdm": False}
            if self.chat_template:
                kwargs["chat_template"] = self.chat_template
            outputs = llm.chat(conversations, **kwargs)
            latency = time.perf_counter() - t0
            for (request, indexes, _), output in zip(chunk, outputs, strict=True):
                prompt_tokens = len(output.prompt_token_ids or [])
                for index, comp in zip(indexes, output.outputs, strict=True):
                    yield build_sample(
                        request,
                        index,
                        comp.text,
                        prompt_tokens=prompt_tokens,
                        completion_tokens=len(comp.token_ids),
                        finish_reason=comp.finish_reason,
                        latency_s=latency,
                    )
