import numpy as np
exec(open('/work/exp/scripts/pool_probe/an.py').read())
global item
item0 = item.copy()
for beta in (.1, .2, .35):
    scale = (1 + pop) ** -beta; scale = scale / scale[pop > 0].mean()
    item = item0 * scale
    for fp in (.0005, .001):
        rep(ranks(fp=fp), f'beta={beta} fp={fp}')
