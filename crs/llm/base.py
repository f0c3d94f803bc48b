"""The LLM seam: one small interface every backend implements (the simonw/llm pattern).

A backend words a reply or returns structured JSON for a prompt. Returning ``None`` from
:meth:`LLMBackend.complete` means "no language model here": the caller then uses its
deterministic template, which is the product's default and its fallback. Backends raise
:class:`LLMError` for failures; :class:`crs.llm.fallback.FallbackBackend` turns those
into the template path so a broken server never breaks a conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


class LLMError(Exception):
    """A backend could not produce a completion (connection, timeout, HTTP or format error)."""


@dataclass(frozen=True)
class Completion:
    """What a backend produced, with what it cost.

    Attributes:
        text: The model's text (a JSON object's text when ``json_mode`` was asked for).
        backend: Name of the backend that produced it ("openai", ...), for the turn log.
        latency_ms: Wall time of the call.
        tokens_in / tokens_out: Prompt and completion tokens, when the server reports them.
    """

    text: str
    backend: str
    latency_ms: float
    tokens_in: int | None = None
    tokens_out: int | None = None


#: Called by a backend's ``stream`` once its stream has ended, with the whole text and
#: what it cost (token counts are None where the model did not report them).
UsageCallback = Callable[[Completion], None]


@runtime_checkable
class LLMBackend(Protocol):
    """A text generator behind the dialogue's wording and re-ranking hooks."""

    name: str

    def complete(self, system: str, user: str, *, json_mode: bool = False, max_tokens: int = 300,
                 timeout_s: float | None = None) -> Completion | None:
        """Answer ``user`` under instructions ``system``.

        Args:
            system: The system prompt (instructions, facts to use).
            user: The user prompt.
            json_mode: Ask for, and check, a single JSON object as the answer.
            max_tokens: Upper bound on generated tokens.
            timeout_s: Per-call limit; None uses the backend's default.

        Returns:
            The completion, or None when this backend has no model (use the template).

        Raises:
            LLMError: The model was asked and failed.
        """
        ...


@runtime_checkable
class StreamingLLMBackend(LLMBackend, Protocol):
    """A backend that can also yield its text piece by piece (for a typing effect in the UI)."""

    def stream(self, system: str, user: str, *, max_tokens: int = 300,
               timeout_s: float | None = None, on_usage: UsageCallback | None = None) -> Iterator[str]:
        """Yield text chunks; yields nothing when there is no model (use the template).

        ``on_usage`` (optional) receives the whole text with its cost once the stream ended.
        """
        ...
