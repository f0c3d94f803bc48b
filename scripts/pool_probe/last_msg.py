"""Word block: extra weight on the words of the last 1-2 context messages (added to all words at .3)."""
import sys
from pathlib import Path
import numpy as np
sys.path.insert(0, '/work/exp/scripts/pool_probe')
import lib
from crs.datasets import Role
from crs.recommender.collaborative import CollaborativeModel
from crs.recommender.collaborative_training import utterance_words
exec(open('/work/exp/scripts/pool_probe/an.py').read())
model = CollaborativeModel.load(Path('/work/main/data/artifacts/collab-v2.npz'))
for name, pick in [('last message', lambda c: c[-1:]), ('last 2 messages', lambda c: c[-2:]),
                   ('last seeker message', lambda c: [u for u in c if u.role is Role.SEEKER][-1:])]:
    extra = np.stack([model.word_vector(utterance_words(pick(s.context), lib.labels)) if s.context else
                      np.zeros(len(model.item_ids), np.float32) for s in lib.samples])
    for w in (.05, .1, .2):
        rep(ranks(extra, w), f'{name} +{w}')
