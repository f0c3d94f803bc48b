import numpy as np, sys, scipy.sparse as sp
from collections import Counter
sys.path.insert(0,'/work/exp/scripts/pool_probe')
import lib
from crs.recommender.collaborative import tokenize, strip_titles
from crs.datasets import Role
exec(open('/work/exp/scripts/pool_probe/an.py').read())
labels = lib.labels
def utt_tokens(u):
    return tokenize(strip_titles(u.text, (labels.get(i, '') for i in u.item_ids)))
def f_uni(utts): return {w for u in utts for w in utt_tokens(u)}
def f_bi(utts):
    out = set()
    for u in utts:
        t = utt_tokens(u); out |= set(t); out |= {a + '_' + b for a, b in zip(t, t[1:])}
    return out
def f_role(utts):
    out = set()
    for u in utts:
        p = 's:' if u.role is Role.SEEKER else 'r:'
        out |= {p + w for w in utt_tokens(u)}
    return out
def f_uni_role(utts): return f_uni(utts) | f_role(utts)
Xi = lib.train_item_matrix(lib.train)
def fit(feat, min_df=10, lam=200.):
    docs = [feat(d.utterances) for d in lib.train]
    df = Counter(w for d in docs for w in d)
    vocab = sorted(w for w, c in df.items() if c >= min_df); col = {w: j for j, w in enumerate(vocab)}
    r, c = [], []
    for i, d in enumerate(docs):
        js = [col[w] for w in d if w in col]; r += [i]*len(js); c += js
    Xw = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(docs), len(vocab)))
    G = (Xw.T @ Xw).toarray().astype(np.float64); G[np.diag_indices_from(G)] += lam
    B = np.linalg.solve(G, (Xw.T @ Xi).toarray()).astype(np.float32)
    rows = []
    for s in lib.samples:
        rows.append(sorted({col[w] for w in feat(s.context) if w in col}))
    r = [i for i, js in enumerate(rows) for _ in js]; c = [j for js in rows for j in js]
    S = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(rows), len(vocab)))
    return len(vocab), np.asarray(S @ B, np.float32)
global word
for name, feat, md in [('uni10', f_uni, 10), ('uni5', f_uni, 5), ('bi10', f_bi, 10), ('role10', f_role, 10), ('uni+role10', f_uni_role, 10)]:
    V, word = fit(feat, md)
    for fw in (.3, .4):
        rep(ranks(fw=fw), f'{name} V={V} fw={fw}')
