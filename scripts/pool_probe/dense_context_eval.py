"""Scores the dense context vectors of dense_context.py as a stage-1 block (see its docstring)."""
import sys
import numpy as np
c = np.load(sys.argv[1] + '/valid_cache.npz')
item, content, word = c['item'].astype(np.float32), c['content'].astype(np.float32), c['word'].astype(np.float32)
target, final_rank = c['target'], c['final_rank']
bl = c['banned_len']; starts = np.concatenate([[0], np.cumsum(bl)]); banned = c['banned']
logp = np.log1p(c['popularity']); nctx = c['nctx']
base = item + .05*content + .3*word + .0005*logp
for i in range(len(base)):
    base[i, banned[starts[i]:starts[i+1]]] = -np.inf
E = np.load(sys.argv[1] + '/movie_vecs.npy'); C = np.load(sys.argv[1] + '/ctx_vecs.npz')
def ranks(s):
    t = target; ok = t >= 0
    st = s[np.arange(len(s)), np.maximum(t, 0)]
    r = 1 + (s > st[:, None]).sum(1)
    r[~ok] = 0
    return r
def rep(r, name, mask=None):
    if mask is None: mask = np.ones(len(r), bool)
    n = mask.sum(); ok = (r > 0) & mask
    print(f'{name:40s}', ' '.join(f'R@{k}={np.sum(ok&(r<=k))/n:.4f}' for k in (1,10,50,200)), flush=True)
r0 = ranks(base); rep(r0, 'stage1')
print('final (ranker) R@50', np.mean((final_rank>0)&(final_rank<=50)))
cold = nctx == 0
rep(r0, 'stage1 no-movie ctx', cold)
for name in ('mean', 'decay', 'seeker', 'last2'):
    S = C[name] @ E.T
    rep(ranks(S), f'dense {name} alone')
    for shift in (0.0, 0.2):
        D = np.maximum(S - shift, 0)
        for w in (.02, .05, .1, .2):
            r = ranks(base + w*D)
            rep(r, f'{name} shift {shift} w {w}')
            rep(r, f'   cold', cold)
