"""A backend for any OpenAI-compatible chat server (OpenAI, Ollama, llama.cpp, vLLM, ...).

Which server and model is configuration (``CRS_LLM_BASE_URL``, ``CRS_LLM_MODEL``), not
code. Calls are deterministic (temperature 0), bounded (``max_tokens``, a per-call
timeout) and never retried: a slow or broken server must cost one timeout at most, after
which the template answers. Every failure surfaces as :class:`LLMError`.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
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

    def _scrub(self, message: str) -> str:
        """``message`` without the API key (a server may echo it in an error body)."""
        key = self._api_key
        return message.replace(key, "***") if key and key != PLACEHOLDER_API_KEY else message

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
        limit = timeout_s or self.timeout_s
        client = self._get_client()
        try:
            # The client's timeout is per read: a server that trickles its answer a byte at
            # a time never trips it. _within bounds the whole call by wall-clock time.
            response = _within(limit, lambda: client.chat.completions.create(
                model=self.model, messages=self._messages(system, user), temperature=0,
                max_tokens=max_tokens, timeout=limit, **extra))
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(self._scrub(f"{self.base_url}: {type(exc).__name__}: {exc}")) from exc
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
        limit = timeout_s or self.timeout_s
        deadline = start + limit
        client = self._get_client()
        try:
            response = _within(limit, lambda: client.chat.completions.create(
                model=self.model, messages=self._messages(system, user), temperature=0,
                max_tokens=max_tokens, timeout=limit, stream=True,
                stream_options={"include_usage": True}))
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(self._scrub(f"{self.base_url}: {type(exc).__name__}: {exc}")) from exc
        parts: list[str] = []
        usage: Any = None
        try:
            for chunk in _chunks_until(response, deadline):
                usage = getattr(chunk, "usage", None) or usage
                choices = getattr(chunk, "choices", None) or []
                delta = getattr(choices[0], "delta", None) if choices else None
                piece = getattr(delta, "content", None)
                if piece:
                    parts.append(piece)
                    yield piece
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(self._scrub(f"{self.base_url}: stream broke: {type(exc).__name__}: {exc}")) from exc
        finally:
            close = getattr(response, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # a stream still being read by the pump thread
                    pass
        if on_usage is not None:
            on_usage(Completion(text="".join(parts), backend=self.name,
                                latency_ms=(time.perf_counter() - start) * 1000,
                                tokens_in=getattr(usage, "prompt_tokens", None),
                                tokens_out=getattr(usage, "completion_tokens", None)))


def _within(limit_s: float, call: Callable[[], Any]) -> Any:
    """``call()``'s result, or LLMError once ``limit_s`` seconds of wall time have passed.

    The call runs in a daemon thread; one that overruns is abandoned (its socket closes
    when the server gives up or the client's own read timeout fires)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="openai-call", daemon=True).start()
    if not done.wait(limit_s):
        raise LLMError(f"Timeout: no complete answer within {limit_s:.1f} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _chunks_until(response: Any, deadline: float) -> Iterator[Any]:
    """The chunks of a streamed response, read in a daemon thread; LLMError at ``deadline``
    (perf_counter time) even while the server holds a chunk back or trickles it."""
    pipe: queue.Queue[tuple[str, Any]] = queue.Queue()

    def pump() -> None:
        try:
            for chunk in response:
                pipe.put(("chunk", chunk))
            pipe.put(("end", None))
        except BaseException as exc:
            pipe.put(("error", exc))

    threading.Thread(target=pump, name="openai-stream", daemon=True).start()
    while True:
        remaining = deadline - time.perf_counter()
        try:
            kind, value = pipe.get(timeout=max(remaining, 0.0)) if remaining > 0 else pipe.get_nowait()
        except queue.Empty:
            raise LLMError("Timeout: the stream ran past its time limit") from None
        if kind == "end":
            return
        if kind == "error":
            raise value
        yield value


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
