"""The generation contract: sampling params, requests, samples and the backend Protocol.

A backend takes :class:`GenerationRequest` objects (one problem's chat messages, the
sample indexes still to generate, sampling params) and yields one
:class:`GeneratedSample` per index, in any order, as results complete. It never decides
what is already done: the caller (:func:`tracemill.pipelines.generate.plan_requests`) skips
existing ``sample_id``s before anything is generated.

Backends pull requests from the iterator they are given lazily (a bounded window at a
time), so a caller can feed millions of requests and commit results in batches while
generation goes on.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from tracemill.catalogs import canonical_json

log = logging.getLogger(__name__)

_CORE_KEYS = frozenset({"temperature", "top_p", "max_tokens", "seed", "stop"})


def _freeze(value: Any) -> Any:
    """Make JSON-like values hashable (lists → tuples, dicts → sorted pair tuples)."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        if value and all(
            isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) for v in value
        ):
            return {k: _thaw(v) for k, v in value}
        return [_thaw(v) for v in value]
    return value


@dataclass(frozen=True)
class SamplingParams:
    """Sampling parameters shared by every backend (frozen, hashable, canonical JSON).

    ``extra`` holds engine-specific knobs (``top_k``, ``min_p``, ``repetition_penalty``,
    …) as a mapping; it is stored as sorted ``(key, value)`` pairs so equal params are
    equal and hash alike. Extra keys sit next to the core ones in :meth:`to_json`, so
    they must not repeat a core name.
    """

    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 2048
    seed: int | None = None
    stop: tuple[str, ...] = ()
    extra: Any = field(default=())

    def __post_init__(self) -> None:
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {self.max_tokens}")
        stop = (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)
        object.__setattr__(self, "stop", stop)
        extra = self.extra
        if isinstance(extra, Mapping):
            extra = _freeze(extra)
        elif extra:
            extra = _freeze(dict(extra))
        else:
            extra = ()
        clash = _CORE_KEYS.intersection(k for k, _ in extra)
        if clash:
            raise ValueError(f"extra sampling params repeat core ones: {', '.join(sorted(clash))}")
        object.__setattr__(self, "extra", extra)
        object.__setattr__(self, "temperature", float(self.temperature))
        object.__setattr__(self, "top_p", float(self.top_p))
        object.__setattr__(self, "max_tokens", int(self.max_tokens))

    @property
    def extra_dict(self) -> dict[str, Any]:
        """``extra`` as a plain dict (lists and dicts restored)."""
        return {k: _thaw(v) for k, v in self.extra}

    def to_dict(self) -> dict[str, Any]:
        """All params as one flat JSON-ready dict (core keys and extra keys)."""
        out: dict[str, Any] = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
            "stop": list(self.stop),
        }
        out.update(self.extra_dict)
        return out

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the params part of ``sample_id``."""
        return canonical_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SamplingParams:
        """Inverse of :meth:`to_dict`: unknown keys go to ``extra``."""
        core = {k: data[k] for k in _CORE_KEYS if k in data and data[k] is not None}
        if "stop" in core:
            core["stop"] = tuple(core["stop"])
        extra = {k: v for k, v in data.items() if k not in _CORE_KEYS}
        return cls(**core, extra=extra)

    def sample_seed(self, problem_id: str, index: int) -> int | None:
        """A per-sample seed derived from ``seed`` (None without one).

        Backends that draw one sample per call use it so that repeated calls with a
        fixed seed still give distinct, reproducible samples.
        """
        if self.seed is None:
            return None
        digest = hashlib.md5(
            f"{self.seed}\n{problem_id}\n{index}".encode(), usedforsecurity=False
        ).digest()
        return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@dataclass(frozen=True)
class GenerationRequest:
    """One problem's prompt and the sample indexes still to generate for it."""

    problem_id: str
    messages: tuple[dict, ...] | list[dict]
    indexes: tuple[int, ...]
    params: SamplingParams
    params_text: str | None = None
    """The exact params JSON hashed into the sample ids (default ``params.to_json()``);
    :func:`plan_requests` adds the prompt identity (system prompt, template) here."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "indexes", tuple(int(i) for i in self.indexes))

    @property
    def n(self) -> int:
        """Number of samples asked for."""
        return len(self.indexes)

    @property
    def key_params(self) -> str:
        """The params text of this request's sample ids."""
        return self.params_text if self.params_text is not None else self.params.to_json()


