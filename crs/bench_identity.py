"""Old vs new stage 1, side by side: ``python -m crs.bench_identity OLD_TREE STORE_DIR [QUERIES]``.

Loads ``OLD_TREE/crs/recommender/hybrid.py``, ``constraints.py``, ``feedback.py`` and
``OLD_TREE/crs/catalog/store.py`` (a copy of the repository before a change, e.g.
``git archive <commit> | tar -x -C OLD_TREE``, or ``git worktree add``) next to this tree's
(the old ``hybrid`` bound to the old ``constraints``, its queries' feedback signals rebuilt as old
``FeedbackSignal`` objects), builds this tree's app components on STORE_DIR and an old ``HybridRetriever`` over an old
``MovieStore`` on the same store (same collaborative model, feedback bias and lexicon), then
asks both the same random queries (liked / disliked movies with turns, liked and disliked
genres, liked and disliked people, year bounds, moods, free text, implicit-feedback signals) and compares ids, scores and
every evidence value with ``==``. Prints the number of differing queries and, for two more
passes over the same queries interleaved (both see the same machine load), the CPU time per
query of each. Used for docs/benchmarks.md ("Identical output", "A/B").
"""

from __future__ import annotations

import dataclasses
import importlib.util
import random
import sys
import time
from pathlib import Path


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _queries(store, lexicon, count: int, seed: int = 7) -> list:
    from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
    from crs.recommender.feedback import FeedbackSignal
    from crs.recommender.types import RecQuery

    rng = random.Random(seed)
    top = sorted((m for m in store.index.movies if m.popularity > 0), key=lambda m: -m.popularity)[:3000]
    genres = sorted({g for m in top for g in m.genres})
    people = [m.directors[0] for m in top[:500] if m.directors]
    moods = sorted(lexicon.mood_words)
    texts = ["", "", "a tense heist movie", "something funny for the family", "space adventure with robots"]
    out = []
    for _ in range(count):
        items, turn = [], 0
        for _ in range(rng.randint(0, 6)):
            polarity = rng.choice([Polarity.LIKE] * 3 + [Polarity.DISLIKE])
            items.append(PreferenceItem(slot=Slot.MOVIE, value=rng.choice(top).id, polarity=polarity, turn=turn))
            turn += rng.randint(0, 1)
        if rng.random() < .4:
            items.append(PreferenceItem(slot=Slot.GENRE, value=rng.choice(genres), polarity=Polarity.LIKE, turn=turn))
        if rng.random() < .2:
            items.append(PreferenceItem(slot=Slot.GENRE, value=rng.choice(genres), polarity=Polarity.DISLIKE, turn=turn))
        if rng.random() < .2:
            items.append(PreferenceItem(slot=Slot.PERSON, value=rng.choice(people), polarity=Polarity.LIKE, turn=turn))
        if rng.random() < .3:
            items.append(PreferenceItem(slot=Slot.MOOD, value=rng.choice(moods),
                                        polarity=rng.choice([Polarity.LIKE, Polarity.DISLIKE]), turn=turn))
        years: dict[str, int] = {}
        if rng.random() < .2:  # "after 1990", "before 1980", "from the 2000s"
            low = rng.choice([None, 1960, 1980, 1990, 2000])
            years = {"year_min": low} if low else {}
            if rng.random() < .5 or not years:
                years["year_max"] = (low or 1950) + rng.choice([9, 20, 40])
        if rng.random() < .1:
            items.append(PreferenceItem(slot=Slot.PERSON, value=rng.choice(people), polarity=Polarity.DISLIKE, turn=turn))
        signal = None
        if rng.random() < .4:
            rewards = {rng.choice(top).id: rng.choice([1.0, 0.5, -1.0, -0.3]) for _ in range(rng.randint(1, 5))}
            signal = FeedbackSignal.from_rewards(rewards, store.index)
        out.append(RecQuery(preferences=Preferences(items=items, **years), text=rng.choice(texts), feedback=signal))
    return out


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2:
        raise SystemExit("usage: python -m crs.bench_identity OLD_TREE STORE_DIR [QUERIES]")
    import numpy as np

    from crs.bench_turns import store_components

    old_tree, store_dir = Path(args[0]), args[1]
    count = int(args[2]) if len(args) > 2 else 80
    old_store_module = _load("crs_old_store", old_tree / "crs" / "catalog" / "store.py")
    old_feedback = _load("crs_old_feedback", old_tree / "crs" / "recommender" / "feedback.py")
    old_constraints = _load("crs_old_constraints", old_tree / "crs" / "recommender" / "constraints.py")
    import crs.recommender.constraints as new_constraints

    sys.modules["crs.recommender.constraints"] = old_constraints  # what the old hybrid imports
    try:
        old_hybrid = _load("crs_old_hybrid", old_tree / "crs" / "recommender" / "hybrid.py")
    finally:
        sys.modules["crs.recommender.constraints"] = new_constraints
    with store_components(store_dir, prefix="crs-identity-") as (_, components):
        new = components.recommender.retriever
        old_store = old_store_module.MovieStore.open(store_dir, new.store.embedder)
        old = old_hybrid.HybridRetriever(old_store, new.collab, item_bias=new.item_bias, lexicon=new.lexicon)
        old.warm()
        queries = _queries(new.store, new.lexicon, count)
        old_queries = [q if q.feedback is None else dataclasses.replace(
            q, feedback=old_feedback.FeedbackSignal(dict(q.feedback.rewards), dict(q.feedback.genres),
                                                    dict(q.feedback.directors))) for q in queries]

        def key(candidates):
            return [(c.movie.id, c.score, c.evidence) for c in candidates]

        differ = 0
        for number in range(3):
            old_ms, new_ms = [], []
            for query, old_query in zip(queries, old_queries):
                t0 = time.process_time()
                a = old.retrieve(old_query, 100)
                t1 = time.process_time()
                b = new.retrieve(query, 100)
                t2 = time.process_time()
                old_ms.append((t1 - t0) * 1000)
                new_ms.append((t2 - t1) * 1000)
                differ += key(a) != key(b)
            label = "first pass (old store cold)" if number == 0 else f"repeat {number}"

            def fmt(values):
                return f"p50 {np.percentile(values, 50):.1f} p95 {np.percentile(values, 95):.1f} mean {np.mean(values):.1f}"

            print(f"{label}: CPU ms per retrieve: old {fmt(old_ms)} | new {fmt(new_ms)}", flush=True)
        print(f"{count} queries x 3 passes: {differ} differing answers")


if __name__ == "__main__":
    main()
