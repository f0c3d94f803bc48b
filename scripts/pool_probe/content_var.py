import numpy as np, sys, scipy.sparse as sp
from collections import Counter
sys.path.insert(0,'/work/exp/scripts/pool_probe')
import lib, tmdb
from crs.recommender.collaborative_content import metadata_tokens
from crs.recommender.collaborative import tokenize
exec(open('/work/exp/scripts/pool_probe/an.py').read())
W = lib.weight_matrix(lib.samples)
info, T = tmdb.redial_tmdb(lib.cat.ids)
def sim(tok_fn, top_k=200):
    vocab = {}; rows, cols, vals = [], [], []
    ids = lib.cat.ids
    for r, item in enumerate(ids):
        for tok, cnt in Counter(tok_fn(item)).items():
            rows.append(r); cols.append(vocab.setdefault(tok, len(vocab))); vals.append(float(cnt))
    n = len(ids)
    x = sp.csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)), dtype=np.float32)
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    x = x @ sp.diags(np.log(n / (1.0 + df)).astype(np.float32))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ x
    s = (x @ x.T).toarray().astype(np.float32); np.fill_diagonal(s, 0)
    keep = np.argpartition(-s, top_k, axis=1)[:, :top_k]
    v = np.take_along_axis(s, keep, axis=1)
    C = sp.csr_matrix((v.ravel(), (np.repeat(np.arange(n), top_k), keep.ravel())), shape=(n, n)); C.eliminate_zeros()
    return C
base = lambda i: metadata_tokens(info.get(i) or {})
kw = lambda i: base(i) + [f'k:{k.lower()}' for k in (T.get(i) or {}).get('keywords', [])]
kwov = lambda i: kw(i) + tokenize((T.get(i) or {}).get('overview', ''))
kwco = lambda i: kw(i) + [f'c:{c.lower()}' for c in (T.get(i) or {}).get('companies', [])]
global content
for name, fn in [('base', base), ('kw', kw), ('kw+overview', kwov), ('kw+companies', kwco)]:
    C = sim(fn)
    content = np.asarray(W @ C.toarray(), np.float32) if False else np.asarray((C.T @ W.T).T.toarray(), np.float32)
    for fc in (.05, .08):
        rep(ranks(fc=fc), f'{name} fc={fc}')
