"""Fusion landscape on the train fit split (model on reduced QA, scored on the official-format
train dialogues), for the metadata block with TMDB keywords (+ dense neighbours when a store
is given): R@1/10/50/200 per (words, content) at popularity .0005, decay .9.

Usage: python scripts/pool_probe/fusion_landscape.py [STORE_DIR]
"""
import sys
from pathlib import Path

import numpy as np

from crs.datasets import dialogue_samples, load_redial_catalogue
from crs.recommender.collaborative_content import content_similarity, store_vectors
from crs.recommender.collaborative_training import dedup_ranks, fit_blocks, load_training_dialogues

DATA = Path("/work/shared/data")
cat = load_redial_catalogue(DATA)
labels = dict(zip(cat.ids, cat.labels))
full, reduced = load_training_dialogues(DATA, cat)
vectors = store_vectors(Path(sys.argv[1]), cat.ids) if len(sys.argv) > 1 else None
content = content_similarity(DATA, cat.ids, 200, vectors)
model = fit_blocks(reduced, cat, content=content)
samples = [s for d in full for s in dialogue_samples(d, cat) if not s.repeated]
mixes = [(w, c, 0.0005) for w in (0.3, 0.4, 0.5) for c in (0.05, 0.075, 0.1)]
ranks = dedup_ranks(model, samples, 0.9, mixes, labels)
for mix, row in zip(mixes, ranks):
    hit = {k: np.mean((row > 0) & (row <= k)) for k in (1, 10, 50, 200)}
    print(mix, " ".join(f"R@{k}={v:.4f}" for k, v in hit.items()), f"R10+R50={hit[10] + hit[50]:.4f}")