@dataclass
class GeneratedSample:
    """One generated response with its accounting.

    ``completion`` is the full text; when a server returns reasoning separately
    (``reasoning_content``) the completion is the reasoning wrapped in
    ``<think>…</think>``, a blank line, then the final part, so every row reads the
    same way downstream.
    """

    problem_id: str
    sample_index: int
    completion: str
    reasoning: str | None
    final: str
    prompt_tokens: int | None
    completion_tokens: int | None
    reasoning_tokens: int | None
    finish_reason: str
    latency_s: float
    error: str | None = None
    """Set (with ``finish_reason="error"``) when the request failed for good; such
    samples are reported, never stored, so a rerun tries them again."""
    cost_usd: float | None = None
    """The cost the server reported for this sample (``usage.cost``), if it did."""

    @property
    def truncated(self) -> bool:
        """True when generation stopped at the token limit."""
        return self.finish_reason == "length"


def build_sample(
    request: GenerationRequest,
    index: int,
    text: str | None,
    *,
    reasoning: str | None = None,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    reasoning_tokens: int | None = None,
    finish_reason: str | None,
    latency_s: float,
    cost_usd: float | None = None,
) -> GeneratedSample:
    """Assemble a sample, splitting ``<think>…</think>`` unless ``reasoning`` is given."""
    from tracemill.pipelines.extract import split_reasoning

    text = text or ""
    if reasoning:
        final = text.strip()
        completion = f"<think>\n{reasoning.strip()}\n</think>\n\n{final}"
        reasoning = reasoning.strip()
    else:
        completion = text
        reasoning, final = split_reasoning(text)
    return GeneratedSample(
        problem_id=request.problem_id,
        sample_index=int(index),
        completion=completion,
        reasoning=reasoning,
        final=final,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        reasoning_tokens=reasoning_tokens,
        finish_reason=finish_reason or "stop",
        latency_s=float(latency_s),
        cost_usd=cost_usd,
    )


def error_sample(
    request: GenerationRequest, index: int, error: str, latency_s: float
) -> GeneratedSample:
    """A placeholder for a request that failed for good (never stored)."""
    return GeneratedSample(
        problem_id=request.problem_id,
        sample_index=int(index),
        completion="",
        reasoning=None,
        final="",
        prompt_tokens=None,
        completion_tokens=None,
        reasoning_tokens=None,
        finish_reason="error",
        latency_s=float(latency_s),
        error=error[:1000],
    )


class BackendError(RuntimeError):
    """A backend cannot go on (server down after retries, bad credentials, bad model)."""


@runtime_checkable
class Backend(Protocol):
    """A generation engine: requests in, samples out (any order, as they complete)."""

    name: str
    model: str

    def generate(self, requests: Iterable[GenerationRequest]) -> Iterator[GeneratedSample]:
        """Yield one sample per requested index."""
        ...


BackendFactory = Callable[..., Backend]

_BACKENDS: dict[str, str] = {
    "fake": "tracemill.pipelines.generate.fake:FakeBackend",
    "openai": "tracemill.pipelines.generate.openai_server:OpenAIBackend",
    "transformers": "tracemill.pipelines.generate.transformers_local:TransformersBackend",
    "vllm": "tracemill.pipelines.generate.vllm_engine:VLLMBackend",
    "llamacpp": "tracemill.pipelines.generate.llamacpp:LlamaCppBackend",
}
"""Backend kind → ``module:Class``; modules are imported only when a kind is made."""


def register_backend(kind: str, target: str) -> None:
    """Register a backend kind as ``"module:Class"`` (imported only when one is made).

    A kind is taken once: registering another target under it raises ``ValueError``.
    """
    if ":" not in target:
        raise ValueError(f"backend target must look like 'module:Class', got {target!r}")
    old = _BACKENDS.get(kind)
    if old is not None and old != target:
        raise ValueError(f"backend {kind!r} is already registered as {old}; choose another name")
    _BACKENDS[kind] = target


def backend_kinds() -> list[str]:
    """Names accepted by :func:`make_backend`."""
    return sorted(_BACKENDS)


def make_backend(kind: str, model: str, **options: Any) -> Backend:
    """Create a backend of ``kind`` for ``model`` (heavy imports happen here, lazily)."""
    try:
        target = _BACKENDS[kind]
    except KeyError:
        raise ValueError(
            f"unknown backend {kind!r}; backends are {', '.join(backend_kinds())}"
        ) from None
    module_name, cls_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls(model, **options)


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to ``size`` consecutive items (pulls lazily)."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
