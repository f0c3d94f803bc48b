"""Whole chat turns on one store, timed stage by stage (the per-size part of ``crs bench``).

The app's own components (:func:`crs.wiring.build_components`, template backend, a fresh
SQLite database) answer the seeker messages of ReDial ``valid`` dialogues, one session per
dialogue, through :meth:`ChatService.handle_turn` — the path of a UI or API turn. The NLU
``parse``, the stage-1 ``retrieve`` and the stage-2 ``rerank`` of the very objects the
graph holds are wrapped with timers, so per turn:

* ``nlu``: time in the NLU (all its calls in the turn);
* ``retrieval``: stage 1, hybrid retrieval over Chroma (turns that call it: recommendation
  turns, and elicitation turns whose question is chosen over stage-1 candidates);
* ``refinement``: stage 2, the metadata reranker and its reasons (recommendation turns);
* ``graph_persistence``: the rest: LangGraph (nodes, routing, SQLite checkpoint), the
  session database writes, checkpoint pruning;
* ``turn``: the whole ``handle_turn``.

A first, untimed session warms the lazy parts; how long the very first turn took (the cost
a user of a freshly started app pays) is reported as ``cold_first_turn_ms``. Each size runs
in its own process, so ``peak_rss_mb`` is that of an app holding that store.
"""

from __future__ import annotations

import gc
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm


@dataclass
class TurnBenchOptions:
    """Per-size options: the dialogues to replay and how many turns to time."""

    dialogues_file: Path
    turns: int = 300
    warmup_turns: int = 8
    hnsw_queries: int = 100
    progress: bool = True


class _StageTimer:
    """Wraps one bound method of an object in place; accumulates wall and CPU ms per turn."""

    def __init__(self, obj: Any, method: str) -> None:
        self.current = 0.0
        self.cpu = 0.0
        self.calls = 0
        inner = getattr(obj, method)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start, cpu_start = time.perf_counter(), time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.current += (time.perf_counter() - start) * 1000
                self.cpu += (time.process_time() - cpu_start) * 1000
                self.calls += 1

        setattr(obj, method, timed)

    def take(self) -> tuple[float, int]:
        value, calls = self.current, self.calls
        self.current, self.calls = 0.0, 0
        return value, calls

    def take_cpu(self) -> float:
        """The CPU time (this process, all threads) of the calls since the last call."""
        value, self.cpu = self.cpu, 0.0
        return value


class _GcTimer:
    """Time spent in Python's garbage collector (``gc.callbacks``), per turn."""

    def __init__(self) -> None:
        self.current = 0.0
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.current += (time.perf_counter() - self._start) * 1000

    def take(self) -> float:
        value, self.current = self.current, 0.0
        return value

    def close(self) -> None:
        gc.callbacks.remove(self._callback)


@contextmanager
def store_components(store_dir: str | Path, prefix: str = "crs-bench-") -> Iterator[tuple[Any, Any]]:
    """(settings, components) of the app on ``store_dir`` with a throw-away database and the
    template backend, for the stage-1 tools (``crs.bench_parts``, ``crs.bench_profile``,
    ``crs.bench_identity``); the service is closed on exit."""
    from crs.settings import apply_offline_env, load_settings

    apply_offline_env()
    from crs.wiring import build_components

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        settings = load_settings(store_dir=store_dir, database_url=f"sqlite:///{Path(tmp) / 'p.db'}",
                                 checkpoint_path=Path(tmp) / "p.db.checkpoints.sqlite", llm_backend="template")
        components = build_components(settings)
        try:
            yield settings, components
        finally:
            close = getattr(components.service, "close", None)
            if close is not None:
                close()


def answer_seeker_turns(settings: Any, components: Any, turns: int) -> None:
    """Send ``turns`` ReDial valid seeker messages through the app's service, a session per dialogue."""
    for texts in seeker_sessions(settings.data_dir / "redial" / "valid_dialogues.jsonl", turns):
        session = components.service.new_session()
        for text in texts:
            components.service.handle_turn(session, text)


