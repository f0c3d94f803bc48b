"""Rankers behind one small protocol, and the ReDial ones (popularity, EASE, hybrid).

Every ranker sees only an :class:`~crs.datasets.EvalSample` (the context before the
recommendation turn), never the target. Ties are broken by catalogue order so that a
run is deterministic and a context without any signal does not get lucky.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

from crs.datasets import Catalogue, EvalSample
from crs.recommender.collaborative import CollaborativeModel, Fusion
from crs.recommender.collaborative_training import mention_weights, utterance_words


class Ranker(Protocol):
    """Anything that ranks the catalogue for a sample."""

    name: str

    def rank(self, sample: EvalSample, k: int, exclude: frozenset[str]) -> list[str]:
        """The best ``k`` catalogue ids for ``sample``, none of them in ``exclude``."""
        ...


class ScoringRanker:
    """A ranker that scores the whole catalogue, then sorts (stable: catalogue order on ties)."""

    name = "scoring"

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    def scores(self, sample: EvalSample) -> np.ndarray:
        """float32 score per catalogue row; higher is better."""
        raise NotImplementedError

    def rank(self, sample: EvalSample, k: int, exclude: frozenset[str]) -> list[str]:
        scores = np.array(self.scores(sample), dtype=np.float64)
        banned = [self.catalogue.row[i] for i in exclude if i in self.catalogue.row]
        scores[banned] = -np.inf
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.catalogue.ids[i] for i in order if scores[i] != -np.inf]


def aligned(values: np.ndarray, source_ids: tuple[str, ...], catalogue: Catalogue) -> np.ndarray:
    """Reorder a vector over ``source_ids`` to catalogue rows (0 for unknown items)."""
    if source_ids == catalogue.ids:
        return values
    out = np.zeros(len(catalogue), np.float32)
    for i, item in enumerate(source_ids):
        row = catalogue.row.get(item)
        if row is not None:
            out[row] = values[i]
    return out


class PopularityRanker(ScoringRanker):
    """The most mentioned items of the training data, whatever the context."""

    name = "popularity"

    def __init__(self, catalogue: Catalogue, popularity: Mapping[str, float]) -> None:
        super().__init__(catalogue)
        self._scores = np.array([popularity.get(i, 0.0) for i in catalogue.ids], np.float32)

    def scores(self, sample: EvalSample) -> np.ndarray:
        return self._scores


class EaseRanker(ScoringRanker):
    """Item-item EASE on the context mentions (recency/speaker weighted) + a popularity prior."""

    name = "ease"

    def __init__(self, catalogue: Catalogue, model: CollaborativeModel, fusion: Fusion | None = None) -> None:
        super().__init__(catalogue)
        self.model = model
        self.fusion = fusion or self.default_fusion(model)
        self.labels = dict(zip(catalogue.ids, catalogue.labels))
        self._prior = aligned(model.log_popularity, model.item_ids, catalogue)

    @staticmethod
    def default_fusion(model: CollaborativeModel) -> Fusion:
        return model.ease_fusion

    def scores(self, sample: EvalSample) -> np.ndarray:
        items = self.model.item_vector(mention_weights(sample, self.fusion))
        return aligned(items, self.model.item_ids, self.catalogue) + self.fusion.popularity * self._prior


class HybridRanker(EaseRanker):
    """EASE plus metadata neighbours of the context movies plus the learned word -> movie
    block on the context text (titles removed).

    The words are matched lexically against what training dialogues said before each
    movie, which generalises hand-made genre lists: "scary", "pixar", "heist" and
    "jennifer" all carry weight. The metadata block (genres, people, plot words) reaches
    movies the dialogues rarely mention. Fusion weights come from the model (fitted on
    train dialogues, never on the evaluated file). When the model has a pool ranker
    (:mod:`crs.recommender.ltr`), it reorders the best few hundred movies: the score is
    :meth:`CollaborativeModel.rank_vector`, the same call the app makes through ``score``.
    """

    name = "hybrid"

    def __init__(self, catalogue: Catalogue, model: CollaborativeModel, fusion: Fusion | None = None,
                 name: str = "hybrid") -> None:
        super().__init__(catalogue, model, fusion)
        self.name = name

    @staticmethod
    def default_fusion(model: CollaborativeModel) -> Fusion:
        return model.fusion

    def scores(self, sample: EvalSample) -> np.ndarray:
        scores = self.model.rank_vector(mention_weights(sample, self.fusion), utterance_words(sample.context, self.labels))
        return aligned(scores, self.model.item_ids, self.catalogue)
