"""Probe: zero-shot dense context -> movie cosine (MiniLM) on ReDial valid dedup.

Usage: PYTHONPATH=. python scripts/pool_probe/dense_context.py OUTDIR  (embeds the valid contexts, ~1 min)
then   python scripts/pool_probe/dense_context_eval.py OUTDIR  (needs OUTDIR/valid_cache.npz from
       scripts/pool_probe.py data/artifacts/collab-v2-trainonly.npz OUTDIR/valid_cache.npz). Ad hoc, not part of the app.
"""
import sys, json, numpy as np
sys.path.insert(0, 'scripts')
from pathlib import Path
from pool_probe import valid_samples
from crs.datasets import load_redial_catalogue, Role
from crs.recommender.collaborative import CollaborativeModel
from crs.embedding import Embedder
DATA = Path('/work/shared/data')
model = CollaborativeModel.load(Path('data/artifacts/collab-v2-trainonly.npz'))
cat = load_redial_catalogue(DATA)
samples = valid_samples(cat)
texts = sorted({u.text for s in samples for u in s.context})
print(len(samples), 'samples', len(texts), 'texts', flush=True)
V = Embedder().embed(texts, progress=True)
pos = {t: i for i, t in enumerate(texts)}
# per sample: several context vectors
n = len(samples)
out = {k: np.zeros((n, 384), np.float32) for k in ('mean', 'decay', 'seeker', 'last2')}
for i, s in enumerate(samples):
    if not s.context: continue
    M = V[[pos[u.text] for u in s.context]]
    L = len(M)
    w = 0.8 ** np.arange(L)[::-1]
    out['mean'][i] = M.mean(0)
    out['decay'][i] = (w[:, None] * M).sum(0) / w.sum()
    sk = [j for j, u in enumerate(s.context) if u.role == Role.SEEKER]
    out['seeker'][i] = M[sk].mean(0) if sk else M.mean(0)
    out['last2'][i] = M[-2:].mean(0)
np.savez(sys.argv[1] + '/ctx_vecs.npz', **out)
# movie vectors in model order
ids = [json.loads(l)['redial_id'] for l in open('data/store/movies.jsonl')]
Vm = np.load(sorted(Path('data/store').glob('vectors-*.npy'))[0], mmap_mode='r')
row = {r: i for i, r in enumerate(ids) if r}
E = np.zeros((len(model.item_ids), 384), np.float32)
have = 0
for j, x in enumerate(model.item_ids):
    if x in row: E[j] = Vm[row[x]]; have += 1
print('movies with vector', have, len(model.item_ids))
np.save(sys.argv[1] + '/movie_vecs.npy', E)
