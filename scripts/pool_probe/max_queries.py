"""Probe (usage: python scripts/pool_probe/max_queries.py MAXQ[:ROUNDS]...; needs /tmp/s4/pools-src.npz from
source_weight.py): does the pool ranker gain from more of its training turns? The shipped ranker fits each of
its 3 boosters on a seeded subset of 12,000 of the ~15,150 in-pool turns; MAXQ 0 = all turns (each booster
then differs only by LightGBM's bagging seed). Valid dedup R@1/10/50 via the trainonly model's valid pools."""
import sys, time, numpy as np, lightgbm as lgb
from pathlib import Path
from crs.datasets import dialogue_samples, load_redial_catalogue, read_dialogues
from crs.recommender.collaborative import CollaborativeModel
from crs.recommender.collaborative_training import mention_weights, utterance_words
from crs.recommender.ltr import FEATURES, pool_features
from crs.recommender.ltr_training import LGB_PARAMS
DATA = Path("/work/shared/data"); t0 = time.perf_counter()
cat = load_redial_catalogue(DATA); labels = dict(zip(cat.ids, cat.labels))
ref = CollaborativeModel.load(Path("/work/main/data/artifacts/collab-v2-trainonly.npz"))
p = np.load("/tmp/s4/pools-src.npz"); F, Y, G = p["features"], p["labels"], p["groups"]
starts = np.concatenate([[0], np.cumsum(G)])
samples = [s for d in read_dialogues(DATA / "redial/valid_dialogues.jsonl") for s in dialogue_samples(d, cat) if not s.repeated]
vx, where, sizes = [], [], []
for s in samples:
    pool, x, _ = pool_features(ref, ref.facts, mention_weights(s, ref.fusion), utterance_words(s.context, labels), 200)
    t = ref.row.get(s.target); h = np.flatnonzero(pool == t) if t is not None else []
    where.append(int(h[0]) if len(h) else -1); vx.append(x); sizes.append(len(pool))
VX = np.concatenate(vx); vst = np.concatenate([[0], np.cumsum(sizes)])
def recall(pred):
    hits = np.zeros((len(samples), 3), bool)
    for i, w in enumerate(where):
        if w < 0: continue
        sc = pred[vst[i]:vst[i + 1]]; rank = 1 + int(np.flatnonzero(np.argsort(-sc, kind="stable") == w)[0])
        hits[i] = [rank <= 1, rank <= 10, rank <= 50]
    return " / ".join(f"{v:.4f}" for v in hits.mean(axis=0))
print("queries", len(G), "shipped:", recall(ref.ranker.predict(VX)), flush=True)
for arg in sys.argv[1:]:
    maxq, rounds = (int(a) for a in (arg.split(":") + ["250"])[:2])
    preds = []
    for seed in (1, 2, 3):
        keep = np.sort(np.random.default_rng(seed).choice(len(G), maxq, replace=False)) if 0 < maxq < len(G) else np.arange(len(G))
        rows = np.concatenate([np.arange(starts[q], starts[q + 1]) for q in keep])
        ds = lgb.Dataset(F[rows], Y[rows], group=G[keep], feature_name=list(FEATURES), free_raw_data=True)
        b = lgb.train({**LGB_PARAMS, "seed": seed}, ds, num_boost_round=rounds)
        preds.append(b.predict(VX, num_threads=2)); print(f"  maxq={maxq} rounds={rounds} seed {seed}: {recall(preds[-1])}", flush=True)
    print(f"maxq={maxq} rounds={rounds} ensemble: {recall(np.mean(preds, axis=0))} ({time.perf_counter() - t0:.0f} s)", flush=True)
