"""Never let a language model break a conversation: failures fall back to the template."""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Iterator

from crs.llm.base import Completion, LLMBackend, UsageCallback
from crs.llm.template import TemplateBackend

log = logging.getLogger(__name__)


class FallbackBackend:
    """Ask ``primary``; if it fails in any way, answer with ``fallback`` instead.

    Failures are logged at WARNING with the error only (never the prompt or user text)
    and counted, so a turn log or a benchmark can report how often the model failed.

    Attributes:
        name: The primary's name (what this backend is configured as).
        failures: How many calls to the primary failed so far.
        last_error: The latest failure as "ExceptionType: message", or None.
    """

    def __init__(self, primary: LLMBackend, fallback: LLMBackend | None = None) -> None:
        self.primary = primary
        self.fallback: LLMBackend = fallback if fallback is not None else TemplateBackend()
        self.name = primary.name
        self.failures = 0
        self.last_error: str | None = None
        self._lock = threading.Lock()

    def _failed(self, exc: BaseException, what: str) -> None:
        with self._lock:
            self.failures += 1
            self.last_error = f"{type(exc).__name__}: {exc}"
        log.warning("LLM backend %r failed during %s (%s); using %r instead",
                    self.primary.name, what, self.last_error, self.fallback.name)

    def complete(self, system: str, user: str, *, json_mode: bool = False, max_tokens: int = 300,
                 timeout_s: float | None = None) -> Completion | None:
        """The primary's completion, else the fallback's (None: use the template)."""
        kwargs = {"json_mode": json_mode, "max_tokens": max_tokens, "timeout_s": timeout_s}
        try:
            return self.primary.complete(system, user, **kwargs)
        except Exception as exc:
            self._failed(exc, "complete")
        try:
            return self.fallback.complete(system, user, **kwargs)
        except Exception as exc:  # the template path below the fallback always works
            log.error("fallback backend %r failed too (%s: %s)", self.fallback.name, type(exc).__name__, exc)
            return None

    def stream(self, system: str, user: str, *, max_tokens: int = 300,
               timeout_s: float | None = None, on_usage: UsageCallback | None = None) -> Iterator[str]:
        """Stream from the primary; if it fails before its first chunk, from the fallback.

        A failure after text was already yielded cannot be taken back: it is counted,
        logged and re-raised so the caller can decide what to show.
        """
        kwargs = {"max_tokens": max_tokens, "timeout_s": timeout_s, "on_usage": on_usage}
        started = False
        try:
            for piece in stream_of(self.primary, system, user, **kwargs):
                started = True
                yield piece
            return
        except Exception as exc:
            self._failed(exc, "stream")
            if started:
                raise
        try:
            yield from stream_of(self.fallback, system, user, **kwargs)
        except Exception as exc:
            log.error("fallback backend %r failed too (%s: %s)", self.fallback.name, type(exc).__name__, exc)


def stream_of(backend: LLMBackend, system: str, user: str, *, max_tokens: int,
              timeout_s: float | None, on_usage: UsageCallback | None = None) -> Iterator[str]:
    """A backend's stream, or its completion as one chunk when it cannot stream.

    ``on_usage`` gets the cost: from the backend's own stream when it takes the callback,
    else from its completion (a stream without usage reports nothing).
    """
    stream = getattr(backend, "stream", None)
    if stream is not None:
        if on_usage is not None and _takes_on_usage(stream):
            yield from stream(system, user, max_tokens=max_tokens, timeout_s=timeout_s, on_usage=on_usage)
        else:
            yield from stream(system, user, max_tokens=max_tokens, timeout_s=timeout_s)
        return
    completion = backend.complete(system, user, max_tokens=max_tokens, timeout_s=timeout_s)
    if completion is not None:
        if on_usage is not None:
            on_usage(completion)
        yield completion.text


def _takes_on_usage(method: object) -> bool:
    try:
        return "on_usage" in inspect.signature(method).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
