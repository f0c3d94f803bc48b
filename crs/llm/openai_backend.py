"""A backend for any OpenAI-compatible chat server (OpenAI, Ollama, llama.cpp, vLLM, ...).

Which server and model is configuration (``CRS_LLM_BASE_URL``, ``CRS_LLM_MODEL``), not
code. Calls are deterministic (temperature 0), bounded (``max_tokens``, a per-call
timeout) and never retried: a slow or broken server must cost one timeout at most, after
which the template answers. Every failure surfaces as :class:`LLMError`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from crs.llm.base import Completion, LLMError, UsageCallback

log = logging.getLogger(__name__)

#: Local servers ignore the key, but the client refuses to start without one.
PLACEHOLDER_API_KEY = "not-needed"


class OpenAIBackend:
    """Chat completions over HTTP with the ``openai`` client (imported on first use).

    Args:
        base_url: Server root including ``/v1``, e.g. ``http://127.0.0.1:11434/v1``.
        model: Model name the server knows.
        api_key: Bearer token; None sends a placeholder (fine for local servers).
        timeout_s: Default per-call timeout in seconds.
    """

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout_s: float = 8.0) -> None:
        if not base_url:
            raise ValueError("OpenAIBackend needs a base_url, e.g. http://127.0.0.1:11434/v1")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        self.base_url = base_url
        self.model = model
        self.timeout_s = timeout_s
        self._api_key = api_key or PLACEHOLDER_API_KEY
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIBackend(base_url={self.base_url!r}, model={self.model!r}, timeout_s={self.timeout_s})"

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                try:
                    from openai import OpenAI
                except ImportError as exc:  # pragma: no cover - openai is a declared dependency
                    raise LLMError("the 'openai' package is missing: pip install openai") from exc
                self._client = OpenAI(base_url=self.base_url, api_key=self._api_key,
                                      timeout=self.timeout_s, max_retries=0)
            return self._client

    def _messages(self, system: str, user: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def complete(self, system: str, user: str, *, json_mode: bool = False, max_tokens: int = 300,
                 timeout_s: float | None = None) -> Completion:
        """One chat completion; see :meth:`crs.llm.base.LLMBackend.complete`.

        Raises:
            LLMError: Connection refused, timeout, HTTP error, malformed or empty answer,
                or (with ``json_mode``) an answer that is not a JSON object.
        """
        extra: dict[str, Any] = {"response_format": {"type": "json_object"}} if json_mode else {}
        log.debug("openai request: model=%s system=%d chars user=%d chars json=%s",
                  self.model, len(system), len(user), json_mode)
        start = time.perf_counter()
        try:
            response = self._get_client().chat.completions.create(
                model=self.model, messages=self._messages(system, user), temperature=0,
                max_tokens=max_tokens, timeout=timeout_s or self.timeout_s, **extra)
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(f"{self.base_url}: {type(exc).__name__}: {exc}") from exc
        latency_ms = (time.perf_counter() - start) * 1000
        text = _first_text(response)
        if json_mode:
            _check_json_object(text)
        usage = getattr(response, "usage", None)
        return Completion(text=text, backend=self.name, latency_ms=latency_ms,
                          tokens_in=getattr(usage, "prompt_tokens", None),
                          tokens_out=getattr(usage, "completion_tokens", None))

    def stream(self, system: str, user: str, *, max_tokens: int = 300,
               timeout_s: float | None = None, on_usage: UsageCallback | None = None) -> Iterator[str]:
        """Yield the reply in chunks as the server sends them.

        Asks the server for a final usage chunk (``stream_options.include_usage``, which
        OpenAI, vLLM and Ollama send); ``on_usage`` then gets the whole text with its
        token counts (None where the server sent none) once the stream has ended.

        Raises:
            LLMError: As :meth:`complete`, possibly after some chunks were yielded.
        """
        start = time.perf_counter()
        try:
            response = self._get_client().chat.completions.create(
                model=self.model, messages=self._messages(system, user), temperature=0,
                max_tokens=max_tokens, timeout=timeout_s or self.timeout_s, stream=True,
                stream_options={"include_usage": True})
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(f"{self.base_url}: {type(exc).__name__}: {exc}") from exc
        parts: list[str] = []
        usage: Any = None
        try:
            for chunk in response:
                usage = getattr(chunk, "usage", None) or usage
                choices = getattr(chunk, "choices", None) or []
                delta = getattr(choices[0], "delta", None) if choices else None
                piece = getattr(delta, "content", None)
                if piece:
                    parts.append(piece)
                    yield piece
        except Exception as exc:
            raise LLMError(f"{self.base_url}: stream broke: {type(exc).__name__}: {exc}") from exc
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                close()
        if on_usage is not None:
            on_usage(Completion(text="".join(parts), backend=self.name,
                                latency_ms=(time.perf_counter() - start) * 1000,
                                tokens_in=getattr(usage, "prompt_tokens", None),
                                tokens_out=getattr(usage, "completion_tokens", None)))


def _first_text(response: Any) -> str:
    """The first choice's text, or LLMError for a reply without one."""
    choices = getattr(response, "choices", None)
    if not choices:
        raise LLMError(f"the server's reply has no choices ({type(response).__name__})")
    message = getattr(choices[0], "message", None)
    text = getattr(message, "content", None)
    if not isinstance(text, str) or not text.strip():
        raise LLMError("the server's reply has an empty message")
    return text


def _check_json_object(text: str) -> None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LLMError(f"json_mode reply is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise LLMError(f"json_mode reply is a {type(value).__name__}, not a JSON object")
