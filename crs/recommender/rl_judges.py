"""The judges of the RAR feedback loop: who says which sampled candidates are better.

Stage 2 as :mod:`crs.recommender.rl` sees it. With the ``template`` backend there is no
language model, so :class:`TruthJudge` stands in: the training dialogue's ground truth
(the movie the human recommender suggested) is the only relevant candidate. That is a
supervised signal, and every artefact records which judge trained it. With an LLM backend,
:class:`LLMJudge` asks the model through the grounded parser (candidate ids only; inventions
discarded and counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from crs.recommender.grounded import GroundedRanker, RankingStats
from crs.recommender.rl_pool import PoolContext


class Judge(Protocol):
    """Stage 2 as the loop sees it: relevance of pool positions for one context."""

    label: str

    def relevance(self, context: PoolContext, shown: Sequence[int]) -> dict[int, float]:
        """``{pool position: gain}`` for the candidates at positions ``shown`` (best first)."""
        ...


class TruthJudge:
    """The template backend's judge: the dialogue's ground truth ranks first (gain 1)."""

    label = "ground truth of the training dialogues (template backend: no LLM)"

    def relevance(self, context: PoolContext, shown: Sequence[int]) -> dict[int, float]:
        return {context.target: 1.0} if context.target >= 0 else {}


class LLMJudge:
    """An LLM orders the shown candidates; gain ``1 / log2(1 + its rank)``.

    The LLM sees catalogue ids and metadata lines, as stage 2 does in the app. With
    ``with_truth`` the ground truth also gains 1 (the LLM's feedback plus the dialogue's
    own signal, where it exists).
    """

    def __init__(self, grounded: GroundedRanker, item_ids: Sequence[str], descriptions: Sequence[str],
                 with_truth: bool) -> None:
        self.grounded = grounded
        self.item_ids = item_ids
        self.descriptions = descriptions
        self.with_truth = with_truth
        self.label = f"LLM ranking ({getattr(grounded.backend, 'name', 'llm')})" + (" + ground truth" if with_truth else "")

    def relevance(self, context: PoolContext, shown: Sequence[int]) -> dict[int, float]:
        rows = {self.item_ids[context.pool[p]]: p for p in shown}
        outcome = self.grounded.rank(context.text, [(i, self.descriptions[context.pool[p]]) for i, p in rows.items()])
        gains = {rows[i]: 1.0 / np.log2(rank + 2) for rank, i in enumerate(outcome.order)} if outcome.usable else {}
        if self.with_truth and context.target >= 0:
            gains[context.target] = gains.get(context.target, 0.0) + 1.0
        return gains


def make_judge(config: Any, backend: Any, system_prompt: str, item_ids: Sequence[str],
               descriptions: Sequence[str], model_name: str = "", cache=None) -> tuple[Judge, RankingStats | None]:
    """The judge for ``config.signal`` (an :class:`crs.recommender.rl.RLConfig`) and the backend."""
    name = getattr(backend, "name", "template") if backend is not None else "template"
    signal = config.signal if config.signal != "auto" else ("truth" if name == "template" else "both")
    if signal == "truth":
        return TruthJudge(), None
    if name == "template":
        raise ValueError(f"--signal {signal} needs an LLM backend (e.g. --backend openai --llm-base-url URL); "
                         "the template backend has no model, use --signal truth")
    grounded = GroundedRanker(backend, system_prompt, cache, model_name)
    return LLMJudge(grounded, item_ids, descriptions, with_truth=signal == "both"), grounded.stats