def seeker_sessions(dialogues_file: Path, limit_turns: int) -> list[list[str]]:
    """Seeker messages of ReDial dialogues, one list per dialogue, ``limit_turns`` in all."""
    from crs.datasets import Role, read_dialogues

    sessions: list[list[str]] = []
    total = 0
    for dialogue in read_dialogues(dialogues_file):
        texts = [u.text for u in dialogue.utterances if u.role is Role.SEEKER and u.text.strip()]
        if not texts:
            continue
        sessions.append(texts[: limit_turns - total])
        total += len(sessions[-1])
        if total >= limit_turns:
            break
    return sessions


def hnsw_check(store: Any, queries: int, n: int = 60, seed: int = 0) -> dict[str, Any]:
    """Chroma's HNSW search vs exact search over all stored vectors, for random movies' vectors.

    Returns the query latency of ``store.search`` (one vector, ``n`` results) and its recall
    against the exact cosine top ``n`` — does ef_search hold up? Many movies share one vector
    (metadata-poor movies embed their genres only), so the exact top ``n`` is often a tie
    among hundreds of movies and comparing ids would punish HNSW for picking other, equally
    close ones: ``recall_vs_exact`` counts a result as right when its cosine reaches the exact
    ``n``-th best (minus 1e-4); ``id_overlap`` is the plain id comparison.
    """
    from crs.catalog import store_files

    matrix = store.matrix()
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(matrix), size=min(queries, len(matrix)), replace=False)
    ids = [m.id for m in store.index.movies]
    times, recalls, overlaps, ties = [], [], [], []
    for row in rows:
        vector = matrix[row]
        start = time.perf_counter()
        got = store.search(vector, n=n)
        times.append((time.perf_counter() - start) * 1000)
        sims = matrix @ vector
        exact = np.argpartition(-sims, n)[:n]
        threshold = float(sims[exact].min()) - 1e-4
        ties.append(int((sims >= threshold).sum()))
        recalls.append(sum(score >= threshold for _, score in got) / n)
        overlaps.append(len({ids[i] for i in exact} & {m.id for m, _ in got}) / n)
    from crs.bench import summarize_ms

    return {"n_results": n, "queries": len(rows), "ef_search": store_files.HNSW_CONFIG.get("ef_search"),
            "search_latency": summarize_ms(times), "recall_vs_exact_mean": round(float(np.mean(recalls)), 4),
            "recall_vs_exact_min": round(float(np.min(recalls)), 4),
            "id_overlap_mean": round(float(np.mean(overlaps)), 4),
            "movies_within_exact_top_n_score_median": int(np.median(ties))}


