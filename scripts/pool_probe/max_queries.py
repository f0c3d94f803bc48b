"""Probe (usage: python scripts/pool_probe/max_queries.py MAXQ[:ROUNDS]...; needs /tmp/s4/pools-src.npz from
source_weight.py): does the pool ranker gain from more of its training turns? The shipped ranker fits each of
its 3 boosters on a seeded subset of 12,000 of the ~15,150 in-pool turns; MAXQ 0 = all turns (each booster
then differs only by LightGBM's bagging seed). Valid dedup R@1/10/50 via the trainonly model's valid pools."""
import sys, time, numpy as np, lightgbm as lgb
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from valid_pools import ValidPools
from crs.datasets import load_redial_catalogue
from crs.recommender.collaborative import CollaborativeModel
from crs.recommender.ltr import FEATURES
from crs.recommender.ltr_training import LGB_PARAMS
DATA = Path("/work/shared/data"); t0 = time.perf_counter()
cat = load_redial_catalogue(DATA)
ref = CollaborativeModel.load(Path("/work/main/data/artifacts/collab-v2-trainonly.npz"))
p = np.load("/tmp/s4/pools-src.npz"); F, Y, G = p["features"], p["labels"], p["groups"]
starts = np.concatenate([[0], np.cumsum(G)])
V = ValidPools(ref, cat, DATA)
print("queries", len(G), "shipped:", V.recall(ref.ranker.predict(V.X)), flush=True)
for arg in sys.argv[1:]:
    maxq, rounds = (int(a) for a in (arg.split(":") + ["250"])[:2])
    preds = []
    for seed in (1, 2, 3):
        keep = np.sort(np.random.default_rng(seed).choice(len(G), maxq, replace=False)) if 0 < maxq < len(G) else np.arange(len(G))
        rows = np.concatenate([np.arange(starts[q], starts[q + 1]) for q in keep])
        ds = lgb.Dataset(F[rows], Y[rows], group=G[keep], feature_name=list(FEATURES), free_raw_data=True)
        b = lgb.train({**LGB_PARAMS, "seed": seed}, ds, num_boost_round=rounds)
        preds.append(b.predict(V.X, num_threads=2)); print(f"  maxq={maxq} rounds={rounds} seed {seed}: {V.recall(preds[-1])}", flush=True)
    print(f"maxq={maxq} rounds={rounds} ensemble: {V.recall(np.mean(preds, axis=0))} ({time.perf_counter() - t0:.0f} s)", flush=True)
