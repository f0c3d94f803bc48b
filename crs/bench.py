"""``crs bench``: how fast the recommender answers, evaluates and trains, and how much memory.

The latency part uses the app's own components (:func:`crs.wiring.build_components` on a
store), so it measures what a chat turn costs: stage 1 (hybrid retrieval) plus stage 2
(the metadata reranker; no LLM). The preference states are realistic: the seeker
messages of ReDial ``valid`` dialogues go through the app's NLU one by one, and after
each message that leaves something to recommend from, the state is timed as a
recommendation turn (movies shown earlier in the same dialogue are excluded, as the app
does). Evaluation throughput runs the ``hybrid`` ReDial ranker over a dialogue file;
training time is measured only when asked (it takes minutes). Peak memory is the
process's maximum resident set size.

Targets (issue #3): p50 <= 30 ms and p95 <= 100 ms per turn on 2 cores; a 1,342-dialogue
evaluation <= 2 min; training <= 15 min; peak memory <= 4 GB.
"""

from __future__ import annotations

import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from crs.preferences import Preferences
from crs.recommender.types import RecQuery

TARGETS = {"p50_ms": 30.0, "p95_ms": 100.0, "evaluation_1342_dialogues_s": 120.0, "training_s": 900.0,
           "peak_rss_mb": 4096.0}
OFFICIAL_TEST_DIALOGUES = 1342


