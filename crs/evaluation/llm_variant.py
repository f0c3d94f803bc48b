"""The ``hybrid+llm`` evaluation variant: stage 1's top K, reordered by the LLM backend.

RAR's second stage, measured under the same protocol as stage 1: the ``hybrid`` ranker
proposes its best ``top`` items, the configured LLM backend sees the conversation and
those items with their metadata (title, year, genres, director, cast, plot) and returns
an order of candidate ids (:class:`crs.recommender.grounded.GroundedRanker`). Invented
or unknown ids are discarded and counted; with the ``template`` backend, or when the
backend fails, stage 1's order stands, so ``hybrid+llm`` then equals ``hybrid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crs.datasets import EvalSample
from crs.evaluation.rankers import Ranker
from crs.recommender.grounded import GroundedRanker, apply_order, conversation_text


class LLMRefinedRanker:
    """Stage 1 (``base``) then the LLM's grounded reordering of its top ``top`` items."""

    name = "hybrid+llm"

    def __init__(self, base: Ranker, grounded: GroundedRanker, descriptions: Mapping[str, str], top: int = 20,
                 backend_label: str = "template") -> None:
        if top < 2:
            raise ValueError(f"--llm-top must be at least 2, got {top}")
        self.base = base
        self.grounded = grounded
        self.descriptions = descriptions
        self.top = top
        self.backend_label = backend_label

    def rank(self, sample: EvalSample, k: int, exclude: frozenset[str]) -> list[str]:
        ranked = self.base.rank(sample, max(k, self.top), exclude)
        head = ranked[: self.top]
        outcome = self.grounded.rank(conversation_text(sample.context), [(i, self.descriptions.get(i, i)) for i in head])
        new_head = apply_order(head, outcome)
        if new_head != head:
            self.grounded.stats.reordered += 1
        return (new_head + ranked[self.top:])[:k]

    def report(self) -> dict[str, Any]:
        """What the report says about stage 2: the backend, K and the counters."""
        stats = self.grounded.stats.to_dict()
        return {"backend": self.backend_label, "model": self.grounded.model_name or None, "top_k": self.top,
                **stats, "kept_stage1_order": stats["requests"] - stats["reordered"]}
