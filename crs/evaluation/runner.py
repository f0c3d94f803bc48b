"""Run rankers over the samples of a file under one protocol and collect the metrics."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from crs.datasets import Catalogue, EvalSample
from crs.evaluation.metrics import RANK_CUTOFF, MetricAccumulator, rank_of
from crs.evaluation.protocols import Protocol, excluded, keeps
from crs.evaluation.rankers import Ranker


@dataclass
class VariantResult:
    """The outcome of one ranker: per-sample ranks and their summary."""

    name: str
    accumulator: MetricAccumulator
    seconds: float = 0.0

    @property
    def metrics(self) -> dict[str, float]:
        return self.accumulator.summary()


@dataclass
class EvaluationResult:
    """Everything a report needs (see :mod:`crs.evaluation.report`)."""

    dataset: str
    protocol: Protocol
    file: Path
    file_format: str
    catalogue_size: int
    samples: int
    missing_from_catalogue: int
    skipped_repeats: int
    seconds: float
    variants: dict[str, VariantResult] = field(default_factory=dict)
    primary: str = ""
    #: The dialogue of every kept sample, in the order of the variants' ranks (for the bootstrap).
    clusters: list[str] = field(default_factory=list)

    @property
    def metrics(self) -> dict[str, float]:
        """The metrics of the primary variant."""
        return self.variants[self.primary].metrics


def run_evaluation(samples: Iterable[EvalSample], rankers: Mapping[str, Ranker], protocol: Protocol,
                   ks: Sequence[int], catalogue: Catalogue, *, dataset: str, file: Path, file_format: str,
                   progress: bool = True, total: int | None = None) -> EvaluationResult:
    """Rank the catalogue at every kept sample with every ranker.

    A ranker receives the sample (context only) and the protocol's exclusions; the rank
    of the ground truth in its top ``max(ks)`` is recorded (None = miss, including a
    ground truth that is not in the catalogue).
    """
    if not rankers:
        raise ValueError("no ranker to evaluate")
    start = time.perf_counter()
    ks = tuple(sorted(set(ks)))
    depth = max(*ks, RANK_CUTOFF)  # NDCG@10 / MRR@10 need the top 10 even for --k 1,5
    results = {name: VariantResult(name, MetricAccumulator(ks)) for name in rankers}
    kept = missing = skipped = 0
    clusters: list[str] = []
    for sample in tqdm(samples, total=total, desc=f"evaluating {dataset} ({protocol})", unit="sample",
                       disable=not progress):
        if not keeps(sample, protocol):
            skipped += 1
            continue
        kept += 1
        clusters.append(sample.dialog_id)
        in_catalogue = sample.target is not None and sample.target in catalogue
        missing += not in_catalogue
        exclude = excluded(sample, protocol)
        for name, ranker in rankers.items():
            tick = time.perf_counter()
            ranked = ranker.rank(sample, depth, exclude)
            results[name].accumulator.add(rank_of(sample.target, ranked) if in_catalogue else None)
            results[name].seconds += time.perf_counter() - tick
    return EvaluationResult(
        dataset=dataset, protocol=protocol, file=Path(file), file_format=file_format,
        catalogue_size=len(catalogue), samples=kept, missing_from_catalogue=missing, skipped_repeats=skipped,
        seconds=time.perf_counter() - start, variants=results, primary=next(iter(rankers)),
        clusters=clusters,
    )