def peak_rss_mb() -> float:
    """Maximum resident set size of this process so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def summarize_ms(values: list[float]) -> dict[str, float]:
    """p50 / p95 / p99 / mean / max of durations in milliseconds."""
    if not values:
        return {"n": 0}
    arr = np.asarray(values)
    return {"n": len(values), "p50_ms": round(float(np.percentile(arr, 50)), 2),
            "p95_ms": round(float(np.percentile(arr, 95)), 2), "p99_ms": round(float(np.percentile(arr, 99)), 2),
            "mean_ms": round(float(arr.mean()), 2), "max_ms": round(float(arr.max()), 2)}


class Timed:
    """Wraps a stage object and records how long each call of ``method`` takes (ms)."""

    def __init__(self, inner: Any, method: str) -> None:
        self._inner = inner
        self._method = method
        self.times: list[float] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name != self._method:
            return value

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                self.times.append((time.perf_counter() - start) * 1000)

        return timed


@dataclass
class PreferenceState:
    """One recommendation turn to time: the query and where it came from."""

    dialog_id: str
    message: int
    query: RecQuery


def preference_states(dialogues_path: Path, nlu: Any, k: int, max_dialogues: int, max_states: int) -> list[PreferenceState]:
    """Replay the seeker messages of ReDial dialogues through the NLU (see the module docstring).

    The ids of the previous state's would-be recommendations are not known here, so
    "shown" is approximated by the movies the human recommender mentioned earlier.
    """
    from crs.datasets import Role, read_dialogues

    states: list[PreferenceState] = []
    for number, dialogue in enumerate(read_dialogues(dialogues_path)):
        if number >= max_dialogues or len(states) >= max_states:
            break
        prefs = Preferences()
        shown: list[str] = []
        for position, utterance in enumerate(dialogue.utterances):
            if utterance.role is Role.RECOMMENDER:
                shown += [i for i in utterance.item_ids if i not in shown]
                continue
            result = nlu.parse(utterance.text, turn=position)
            for item in result.items:
                prefs.add(item)
            prefs.year_min = result.year_min if result.year_min is not None else prefs.year_min
            prefs.year_max = result.year_max if result.year_max is not None else prefs.year_max
            if prefs.has_positive():
                query = RecQuery(preferences=prefs.model_copy(deep=True), text=" ".join(prefs.moods),
                                 exclude=frozenset(shown), mentioned=tuple(prefs.liked_movies), k=k)
                states.append(PreferenceState(dialogue.dialog_id, position, query))
                if len(states) >= max_states:
                    break
    return states


@dataclass
class BenchOptions:
    """What ``crs bench`` runs.

    Attributes:
        dialogues_file: ReDial dialogues whose seeker messages give the preference states.
        max_dialogues / max_states: How many of them to replay / time.
        warmup: Untimed calls first (caches, lazy indexes, ONNX session).
        eval_file: Dialogue file for evaluation throughput; None skips it.
        eval_dialogues: Use only the first N dialogues of it (None = all).
        model: Collaborative artefact for the evaluation (None = the settings' one, used as
            is even when trained on a data subset).
        train: Also time ``crs train retriever`` (in memory, nothing saved).
    """

    dialogues_file: Path
    max_dialogues: int = 200
    max_states: int = 400
    warmup: int = 5
    eval_file: Path | None = None
    eval_dialogues: int | None = None
    model: Path | None = None
    train: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def bench_recommendation(settings: Any, options: BenchOptions, progress: bool = True) -> dict[str, Any]:
    """Latency of the app's recommender (both stages, no LLM) over replayed preference states."""
    from crs.recommender.collaborative import artefact_path
    from crs.wiring import build_components

    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp:
        bench_settings = settings.model_copy(update={
            "llm_backend": "template", "database_url": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "checkpoint_path": Path(tmp) / "bench.checkpoints.sqlite"})
        start = time.perf_counter()
        components = build_components(bench_settings)
        startup = time.perf_counter() - start
        recommender = components.recommender
        retriever, reranker = Timed(recommender.retriever, "retrieve"), Timed(recommender.reranker, "rerank")
        recommender.retriever, recommender.reranker = retriever, reranker
        states = preference_states(options.dialogues_file, components.nlu, settings.n_recommendations,
                                   options.max_dialogues, options.max_states)
        if not states:
            raise ValueError(f"no preference state could be built from {options.dialogues_file}")
        for state in states[: options.warmup]:
            recommender.recommend(state.query)
        retriever.times.clear()
        reranker.times.clear()
        totals: list[float] = []
        cpu: list[float] = []
        empty = 0
        for state in tqdm(states, desc="timing recommendation turns", disable=not progress, unit="turn"):
            tick, cpu_tick = time.perf_counter(), time.process_time()
            result = recommender.recommend(state.query)
            totals.append((time.perf_counter() - tick) * 1000)
            cpu.append((time.process_time() - cpu_tick) * 1000)
            empty += not result.items
        collab = getattr(retriever._inner, "collab", None)
        summary = summarize_ms(totals)
        close = getattr(components.service, "close", None)
        if close is not None:
            close()
    return {
        "states": len(states), "dialogues_file": str(options.dialogues_file), "warmup_calls": options.warmup,
        "startup_s": round(startup, 2), "movies_in_store": len(components.store.index),
        "collaborative_model": {"artefact": str(artefact_path(settings)), "rl_tuned": bool(collab.meta.get("rl"))}
        if collab is not None else None,
        "total": summary, "stage1_retrieve": summarize_ms(retriever.times), "stage2_rerank": summarize_ms(reranker.times),
        # CPU time of this process per turn (all its threads): wall time well above it means
        # other jobs held the cores (see machine.load_average_*); below it, library threads
        # (Chroma, ONNX) ran in parallel
        "total_cpu_time": summarize_ms(cpu),
        "turns_without_results": empty,
        "meets_targets": bool(summary.get("p50_ms", 1e9) <= TARGETS["p50_ms"] and summary.get("p95_ms", 1e9) <= TARGETS["p95_ms"]),
    }


