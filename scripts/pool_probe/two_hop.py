"""EASE two-hop: item scores propagated once more through the item block (A -> B -> C)."""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, '/work/exp/scripts/pool_probe')
exec(open('/work/exp/scripts/pool_probe/an.py').read())
from crs.recommender.collaborative import CollaborativeModel
B = CollaborativeModel.load(Path('/work/main/data/artifacts/collab-v2.npz')).item_item
extra = item @ B
for w in (.1, .2, .4):
    rep(ranks(extra, w), f'two-hop +{w}')
