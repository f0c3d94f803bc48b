"""The two-stage recommender the dialogue calls: retrieve, keep what meets the user's
explicit asks (relaxing softly when nothing does), then refine and explain."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from crs.recommender.hybrid import current_asks
from crs.recommender.types import Candidate, RecQuery, Reranker, Retriever


@dataclass
class RecResult:
    """Recommendations plus what the reply should say about them.

    Attributes:
        items: The movies to show, best first, each with a reason.
        relaxed: Human-readable asks that had to be loosened ("Christopher Nolan").
    """

    items: list[Candidate] = field(default_factory=list)
    relaxed: list[str] = field(default_factory=list)


class Recommender:
    """Stage 1 (``retriever``) then stage 2 (``reranker``).

    ``feedback`` (optional, a :class:`crs.recommender.feedback.FeedbackProvider`) turns the
    session's stored reactions into the query's implicit-feedback signal, which stage 1
    uses to reorder its candidates.
    """

    def __init__(self, retriever: Retriever, reranker: Reranker, n_candidates: int = 100,
                 feedback=None) -> None:
        self.retriever = retriever
        self.reranker = reranker
        self.n_candidates = n_candidates
        self.feedback = feedback

    def recommend(self, query: RecQuery) -> RecResult:
        if self.feedback is not None and query.session_id and query.feedback is None:
            query = replace(query, feedback=self.feedback.signal(query))
        candidates = self.retriever.retrieve(query, self.n_candidates)
        if not candidates:
            return RecResult()
        best = [c for c in candidates if c.evidence.get("meets_all", True)]
        relaxed: list[str] = []
        asked = candidates[0].evidence.get("asked")  # what the retriever checked them against
        genres, people = ((set(asked["genres"]), list(asked["people"])) if asked is not None
                          else current_asks(query.preferences))
        k = query.k
        if best and (genres or people) and len(best) < 2 * query.k:
            # Few movies left that meet the explicit ask (a director's films, say): show
            # half of them, so "more" still finds some instead of jumping to others.
            k = max(1, min(query.k, (len(best) + 1) // 2))
        if not best:
            relaxed = people + sorted(genres)
            best = candidates
        items = self.reranker.rerank(query, best, k)
        return RecResult(items=items, relaxed=relaxed)
