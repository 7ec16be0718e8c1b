"""Teacher sampling through an OpenAI-compatible Batch API (Files + Batches endpoints).

A batch job is one uploaded JSONL file of chat-completion requests (one line per
sample, ``custom_id`` = the sample's id) and one batch created from it; the provider
runs it within its completion window (about half the price of online calls) and
leaves an output file and an error file. This module is the provider side, without
any catalog: :func:`batch_lines` builds the request lines (the same bodies the online
backend sends, with each sample's derived seed), :func:`split_jobs` keeps jobs within
the provider's limits, :class:`OpenAIBatchClient` uploads, creates, finds (by the
``tracemill_job`` metadata tag), polls, downloads and cancels, and
:func:`parse_results` turns the result files into samples (read with openai's own
``ChatCompletion`` type) and failures, split into failures worth another batch
(expired, rate limited, server errors, no result) and failures for good.

Keeping track of jobs so an interrupted run polls instead of resubmitting is the
caller's part (``flows/distill.py`` keeps them in the catalog table ``teacher_batches``).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tracemill.pipelines.generate.base import BackendError, GeneratedSample, GenerationRequest
from tracemill.pipelines.generate.openai_server import (
    backoff_delay,
    chat_request_body,
    client_timeout,
    completion_samples,
)

log = logging.getLogger(__name__)

ENDPOINT = "/v1/chat/completions"
JOB_TAG = "tracemill_job"
"""Batch metadata key holding the job id: a run that died between creating a batch and
recording it finds the batch again by this tag instead of submitting it twice."""
MAX_REQUESTS = 50_000
"""Requests per batch file (OpenAI's limit)."""
MAX_BYTES = 190 * 1024 * 1024
"""Bytes per batch file (OpenAI's limit is 200 MB)."""
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
"""Batch statuses after which nothing changes."""
RETRY_CODES = frozenset({"batch_expired", "batch_cancelled", "rate_limit_exceeded"})
"""Per-request error codes worth submitting again in a later batch."""

T = TypeVar("T")


@dataclass(frozen=True)
class BatchItem:
    """One request line: a sample index of a generation request, under its id."""

    custom_id: str
    request: GenerationRequest
    index: int


@dataclass(frozen=True)
class BatchStatus:
    """What the provider says about a batch."""

    batch_id: str
    status: str
    input_file_id: str | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    request_counts: dict[str, int] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    """Batch-level errors (a file that failed validation)."""
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def terminal(self) -> bool:
        """True once the batch will not change any more."""
        return self.status in TERMINAL


@dataclass
class BatchResults:
    """A finished batch's outcome, per request."""

    samples: list[GeneratedSample] = field(default_factory=list)
    """Completed requests (truncated ones included: their finish reason says so)."""
    retry: dict[str, str] = field(default_factory=dict)
    """custom_id → why: worth another batch (expired, rate limited, 5xx, no result)."""
    failed: dict[str, str] = field(default_factory=dict)
    """custom_id → error: rejected for good (bad request, content refused)."""
    unknown: int = 0
    """Result lines whose custom_id is not one of the job's (ignored)."""


def batch_lines(
    model: str, items: Iterable[BatchItem], extra_body: Mapping[str, Any] | None = None
) -> list[str]:
    """The JSONL lines of a batch input file (one chat-completions request each)."""
    lines = []
    for item in items:
        params = item.request.params
        body = chat_request_body(
            model, item.request, seed=params.sample_seed(item.request.problem_id, item.index)
        )
        body.update({**dict(extra_body or {}), **params.extra_dict})
        line = {"custom_id": item.custom_id, "method": "POST", "url": ENDPOINT, "body": body}
        lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
    return lines


def split_jobs(
    lines: Sequence[str], *, max_requests: int = MAX_REQUESTS, max_bytes: int = MAX_BYTES
) -> list[list[str]]:
    """Consecutive groups of lines within the request and byte limits of one batch."""
    if max_requests < 1 or max_bytes < 1:
        raise ValueError("batch limits must be >= 1")
    jobs: list[list[str]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        n = len(line.encode()) + 1
        if n > max_bytes:
            raise ValueError(f"one request line is {n} bytes, over the batch file limit")
        if current and (len(current) >= max_requests or size + n > max_bytes):
            jobs.append(current)
            current, size = [], 0
        current.append(line)
        size += n
    if current:
        jobs.append(current)
    return jobs


def _result_error(line: Mapping[str, Any]) -> tuple[str | None, bool]:
    """(error text or None, retry?) of one result line."""
    error = line.get("error")
    if error:
        code = error.get("code") if isinstance(error, Mapping) else None
        message = error.get("message") if isinstance(error, Mapping) else error
        return f"{code or 'error'}: {message}"[:1000], code in RETRY_CODES
    response = line.get("response")
    if not isinstance(response, Mapping):
        return "result line without a response", True
    status = response.get("status_code")
    if status == 200:
        return None, False
    body = response.get("body")
    detail = body.get("error") if isinstance(body, Mapping) else body
    text = f"HTTP {status}: {json.dumps(detail, default=str)[:900]}"
    retry = not isinstance(status, int) or status in (408, 409, 429) or status >= 500
    return text, retry


def parse_results(
    output_lines: Iterable[str],
    error_lines: Iterable[str],
    items: Mapping[str, BatchItem],
    *,
    status: str = "completed",
) -> BatchResults:
    """Samples and failures of a batch from its output and error files.

    Every one of ``items`` ends in exactly one of ``samples``, ``retry`` or ``failed``;
    a request with no result line is retried (after ``cancelled``: failed). Lines are
    untrusted: an unreadable line fails only its own request.
    """
    from openai.types.chat import ChatCompletion

    out = BatchResults()
    seen: set[str] = set()
    for text in [*output_lines, *error_lines]:
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            custom_id = line["custom_id"]
        except (ValueError, KeyError, TypeError):
            log.warning("batch result line is not JSON with a custom_id: %.200s", text)
            continue
        item = items.get(custom_id) if isinstance(custom_id, str) else None
        if item is None:
            out.unknown += 1
            continue
        if custom_id in seen:
            continue
        seen.add(custom_id)
        error, retry = _result_error(line)
        if error is None:
            try:
                completion = ChatCompletion.model_validate(line["response"]["body"])
                sample = completion_samples(item.request, (item.index,), completion, 0.0)[0]
            except (ValueError, TypeError, KeyError) as e:
                out.failed[custom_id] = f"unreadable completion: {e}"[:1000]
                continue
            if sample.error is not None:
                out.failed[custom_id] = sample.error
            else:
                out.samples.append(sample)
        elif retry:
            out.retry[custom_id] = error
        else:
            out.failed[custom_id] = error
    for custom_id in items.keys() - seen:
        why = f"no result (batch {status})"
        if status == "cancelled":
            out.failed[custom_id] = why
        else:
            out.retry[custom_id] = why
    return out


class BatchNotFound(BackendError):
    """The provider does not know a batch id (deleted, or another account's)."""


class OpenAIBatchClient:
    """Files and Batches endpoints of an OpenAI-compatible server, with retries.

    Transient failures (timeouts, dropped connections, 408/409/429/5xx) are retried with
    exponential backoff and jitter; bad credentials or a refused request stop the run
    with :class:`BackendError`.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        timeout_s: float = 600.0,
        connect_timeout_s: float = 30.0,
        max_retries: int = 8,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        completion_window: str = "24h",
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        """``timeout_s`` bounds one HTTP call (uploads and downloads of big files)."""
        self.model = model
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        self.api_key = api_key or os.environ.get(api_key_env) or "EMPTY"
        self.timeout_s = float(timeout_s)
        self.connect_timeout_s = float(connect_timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.completion_window = completion_window
        self.extra_body = dict(extra_body or {})
        self.calls = 0
        """HTTP calls made, retries included."""
        self._client_obj: Any = None

    # -- plumbing ---------------------------------------------------------------------

    def _client(self) -> Any:
        if self._client_obj is None:
            import openai

            self._client_obj = openai.OpenAI(
                base_url=self.base_url,
                api_key=self.api_key,
                max_retries=0,  # retries are ours: backoff with jitter, counted
                timeout=client_timeout(self.timeout_s, self.connect_timeout_s),
            )
        return self._client_obj

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client_obj is not None:
            self._client_obj.close()
            self._client_obj = None

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        import openai

        attempt = 0
        while True:
            self.calls += 1
            try:
                return fn()
            except (
                openai.AuthenticationError,
                openai.PermissionDeniedError,
                openai.NotFoundError,
                openai.BadRequestError,
                openai.UnprocessableEntityError,
            ) as e:
                where = self.base_url or "OpenAI"
                raise BackendError(f"{where} refused {what}: {e}") from e
            except (openai.APITimeoutError, openai.APIConnectionError, openai.APIStatusError) as e:
                if attempt >= self.max_retries:
                    raise BackendError(
                        f"{self.base_url or 'OpenAI'}: {what}: giving up after "
                        f"{attempt + 1} attempts: {type(e).__name__}: {e}"
                    ) from e
                delay = backoff_delay(attempt, self.backoff_s, self.max_backoff_s)
                log.info("%s: retrying in %.2fs after %s", what, delay, type(e).__name__)
                attempt += 1
                time.sleep(delay)

    @staticmethod
    def _status(batch: Any) -> BatchStatus:
        counts = batch.request_counts
        errors = batch.errors.data if batch.errors is not None and batch.errors.data else []
        return BatchStatus(
            batch_id=batch.id,
            status=batch.status,
            input_file_id=batch.input_file_id,
            output_file_id=batch.output_file_id,
            error_file_id=batch.error_file_id,
            request_counts=(
                {"total": counts.total, "completed": counts.completed, "failed": counts.failed}
                if counts is not None
                else {}
            ),
            errors=tuple(f"{e.code}: {e.message}" for e in errors),
            metadata=dict(batch.metadata or {}),
        )

    # -- the API ----------------------------------------------------------------------

    def submit(self, lines: Sequence[str], job_id: str) -> BatchStatus:
        """Upload ``lines`` as a batch file and create the batch, tagged with ``job_id``."""
        if not lines:
            raise ValueError("a batch needs at least one request")
        data = ("\n".join(lines) + "\n").encode()
        client = self._client()
        uploaded = self._call(
            "a batch file upload",
            lambda: client.files.create(file=(f"{job_id}.jsonl", data), purpose="batch"),
        )
        batch = self._call(
            "a batch",
            lambda: client.batches.create(
                input_file_id=uploaded.id,
                endpoint=ENDPOINT,
                completion_window=self.completion_window,
                metadata={JOB_TAG: job_id},
            ),
        )
        log.info("batch %s: %d requests (job %s)", batch.id, len(lines), job_id)
        return self._status(batch)

    def find(self, job_id: str, *, max_pages: int = 20) -> BatchStatus | None:
        """The newest batch tagged with ``job_id`` among the most recent batches."""
        client = self._client()
        after: str | None = None
        for _ in range(max_pages):
            kwargs: dict[str, Any] = {"limit": 100}
            if after is not None:
                kwargs["after"] = after
            page = self._call("the batch list", lambda kw=kwargs: client.batches.list(**kw))
            batches = list(page.data)
            for batch in batches:
                if (batch.metadata or {}).get(JOB_TAG) == job_id:
                    return self._status(batch)
            if not batches or not getattr(page, "has_more", False):
                return None
            after = batches[-1].id
        return None

    def status(self, batch_id: str) -> BatchStatus:
        """The batch's current status (:class:`BatchNotFound` when the provider has none)."""
        import openai

        client = self._client()
        try:
            batch = self._call("a batch status", lambda: client.batches.retrieve(batch_id))
        except BackendError as e:
            if isinstance(e.__cause__, openai.NotFoundError):
                raise BatchNotFound(f"no batch {batch_id!r} at {self.base_url or 'OpenAI'}") from e
            raise
        return self._status(batch)

    def download(self, file_id: str | None) -> list[str]:
        """The lines of a result file (none for a missing file id)."""
        if not file_id:
            return []
        client = self._client()
        content = self._call("a result file", lambda: client.files.content(file_id))
        return content.text.splitlines()

    def cancel(self, batch_id: str) -> BatchStatus:
        """Ask the provider to cancel a batch."""
        client = self._client()
        return self._status(self._call("a batch cancel", lambda: client.batches.cancel(batch_id)))

    def results(self, status: BatchStatus, items: Mapping[str, BatchItem]) -> BatchResults:
        """Download a terminal batch's files and parse them against its items."""
        out = parse_results(
            self.download(status.output_file_id),
            self.download(status.error_file_id),
            items,
            status=status.status,
        )
        if status.status == "failed" and status.errors:
            why = "; ".join(status.errors)[:1000]
            for custom_id in list(out.retry):
                out.failed[custom_id] = f"batch failed: {why}"
                del out.retry[custom_id]
        return out
