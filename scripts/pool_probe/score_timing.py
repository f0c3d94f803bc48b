"""p50 / p95 of CollaborativeModel.score (the app's call, k = 300) over 400 valid contexts."""
import sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, '/work/exp/scripts/pool_probe')
import lib
from crs.recommender.collaborative import CollaborativeModel
from crs.recommender.collaborative_training import mention_weights
for path in sys.argv[1:]:
    model = CollaborativeModel.load(Path(path))
    ctx = [(mention_weights(s, model.fusion), " ".join(u.text for u in s.context)) for s in lib.samples[::9][:400]]
    for w, t in ctx[:5]:
        model.score(w, t, k=300)
    times = []
    for w, t in ctx:
        start = time.perf_counter(); model.score(w, t, k=300); times.append(time.perf_counter() - start)
    print(path, f"p50 {np.percentile(times, 50) * 1e3:.2f} ms, p95 {np.percentile(times, 95) * 1e3:.2f} ms")
