"""Movie -> movie block from shared title words (franchises, sequels): TF-IDF cosine of title tokens."""
import numpy as np, sys, re, scipy.sparse as sp
from collections import Counter
sys.path.insert(0, '/work/exp/scripts/pool_probe')
import lib
exec(open('/work/exp/scripts/pool_probe/an.py').read())
W = lib.weight_matrix(lib.samples)
STOP = set('the a an of and in on to for with from at by part ii iii iv movie story'.split())
def title_tokens(label):
    t = re.sub(r"\(\d{4}\)\s*$", "", label).lower()
    return [w for w in re.findall(r"[a-z0-9]+", t) if w not in STOP and len(w) > 1]
vocab = {}; rows, cols = [], []
for r, lab in enumerate(lib.cat.labels):
    for w in set(title_tokens(lab)): rows.append(r); cols.append(vocab.setdefault(w, len(vocab)))
n = len(lib.cat.ids)
X = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, len(vocab)))
df = np.asarray(X.sum(axis=0)).ravel(); X = X @ sp.diags(np.log(n / df).astype(np.float32))
nm = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel()); X = sp.csr_matrix(sp.diags(1 / np.where(nm > 0, nm, 1)) @ X)
S = (X @ X.T).toarray(); np.fill_diagonal(S, 0)
for thr in (0.3, 0.5):
    T = sp.csr_matrix(np.where(S >= thr, S, 0).astype(np.float32))
    extra = np.asarray((T.T @ W.T).T.toarray(), np.float32)
    t = target
    has = extra[np.arange(len(t)), t] > 0
    print(f'thr={thr}: nnz/row {T.nnz / n:.1f}; targets with a title link to the context: {has.sum()}')
    for w in (.005, .01, .02, .05):
        rep(ranks(extra, w), f'title thr={thr} w={w}')
