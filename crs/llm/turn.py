"""One turn's language model: the session's backend, metered, failing over to the template.

:class:`TurnBackend` wraps the backend a session chose for the duration of one turn. It
adds up what every call of the turn cost (tokens as the model reported them, wall time of
the calls) for the turn's row in the database, and after the first failure it stops
asking: a turn pays one timeout at most, then the template path answers for the rest of it.

The dialogue graph finds the turn's backend in its run config (``configurable["llm"]``,
set by :class:`crs.service.ChatService`); :class:`ConfiguredBackend` is the stand-in that
components built once at start-up (the stage-2 reranker) hold, and it resolves to the
current turn's backend on every call.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from crs.llm.base import Completion, LLMBackend, UsageCallback
from crs.llm.fallback import stream_of
from crs.llm.template import TemplateBackend

log = logging.getLogger(__name__)

#: The key of the turn's backend in a LangGraph run config's ``configurable``.
CONFIG_KEY = "llm"


@dataclass
class TurnUsage:
    """What the language model cost in one turn.

    Attributes:
        calls: Calls made to the model (failed ones included).
        tokens_in / tokens_out: Sums of the reported prompt and completion tokens; None
            when no call reported any (the template backend records 0 and 0).
        latency_ms: Wall time spent waiting for the model.
        error: The first failure as "ExceptionType: message", or None.
    """

    calls: int = 0
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: float = 0.0
    error: str | None = None

    def add(self, completion: Completion | None) -> None:
        if completion is None:
            return
        if completion.tokens_in is not None:
            self.tokens_in = (self.tokens_in or 0) + completion.tokens_in
        if completion.tokens_out is not None:
            self.tokens_out = (self.tokens_out or 0) + completion.tokens_out


class TurnBackend:
    """The session's backend for one turn (see the module docstring).

    Args:
        primary: The session's backend (template, openai, local, or any LLMBackend).
        where: Where it lives, for the user-facing notice ("http://host/v1", "local model").
    """

    def __init__(self, primary: LLMBackend, where: str = "") -> None:
        self.primary = primary
        self.name = primary.name
        self.where = where
        self.usage = TurnUsage()
        self._lock = threading.Lock()

    @property
    def has_model(self) -> bool:
        """False for the template backend: callers then skip LLM work entirely."""
        return self.name != TemplateBackend.name

    @property
    def failed(self) -> bool:
        return self.usage.error is not None

    def _fail(self, exc: BaseException, what: str) -> None:
        with self._lock:
            if self.usage.error is None:
                self.usage.error = f"{type(exc).__name__}: {exc}"
        # the error only: never the prompt, the user's text or a key
        log.warning("LLM backend %r failed during %s (%s); the template answers for this turn",
                    self.name, what, self.usage.error)

    def _spent(self, started: float) -> None:
        with self._lock:
            self.usage.calls += 1
            self.usage.latency_ms += (time.perf_counter() - started) * 1000

    def complete(self, system: str, user: str, *, json_mode: bool = False, max_tokens: int = 300,
                 timeout_s: float | None = None) -> Completion | None:
        """The model's completion; None (use the template) for no model or any failure."""
        if self.failed or not self.has_model:
            return None
        started = time.perf_counter()
        try:
            completion = self.primary.complete(system, user, json_mode=json_mode, max_tokens=max_tokens,
                                               timeout_s=timeout_s)
        except Exception as exc:
            self._fail(exc, "complete")
            return None
        finally:
            self._spent(started)
        with self._lock:
            self.usage.add(completion)
        return completion

    def stream(self, system: str, user: str, *, max_tokens: int = 300, timeout_s: float | None = None,
               on_usage: UsageCallback | None = None) -> Iterator[str]:
        """The model's text piece by piece; nothing for no model or a failure before the
        first piece. A failure after text was yielded is recorded and re-raised (the
        caller must then drop the partial text)."""
        if self.failed or not self.has_model:
            return
        started = time.perf_counter()
        yielded = False

        def record(completion: Completion) -> None:
            with self._lock:
                self.usage.add(completion)
            if on_usage is not None:
                on_usage(completion)

        try:
            for piece in stream_of(self.primary, system, user, max_tokens=max_tokens, timeout_s=timeout_s,
                                   on_usage=record):
                yielded = True
                yield piece
        except Exception as exc:
            self._fail(exc, "stream")
            if yielded:
                raise
        finally:
            self._spent(started)


def current_backend(default: LLMBackend | None = None) -> LLMBackend:
    """The turn's backend from the running graph's config, else ``default`` (or the template)."""
    try:
        from langgraph.config import get_config

        backend = (get_config().get("configurable") or {}).get(CONFIG_KEY)
    except Exception:  # outside a graph run (evaluation, scripts): no turn backend
        backend = None
    if backend is not None:
        return backend
    return default if default is not None else TemplateBackend()


class ConfiguredBackend:
    """A backend that is whichever backend the current turn runs with.

    Args:
        default: Used outside a graph run, or when the run config names none.
    """

    def __init__(self, default: LLMBackend | None = None) -> None:
        self.default = default

    @property
    def current(self) -> LLMBackend:
        return current_backend(self.default)

    @property
    def name(self) -> str:
        return self.current.name

    def complete(self, system: str, user: str, *, json_mode: bool = False, max_tokens: int = 300,
                 timeout_s: float | None = None) -> Completion | None:
        return self.current.complete(system, user, json_mode=json_mode, max_tokens=max_tokens, timeout_s=timeout_s)

    def stream(self, system: str, user: str, *, max_tokens: int = 300, timeout_s: float | None = None,
               on_usage: UsageCallback | None = None) -> Iterator[str]:
        return stream_of(self.current, system, user, max_tokens=max_tokens, timeout_s=timeout_s, on_usage=on_usage)
