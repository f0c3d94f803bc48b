import numpy as np, sys, json, scipy.sparse as sp
sys.path.insert(0,'/work/exp/scripts/pool_probe')
import lib
exec(open('/work/exp/scripts/pool_probe/an.py').read())
W = lib.weight_matrix(lib.samples)
V = np.load('/work/main/data/store/vectors-9fb55dc6925fc6eae279.npy', mmap_mode='r')
ids = [json.loads(l)['id'] for l in open('/work/main/data/store/movies.jsonl')]
print(V.shape, len(ids))
row = {i: r for r, i in enumerate(ids)}
have = np.array([i in row for i in lib.cat.ids]); print('have', have.mean())
E = np.zeros((len(lib.cat.ids), V.shape[1]), np.float32)
for r, i in enumerate(lib.cat.ids):
    if i in row: E[r] = V[row[i]]
E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-9)
S = E @ E.T; np.fill_diagonal(S, 0)
n = len(S); k = 200
keep = np.argpartition(-S, k, axis=1)[:, :k]; v = np.take_along_axis(S, keep, axis=1)
for shift in (0.0, 0.5):
    vv = np.maximum(v - shift, 0) if shift else v
    D = sp.csr_matrix((vv.ravel(), (np.repeat(np.arange(n), k), keep.ravel())), shape=(n, n))
    extra = np.asarray((D.T @ W.T).T.toarray(), np.float32)
    for w in (.01, .02, .05):
        rep(ranks(extra, w), f'dense shift={shift} w={w} (+content .05)')
    global content
    c0 = content.copy(); content = extra
    for fc in (.02, .05):
        rep(ranks(fc=fc), f'dense replaces content shift={shift} fc={fc}')
    content = c0