def bench_turns(settings: Any, options: TurnBenchOptions) -> dict[str, Any]:
    """Time whole turns on ``settings.store_dir`` (see the module docstring)."""
    from crs.bench import summarize_ms
    from crs.recommender.collaborative import artefact_path
    from crs.settings import apply_offline_env
    from crs.wiring import build_components

    apply_offline_env()
    with tempfile.TemporaryDirectory(prefix="crs-bench-") as tmp:
        bench_settings = settings.model_copy(update={
            "llm_backend": "template", "database_url": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "checkpoint_path": Path(tmp) / "bench.db.checkpoints.sqlite"})
        start = time.perf_counter()
        components = build_components(bench_settings)
        startup = time.perf_counter() - start
        rss_after_startup = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        service, recommender = components.service, components.recommender
        nlu = _StageTimer(components.nlu, "parse")
        retrieval = _StageTimer(recommender.retriever, "retrieve")
        refinement = _StageTimer(recommender.reranker, "rerank")
        sessions = seeker_sessions(options.dialogues_file, options.turns + options.warmup_turns)
        if not sessions:
            raise ValueError(f"no seeker messages in {options.dialogues_file}")
        warm = [t for s in sessions for t in s][: options.warmup_turns]
        cold_first = None
        warm_session = service.new_session()
        for number, text in enumerate(warm):
            tick = time.perf_counter()
            service.handle_turn(warm_session, text)
            if number == 0:
                cold_first = (time.perf_counter() - tick) * 1000
        for timer in (nlu, retrieval, refinement):
            timer.take()
            timer.take_cpu()
        collector = _GcTimer()
        rows: list[dict[str, float]] = []
        total = sum(len(s) for s in sessions) - len(warm)
        bar = tqdm(total=max(total, 0), desc=f"turns on {len(components.store.index):,} movies", unit="turn",
                   disable=not options.progress)
        skip = len(warm)
        for texts in sessions:
            sid = service.new_session()
            for text in texts:
                if skip:
                    skip -= 1
                    continue
                tick, cpu_tick = time.perf_counter(), time.process_time()
                service.handle_turn(sid, text)
                whole = (time.perf_counter() - tick) * 1000
                cpu = (time.process_time() - cpu_tick) * 1000
                (n_ms, _), (r_ms, r_calls), (f_ms, f_calls) = nlu.take(), retrieval.take(), refinement.take()
                r_cpu, f_cpu = retrieval.take_cpu(), refinement.take_cpu()
                nlu.take_cpu()
                rows.append({"turn": whole, "cpu": cpu, "nlu": n_ms, "retrieval": r_ms if r_calls else None,
                             "refinement": f_ms if f_calls else None, "graph_persistence": whole - n_ms - r_ms - f_ms,
                             # issue #3's "recommendation": both stages of a recommendation turn, no LLM
                             "recommendation": r_ms + f_ms if f_calls else None,
                             "retrieval_cpu": r_cpu if r_calls else None,
                             "recommendation_cpu": r_cpu + f_cpu if f_calls else None, "gc": collector.take()})
                bar.update(1)
        bar.close()
        collector.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the exact-search check's matrix
        hnsw = hnsw_check(components.store, options.hnsw_queries) if options.hnsw_queries else None
        collab = getattr(recommender.retriever, "collab", None)
        stages = {key: summarize_ms([r[key] for r in rows if r[key] is not None])
                  for key in ("nlu", "retrieval", "refinement", "recommendation", "graph_persistence", "turn")}
        cpu_stages = {key: summarize_ms([r[key] for r in rows if r[key] is not None])
                      for key in ("retrieval_cpu", "recommendation_cpu")}
        close = getattr(service, "close", None)
        if close is not None:
            close()
    return {
        "store_dir": str(settings.store_dir), "movies_in_store": len(components.store.index),
        "startup_s": round(startup, 2), "rss_after_startup_mb": round(rss_after_startup, 1),
        "collaborative_model": {"artefact": str(artefact_path(settings)), "loaded": collab is not None},
        "sessions": len(sessions), "warmup_turns": len(warm), "cold_first_turn_ms": round(cold_first or 0.0, 1),
        "turns_timed": len(rows), "recommendation_turns": sum(r["refinement"] is not None for r in rows),
        "retrieval_turns": sum(r["retrieval"] is not None for r in rows),
        "stages": stages, "turn_cpu_time": summarize_ms([r["cpu"] for r in rows]),
        # CPU time of this process inside the stage (less sensitive to other jobs than wall time)
        "stages_cpu_time": {key.removesuffix("_cpu"): value for key, value in cpu_stages.items()},
        "gc_ms_per_turn": summarize_ms([r["gc"] for r in rows]), "hnsw": hnsw,
        "peak_rss_mb": round(peak, 1),
    }


def bench_turns_worker(payload: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    """Entry point of the per-size child process (arguments must pickle: plain dicts)."""
    from crs.settings import Settings

    settings_dict, options_dict = payload
    return bench_turns(Settings(**settings_dict), TurnBenchOptions(**options_dict))
