exec(open('/work/exp/scripts/pool_probe/content_var.py').read().split('global content')[0])
import json
Vm = np.load('/work/main/data/store/vectors-9fb55dc6925fc6eae279.npy', mmap_mode='r')
ids = [json.loads(l)['id'] for l in open('/work/main/data/store/movies.jsonl')]
row = {i: r for r, i in enumerate(ids)}
E = np.stack([Vm[row[i]] for i in lib.cat.ids]).astype(np.float32)
E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-9)
S = E @ E.T; np.fill_diagonal(S, 0); n = len(S)
def dense(k, shift):
    keep = np.argpartition(-S, k, axis=1)[:, :k]; v = np.maximum(np.take_along_axis(S, keep, axis=1) - shift, 0)
    D = sp.csr_matrix((v.ravel(), (np.repeat(np.arange(n), k), keep.ravel())), shape=(n, n)); D.eliminate_zeros()
    return np.asarray((D.T @ W.T).T.toarray(), np.float32)
global content
content = np.asarray((sim(kw).T @ W.T).T.toarray(), np.float32)
rep(ranks(), 'kw only')
for k, shift in [(200, .5), (200, .4), (200, .6), (100, .5)]:
    ex = dense(k, shift)
    for w in (.01, .02, .03):
        rep(ranks(ex, w), f'kw + dense k={k} shift={shift} w={w}')
