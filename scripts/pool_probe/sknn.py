import sys, time, numpy as np, scipy.sparse as sp
sys.path.insert(0, '/work/main/scripts/pool_probe')
import lib
from crs.recommender.collaborative_training import mention_weights, utterance_words
from collections import Counter
c = np.load('/tmp/exp-pool/kwdf_cache.npz')
item, content, word = c['item'].astype(np.float32), c['content'].astype(np.float32), c['word'].astype(np.float32)
target = c['target']; bl = c['banned_len']; starts = np.concatenate([[0], np.cumsum(bl)]); banned = c['banned']
logp = np.log1p(c['popularity'])
base = item + .05*content + .3*word + .0005*logp
for i in range(len(base)):
    base[i, banned[starts[i]:starts[i+1]]] = -np.inf
tv = base[np.arange(len(base)), np.maximum(target, 0)]
def report(s, name):
    t = s[np.arange(len(s)), np.maximum(target, 0)]
    r = 1 + (s > t[:, None]).sum(1)
    r[target < 0] = 10**9
    print(name, ' '.join(f'R@{k}={np.mean(r<=k):.4f}' for k in (1,10,50,200)), flush=True)
report(base, 'base')
labels = lib.labels; cat = lib.cat; m = lib.m
train = lib.train
t0 = time.time()
docs = [set(utterance_words(d.utterances, labels)) for d in train]
df = Counter(w for doc in docs for w in doc)
vocab = {w: j for j, w in enumerate(sorted(w for w, k in df.items() if k >= 2))}
def rows(list_of_dicts, ncol):
    r, cc, v = [], [], []
    for i, dct in enumerate(list_of_dicts):
        for j, x in dct.items(): r.append(i); cc.append(j); v.append(x)
    return sp.csr_matrix((v, (r, cc)), shape=(len(list_of_dicts), ncol), dtype=np.float32)
Xi = lib.train_item_matrix(train)
Xw = rows([{vocab[w]: 1.0 for w in doc if w in vocab} for doc in docs], len(vocab))
N = len(train)
idf_i = np.log(N / (1 + np.asarray(Xi.sum(0)).ravel())).astype(np.float32)
idf_w = np.log(N / (1 + np.asarray(Xw.sum(0)).ravel())).astype(np.float32)
Qi = lib.weight_matrix(lib.samples); Qi.data = np.maximum(Qi.data, 0)
Qw = rows([{vocab[w]: 1.0 for w in set(utterance_words(s.context, labels)) if w in vocab} for s in lib.samples], len(vocab))
print('built', time.time()-t0, Xi.shape, Xw.shape, Qi.shape, Qw.shape, flush=True)
def norm(X):
    n = np.sqrt(np.asarray(X.multiply(X).sum(1)).ravel()); n[n == 0] = 1
    return sp.diags(1/n) @ X
for alpha in (1.0, 0.5, 0.25):
    D = norm(sp.hstack([Xi @ sp.diags(idf_i), alpha * (Xw @ sp.diags(idf_w))]).tocsr())
    Q = norm(sp.hstack([Qi @ sp.diags(idf_i), alpha * (Qw @ sp.diags(idf_w))]).tocsr())
    S = (Q @ D.T).toarray()
    for k in (50, 200):
        for gamma in (1, 2):
            idx = np.argpartition(-S, k, axis=1)[:, :k]
            vals = np.take_along_axis(S, idx, 1) ** gamma
            rr = np.repeat(np.arange(len(S)), k)
            Sk = sp.csr_matrix((vals.ravel(), (rr, idx.ravel())), shape=S.shape)
            sc = np.asarray((Sk @ Xi).todense(), np.float32)
            sc /= np.maximum(sc.max(1, keepdims=True), 1e-9)
            alone = sc.copy()
            for i in range(len(alone)): alone[i, banned[starts[i]:starts[i+1]]] = -np.inf
            report(alone + 1e-6*logp, f'alone a{alpha} k{k} g{gamma}')
            for w in (.05, .1, .2, .4):
                report(base + w*sc, f'  +{w}')
