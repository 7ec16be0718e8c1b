"""A deterministic backend for tests, dry runs and overhead benchmarks.

Completions come from a callable ``respond(request, index) -> str`` (or a
``"module:function"`` name of one, so recipes and subprocesses can pick it); tokens are
whitespace-separated words, so counts and truncation at ``max_tokens`` are exact and
predictable.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Iterator

from tracemill.pipelines.generate.base import (
    BackendError,
    GeneratedSample,
    GenerationRequest,
    build_sample,
    chunked,
)

Respond = Callable[[GenerationRequest, int], str]


def default_respond(request: GenerationRequest, index: int) -> str:
    """A short reasoning trace and a boxed answer that names the sample."""
    return f"<think>\nsample {index} of {request.problem_id[:8]}\n</think>\n\n\\boxed{{{index}}}"


def _load_callable(name: str) -> Respond:
    module, _, attr = name.partition(":")
    if not attr:
        raise ValueError(f"respond must be 'module:function', got {name!r}")
    return getattr(importlib.import_module(module), attr)


class FakeBackend:
    """Deterministic completions from a callable; optional delay and injected failure."""

    name = "fake"

    def __init__(
        self,
        model: str = "fake",
        *,
        respond: Respond | str | None = None,
        delay_s: float = 0.0,
        batch_size: int = 16,
        fail_after: int | None = None,
    ) -> None:
        """``fail_after``: raise :class:`BackendError` after that many samples (crash tests)."""
        self.model = model
        self.respond = (
            _load_callable(respond) if isinstance(respond, str) else (respond or default_respond)
        )
        self.delay_s = float(delay_s)
        self.batch_size = max(1, int(batch_size))
        self.fail_after = fail_after
        self.calls = 0
        """Samples generated so far (tests assert reruns generate nothing)."""

    def _one(self, request: GenerationRequest, index: int) -> GeneratedSample:
        text = self.respond(request, index)
        words = text.split(" ")
        finish = "stop"
        if len(text.split()) > request.params.max_tokens:
            # keep the first max_tokens whitespace tokens, as an engine would
            kept, count = [], 0
            for w in words:
                count += 1 if w.strip() else 0
                if count > request.params.max_tokens:
                    break
                kept.append(w)
            text, finish = " ".join(kept), "length"
        for stop in request.params.stop:
            cut = text.find(stop)
            if cut >= 0:
                text, finish = text[:cut], "stop"
        prompt_words = sum(len(str(m.get("content") or "").split()) for m in request.messages)
        return build_sample(
            request,
            index,
            text,
            prompt_tokens=prompt_words,
            completion_tokens=len(text.split()),
            finish_reason=finish,
            latency_s=self.delay_s,
        )

    def generate(self, requests: Iterable[GenerationRequest]) -> Iterator[GeneratedSample]:
        """Yield samples batch by batch (``batch_size`` samples per simulated engine step)."""
        jobs = ((r, i) for r in requests for i in r.indexes)
        for batch in chunked(jobs, self.batch_size):
            if self.delay_s:
                time.sleep(self.delay_s)
            for request, index in batch:
                if self.fail_after is not None and self.calls >= self.fail_after:
                    raise BackendError(f"fake backend failing after {self.fail_after} samples")
                self.calls += 1
                yield self._one(request, index)
