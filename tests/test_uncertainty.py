"""Dialogue-clustered bootstrap intervals of `crs evaluate` (crs.evaluation.uncertainty)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crs.evaluation.metrics import MetricAccumulator
from crs.evaluation.protocols import Protocol
from crs.evaluation.runner import EvaluationResult, VariantResult
from crs.evaluation.uncertainty import bootstrap, format_uncertainty, per_sample


def _result(variants: dict[str, list[int | None]], clusters: list[str]) -> EvaluationResult:
    results = {name: VariantResult(name, MetricAccumulator((1, 10))) for name in variants}
    for name, ranks in variants.items():
        results[name].accumulator.extend(ranks)
    return EvaluationResult(dataset="redial", protocol=Protocol.DEDUP, file=Path("x.jsonl"), file_format="x",
                            catalogue_size=10, samples=len(clusters), missing_from_catalogue=0, skipped_repeats=0,
                            seconds=0.0, variants=results, primary=next(iter(variants)), clusters=clusters)


def _alternating(n_dialogues: int, per_dialogue: int) -> tuple[list[int | None], list[str]]:
    """Half of the dialogues hit at rank 1 on every sample, the other half miss everything."""
    ranks: list[int | None] = []
    clusters: list[str] = []
    for d in range(n_dialogues):
        ranks += [1 if d % 2 == 0 else None] * per_dialogue
        clusters += [f"d{d}"] * per_dialogue
    return ranks, clusters


def test_per_sample_values_average_to_the_reported_metrics():
    ranks = [1, 3, None, 12]
    acc = MetricAccumulator((1, 10))
    acc.extend(ranks)
    values = per_sample(ranks, (1, 10))
    assert {k: v.mean() for k, v in values.items()} == pytest.approx(acc.summary())


def test_interval_holds_the_estimate_and_clustering_widens_it():
    ranks, clusters = _alternating(40, 10)
    clustered = bootstrap(_result({"a": ranks}, clusters), resamples=2000)
    independent = bootstrap(_result({"a": ranks}, [str(i) for i in range(len(ranks))]), resamples=2000)
    low, high = clustered.intervals["a"]["recall@1"]
    assert low < 0.5 < high
    ind_low, ind_high = independent.intervals["a"]["recall@1"]
    # 400 samples but only 40 independent dialogues: the honest interval is ~3x wider
    assert high - low > 2 * (ind_high - ind_low)
    assert clustered.dialogues == 40 and independent.dialogues == 400


def test_paired_difference_is_zero_for_a_copy_and_excludes_zero_for_a_worse_variant():
    ranks, clusters = _alternating(40, 3)
    worse = [None if i % 3 == 0 else r for i, r in enumerate(ranks)]  # loses one hit in every hit dialogue
    u = bootstrap(_result({"a": ranks, "copy": list(ranks), "worse": worse}, clusters), resamples=500)
    assert "a" not in u.differences
    assert u.differences["copy"]["recall@1"] == (0.0, 0.0, 0.0)
    difference, low, high = u.differences["worse"]["recall@1"]
    assert difference == pytest.approx(20 / 120) and 0 < low <= difference <= high
    extra = u.variant_extra()
    assert extra["worse"]["vs_primary"]["recall@1"]["difference"] == round(20 / 120, 4)
    assert set(extra["a"]) == {"interval95"} and len(extra["a"]["interval95"]["mrr@10"]) == 2
    text = format_uncertainty(u, "a")
    assert "a − worse: recall@1 +0.1667" in text and "40 dialogues" in text


def test_no_intervals_without_resamples_or_with_one_dialogue():
    ranks, clusters = _alternating(4, 2)
    assert bootstrap(_result({"a": ranks}, clusters), resamples=0) is None
    assert bootstrap(_result({"a": ranks}, ["one"] * len(ranks))) is None


def test_intervals_are_reproducible():
    ranks, clusters = _alternating(30, 2)
    result = _result({"a": ranks}, clusters)
    assert bootstrap(result, 300).intervals == bootstrap(result, 300).intervals
