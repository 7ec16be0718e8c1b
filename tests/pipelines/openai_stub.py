"""A tiny OpenAI-compatible chat server on 127.0.0.1 for backend tests.

It answers ``POST /v1/chat/completions`` from a script: the first ``fail`` calls get the
listed HTTP statuses (429, 500, …), then completions echo the request so tests can
check what was sent. ``reasoning=True`` returns ``reasoning_content`` separately;
``support_n=False`` rejects ``n`` > 1 like servers without it. Every request body is
recorded; ``max_requests`` bounds the total so a runaway client fails the test.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StubScript:
    """How the stub behaves."""

    fail: list[int] = field(default_factory=list)
    reasoning: bool = False
    support_n: bool = True
    max_requests: int = 200
    finish_reason: str = "stop"
    delay_s: float = 0.0
    """Seconds each successful answer takes (to observe concurrency)."""
    reject_status: int | None = None
    """Answer every (non-failing) request with this status (e.g. 400)."""
    cost: Any = None
    """``usage.cost`` of every answer (as OpenRouter reports it); None: left out."""


class OpenAIStub:
    """Start with ``with OpenAIStub(script) as stub: stub.base_url``."""

    def __init__(self, script: StubScript | None = None) -> None:
        self.script = script or StubScript()
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with stub._lock:
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    status, payload = stub._answer(self.path, body)
                    if status == 200 and stub.script.delay_s:
                        time.sleep(stub.script.delay_s)
                finally:
                    with stub._lock:
                        stub.in_flight -= 1
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                if status == 429:
                    self.send_header("retry-after", "0")
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The server's ``/v1`` URL."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> OpenAIStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            count = len(self.requests)
            self.requests.append(body)
            if count >= self.script.max_requests:
                status = 503
            elif count < len(self.script.fail):
                status = self.script.fail[count]
            elif self.script.reject_status is not None:
                status = self.script.reject_status
            else:
                status = 200
            self.statuses.append(status)
        if path.rstrip("/") != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {path}"}}
        if status != 200:
            return status, {"error": {"message": f"scripted {status}", "code": status}}
        n = int(body.get("n") or 1)
        if n > 1 and not self.script.support_n:
            return 400, {"error": {"message": "n > 1 is not supported"}}
        question = body["messages"][-1]["content"]
        prompt_tokens = sum(len(str(m["content"]).split()) for m in body["messages"])
        choices = []
        completion_tokens = 0
        for i in range(n):
            answer = f"answer {i} seed {body.get('seed')} to: {question}"
            reasoning = f"thinking {i} about {question}"
            message: dict[str, Any] = {"role": "assistant"}
            if self.script.reasoning:
                message["content"] = answer
                message["reasoning_content"] = reasoning
            else:
                message["content"] = f"<think>{reasoning}</think>{answer}"
            completion_tokens += len(answer.split()) + len(reasoning.split())
            choices.append(
                {"index": i, "message": message, "finish_reason": self.script.finish_reason}
            )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if self.script.reasoning:
            usage["completion_tokens_details"] = {"reasoning_tokens": 3 * n}
        if self.script.cost is not None:
            usage["cost"] = self.script.cost
        return 200, {
            "id": f"stub-{count}",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model"),
            "choices": choices,
            "usage": usage,
        }
