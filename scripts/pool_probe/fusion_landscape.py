"""Fusion landscape on the train fit split (a model on the other train dialogues scores the
official-format train dialogues, exactly as ``fit_fusion`` does), over the whole ``FUSION_GRID``,
with the metadata block as ``crs train retriever`` builds it (TMDB keywords; dense neighbours when
a store is given): the best grid points by R@10 + R@50 (the fit's objective), by R@200 (the pool the
ranker sees) and by their sum. Extra content weights widen the grid's content axis.

Usage: python scripts/pool_probe/fusion_landscape.py STORE_DIR|- [CONTENT_WEIGHT ...]
"""
import itertools, sys, numpy as np
from pathlib import Path
from crs.datasets import dialogue_samples, load_redial_catalogue
from crs.recommender.collaborative_content import content_similarity, store_vectors
from crs.recommender.collaborative_training import FUSION_GRID, TRAIN_ONLY_FILES, dedup_ranks, fit_blocks
from crs.recommender.training_data import load_training_set
DATA = Path("/work/shared/data")
cat = load_redial_catalogue(DATA); labels = dict(zip(cat.ids, cat.labels))
tr = load_training_set(DATA, cat, TRAIN_ONLY_FILES, None, False, None)
vectors = store_vectors(Path(sys.argv[1]), cat.ids) if sys.argv[1] != "-" else None
content = content_similarity(DATA, cat.ids, 200, vectors)
model = fit_blocks(tr.fusion_model_dialogues, cat, content=content)
samples = [s for d in tr.fit for s in dialogue_samples(d, cat) if not s.repeated]
contents = sorted({*FUSION_GRID["content"], *(float(c) for c in sys.argv[2:])})
mixes = list(itertools.product(FUSION_GRID["words"], contents, FUSION_GRID["popularity"]))
rows = []
for decay in FUSION_GRID["decay"]:
    ranks = dedup_ranks(model, samples, decay, mixes, labels)
    for mix, r in zip(mixes, ranks):
        hit = {k: float(np.mean((r > 0) & (r <= k))) for k in (1, 10, 50, 200)}
        rows.append((mix + (decay,), hit))
for key in ("r1050", "r200", "sum"):
    f = {"r1050": lambda h: h[10] + h[50], "r200": lambda h: h[200], "sum": lambda h: h[10] + h[50] + h[200]}[key]
    best = sorted(rows, key=lambda x: -f(x[1]))[:6]
    print(key, len(samples))
    for mix, h in best:
        print("  ", mix, {k: round(v, 4) for k, v in h.items()}, round(f(h), 4))
ref = [h for m, h in rows if m == (0.3, 0.05, 0.0005, 0.9)][0]
print("ref .3/.05/.0005/.9", {k: round(v, 4) for k, v in ref.items()})
