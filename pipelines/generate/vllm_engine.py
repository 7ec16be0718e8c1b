"""The offline vLLM engine (``vllm.LLM``) on GPUs; vLLM is imported only when used.

Two modes:

- ``stream`` (default): requests are added to the engine (``llm.llm_engine``) as
  earlier ones finish, keeping up to ``window`` requests in flight, and each sample is
  yielded the moment it finishes. Continuous batching then spans the whole run (no
  drain at chunk ends, where long traces would leave the GPU half idle) while the caller
  commits batch by batch. Prompts are rendered with the engine's tokenizer and chat
  template; every sample is its own ``n=1`` request (prefix caching shares the prompt),
  with a derived per-index seed when the params fix one.
- ``chat``: ``llm.chat`` over chunks of ``chunk_size`` requests (the engine applies the
  chat template; ``n`` per request). Simpler, but each chunk drains before the next.

With a fixed seed, each index gets its own seed in both modes, so a resumed run
regenerates exactly the samples a complete run would have produced.

Install with the ``vllm`` extra on a GPU machine.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tracemill.pipelines.generate.base import (
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
        mode: str = "stream",
        window: int = 4096,
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
        if mode not in ("stream", "chat"):
            raise ValueError(f"vllm mode must be 'stream' or 'chat', got {mode!r}")
        self.mode = mode
        self.window = max(1, int(window))
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

    def _vllm_params(
        self, request: GenerationRequest, n: int, seed: int | None, *, final_only: bool = False
    ) -> Any:
        from vllm import SamplingParams as VSamplingParams

        p = request.params
        params = VSamplingParams(
            n=n,
            temperature=p.temperature,
            top_p=p.top_p,
            max_tokens=p.max_tokens,
            seed=seed,
            stop=list(p.stop) or None,
            **p.extra_dict,
        )
        if final_only:
            try:  # the engine then reports each request once, when it finishes
                from vllm.sampling_params import RequestOutputKind

                params.output_kind = RequestOutputKind.FINAL_ONLY
            except ImportError:  # older vLLM: unfinished outputs are skipped instead
                pass
        return params

    def _prompt_ids(self, tokenizer: Any, messages: Iterable[dict]) -> list[int]:
        kwargs: dict[str, Any] = {"add_generation_prompt": True, "tokenize": True}
        if self.chat_template:
            kwargs["chat_template"] = self.chat_template
        ids = tokenizer.apply_chat_template([dict(m) for m in messages], **kwargs)
        if isinstance(ids, Mapping):  # transformers >= 5 returns a BatchEncoding
            ids = ids["input_ids"]
        return [int(i) for i in ids]

    def _units(
        self, requests: Iterable[GenerationRequest]
    ) -> Iterator[tuple[GenerationRequest, tuple[int, ...], int | None]]:
        for r in requests:
            if not r.indexes:
                continue
            if r.params.seed is None:
                yield r, r.indexes, None
            else:
                for i in r.indexes:
                    yield r, (i,), r.params.sample_seed(r.problem_id, i)

    def generate(self, requests: Iterable[GenerationRequest]) -> Iterator[GeneratedSample]:
        """Yield samples as they finish (``stream``) or chunk by chunk (``chat``)."""
        llm = self.load()
        if self.mode == "stream":
            yield from self._stream(llm, requests)
        else:
            yield from self._chat(llm, requests)

    def _stream(self, llm: Any, requests: Iterable[GenerationRequest]) -> Iterator[GeneratedSample]:
        engine = llm.llm_engine
        tokenizer = llm.get_tokenizer()
        singles = (
            (r, i, r.params.sample_seed(r.problem_id, i)) for r in requests for i in r.indexes
        )
        pending: dict[str, tuple[GenerationRequest, int, float, int]] = {}
        exhausted = False
        counter = 0
        try:
            while True:
                while not exhausted and len(pending) < self.window:
                    try:
                        request, index, seed = next(singles)
                    except StopIteration:
                        exhausted = True
                        break
                    request_id = f"tracemill-{counter}"
                    counter += 1
                    ids = self._prompt_ids(tokenizer, request.messages)
                    engine.add_request(
                        request_id,
                        {"prompt_token_ids": ids},
                        self._vllm_params(request, 1, seed, final_only=True),
                    )
                    pending[request_id] = (request, index, time.perf_counter(), len(ids))
                if not pending:
                    return
                for output in engine.step():
                    if not output.finished or output.request_id not in pending:
                        continue
                    request, index, started, prompt_tokens = pending.pop(output.request_id)
                    comp = output.outputs[0]
                    yield build_sample(
                        request,
                        index,
                        comp.text,
                        prompt_tokens=prompt_tokens,
                        completion_tokens=len(comp.token_ids),
                        finish_reason=comp.finish_reason,
                        latency_s=time.perf_counter() - started,
                    )
        finally:
            if pending:  # the caller stopped early: free the engine
                try:
                    engine.abort_request(list(pending))
                except Exception:  # noqa: BLE001 - best effort on the way out
                    log.debug("aborting %d vLLM requests failed", len(pending), exc_info=True)

    def _chat(self, llm: Any, requests: Iterable[GenerationRequest]) -> Iterator[GeneratedSample]:
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
