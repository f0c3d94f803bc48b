import numpy as np, sys, scipy.sparse as sp
from collections import Counter
sys.path.insert(0,'/work/exp/scripts/pool_probe')
import lib, tmdb
from crs.recommender.collaborative import tokenize
from crs.recommender.collaborative_training import utterance_words
exec(open('/work/exp/scripts/pool_probe/an.py').read())
info, T = tmdb.redial_tmdb(lib.cat.ids)
def toks(i, plot):
    t = []
    for k in (T.get(i) or {}).get('keywords', []): t += tokenize(k)
    t += [g.lower() for g in (info.get(i) or {}).get('genre') or []]
    if plot: t += tokenize((info.get(i) or {}).get('plot') or '') + tokenize((T.get(i) or {}).get('overview', ''))
    return t
for plot in (False, True):
    vocab = {}; rows, cols = [], []
    for r, i in enumerate(lib.cat.ids):
        for w in set(toks(i, plot)): rows.append(r); cols.append(vocab.setdefault(w, len(vocab)))
    n = len(lib.cat.ids)
    M = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, len(vocab)))
    df = np.asarray(M.sum(axis=0)).ravel(); idf = np.log(n / (1 + df)).astype(np.float32)
    M = M @ sp.diags(idf); nm = np.sqrt(np.asarray(M.multiply(M).sum(axis=1)).ravel()); M = sp.csr_matrix(sp.diags(1/np.where(nm>0,nm,1)) @ M)
    r_, c_ = [], []
    for si, s in enumerate(lib.samples):
        js = {vocab[w] for w in utterance_words(s.context, lib.labels) if w in vocab}
        r_ += [si]*len(js); c_ += list(js)
    Q = sp.csr_matrix((np.ones(len(r_), np.float32), (r_, c_)), shape=(len(lib.samples), len(vocab))) @ sp.diags(idf)
    qn = np.sqrt(np.asarray(Q.multiply(Q).sum(axis=1)).ravel()); Q = sp.diags(1/np.where(qn>0,qn,1)) @ Q
    extra = np.asarray((Q @ M.T).toarray(), np.float32)
    base = ranks()
    for w in (.002, .005, .01, .02):
        rep(ranks(extra, w), f'plot={plot} w={w}')
