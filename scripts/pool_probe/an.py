import numpy as np
c = np.load('/tmp/exp/valid_cache.npz')
item, content, word = c['item'].astype(np.float32), c['content'].astype(np.float32), c['word'].astype(np.float32)
target, final_rank = c['target'], c['final_rank']
bl = c['banned_len']; starts = np.concatenate([[0], np.cumsum(bl)]); banned = c['banned']
pop = c['popularity']; logp = np.log1p(pop)
nctx, nwords = c['nctx'], c['nwords']
def ranks(extra=None, w=0.0, fw=.3, fc=.05, fp=.0005):
    s = item + fc*content + fw*word + fp*logp
    if extra is not None: s = s + w*extra
    out = np.zeros(len(s), int)
    for i in range(len(s)):
        row = s[i]; row[banned[starts[i]:starts[i+1]]] = -np.inf
        t = target[i]
        if t < 0: continue
        out[i] = 1 + np.count_nonzero(row > row[t]) + np.count_nonzero(row[:t] == row[t])
    return out
def rep(r, name=''):
    ok = r > 0
    n = len(r)
    print(name, ' '.join(f'R@{k}={np.sum(ok&(r<=k))/n:.4f}' for k in (1,10,50,200,300)))
