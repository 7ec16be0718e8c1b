"""Generation: sampling params, requests, backends, request planning and sample rows.

Backends: vLLM (offline engine), any OpenAI-compatible server, transformers, llama.cpp
and a deterministic fake. Planning skips existing sample ids before generating.

Backend modules import their engines lazily: importing this package pulls in no torch,
transformers, openai or vllm.
"""

from tracemill.pipelines.generate.base import (
    Backend,
    BackendError,
    GeneratedSample,
    GenerationRequest,
    SamplingParams,
    backend_kinds,
    build_sample,
    make_backend,
    register_backend,
)
from tracemill.pipelines.generate.plan import (
    candidate_ids,
    params_text,
    plan_requests,
    render_prompt,
    samples_table,
)

__all__ = [
    "Backend",
    "BackendError",
    "GeneratedSample",
    "GenerationRequest",
    "SamplingParams",
    "backend_kinds",
    "register_backend",
    "build_sample",
    "candidate_ids",
    "make_backend",
    "params_text",
    "plan_requests",
    "render_prompt",
    "samples_table",
]
