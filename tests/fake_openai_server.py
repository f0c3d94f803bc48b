"""A tiny OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, canned answers.

It implements ``POST /v1/chat/completions`` (plain and ``stream: true``) and can misbehave
on demand, so the client code under test meets real sockets, timeouts and status codes.

Modes (set ``server.mode``):
    ok: answer ``server.reply`` (or ``server.replies`` in order, then ``server.reply``).
    hang: accept the request and answer nothing for ``server.hang_s`` seconds.
    error500: HTTP 500 with an OpenAI-style error body.
    garbage: HTTP 200, ``Content-Type: application/json``, a body that is not JSON.
    empty: HTTP 200 with a valid completion object whose ``choices`` is empty.
    slow: answer as ``ok`` after ``server.slow_s`` seconds.
    trickle: HTTP 200 and headers at once, then the body one byte every ``server.trickle_s``
        seconds (each read is quick, the whole answer takes minutes: a per-read timeout
        never fires).
    echo: give the model's input back: a chat answer is the system prompt and the user
        message; a JSON-mode (ranking) answer ranks the first candidate id of the prompt
        with the system prompt and the user message as its "reason" (what a model that
        obeys a prompt injection would do).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "hang", "error500", "garbage", "empty", "slow", "trickle", "echo")


class FakeOpenAIServer:
    """Start with :meth:`start` (port 0 = a free port); ``requests`` records each JSON body."""

    def __init__(self, reply: str = "Hello from the fake model.") -> None:
        self.reply = reply
        self.replies: list[str] = []
        self.mode = "ok"
        self.hang_s = 10.0
        self.slow_s = 0.3
        self.trickle_s = 0.2
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._release = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"_unparsed": raw.decode("utf-8", "replace")}
                server.requests.append(body)
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path.rstrip("/") != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                server._answer(self, body)

            def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (timeout tests): nothing to tell it
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # wake any hanging handler
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _next_reply(self) -> str:
        return self.replies.pop(0) if self.replies else self.reply

    def _answer(self, handler: Any, body: dict[str, Any]) -> None:
        mode = self.mode
        if mode == "hang":
            self._release.wait(self.hang_s)
            return handler._send(200, _completion(body, "too late"))
        if mode == "error500":
            return handler._send(500, {"error": {"message": "boom", "type": "server_error"}})
        if mode == "garbage":
            return handler._send(200, b"{not json at all", "application/json")
        if mode == "empty":
            payload = _completion(body, "")
            payload["choices"] = []
            return handler._send(200, payload)
        if mode == "trickle":
            return self._trickle(handler, json.dumps(_completion(body, self._next_reply())).encode())
        if mode == "slow":
            self._release.wait(self.slow_s)
        if mode == "echo":
            text = _echo(body)
            if body.get("stream"):
                return handler._send(200, _sse(body, text), "text/event-stream")
            return handler._send(200, _completion(body, text))
        text = self._next_reply()
        if body.get("stream"):
            return handler._send(200, _sse(body, text), "text/event-stream")
        return handler._send(200, _completion(body, text))


    def _trickle(self, handler: Any, data: bytes) -> None:
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            for i in range(len(data)):
                if self._release.wait(self.trickle_s):
                    return
                handler.wfile.write(data[i:i + 1])
                handler.wfile.flush()
        except OSError:  # the client gave up
            pass


def _messages_text(body: dict[str, Any], role: str) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == role)


def _echo(body: dict[str, Any]) -> str:
    system, user = _messages_text(body, "system"), _messages_text(body, "user")
    if not body.get("response_format"):
        return f"{system}\n{user}"
    import re

    first = re.search(r"^\s*([^\s:|]+):", user.split("Candidates:", 1)[-1], re.MULTILINE)
    ranking = [{"id": first.group(1) if first else "0", "reason": f"{system} {user}"}]
    return json.dumps({"ranking": ranking})


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 11, "completion_tokens": len(text.split()),
                  "total_tokens": 11 + len(text.split())},
    }


def _sse(body: dict[str, Any], text: str) -> bytes:
    words = text.split(" ")
    events = []
    for i, word in enumerate(words):
        piece = word if i == 0 else " " + word
        chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0,
                 "model": body.get("model", "fake"),
                 "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        events.append(f"data: {json.dumps(chunk)}\n\n")
    events.append("data: [DONE]\n\n")
    return "".join(events).encode()


@contextmanager
def running(reply: str = "Hello from the fake model.") -> Iterator[FakeOpenAIServer]:
    """``with running() as server:`` starts a server and always stops it."""
    server = FakeOpenAIServer(reply).start()
    try:
        yield server
    finally:
        server.stop()
