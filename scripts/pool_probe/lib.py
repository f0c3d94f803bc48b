import numpy as np, scipy.sparse as sp, pickle, os
from pathlib import Path
from crs.datasets import Role, dialogue_samples, load_redial_catalogue, read_dialogues
from crs.recommender.collaborative import Fusion, tokenize, strip_titles
from crs.recommender.collaborative_training import load_training_dialogues, mention_weights, utterance_words
DATA = Path('/work/shared/data')
cat = load_redial_catalogue(DATA)
labels = dict(zip(cat.ids, cat.labels))
F = Fusion(words=.3, content=.05, popularity=.0005, decay=.9)
P = '/tmp/exp/data.pkl'
if os.path.exists(P):
    full, reduced, samples = pickle.load(open(P, 'rb'))
else:
    full, reduced = load_training_dialogues(DATA, cat)
    samples = [s for d in read_dialogues(DATA / 'redial/valid_dialogues.jsonl') for s in dialogue_samples(d, cat) if not s.repeated]
    pickle.dump((full, reduced, samples), open(P, 'wb'))
train = full + reduced
m = len(cat)
def weight_matrix(samples, fusion=F):
    r, c, v = [], [], []
    for i, s in enumerate(samples):
        for k, w in mention_weights(s, fusion).items():
            if k in cat.row: r.append(i); c.append(cat.row[k]); v.append(w)
    return sp.csr_matrix((v, (r, c)), shape=(len(samples), m), dtype=np.float32)
def train_item_matrix(dialogues):
    r, c = [], []
    for i, d in enumerate(dialogues):
        items = {cat.row[x] for u in d.utterances for x in u.item_ids if x in cat.row}
        r += [i]*len(items); c += list(items)
    return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(dialogues), m))
