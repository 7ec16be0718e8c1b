"""Backend for any OpenAI-compatible chat server (vLLM serve, SGLang, llama.cpp, hosted APIs).

The async client runs on an event loop in a private thread, so :meth:`generate` is a
plain iterator that yields samples as requests complete while requests keep flowing
during the caller's commits. Concurrency is bounded by a semaphore; 429, 5xx, timeouts
and dropped connections are retried with exponential backoff and jitter (honouring
``Retry-After``); bad credentials or an unknown model stop the run; a request the server
rejects for good (400, 422: prompt too long, …) yields an ``error`` sample that is never
stored, so a rerun tries it again.

``n`` > 1 is emulated by one call per sample unless ``server_n=True`` (one call with
``n``; exact per-sample completion token counts are then unknown, and a reported cost
is shared evenly among the choices). With a fixed seed,
each emulated call gets its own derived seed so samples stay distinct and reproducible.
A server's separate ``reasoning_content`` (or ``reasoning``) is kept as the reasoning
part, and a cost it reports with the usage (``usage.cost``, USD, as OpenRouter returns
it) as the sample's ``cost_usd``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tracemill.pipelines.generate.base import (
    BackendError,
    GeneratedSample,
    GenerationRequest,
    build_sample,
    error_sample,
)

log = logging.getLogger(__name__)

_DONE = object()


def client_timeout(timeout_s: float, connect_timeout_s: float) -> Any:
    """The openai client's timeout: a total and a connect bound.

    openai's own ``Timeout`` type: releases >= 3.6 are built on httpx2 and reject
    ``httpx.Timeout`` objects (a plain float would lose the connect timeout).
    """
    import openai

    timeout_type = getattr(openai, "Timeout", None)
    if timeout_type is None:
        return float(timeout_s)
    return timeout_type(timeout_s, connect=connect_timeout_s)


def backoff_delay(attempt: int, backoff_s: float, max_backoff_s: float) -> float:
    """Exponential backoff for retry ``attempt`` (0-based), capped, with 0.5-1.5x jitter."""
    base = min(max_backoff_s, backoff_s * (2**attempt))
    return base * (0.5 + random.random())  # noqa: S311 - jitter, not crypto


@dataclass(frozen=True)
class _Job:
    request: GenerationRequest
    indexes: tuple[int, ...]
    seed: int | None


class OpenAIBackend:
    """Chat completions from an OpenAI-compatible server with retries and bounded concurrency."""

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        concurrency: int = 64,
        timeout_s: float = 3600.0,
        connect_timeout_s: float = 30.0,
        max_retries: int = 8,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        server_n: bool = False,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        """``timeout_s`` is per request: long enough for 32k-token traces by default."""
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self.api_key = api_key or os.environ.get(api_key_env) or "EMPTY"
        self.concurrency = int(concurrency)
        self.timeout_s = float(timeout_s)
        self.connect_timeout_s = float(connect_timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.server_n = bool(server_n)
        self.extra_body = dict(extra_body or {})
        self.calls = 0
        """HTTP calls made, retries included."""
        self.retries = 0
        self._warned_unreachable = False

    # -- public ---------------------------------------------------------------------

    def generate(self, requests: Iterable[GenerationRequest]) -> Iterator[GeneratedSample]:
        """Yield samples as calls complete (order is completion order)."""
        results: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        thread = threading.Thread(
            target=lambda: asyncio.run(self._main(iter(requests), results, stop)),
            name="tracemill-openai",
            daemon=True,
        )
        thread.start()
        try:
            while True:
                item = results.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield from item
        finally:
            stop.set()
            thread.join(timeout=30)

    # -- event loop side ------------------------------------------------------------

    def _jobs(self, requests: Iterator[GenerationRequest]) -> Iterator[_Job]:
        for request in requests:
            if not request.indexes:
                continue
            if self.server_n and request.n > 1:
                yield _Job(request, request.indexes, request.params.seed)
            else:
                for i in request.indexes:
                    yield _Job(request, (i,), request.params.sample_seed(request.problem_id, i))

    def _client(self) -> Any:
        import openai

        return openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=self.api_key,
            max_retries=0,  # retries are ours: backoff with jitter, counted
            timeout=client_timeout(self.timeout_s, self.connect_timeout_s),
        )

    async def _main(
        self,
        requests: Iterator[GenerationRequest],
        results: queue.Queue[Any],
        stop: threading.Event,
    ) -> None:
        tasks: set[asyncio.Task[None]] = set()
        client = None
        try:
            client = self._client()
            sem = asyncio.Semaphore(self.concurrency)
            for job in self._jobs(requests):
                while not stop.is_set():
                    try:
                        await asyncio.wait_for(sem.acquire(), timeout=0.1)
                        break
                    except TimeoutError:
                        continue
                # results not yet taken by the caller hold memory: wait while many pile up
                while results.qsize() > 4 * self.concurrency and not stop.is_set():
                    await asyncio.sleep(0.01)
                if stop.is_set():
                    break
                task = asyncio.create_task(self._run_job(client, job, sem, results, stop))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            while tasks and not stop.is_set():
                await asyncio.wait(set(tasks), timeout=0.1)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            stop.set()
            results.put(e if isinstance(e, Exception) else BackendError(repr(e)))
        finally:
            for task in list(tasks):
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if client is not None:
                await client.close()
            results.put(_DONE)

    async def _run_job(
        self,
        client: Any,
        job: _Job,
        sem: asyncio.Semaphore,
        results: queue.Queue[Any],
        stop: threading.Event,
    ) -> None:
        try:
            results.put(await self._call(client, job))
        except asyncio.CancelledError:
            raise
        except BaseException as e:  # noqa: BLE001 - the first fatal error stops the run
            if not stop.is_set():
                stop.set()
                results.put(e)
        finally:
            sem.release()

    def _delay(self, attempt: int, err: Exception) -> float:
        retry_after = None
        response = getattr(err, "response", None)
        if response is not None:
            try:
                retry_after = float(response.headers.get("retry-after", ""))
            except (TypeError, ValueError):
                retry_after = None
        delay = backoff_delay(attempt, self.backoff_s, self.max_backoff_s)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.max_backoff_s))
        return delay

    def _kwargs(self, job: _Job) -> dict[str, Any]:
        kwargs = chat_request_body(self.model, job.request, n=len(job.indexes), seed=job.seed)
        extra = {**self.extra_body, **job.request.params.extra_dict}
        if extra:
            kwargs["extra_body"] = extra
        return kwargs

    async def _call(self, client: Any, job: _Job) -> list[GeneratedSample]:
        import openai

        kwargs = self._kwargs(job)
        attempt = 0
        while True:
            t0 = time.perf_counter()
            self.calls += 1
            try:
                response = await client.chat.completions.create(**kwargs)
                return self._samples(job, response, time.perf_counter() - t0)
            except (
                openai.AuthenticationError,
                openai.PermissionDeniedError,
                openai.NotFoundError,
            ) as e:
                where = self.base_url or "OpenAI"
                raise BackendError(f"{where} refused {self.model!r}: {e}") from e
            except (openai.APITimeoutError, openai.APIConnectionError, openai.APIStatusError) as e:
                status = getattr(e, "status_code", None)
                retryable = status is None or status in (408, 409, 429) or status >= 500
                if not retryable:
                    log.warning("request for %s failed for good: %s", job.request.problem_id, e)
                    latency = time.perf_counter() - t0
                    return [
                        error_sample(job.request, i, f"{type(e).__name__}: {e}", latency)
                        for i in job.indexes
                    ]
                where = self.base_url or "OpenAI"
                unreachable = isinstance(e, openai.APIConnectionError) and not isinstance(
                    e, openai.APITimeoutError
                )
                if attempt >= self.max_retries:
                    if unreachable:
                        cause = f" ({e.__cause__})" if e.__cause__ else ""
                        raise BackendError(
                            f"cannot connect to the server at {where} (is it running?): "
                            f"gave up after {attempt + 1} attempt(s){cause}"
                        ) from e
                    raise BackendError(
                        f"{where}: giving up after {attempt + 1} attempts: "
                        f"{type(e).__name__}: {e}"
                    ) from e
                delay = self._delay(attempt, e)
                if unreachable and not self._warned_unreachable:
                    self._warned_unreachable = True  # once: many requests fail alike
                    log.warning(
                        "cannot connect to %s; retrying up to %d times with backoff",
                        where, self.max_retries,
                    )  # fmt: skip
                log.info(
                    "retrying in %.2fs after %s (attempt %d)", delay, type(e).__name__, attempt + 1
                )
                attempt += 1
                self.retries += 1
                await asyncio.sleep(delay)

    def _samples(self, job: _Job, response: Any, latency: float) -> list[GeneratedSample]:
        return completion_samples(job.request, job.indexes, response, latency)


def chat_request_body(
    model: str, request: GenerationRequest, *, n: int = 1, seed: int | None = None
) -> dict[str, Any]:
    """The chat-completions arguments for ``request`` (without engine extras).

    Shared by the online backend and the Batch API (whose JSONL bodies add the extras
    inline).
    """
    params = request.params
    body: dict[str, Any] = {
        "model": model,
        "messages": [dict(m) for m in request.messages],
        "temperature": params.temperature,
        "top_p": params.top_p,
        "max_tokens": params.max_tokens,
    }
    if n > 1:
        body["n"] = n
    if seed is not None:
        body["seed"] = seed
    if params.stop:
        body["stop"] = list(params.stop)
    return body


def completion_samples(
    request: GenerationRequest, indexes: tuple[int, ...], response: Any, latency: float
) -> list[GeneratedSample]:
    """Samples ``indexes`` of ``request`` from a ``ChatCompletion`` (one choice each)."""
    choices = sorted(getattr(response, "choices", None) or [], key=lambda c: c.index or 0)
    if len(choices) < len(indexes):
        msg = f"server returned {len(choices)} choice(s) for n={len(indexes)}"
        return [error_sample(request, i, msg, latency) for i in indexes]
    usage = getattr(response, "usage", None)
    prompt_tokens = getattr(usage, "prompt_tokens", None)
    completion_tokens = getattr(usage, "completion_tokens", None)
    details = getattr(usage, "completion_tokens_details", None)
    reasoning_tokens = getattr(details, "reasoning_tokens", None)
    single = len(indexes) == 1
    cost = _usage_cost(usage)
    if cost is not None and not single:
        cost /= len(indexes)  # one call, n choices: an even share each
    out = []
    for index, choice in zip(indexes, choices, strict=False):
        message = choice.message
        extra = getattr(message, "model_extra", None) or {}
        reasoning = extra.get("reasoning_content") or extra.get("reasoning")
        out.append(
            build_sample(
                request,
                index,
                message.content,
                reasoning=reasoning if isinstance(reasoning, str) else None,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens if single else None,
                reasoning_tokens=reasoning_tokens if single else None,
                finish_reason=choice.finish_reason,
                latency_s=latency,
                cost_usd=cost,
            )
        )
    return out


def _usage_cost(usage: Any) -> float | None:
    """The cost a server reported in ``usage.cost`` (OpenRouter and compatible), if any."""
    from tracemill.pipelines.generate.cost import reported_cost

    if usage is None:
        return None
    value = getattr(usage, "cost", None)
    if value is None:
        value = (getattr(usage, "model_extra", None) or {}).get("cost")
    return reported_cost(value)
