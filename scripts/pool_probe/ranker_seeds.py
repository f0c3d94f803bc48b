"""How much does valid R@50 move when only the pool ranker's random seed changes?

Cross-fits the pools once (as `crs train retriever` does, with a fixed fusion), then fits the
LightGBM ranker with several seeds (LightGBM's bagging seed and the turn subsample's seed)
and scores ReDial valid (dedup) with each.

Usage: python scripts/pool_probe/ranker_seeds.py WORDS CONTENT STORE_DIR|- kw|nokw SEED [SEED ...]
(nokw: the metadata block without TMDB keywords, as in collab-v2)
"""
import sys
import time
from pathlib import Path

import numpy as np

from crs.datasets import dialogue_samples, load_redial_catalogue, read_dialogues
from crs.recommender.collaborative import Fusion
from crs.recommender.collaborative_content import content_similarity, store_vectors
from crs.recommender.collaborative_training import fit_blocks, load_training_dialogues, mention_weights, utterance_words
from crs.recommender.ltr import MovieFacts
from crs.recommender.ltr_training import fit_ranker, held_out_pools, subsample

DATA = Path("/work/shared/data")
words, content_w, store = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
keywords = sys.argv[4] == "kw"
seeds = [int(s) for s in sys.argv[5:]]
if not keywords:
    import crs.recommender.collaborative_content as cc
    cc.tmdb_keywords = lambda data_dir, info: {}
start = time.perf_counter()
cat = load_redial_catalogue(DATA)
labels = dict(zip(cat.ids, cat.labels))
full, reduced = load_training_dialogues(DATA, cat)
vectors = store_vectors(Path(store), cat.ids) if store != "-" else None
content = content_similarity(DATA, cat.ids, 200, vectors)
fusion = Fusion(words=words, content=content_w, popularity=0.0005, decay=0.9)
model = fit_blocks(full + reduced, cat, content=content)
model.fusion = fusion
model.facts = MovieFacts.load(DATA, cat.ids)
pools = held_out_pools(full + reduced, cat, fusion, model.facts, lambda rows: fit_blocks(rows, cat, content=content),
                       progress=False)
print(f"pools: {len(pools.groups)} of {pools.turns} turns ({pools.pool_recall:.4f}), {time.perf_counter() - start:.0f} s",
      flush=True)
np.savez(f"/tmp/exp-pool/pools-{words}-{content_w}-{'dense' if store != '-' else 'nodense'}-{sys.argv[4]}.npz",
         features=pools.features, labels=pools.labels, groups=pools.groups, turns=pools.turns)
samples = [s for d in read_dialogues(DATA / "redial/valid_dialogues.jsonl") for s in dialogue_samples(d, cat)
           if not s.repeated]
for seed in seeds:
    model.ranker = fit_ranker(subsample(pools, 12000, seed=seed), params={"seed": seed})
    hits = np.zeros((len(samples), 3), bool)
    for i, s in enumerate(samples):
        w = mention_weights(s, fusion)
        scores = model.rank_vector(w, utterance_words(s.context, labels)).astype(np.float64)
        scores[[model.row[x] for x in s.mentioned_ids if x in model.row]] = -np.inf
        t = model.row[s.target]
        rank = 1 + np.count_nonzero(scores > scores[t]) + np.count_nonzero(scores[:t] == scores[t])
        hits[i] = [rank <= 1, rank <= 10, rank <= 50]
    print(f"seed {seed}: R@1/10/50 = " + " / ".join(f"{v:.4f}" for v in hits.mean(axis=0)),
          f"({time.perf_counter() - start:.0f} s)", flush=True)
    np.save(f"/tmp/exp-pool/hits-{words}-{content_w}-{'dense' if store != '-' else 'nodense'}-{sys.argv[4]}-{seed}.npy", hits)
