"""Probe: dialogue-kNN (session-kNN) scores as extra pool-ranker features, cross-fitted like the rest.
Usage: python sknn_ranker.py OUT.npz SEED...   (baseline = same pools without the extra columns)"""
import sys, time, json
from collections import Counter
from pathlib import Path
import numpy as np, scipy.sparse as sp
import lightgbm as lgb
from crs.datasets import dialogue_samples, load_redial_catalogue, read_dialogues
from crs.recommender.collaborative import Fusion
from crs.recommender.collaborative_content import content_similarity, store_vectors
from crs.recommender.collaborative_training import fit_blocks, load_training_dialogues, mention_weights, utterance_words
from crs.recommender.ltr import MovieFacts, pool_features
from crs.recommender.ltr_training import LGB_PARAMS, DEFAULT_ROUNDS, PoolData, subsample

DATA = Path("/work/shared/data")
out = sys.argv[1]; seeds = [int(s) for s in sys.argv[2:]]
ALPHA, K = 0.5, 200
t0 = time.perf_counter()
cat = load_redial_catalogue(DATA); labels = dict(zip(cat.ids, cat.labels)); m = len(cat)

class SKNN:
    def __init__(self, dialogues):
        docs = [set(utterance_words(d.utterances, labels)) for d in dialogues]
        df = Counter(w for doc in docs for w in doc)
        self.vocab = {w: j for j, w in enumerate(sorted(w for w, c in df.items() if c >= 2))}
        r, c = [], []
        for i, d in enumerate(dialogues):
            items = {cat.row[x] for u in d.utterances for x in u.item_ids if x in cat.row}
            r += [i] * len(items); c += list(items)
        N = len(dialogues)
        self.Xi = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(N, m))
        r, c = [], []
        for i, doc in enumerate(docs):
            js = [self.vocab[w] for w in doc if w in self.vocab]; r += [i] * len(js); c += js
        Xw = sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(N, len(self.vocab)))
        self.idf_i = np.log(N / (1 + np.asarray(self.Xi.sum(0)).ravel())).astype(np.float32)
        self.idf_w = np.log(N / (1 + np.asarray(Xw.sum(0)).ravel())).astype(np.float32)
        D = sp.hstack([self.Xi @ sp.diags(self.idf_i), ALPHA * (Xw @ sp.diags(self.idf_w))]).tocsr()
        n = np.sqrt(np.asarray(D.multiply(D).sum(1)).ravel()); n[n == 0] = 1
        self.DT = (sp.diags(1 / n) @ D).T.tocsr()
    def scores(self, weights, words):
        idx, val = [], []
        for k, w in weights.items():
            if k in cat.row and w > 0:
                j = cat.row[k]; idx.append(j); val.append(w * self.idf_i[j])
        for w in set(words):
            if w in self.vocab:
                j = self.vocab[w]; idx.append(m + j); val.append(ALPHA * self.idf_w[j])
        if not idx:
            return np.zeros(m, np.float32), 0.0
        val = np.array(val, np.float32); val /= np.linalg.norm(val)
        sims = np.asarray(self.DT[idx].T @ val).ravel()
        k = min(K, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        s = np.asarray(self.Xi[top].T @ sims[top]).ravel().astype(np.float32)
        return s / max(float(s.max()), 1e-9), float(sims[top].max())

def rank_in_pool(v):
    order = np.argsort(-v, kind="stable"); r = np.empty(len(v), np.float32); r[order] = np.arange(1, len(v) + 1); return np.log(r)

def extra(sk, weights, words, pool):
    s, best = sk.scores(weights, words)
    e = np.zeros((len(pool), 3), np.float32)
    e[:, 0] = s[pool]; e[:, 1] = rank_in_pool(s[pool]); e[:, 2] = best
    return e

full, reduced = load_training_dialogues(DATA, cat)
dialogues = full + reduced
vectors = store_vectors(Path("/work/main/data/store"), cat.ids)
content = content_similarity(DATA, cat.ids, 200, vectors)
fusion = Fusion(words=.3, content=.05, popularity=.0005, decay=.9)
facts = MovieFacts.load(DATA, cat.ids)
xs, es, ys, groups, turns = [], [], [], [], 0
for fold in range(4):
    rest = [d for i, d in enumerate(dialogues) if i % 4 != fold]
    model = fit_blocks(rest, cat, content=content); model.fusion = fusion
    sk = SKNN(rest)
    for i in range(fold, len(dialogues), 4):
        for sample in dialogue_samples(dialogues[i], cat):
            if sample.repeated or sample.target is None or sample.target not in model.row:
                continue
            turns += 1
            w = mention_weights(sample, fusion); words = utterance_words(sample.context, labels)
            pool, x, _ = pool_features(model, facts, w, words, 200)
            hit = pool == model.row[sample.target]
            if not hit.any():
                continue
            xs.append(x); es.append(extra(sk, w, words, pool)); ys.append(hit.astype(np.float32)); groups.append(len(pool))
    print(f"fold {fold}: {time.perf_counter() - t0:.0f} s", flush=True)
X = np.concatenate(xs); E = np.concatenate(es); Y = np.concatenate(ys); G = np.array(groups)
print(f"pools {len(G)}/{turns}", flush=True)
model = fit_blocks(dialogues, cat, content=content); model.fusion = fusion
sk = SKNN(dialogues)
samples = [s for d in read_dialogues(DATA / "redial/valid_dialogues.jsonl") for s in dialogue_samples(d, cat) if not s.repeated]
vx, ve, where, sizes = [], [], [], []
for s in samples:
    w = mention_weights(s, fusion); words = utterance_words(s.context, labels)
    pool, x, _ = pool_features(model, facts, w, words, 200)
    t = model.row.get(s.target); hit = np.flatnonzero(pool == t) if t is not None else []
    where.append(int(hit[0]) if len(hit) else -1); vx.append(x); ve.append(extra(sk, w, words, pool)); sizes.append(len(pool))
VX = np.concatenate(vx); VE = np.concatenate(ve); starts = np.concatenate([[0], np.cumsum(sizes)]); where = np.array(where)
print(f"valid in pool {np.mean(where >= 0):.4f}, {time.perf_counter() - t0:.0f} s", flush=True)
def recall(pred):
    ranks = np.full(len(samples), 10**6)
    for i, wh in enumerate(where):
        if wh < 0: continue
        sc = pred[starts[i]:starts[i + 1]]
        ranks[i] = 1 + np.count_nonzero(sc > sc[wh]) + np.count_nonzero(sc[:wh] == sc[wh])
    return ranks
preds = {"base": [], "sknn": []}
full_data = PoolData(np.hstack([X, E]), Y, G, turns)
for seed in seeds:
    part = subsample(full_data, 12000, seed=seed)
    for name, cols in (("base", slice(0, X.shape[1])), ("sknn", slice(None))):
        ds = lgb.Dataset(part.features[:, cols], part.labels, group=part.groups, free_raw_data=True)
        b = lgb.train({**LGB_PARAMS, "seed": seed}, ds, num_boost_round=DEFAULT_ROUNDS)
        preds[name].append(b.predict(np.hstack([VX, VE])[:, cols]))
        r = recall(preds[name][-1])
        print(f"seed {seed} {name}: " + " / ".join(f"{np.mean(r <= k):.4f}" for k in (1, 10, 50)),
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
rk = {}
for name, p in preds.items():
    rk[name] = recall(np.mean(p, axis=0))
    print(f"mean {name}: " + " / ".join(f"{np.mean(rk[name] <= k):.4f}" for k in (1, 10, 50)), flush=True)
np.savez(out, base=rk["base"], sknn=rk["sknn"], dialog=np.array([s.dialog_id for s in samples]))
