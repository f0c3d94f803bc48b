"""Ranking metrics for one ground-truth item per sample.

Every sample contributes the 1-based rank of its target in the returned list, or None
when the target was not returned (not in the top K, or not in the catalogue at all):
a missing item is a miss, never a dropped sample.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: The cut-off of NDCG and MRR (EVALUATION.md: NDCG@10, MRR@10).
RANK_CUTOFF = 10


def rank_of(target: str | None, ranked: Sequence[str]) -> int | None:
    """1-based position of ``target`` in ``ranked``; None when absent (or target is None)."""
    if target is None:
        return None
    try:
        return ranked.index(target) + 1
    except ValueError:
        return None


def recall_at(rank: int | None, k: int) -> float:
    """1.0 when the target is within the top ``k``."""
    return 1.0 if rank is not None and rank <= k else 0.0


def ndcg_at(rank: int | None, k: int = RANK_CUTOFF) -> float:
    """NDCG with one relevant item: 1 / log2(rank + 1) within the top ``k`` (ideal DCG = 1)."""
    return 1.0 / math.log2(rank + 1) if rank is not None and rank <= k else 0.0


def mrr_at(rank: int | None, k: int = RANK_CUTOFF) -> float:
    """Reciprocal rank within the top ``k``."""
    return 1.0 / rank if rank is not None and rank <= k else 0.0


@dataclass
class MetricAccumulator:
    """Collects per-sample ranks and summarises them.

    Attributes:
        ks: The Recall cut-offs to report (e.g. (1, 10, 50)).
        ranks: One entry per sample (None = miss).
    """

    ks: tuple[int, ...]
    ranks: list[int | None] = field(default_factory=list)

    def add(self, rank: int | None) -> None:
        self.ranks.append(rank)

    def extend(self, ranks: Iterable[int | None]) -> None:
        self.ranks.extend(ranks)

    def __len__(self) -> int:
        return len(self.ranks)

    def _mean(self, values: Iterable[float]) -> float:
        values = list(values)
        return sum(values) / len(values) if values else 0.0

    def summary(self) -> dict[str, float]:
        """``{"recall@k": ..., "ndcg@10": ..., "mrr@10": ...}`` averaged over samples."""
        out = {f"recall@{k}": self._mean(recall_at(r, k) for r in self.ranks) for k in self.ks}
        out[f"ndcg@{RANK_CUTOFF}"] = self._mean(ndcg_at(r) for r in self.ranks)
        out[f"mrr@{RANK_CUTOFF}"] = self._mean(mrr_at(r) for r in self.ranks)
        return out

    def recall_curve(self, max_k: int) -> list[float]:
        """Recall@k for k = 1..max_k (for the plot)."""
        n = len(self.ranks) or 1
        counts = [0] * (max_k + 1)
        for r in self.ranks:
            if r is not None and r <= max_k:
                counts[r] += 1
        curve, running = [], 0
        for k in range(1, max_k + 1):
            running += counts[k]
            curve.append(running / n)
        return curve
