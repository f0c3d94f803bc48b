"""Interfaces of the two-stage recommender."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from crs.catalog.models import Movie
from crs.preferences import Preferences


@dataclass(frozen=True)
class RecQuery:
    """What stage 1 and stage 2 know about the conversation.

    Attributes:
        preferences: Everything the user stated (likes, dislikes, seen, years, moods).
        text: Free-text wishes from the recent user messages (embedded for semantic match).
        exclude: Movie ids never to return (mentioned, seen, disliked, already shown).
        mentioned: Movie ids in the order they came up in the dialogue (recency signal).
        k: How many recommendations the caller wants.
        session_id: The conversation ("" outside a chat: evaluation, benchmarks).
        message: The user's message of this turn (the reply to the last list shown).
        feedback: The session's implicit-feedback signal
            (:class:`crs.recommender.feedback.FeedbackSignal`), filled in by the pipeline.
    """

    preferences: Preferences
    text: str = ""
    exclude: frozenset[str] = frozenset()
    mentioned: tuple[str, ...] = ()
    k: int = 5
    session_id: str = ""
    message: str = ""
    feedback: Any = None


@dataclass
class Candidate:
    """A scored movie with the evidence behind its score (used for reasons)."""

    movie: Movie
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


class Retriever(Protocol):
    """Stage 1: propose up to ``n`` candidates that satisfy the hard constraints."""

    def retrieve(self, query: RecQuery, n: int) -> list[Candidate]: ...


class Reranker(Protocol):
    """Stage 2: reorder candidates and give each a reason; return the best ``k``."""

    def rerank(self, query: RecQuery, candidates: list[Candidate], k: int) -> list[Candidate]: ...
