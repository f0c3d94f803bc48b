"""Which language model each conversation uses, and one backend object per distinct choice.

A session chooses a backend in the web UI's settings drawer: ``template``, an
OpenAI-compatible server (base URL + model, optional API key) or the in-process ``local``
model. The choice (kind, URL, model: never the key) is stored with the session's other
options; sessions that chose nothing use the product default (``CRS_LLM_*``).

API keys typed in the UI live only in this process's memory, per session: they are not
written to the database, not logged and not shown back; after a restart the user types
the key again. The configured key (``CRS_LLM_API_KEY`` / ``OPENAI_API_KEY``) is only ever
sent to the configured URL (``CRS_LLM_BASE_URL``), never to a URL a user typed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

from crs.llm.base import LLMBackend

log = logging.getLogger(__name__)

KINDS = ("template", "openai", "local")


@dataclass(frozen=True)
class BackendChoice:
    """A session's backend: ``kind`` and, for ``openai``, the server URL and model name."""

    kind: str = "template"
    base_url: str = ""
    model: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown language model {self.kind!r}; choose one of {', '.join(KINDS)}.")
        if self.kind == "openai":
            url = urlparse(self.base_url or "")
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValueError("The server URL must start with http:// or https://, "
                                 "e.g. http://127.0.0.1:11434/v1 for Ollama.")
            if not self.model.strip():
                raise ValueError("Name the model the server should use, e.g. llama3.2 or gpt-4o-mini.")

    def to_json(self) -> dict[str, str]:
        """What is stored with the session (no key)."""
        if self.kind == "openai":
            return {"kind": self.kind, "base_url": self.base_url, "model": self.model}
        return {"kind": self.kind}

    @classmethod
    def from_json(cls, data: Any, default: BackendChoice) -> BackendChoice:
        """A stored choice, or ``default`` for none or an unreadable one."""
        if not isinstance(data, Mapping):
            return default
        try:
            return cls(kind=str(data.get("kind") or ""), base_url=str(data.get("base_url") or ""),
                       model=str(data.get("model") or ""))
        except ValueError:
            return default

    @property
    def where(self) -> str:
        """The model in a few words, for notices: "llama3.2 at http://...", "the local model"."""
        if self.kind == "openai":
            return f"{self.model} at {self.base_url}"
        return "the local model" if self.kind == "local" else ""

    def describe(self) -> str:
        if self.kind == "openai":
            return f"OpenAI-compatible: {self.model} at {self.base_url}"
        if self.kind == "local":
            return "Local model (Qwen2.5-Coder-0.5B, in this process)"
        return "Templates (no language model)"


class BackendPool:
    """One backend per (kind, URL, model, key), built on first use and kept (LRU).

    Backends hold HTTP clients or a loaded model, so sessions with the same choice share
    one. The pool never logs or exposes keys; a key only enters the cache key as a hash.

    Args:
        settings: The product settings (default choice, timeouts, local model options).
        environ: Where ``OPENAI_API_KEY`` is looked up; defaults to ``os.environ``.
        size: How many distinct backends to keep.
    """

    def __init__(self, settings: Any, environ: Mapping[str, str] | None = None, size: int = 16) -> None:
        self.settings = settings
        self.environ = os.environ if environ is None else environ
        self.size = size
        self._backends: OrderedDict[tuple[str, str, str, str], LLMBackend] = OrderedDict()
        self._lock = threading.Lock()

    def default_choice(self) -> BackendChoice:
        """The product default (``CRS_LLM_BACKEND`` and friends)."""
        s = self.settings
        if s.llm_backend == "openai" and s.llm_base_url:
            return BackendChoice("openai", s.llm_base_url, s.llm_model)
        if s.llm_backend == "local":
            return BackendChoice("local")
        return BackendChoice("template")

    def _key_for(self, choice: BackendChoice, api_key: str | None) -> str | None:
        if api_key:
            return api_key
        if choice.kind == "openai" and choice.base_url.rstrip("/") == (self.settings.llm_base_url or "").rstrip("/"):
            return self.settings.llm_api_key or self.environ.get("OPENAI_API_KEY")
        return None

    def get(self, choice: BackendChoice, api_key: str | None = None) -> LLMBackend:
        """The backend for ``choice`` (not wrapped: see :class:`crs.llm.turn.TurnBackend`).

        Raises:
            ValueError: The choice cannot be built (e.g. ``local`` without its extra).
        """
        key = self._key_for(choice, api_key)
        fingerprint = hashlib.sha256(key.encode()).hexdigest()[:16] if key else ""
        cache_key = (choice.kind, choice.base_url, choice.model, fingerprint)
        with self._lock:
            backend = self._backends.get(cache_key)
            if backend is not None:
                self._backends.move_to_end(cache_key)
                return backend
        from crs.llm.factory import BUILDERS

        view = SimpleNamespace(
            llm_backend=choice.kind, llm_base_url=choice.base_url or None, llm_model=choice.model,
            llm_api_key=key, llm_timeout_s=self.settings.llm_timeout_s,
            llm_model_path=getattr(self.settings, "llm_model_path", None),
            llm_threads=getattr(self.settings, "llm_threads", 2),
            artifacts_dir=getattr(self.settings, "artifacts_dir", None))
        backend = BUILDERS[choice.kind](view, {})  # the key is resolved above, never from environ here
        with self._lock:
            backend = self._backends.setdefault(cache_key, backend)
            while len(self._backends) > self.size:
                self._backends.popitem(last=False)
        return backend


