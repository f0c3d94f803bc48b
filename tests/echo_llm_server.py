"""An OpenAI-compatible test server that rewords the bot's draft reply by echoing it.

It is :class:`fake_openai_server.FakeOpenAIServer` with three additions the reply-wording
tests need: a wording request (user message ``Draft reply:\\n...``) is answered with
``prefix + draft`` (so it passes validation, whatever the draft is) unless ``reply`` is set
to something else; a stream is sent chunk by chunk with ``delay_s`` between chunks (so a
browser sees it grow); and ``stream_options.include_usage`` gets a final usage chunk, as
OpenAI sends it. JSON-mode requests (the stage-2 ranking) get ``ranking`` (default ``{}``).
Mode ``leak`` answers 401 with the request's Authorization header quoted in the error.
"""

from __future__ import annotations

import json
import time
from typing import Any

from fake_openai_server import FakeOpenAIServer, _completion

WORDING_MARKER = "Draft reply:\n"


class EchoLLMServer(FakeOpenAIServer):
    def __init__(self, prefix: str = "Sure thing! ", delay_s: float = 0.0) -> None:
        super().__init__(reply="")
        self.prefix = prefix
        self.delay_s = delay_s
        self.ranking = "{}"

    def wording_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if WORDING_MARKER in _user_text(r)]

    def _text_for(self, body: dict[str, Any]) -> str:
        if body.get("response_format"):
            return self.ranking
        if self.reply:
            return self.reply
        user = _user_text(body)
        draft = user.split(WORDING_MARKER, 1)[1] if WORDING_MARKER in user else user
        return self.prefix + draft

    def _answer(self, handler: Any, body: dict[str, Any]) -> None:
        if self.mode == "leak":  # a careless server that quotes the key back in its error
            auth = handler.headers.get("Authorization", "")
            return handler._send(401, {"error": {"message": f"invalid key: {auth}", "type": "auth_error"}})
        if self.mode != "ok":
            return super()._answer(handler, body)
        text = self._text_for(body)
        if not body.get("stream"):
            return handler._send(200, _completion(body, text))
        words = text.split(" ")
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/event-stream")
            handler.send_header("Connection", "close")
            handler.end_headers()
            for i, word in enumerate(words):
                chunk = {"id": "chatcmpl-echo", "object": "chat.completion.chunk", "created": 0, "model": "echo",
                         "choices": [{"index": 0, "delta": {"content": word if i == 0 else " " + word},
                                      "finish_reason": None}]}
                handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                handler.wfile.flush()
                if self.delay_s:
                    time.sleep(self.delay_s)
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = {"id": "chatcmpl-echo", "object": "chat.completion.chunk", "created": 0, "model": "echo",
                         "choices": [], "usage": {"prompt_tokens": 100 + len(_user_text(body).split()),
                                                  "completion_tokens": len(words),
                                                  "total_tokens": 100 + len(_user_text(body).split()) + len(words)}}
                handler.wfile.write(f"data: {json.dumps(usage)}\n\n".encode())
            handler.wfile.write(b"data: [DONE]\n\n")
            handler.wfile.flush()
            handler.close_connection = True
        except OSError:  # the client gave up
            pass


def _user_text(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    return str(messages[-1].get("content") or "") if messages else ""