def bench_evaluation(settings: Any, options: BenchOptions, echo: Callable[[str], None]) -> dict[str, Any]:
    """Throughput of ``crs evaluate --variants hybrid`` on ``options.eval_file`` (dedup)."""
    from crs.datasets import read_samples
    from crs.evaluation.protocols import Protocol
    from crs.evaluation.runner import run_evaluation
    from crs.evaluation.variants import Dataset, build_rankers, load_catalogue
    from crs.recommender.collaborative import artefact_path

    start = time.perf_counter()
    catalogue = load_catalogue(Dataset.REDIAL, settings.data_dir)
    samples = list(_first_dialogues(read_samples(options.eval_file, catalogue), options.eval_dialogues))
    dialogues = len({s.dialog_id for s in samples})
    model = options.model
    if model is None and artefact_path(settings).exists():
        model = artefact_path(settings)  # the app's artefact as is: this measures speed, not accuracy
    rankers, info = build_rankers(Dataset.REDIAL, ["hybrid"], settings, catalogue, echo, False, model)
    loaded = time.perf_counter() - start
    result = run_evaluation(samples, rankers, Protocol.DEDUP, (1, 10, 50), catalogue, dataset="redial",
                            file=options.eval_file, file_format="redial", progress=False)
    ranking = result.seconds
    total = time.perf_counter() - start
    per_dialogue = ranking / max(dialogues, 1)
    projected = loaded + per_dialogue * OFFICIAL_TEST_DIALOGUES
    return {"file": str(options.eval_file), "dialogues": dialogues, "samples": len(samples),
            "kept_samples_dedup": result.samples, "model": info.get("model"), "load_s": round(loaded, 2),
            "ranking_s": round(ranking, 2), "total_s": round(total, 2),
            "samples_per_s": round(len(samples) / max(ranking, 1e-9), 1),
            "projected_1342_dialogues_s": round(projected, 1),
            "meets_target": projected <= TARGETS["evaluation_1342_dialogues_s"],
            "recall": {k: round(v, 4) for k, v in result.metrics.items()}}


def bench_training(settings: Any) -> dict[str, Any]:
    """Wall time of training the retriever in memory (what ``crs train retriever`` does, unsaved)."""
    from crs.recommender.collaborative_training import build_model

    start = time.perf_counter()
    build_model(settings.data_dir, progress=False)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 1), "meets_target": seconds <= TARGETS["training_s"]}


def _first_dialogues(samples: Iterator, limit: int | None) -> Iterator:
    seen: set[str] = set()
    for sample in samples:
        if limit is not None and sample.dialog_id not in seen and len(seen) >= limit:
            return
        seen.add(sample.dialog_id)
        yield sample


def run_bench(settings: Any, options: BenchOptions, echo: Callable[[str], None] = print,
              progress: bool = True) -> dict[str, Any]:
    """Everything ``crs bench`` measures, as one JSON-ready dict."""
    doc: dict[str, Any] = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
                    "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        "store_dir": str(settings.store_dir), "targets": TARGETS, **options.extra,
    }
    doc["recommendation"] = bench_recommendation(settings, options, progress)
    doc["peak_rss_mb_after_recommendation"] = peak_rss_mb()
    doc["evaluation"] = bench_evaluation(settings, options, echo) if options.eval_file else None
    doc["training"] = bench_training(settings) if options.train else None
    doc["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    doc["peak_rss_mb"] = peak_rss_mb()
    doc["peak_rss_within_target"] = doc["peak_rss_mb"] <= TARGETS["peak_rss_mb"]
    return doc


def format_bench(doc: dict[str, Any]) -> str:
    """A few lines for the console."""
    rec = doc["recommendation"]
    total, s1, s2 = rec["total"], rec["stage1_retrieve"], rec["stage2_rerank"]
    collab = rec["collaborative_model"]
    lines = [f"recommendation ({rec['states']} turns, {rec['movies_in_store']:,} movies, "
             f"collaborative model: {collab['artefact'] if collab else 'none'}): "
             f"p50 {total['p50_ms']} ms, p95 {total['p95_ms']} ms, max {total['max_ms']} ms "
             f"(stage 1 p50 {s1.get('p50_ms')} ms, stage 2 p50 {s2.get('p50_ms')} ms); targets p50 <= 30, p95 <= 100: "
             f"{'met' if rec['meets_targets'] else 'NOT met'}",
             f"  CPU time per turn: p50 {rec['total_cpu_time']['p50_ms']} ms, p95 {rec['total_cpu_time']['p95_ms']} ms; "
             f"load average {doc['machine']['load_average_at_start'][0]} on {doc['machine']['cpus']} CPUs"]
    if doc.get("evaluation"):
        ev = doc["evaluation"]
        lines.append(f"evaluation: {ev['dialogues']:,} dialogues / {ev['samples']:,} samples in {ev['total_s']} s "
                     f"({ev['samples_per_s']} samples/s); projected 1,342 dialogues: {ev['projected_1342_dialogues_s']} s")
    if doc.get("training"):
        lines.append(f"training the retriever: {doc['training']['seconds']} s")
    lines.append(f"peak RSS: {doc['peak_rss_mb']} MiB")
    return "\n".join(lines)
