"""A small OpenAI-compatible judge server for the verify CLI tests (run as a subprocess).

``python judge_server.py LOG`` listens on 127.0.0.1 (a free port, printed as
``PORT <n>`` on the first stdout line) and answers ``POST /v1/chat/completions`` like
a judge model: it reads the quoted response block and the reference answer out of
tracemill's judge prompt, compares the last ``\\boxed{}`` or number (number words from
zero to ten read as digits) with the reference, and replies with a short sentence and
``VERDICT: PASS`` or ``VERDICT: FAIL``. Every request body is appended to LOG as one
JSON line. ``GET /v1/models`` lists the one model.
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
            self._send(200, {"object": "list", "data": [{"id": "judge-m", "object": "model"}]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(body) + "\n")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            if body.get("model") != "judge-m":
                self._send(404, {"error": {"message": f"model {body.get('model')!r} not found"}})
                return
            reply = _grade(body["messages"][-1]["content"])
            self._send(
                200,
                {
                    "id": "judge", "object": "chat.completion", "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": reply}}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                },
            )  # fmt: skip

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
