"""A local OpenAI-compatible Files + Batches server on 127.0.0.1 for Batch API tests.

Run as a subprocess (``python -m tests.pipelines.batch_server STATE_DIR``): it writes its
port to ``STATE_DIR/port`` and serves

- ``POST /v1/files`` (multipart upload, purpose ``batch``), ``GET /v1/files/{id}``,
  ``GET /v1/files/{id}/content``;
- ``POST /v1/batches``, ``GET /v1/batches/{id}``, ``GET /v1/batches`` (newest first,
  ``limit``/``after``), ``POST /v1/batches/{id}/cancel``;
- ``GET /_state`` (what happened: batches created, files uploaded, polls per batch).

A batch moves one step per status poll: ``validating`` → ``in_progress`` → (after
``polls`` polls) → ``finalizing`` → done, and never past ``in_progress`` while the file
``STATE_DIR/hold`` exists. Behaviour comes from ``STATE_DIR/script.json`` (read at each
poll), keyed by the batch's model or ``"*"``:

- ``polls`` (default 2): in-progress polls before a batch finishes;
- ``fail_every`` k: every k-th request (1-based) gets an HTTP 400 in the error file;
- ``retry_every`` k: every k-th request gets an HTTP 429 in the error file;
- ``expire_after`` n: the batch expires with only its first n requests done (the rest
  get ``batch_expired`` error lines);
- ``fail_validation``: the batch fails validation (no output at all).

A completed request's content is ``<think>…</think>`` and ``\\boxed{42}``; usage counts
words (prompt = words of the messages, completion = 3).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

CONTENT = "<think>\nthe sum of the digits\n</think>\n\n\\boxed{42}"


class BatchState:
    """Files, batches and counters (one lock around all of it)."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.polls: dict[str, int] = {}
        self.created = 0
        self.uploads = 0
        self.lock = threading.Lock()

    def script(self, model: str) -> dict[str, Any]:
        path = self.dir / "script.json"
        data = json.loads(path.read_text()) if path.exists() else {}
        return {**data.get("*", {}), **data.get(model, {})}

    def add_file(self, name: str, purpose: str, data: bytes) -> dict[str, Any]:
        file_id = "file-" + uuid.uuid4().hex[:20]
        obj = {
            "id": file_id,
            "object": "file",
            "bytes": len(data),
            "created_at": int(time.time()),
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }
        self.files[file_id] = obj
        self.contents[file_id] = data
        return obj

    def create_batch(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        file_id = body.get("input_file_id")
        if file_id not in self.files:
            return 404, {"error": {"message": f"no file {file_id}", "type": "invalid_request"}}
        lines = [json.loads(x) for x in self.contents[file_id].decode().splitlines() if x]
        batch_id = "batch_" + uuid.uuid4().hex[:20]
        batch = {
            "id": batch_id,
            "object": "batch",
            "endpoint": body.get("endpoint"),
            "input_file_id": file_id,
            "completion_window": body.get("completion_window", "24h"),
            "status": "validating",
            "created_at": int(time.time()),
            "metadata": body.get("metadata") or {},
            "model": lines[0]["body"]["model"] if lines else None,
            "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            "output_file_id": None,
            "error_file_id": None,
            "errors": None,
        }
        self.batches[batch_id] = batch
        self.order.append(batch_id)
        self.polls[batch_id] = 0
        self.created += 1
        return 200, batch

    def advance(self, batch: dict[str, Any]) -> None:
        """One status poll's worth of progress."""
        batch_id = batch["id"]
        self.polls[batch_id] += 1
        status = batch["status"]
        script = self.script(batch["model"] or "")
        if status == "validating":
            if script.get("fail_validation"):
                batch["status"] = "failed"
                batch["errors"] = {
                    "object": "list",
                    "data": [{"code": "invalid_model", "message": "model not found", "line": 1}],
                }
            else:
                batch["status"] = "in_progress"
            return
        if status == "in_progress":
            if (self.dir / "hold").exists():
                return
            if self.polls[batch_id] >= 1 + int(script.get("polls", 2)):
                batch["status"] = "finalizing"
            return
        if status in ("finalizing", "cancelling"):
            self.finish(batch, script, cancelled=status == "cancelling")

    def finish(self, batch: dict[str, Any], script: dict[str, Any], cancelled: bool) -> None:
        requests = [
            json.loads(x) for x in self.contents[batch["input_file_id"]].decode().splitlines() if x
        ]
        outputs, errors = [], []
        expire_after = script.get("expire_after")
        for i, line in enumerate(requests, 1):
            custom_id = line["custom_id"]
            rid = "batch_req_" + uuid.uuid4().hex[:16]
            if cancelled or (expire_after is not None and i > int(expire_after)):
                code = "batch_cancelled" if cancelled else "batch_expired"
                errors.append({"id": rid, "custom_id": custom_id, "response": None,
                               "error": {"code": code, "message": "not run"}})  # fmt: skip
            elif script.get("fail_every") and i % int(script["fail_every"]) == 0:
                body = {"error": {"message": "bad request", "type": "invalid_request_error"}}
                errors.append({"id": rid, "custom_id": custom_id, "error": None,
                               "response": {"status_code": 400, "body": body}})  # fmt: skip
            elif script.get("retry_every") and i % int(script["retry_every"]) == 0:
                body = {"error": {"message": "slow down", "type": "rate_limit"}}
                errors.append({"id": rid, "custom_id": custom_id, "error": None,
                               "response": {"status_code": 429, "body": body}})  # fmt: skip
            else:
                outputs.append({"id": rid, "custom_id": custom_id, "error": None,
                                "response": {"status_code": 200, "request_id": rid,
                                             "body": completion(line["body"])}})  # fmt: skip
        if outputs:
            data = "".join(json.dumps(o) + "\n" for o in outputs).encode()
            batch["output_file_id"] = self.add_file("output.jsonl", "batch_output", data)["id"]
        if errors:
            data = "".join(json.dumps(e) + "\n" for e in errors).encode()
            batch["error_file_id"] = self.add_file("errors.jsonl", "batch_output", data)["id"]
        batch["request_counts"] = {
            "total": len(requests),
            "completed": len(outputs),
            "failed": len(errors),
        }
        if cancelled:
            batch["status"] = "cancelled"
        elif expire_after is not None:
            batch["status"] = "expired"
        else:
            batch["status"] = "completed"

    def snapshot(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "uploads": self.uploads,
            "polls": dict(self.polls),
            "statuses": {k: b["status"] for k, b in self.batches.items()},
        }


def completion(body: dict[str, Any]) -> dict[str, Any]:
    """A chat completion for a request body (deterministic)."""
    words = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:12],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": CONTENT},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": words, "completion_tokens": 3, "total_tokens": words + 3},
    }


