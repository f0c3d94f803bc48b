"""Probe (usage: python scripts/pool_probe/source_weight.py WEIGHT...; caches /tmp/s4/pools-src.npz): down-weight the ranker's training turns from reduced-QA dialogues (speaker order guessed).
Pools cross-fitted exactly as crs train retriever --holdout-valid does, each query tagged by source;
3-booster ensembles (seeds 1,2,3) per weight; valid dedup R@1/10/50 via the trainonly model's valid pools."""
import os, sys, time, numpy as np, lightgbm as lgb
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from valid_pools import ValidPools
from crs.datasets import dialogue_samples, load_redial_catalogue
from crs.recommender.collaborative import CollaborativeModel
from crs.recommender.collaborative_training import TRAIN_ONLY_FILES, fit_blocks, mention_weights, utterance_words
from crs.recommender.ltr import FEATURES, pool_features
from crs.recommender.ltr_training import DEFAULT_FOLDS, DEFAULT_MAX_QUERIES, LGB_PARAMS
from crs.recommender.training_data import load_training_set
DATA = Path("/work/shared/data"); t0 = time.perf_counter()
cat = load_redial_catalogue(DATA); labels = dict(zip(cat.ids, cat.labels))
ref = CollaborativeModel.load(Path("/work/main/data/artifacts/collab-v2-trainonly.npz"))
fusion, facts = ref.fusion, ref.facts
C = "/tmp/s4/pools-src.npz"
if not os.path.exists(C):
    tr = load_training_set(DATA, cat, TRAIN_ONLY_FILES, None, False, None)
    dialogues = tr.fit + tr.rest
    xs, ys, groups, src = [], [], [], []
    for k in range(DEFAULT_FOLDS):
        model = fit_blocks([d for i, d in enumerate(dialogues) if i % DEFAULT_FOLDS != k], cat, content=ref.content_item)
        model.fusion = fusion
        for i in range(k, len(dialogues), DEFAULT_FOLDS):
            for s in dialogue_samples(dialogues[i], cat):
                if s.repeated or s.target is None or s.target not in model.row:
                    continue
                pool, x, _ = pool_features(model, facts, mention_weights(s, fusion), utterance_words(s.context, labels), 200)
                hit = pool == model.row[s.target]
                if hit.any():
                    xs.append(x); ys.append(hit.astype(np.float32)); groups.append(len(pool)); src.append(dialogues[i].interleaving_guessed)
        print("fold", k, time.perf_counter() - t0, flush=True)
    np.savez(C, features=np.concatenate(xs), labels=np.concatenate(ys), groups=np.array(groups), src=np.array(src))
p = np.load(C); F, Y, G, S = p["features"], p["labels"], p["groups"], p["src"]
print("queries", len(G), "reduced share", S.mean(), flush=True)
starts = np.concatenate([[0], np.cumsum(G)])
V = ValidPools(ref, cat, DATA)
print("shipped:", V.recall(ref.ranker.predict(V.X)), flush=True)
for wred in [float(a) for a in sys.argv[1:]]:
    preds = []
    for seed in (1, 2, 3):
        keep = np.sort(np.random.default_rng(seed).choice(len(G), DEFAULT_MAX_QUERIES, replace=False)) if len(G) > DEFAULT_MAX_QUERIES else np.arange(len(G))
        rows = np.concatenate([np.arange(starts[q], starts[q + 1]) for q in keep])
        w = np.concatenate([np.full(G[q], wred if S[q] else 1.0, np.float32) for q in keep])
        ds = lgb.Dataset(F[rows], Y[rows], group=G[keep], weight=w, feature_name=list(FEATURES), free_raw_data=True)
        b = lgb.train({**LGB_PARAMS, "seed": seed}, ds, num_boost_round=250)
        preds.append(b.predict(V.X, num_threads=2)); print(f"  w={wred} seed {seed}: {V.recall(preds[-1])}", flush=True)
    print(f"w={wred} ensemble: {V.recall(np.mean(preds, axis=0))} ({time.perf_counter() - t0:.0f} s)", flush=True)
