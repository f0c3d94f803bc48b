exec(open('/work/exp/scripts/pool_probe/content_var.py').read().split('global content')[0])
global content
kw2 = lambda i: kw(i) + [f'k:{k.lower()}' for k in (T.get(i) or {}).get('keywords', [])]
kwnoplot = lambda i: [t for t in base(i) if ':' in t] + [f'k:{k.lower()}' for k in (T.get(i) or {}).get('keywords', [])]
for name, fn, tk in [('kw top100', kw, 100), ('kw top400', kw, 400), ('kw x2', kw2, 200), ('kw noplot', kwnoplot, 200)]:
    C = sim(fn, tk)
    content = np.asarray((C.T @ W.T).T.toarray(), np.float32)
    for fc in (.04, .05, .06):
        rep(ranks(fc=fc), f'{name} fc={fc}')
