import numpy as np, sys, scipy.sparse as sp
from collections import Counter
sys.path.insert(0,'/work/exp/scripts/pool_probe')
import lib, tmdb
from crs.recommender.collaborative_content import metadata_tokens
exec(open('/work/exp/scripts/pool_probe/an.py').read())
W = lib.weight_matrix(lib.samples)
X = lib.train_item_matrix(lib.train)
G = (X.T @ X).toarray().astype(np.float64)
info, T = tmdb.redial_tmdb(lib.cat.ids)
def tfidf(tok_fn):
    vocab = {}; rows, cols, vals = [], [], []
    for r, item in enumerate(lib.cat.ids):
        for tok, cnt in Counter(tok_fn(item)).items():
            rows.append(r); cols.append(vocab.setdefault(tok, len(vocab))); vals.append(float(cnt))
    n = len(lib.cat.ids)
    x = sp.csr_matrix((vals, (rows, cols)), shape=(n, len(vocab)), dtype=np.float32)
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    x = x @ sp.diags(np.log(n / (1.0 + df)).astype(np.float32))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    return sp.csr_matrix(sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ x)
def ease(G, lam=200.):
    active = np.flatnonzero(np.diag(G) > 0)
    g = G[np.ix_(active, active)].copy(); g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g); b = -p/np.diag(p); b[np.diag_indices_from(b)] = 0
    out = np.zeros(G.shape, np.float32); out[np.ix_(active, active)] = b; return out
base = lambda i: metadata_tokens(info.get(i) or {})
nop = lambda i: [t for t in base(i) if ':' in t]  # genres, decade, people only
kw = lambda i: base(i) + [f'k:{k.lower()}' for k in (T.get(i) or {}).get('keywords', [])]
global item
for tname, fn in [('meta', base), ('meta-noplot', nop), ('meta+kw', kw)]:
    M = tfidf(fn); MM = (M @ M.T).toarray().astype(np.float64)
    for a2 in (float(sys.argv[1]),) if len(sys.argv) > 1 else (5., 20., 80.):
        item = np.asarray(W @ ease(G + a2 * MM), np.float32)
        for fc in (0., .05):
            rep(ranks(fc=fc), f'{tname} a2={a2} fc={fc}')