def make_handler(state: BatchState) -> type[BaseHTTPRequestHandler]:
    """The request handler bound to ``state``."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: Any, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/octet-stream" if raw is not None
                             else "application/json")  # fmt: skip
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("content-length", 0)))

        def do_GET(self) -> None:
            url = urlparse(self.path)
            parts = [p for p in url.path.split("/") if p]
            with state.lock:
                if parts == ["_state"]:
                    return self._send(200, state.snapshot())
                if parts[:2] == ["v1", "files"] and len(parts) >= 3:
                    if parts[2] not in state.files:
                        return self._send(404, {"error": {"message": "no such file"}})
                    if len(parts) == 4 and parts[3] == "content":
                        return self._send(200, None, state.contents[parts[2]])
                    return self._send(200, state.files[parts[2]])
                if parts == ["v1", "batches"]:
                    query = parse_qs(url.query)
                    limit = int(query.get("limit", ["20"])[0])
                    newest = list(reversed(state.order))
                    if "after" in query and query["after"][0] in newest:
                        newest = newest[newest.index(query["after"][0]) + 1 :]
                    page = [state.batches[b] for b in newest[:limit]]
                    return self._send(200, {
                        "object": "list", "data": page,
                        "first_id": page[0]["id"] if page else None,
                        "last_id": page[-1]["id"] if page else None,
                        "has_more": len(newest) > limit,
                    })  # fmt: skip
                if parts[:2] == ["v1", "batches"] and len(parts) == 3:
                    batch = state.batches.get(parts[2])
                    if batch is None:
                        return self._send(404, {"error": {"message": "no such batch"}})
                    state.advance(batch)
                    return self._send(200, batch)
            return self._send(404, {"error": {"message": f"no route {url.path}"}})

        def do_POST(self) -> None:
            url = urlparse(self.path)
            parts = [p for p in url.path.split("/") if p]
            body = self._body()
            with state.lock:
                if parts == ["v1", "files"]:
                    head = f"content-type: {self.headers['content-type']}\r\n\r\n".encode()
                    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                        head + body
                    )
                    fields: dict[str, Any] = {}
                    for part in message.iter_parts():
                        name = part.get_param("name", header="content-disposition")
                        fields[name] = (part.get_filename(), part.get_payload(decode=True))
                    if "file" not in fields:
                        return self._send(400, {"error": {"message": "no file part"}})
                    purpose = (fields.get("purpose") or (None, b""))[1].decode()
                    state.uploads += 1
                    name, data = fields["file"]
                    return self._send(200, state.add_file(name or "upload", purpose, data))
                if parts == ["v1", "batches"]:
                    status, payload = state.create_batch(json.loads(body or b"{}"))
                    return self._send(status, payload)
                if parts[:2] == ["v1", "batches"] and parts[3:] == ["cancel"]:
                    batch = state.batches.get(parts[2])
                    if batch is None:
                        return self._send(404, {"error": {"message": "no such batch"}})
                    if batch["status"] not in ("completed", "failed", "expired", "cancelled"):
                        batch["status"] = "cancelling"
                    return self._send(200, batch)
            return self._send(404, {"error": {"message": f"no route {url.path}"}})

    return Handler


def main(state_dir: str) -> None:
    """Serve until killed; the chosen port goes to ``STATE_DIR/port``."""
    path = Path(state_dir)
    path.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(BatchState(path)))
    tmp = path / "port.tmp"
    tmp.write_text(str(server.server_address[1]))
    tmp.rename(path / "port")
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
