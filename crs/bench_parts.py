"""Where stage 1's time goes, per part, inside real chat turns: ``python -m crs.bench_parts STORE_DIR [TURNS]``.

Like :mod:`crs.bench_profile` (ReDial valid seeker messages through the app's ``ChatService``
on STORE_DIR, a temporary database), but without cProfile's overhead: the parts of
``HybridRetriever.retrieve`` (the liked-movie Chroma searches, the text search and its
embedding, the collaborative model + LightGBM, the similarities, the scoring, the implicit
feedback and its pieces, the vector reads, the pool filter; Chroma's neighbour ids are cached per
movie / text, so the search parts include cache hits) are wrapped with CPU-time counters
(``time.process_time``). Prints stage 1's CPU time p50 / p95 / max per call, and per part its
mean over all calls and over the slowest 10 % of calls (what the p95 is made of). Used for
docs/benchmarks.md ("What is left").
"""

from __future__ import annotations

import collections
import sys
import time


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        raise SystemExit("usage: python -m crs.bench_parts STORE_DIR [TURNS]")
    import numpy as np

    from crs.bench_turns import answer_seeker_turns, store_components

    turns = int(args[1]) if len(args) > 1 else 200
    with store_components(args[0], prefix="crs-parts-") as (settings, components):
        import crs.recommender.feedback as feedback_module

        retriever = components.recommender.retriever
        store = retriever.store
        current: collections.Counter = collections.Counter()
        calls: list[dict[str, float]] = []

        def wrap(obj, name: str, label: str) -> None:
            inner = getattr(obj, name)

            def timed(*a, **k):
                start = time.process_time()
                try:
                    return inner(*a, **k)
                finally:
                    current[label] += (time.process_time() - start) * 1000

            setattr(obj, name, timed)

        for obj, name, label in [
                (store, "search_each", "Chroma: liked / rewarded movies' neighbours"),
                (store, "search_each_movie", "Chroma: liked / rewarded movies' neighbours"),
                (store, "search", "Chroma: the user's words"), (store, "search_text", "Chroma: the user's words"),
                (store.embedder, "embed_one", "embedding the user's words"),
                (store, "vectors", "vector reads"), (retriever, "_collab", "collaborative model + LightGBM"),
                (retriever, "_similarities", "_similarities"), (retriever, "_score_all", "_score_all"),
                (retriever, "_feedback", "implicit feedback (all)"),
                (feedback_module, "collab_scores", "  feedback: collaborative neighbours"),
                (feedback_module, "similarity_scores", "  feedback: closeness to rewarded movies"),
                (feedback_module.FeedbackSignal, "attribute_score", "  feedback: genre / director scores"),
                (feedback_module.FeedbackSignal, "attribute_scores", "  feedback: genre / director scores"),
                (retriever, "_allowed", "pool filter (Constraints.allows)")]:
            if hasattr(obj, name):
                wrap(obj, name, label)
        inner = retriever.retrieve

        def timed_retrieve(*a, **k):
            current.clear()
            start = time.process_time()
            try:
                return inner(*a, **k)
            finally:
                row = dict(current)
                row["stage 1 in all"] = (time.process_time() - start) * 1000
                calls.append(row)

        retriever.retrieve = timed_retrieve
        answer_seeker_turns(settings, components, turns)
    total = np.array([c["stage 1 in all"] for c in calls])
    print(f"stage 1 CPU time per call: n={len(total)} p50 {np.percentile(total, 50):.1f} "
          f"p95 {np.percentile(total, 95):.1f} max {total.max():.1f} ms")
    slow = [c for c in calls if c["stage 1 in all"] >= np.percentile(total, 90)]
    labels = sorted({k for c in calls for k in c} - {"stage 1 in all"}) + ["stage 1 in all"]
    for label in labels:
        print(f"  {label:45s} mean {np.mean([c.get(label, 0.0) for c in calls]):6.1f} ms   "
              f"slowest 10% of calls: mean {np.mean([c.get(label, 0.0) for c in slow]):6.1f} ms")


if __name__ == "__main__":
    main()
