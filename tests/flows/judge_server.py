"""A small OpenAI-compatible judge server for the verify CLI tests (run as a subprocess).

``python judge_server.py LOG`` listens on 127.0.0.1 (a free port, printed as
``PORT <n>`` on the first stdout line) and answers ``POST /v1/chat/completions`` like
a judge model: it reads the quoted response block and the reference answer out of
tracemill's judge prompt, compares the last ``\\boxed{}`` or number (number words from
zero to ten read as digits) with the reference, and replies with a short sentence and
``VERDICT: PASS`` or ``VERDICT: FAIL``. Every request body is appended to LOG as one
JSON line. ``GET /v1/models`` lists the models.

Each reply carries its ``usage`` (:func:`usage`: whitespace-split words of the messages
and of the reply); model ``judge-billed`` also reports a cost in ``usage.cost``, as
OpenRouter does. Tests recompute the usage of the logged requests with :func:`usage`.
"""

from __future__ import annotations

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def _grade(user: str) -> str:
    block = re.search(r"<<<RESPONSE \w+>>>\n(.*?)\n<<<END RESPONSE \w+>>>", user, re.S)
    ref = re.search(r"\nReference answer:\n(.*?)\n\n", user, re.S)
    if block is None or ref is None:
        return "I cannot find the response.\nVERDICT: FAIL"
    text = "\n".join(line[2:] for line in block.group(1).split("\n"))
    boxed = re.findall(r"\\boxed\{([^{}]*)\}", text)
    if boxed:
        answer = boxed[-1]
    else:
        tokens = re.findall(r"\b(?:\d+|" + "|".join(WORDS) + r")\b", text.lower())
        answer = tokens[-1] if tokens else ""
    answer = str(WORDS.index(answer)) if answer in WORDS else answer.strip()
    ok = answer == ref.group(1).strip()
    return f"The response answers {answer!r}.\nVERDICT: {'PASS' if ok else 'FAIL'}"


MODELS = ("judge-m", "judge-billed")
BILLED_USD_PER_TOKEN = (2e-6, 8e-6)
"""What ``judge-billed`` reports it charged per prompt and completion token."""


def reply_for(body: dict[str, Any]) -> str:
    """The judge's reply to one request body."""
    return _grade(body["messages"][-1]["content"])


def usage(body: dict[str, Any]) -> dict[str, Any]:
    """The ``usage`` object of the reply to one request body."""
    prompt = sum(len(str(m.get("content") or "").split()) for m in body["messages"])
    completion = len(reply_for(body).split())
    out: dict[str, Any] = {
        "prompt_tokens": prompt, "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }  # fmt: skip
    if body.get("model") == "judge-billed":
        out["cost"] = prompt * BILLED_USD_PER_TOKEN[0] + completion * BILLED_USD_PER_TOKEN[1]
    return out


def main(log_path: str) -> None:
    """Serve until killed."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            models = [{"id": m, "object": "model"} for m in MODELS]
            self._send(200, {"object": "list", "data": models})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(body) + "\n")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            if body.get("model") not in MODELS:
                self._send(404, {"error": {"message": f"model {body.get('model')!r} not found"}})
                return
            reply = reply_for(body)
            self._send(
                200,
                {
                    "id": "judge", "object": "chat.completion", "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply}}],
                    "usage": usage(body),
                },
            )  # fmt: skip

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
