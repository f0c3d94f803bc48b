"""Does averaging several pool rankers (seed bagging) beat one? (issue #3)

Loads cached cross-fitted training pools (written by ranker_seeds.py) and a train-only artefact
(its blocks make the valid pools), computes the valid dedup pools and features once, fits one
LightGBM ranker per seed (turn-subsample seed and LightGBM seed) and reports R@1/10/50 of each
ranker and of ensembles (mean of the rankers' scores over the first 2, 3, ... seeds).
LightGBM settings are ``ltr_training.LGB_PARAMS`` (since the seed ensemble: truncation 200, 2 threads,
deterministic); the first figures in docs/results.md were taken before, with truncation 40 and 2
non-deterministic threads (``PARAMS='{"lambdarank_truncation_level": 40, "deterministic": false,
"force_row_wise": false}'`` comes close).

Usage: python scripts/pool_probe/ensemble.py POOLS.npz MODEL.npz OUT.npz MAXQ SEED [SEED ...]
  SEED "d" = the default training (subsample seed 0, LightGBM seed 7).
  PARAMS (env, JSON): LightGBM settings over the defaults, e.g. '{"objective": "binary"}'.
"""
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from valid_pools import ValidPools  # noqa: E402
from crs.datasets import load_redial_catalogue
from crs.recommender.collaborative import CollaborativeModel
from crs.recommender.ltr_training import PoolData, fit_ranker

DATA = Path("/work/shared/data")
pools_path, model_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
max_q = int(sys.argv[4])
seeds = sys.argv[5:]
start = time.perf_counter()
p = np.load(pools_path)
pools = PoolData(p["features"], p["labels"], p["groups"], int(p["turns"]))
model = CollaborativeModel.load(Path(model_path))
cat = load_redial_catalogue(DATA)
V = ValidPools(model, cat, DATA, model.ranker.pool_size)
X, where, starts = V.X, V.where, V.starts
print(f"valid: {len(where)} samples, in pool {np.mean(where >= 0):.4f}, {time.perf_counter() - start:.0f} s", flush=True)
recall, fmt = V.hits, V.fmt


print("shipped ranker of the artefact:", fmt(recall(model.ranker.predict(X))), flush=True)
preds = []
for seed in seeds:
    sub, lgb = (0, 7) if seed == "d" else (int(seed), int(seed))
    ranker = fit_ranker(pools, params={"seed": lgb, **json.loads(os.environ.get("PARAMS", "{}"))}, max_queries=max_q,
                        seeds=(sub,))
    preds.append(ranker.predict(X))
    print(f"seed {seed}: {fmt(recall(preds[-1]))} ({time.perf_counter() - start:.0f} s)", flush=True)
    if len(preds) > 1:
        P = np.array(preds)
        print(f"  mean of {len(preds)}: {fmt(recall(P.mean(axis=0)))}", flush=True)
    np.savez(out, preds=np.array(preds), where=where, starts=starts, seeds=np.array(seeds))
