"""How sure an evaluation figure is: bootstrap intervals clustered by dialogue.

The samples of one dialogue share their context, so they are not independent: the
bootstrap resamples whole dialogues (each metric is then a ratio, hits / samples, of the
resampled dialogues' sums) with :func:`scipy.stats.bootstrap` (percentile method, paired
over a dialogue's sums). Two intervals are reported:

- per variant, the interval of each metric;
- per variant other than the primary one, the interval of the *paired* difference
  primary − variant over the same resampled dialogues, which is what says whether one
  variant is really ahead of another (two overlapping per-variant intervals do not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from crs.evaluation.metrics import RANK_CUTOFF, mrr_at, ndcg_at, recall_at
from crs.evaluation.runner import EvaluationResult

#: Resamples per interval (1,000 keeps `crs evaluate` within a second or two of work here).
DEFAULT_RESAMPLES = 1000
LEVEL = 0.95


@dataclass(frozen=True)
class Uncertainty:
    """Intervals of one evaluation run.

    Attributes:
        intervals: variant -> metric -> (low, high).
        differences: variant -> metric -> (primary − variant, low, high); the primary itself is absent.
        dialogues: How many clusters (dialogues) were resampled.
        resamples: Bootstrap resamples per interval.
    """

    intervals: dict[str, dict[str, tuple[float, float]]]
    differences: dict[str, dict[str, tuple[float, float, float]]]
    dialogues: int
    resamples: int

    def method(self) -> dict[str, Any]:
        """What the JSON report says about how the intervals were made."""
        return {"method": "bootstrap over dialogues (percentile, scipy.stats.bootstrap)",
                "level": LEVEL, "resamples": self.resamples, "dialogues": self.dialogues}

    def variant_extra(self) -> dict[str, dict[str, Any]]:
        """Per-variant JSON details: ``interval95`` and, for non-primary variants, ``vs_primary``."""
        out: dict[str, dict[str, Any]] = {}
        for name, metrics in self.intervals.items():
            out[name] = {"interval95": {k: [round(lo, 4), round(hi, 4)] for k, (lo, hi) in metrics.items()}}
            if name in self.differences:
                out[name]["vs_primary"] = {k: {"difference": round(d, 4), "interval95": [round(lo, 4), round(hi, 4)]}
                                           for k, (d, lo, hi) in self.differences[name].items()}
        return out


def per_sample(ranks: Sequence[int | None], ks: Sequence[int]) -> dict[str, np.ndarray]:
    """Each metric's value for every sample (the mean of a column is the reported figure)."""
    out = {f"recall@{k}": np.array([recall_at(r, k) for r in ranks]) for k in ks}
    out[f"ndcg@{RANK_CUTOFF}"] = np.array([ndcg_at(r) for r in ranks])
    out[f"mrr@{RANK_CUTOFF}"] = np.array([mrr_at(r) for r in ranks])
    return out


def _cluster_index(clusters: Sequence[str]) -> tuple[np.ndarray, int]:
    _, index = np.unique(np.asarray(clusters, dtype=object).astype(str), return_inverse=True)
    return index, int(index.max()) + 1 if len(index) else 0


def _ratio(*arrays: np.ndarray, axis: int = -1) -> np.ndarray:
    """sum(hits) / sum(samples), or (sum(hits_a) − sum(hits_b)) / sum(samples)."""
    if len(arrays) == 2:
        hits, counts = arrays
        return hits.sum(axis=axis) / counts.sum(axis=axis)
    a, b, counts = arrays
    return (a.sum(axis=axis) - b.sum(axis=axis)) / counts.sum(axis=axis)


def _interval(data: tuple[np.ndarray, ...], resamples: int, seed: int) -> tuple[float, float]:
    result = stats.bootstrap(data, _ratio, paired=True, vectorized=True, n_resamples=resamples,
                             confidence_level=LEVEL, method="percentile", rng=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return float(low), float(high)


def bootstrap(result: EvaluationResult, resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> Uncertainty | None:
    """Intervals for every variant and metric of ``result``; None when there are fewer than
    two dialogues (nothing to resample) or ``resamples`` is 0."""
    if resamples <= 0 or len(result.clusters) != result.samples:
        return None
    index, n = _cluster_index(result.clusters)
    if n < 2:
        return None
    counts = np.bincount(index, minlength=n).astype(float)
    sums = {name: {metric: np.bincount(index, weights=values, minlength=n)
                   for metric, values in per_sample(variant.accumulator.ranks, variant.accumulator.ks).items()}
            for name, variant in result.variants.items()}
    intervals = {name: {metric: _interval((hits, counts), resamples, seed) for metric, hits in metrics.items()}
                 for name, metrics in sums.items()}
    primary = sums[result.primary]
    differences: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name, metrics in sums.items():
        if name == result.primary:
            continue
        differences[name] = {}
        for metric, hits in metrics.items():
            low, high = _interval((primary[metric], hits, counts), resamples, seed)
            differences[name][metric] = (float((primary[metric].sum() - hits.sum()) / counts.sum()), low, high)
    return Uncertainty(intervals, differences, n, resamples)


def format_uncertainty(uncertainty: Uncertainty, primary: str) -> str:
    """Console lines: each variant's 95% intervals, then the paired differences to the primary."""
    lines = [f"95% intervals, bootstrap over {uncertainty.dialogues:,} dialogues ({uncertainty.resamples:,} resamples):"]
    for name, metrics in uncertainty.intervals.items():
        lines.append(f"  {name:<16}" + "  ".join(f"{k} [{lo:.4f}, {hi:.4f}]" for k, (lo, hi) in metrics.items()))
    for name, metrics in uncertainty.differences.items():
        lines.append(f"  {primary} − {name}: " + "  ".join(f"{k} {d:+.4f} [{lo:+.4f}, {hi:+.4f}]"
                                                         for k, (d, lo, hi) in metrics.items()))
    return "\n".join(lines)