class _Unavailable:
    """Stands in for a backend that could not be built: every call fails with the reason."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def complete(self, *_args: Any, **_kwargs: Any) -> None:
        from crs.llm.base import LLMError

        raise LLMError(self.reason)


class SessionLLM:
    """Per-session backends for the chat service: choices, keys in memory, wording, notices.

    Args:
        pool: Builds and caches the backends.
        wording: The reply-wording step (None: replies stay as the templates word them).
        texts: ``prompts/llm.toml`` (the notices shown when a model fails).
    """

    def __init__(self, pool: BackendPool, wording: Any = None, texts: Mapping[str, str] | None = None) -> None:
        self.pool = pool
        self.wording = wording
        self.texts = dict(texts or {})
        self._keys: dict[str, str] = {}
        self._lock = threading.Lock()
        #: How reply wordings ended since start-up: worded, rejected, slow, failed, empty.
        self.outcomes: Counter[str] = Counter()

    def count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    @property
    def timeout_s(self) -> float:
        return float(self.pool.settings.llm_timeout_s)

    def choice(self, options: Mapping[str, Any] | None) -> BackendChoice:
        """The session's choice from its stored options, else the product default."""
        return BackendChoice.from_json((options or {}).get("llm"), self.pool.default_choice())

    def set_key(self, session_id: str, api_key: str | None) -> None:
        """Keep (or, with None/"", drop) a session's API key, in memory only."""
        with self._lock:
            if api_key:
                self._keys[session_id] = api_key
            else:
                self._keys.pop(session_id, None)

    def has_key(self, session_id: str) -> bool:
        with self._lock:
            return session_id in self._keys

    def forget(self, session_id: str) -> None:
        self.set_key(session_id, None)

    def prepare(self, session_id: str, choice: BackendChoice) -> None:
        """Build the session's backend now (and its HTTP client: importing ``openai`` takes
        seconds), so the first turn with it pays only for the model's answer."""
        if choice.kind == "template":
            return
        with self._lock:
            key = self._keys.get(session_id)
        try:
            backend = self.pool.get(choice, key)
            warm = getattr(backend, "_get_client", None) or getattr(backend, "load", None)
            if warm is not None:
                warm()
        except Exception as exc:  # the turn will say what is wrong
            log.info("could not prepare the %s backend: %s", choice.kind, type(exc).__name__)

    def turn_backend(self, session_id: str, options: Mapping[str, Any] | None) -> Any:
        """A fresh :class:`crs.llm.turn.TurnBackend` for one turn of the session."""
        from crs.llm.turn import TurnBackend

        choice = self.choice(options)
        with self._lock:
            key = self._keys.get(session_id)
        try:
            primary = self.pool.get(choice, key)
        except ValueError as exc:  # e.g. local without its extra: the turn says so and goes on
            primary = _Unavailable(choice.kind, str(exc))
        return TurnBackend(primary, where=choice.where)

    def notice(self, turn_backend: Any) -> str:
        """What to tell the user when the model failed this turn ("" when it did not)."""
        error = getattr(getattr(turn_backend, "usage", None), "error", None)
        if not error:
            return ""
        where = turn_backend.where or turn_backend.name
        if any(word in error for word in ("Timeout", "timed out", "took longer")):
            key = "notice_slow"
        elif any(word in error for word in ("Connection", "connect")):
            key = "notice_unreachable"
        else:
            key = "notice_failed"
        template = self.texts.get(key) or "({where} failed, so I answered without it this time.)"
        return template.format(where=where, error=error.split(":", 1)[0])
