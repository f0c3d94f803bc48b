"""Probe: add OpenDialKG dialogues (movies matched to ReDial ids) as extra co-mention rows of the
stage-1 blocks (train-only model, its content block); valid dedup stage-1 R@1/10/50/200.

Usage: python scripts/pool_probe/odkg_rows.py ref|add [MODEL.npz]
"""
import json, sys, numpy as np
from collections import defaultdict
from pathlib import Path
from crs.datasets import Dialogue, Utterance, Role, dialogue_samples, load_redial_catalogue, read_dialogues
from crs.datasets.catalogue import TitleMatcher
from crs.recommender.collaborative import CollaborativeModel
from crs.recommender.collaborative_content import content_similarity, store_vectors
from crs.recommender.collaborative_training import TRAIN_ONLY_FILES, dedup_ranks, fit_blocks
from crs.recommender.training_data import load_training_set
DATA = Path("/work/shared/data")
cat = load_redial_catalogue(DATA); labels = dict(zip(cat.ids, cat.labels))
matcher = TitleMatcher(zip(cat.ids, cat.labels))
info = json.loads((DATA / "opendialkg/ievalm/id2info.json").read_text())
year = {v["name"]: v.get("year") for v in info.values()}
def rid(name):
    y = year.get(name)
    return matcher.match(f"{name} ({y})" if y else name) if name in year else None
dialogs = defaultdict(set)
for f in ("train_rec_turns.jsonl",):
    for line in open(DATA / "opendialkg" / f):
        t = json.loads(line)
        for n in t["entity"] + t["rec"]:
            i = rid(n)
            if i: dialogs[t["dialog_id"]].add(i)
rows = [ids for ids in dialogs.values() if len(ids) >= 2]
print("odkg dialogues with >=2 ReDial movies:", len(rows), "of", len(dialogs), flush=True)
extra = [Dialogue(dialog_id=f"odkg-{k}", utterances=[Utterance(role=Role.SEEKER, text="", item_ids=tuple(ids))])
         for k, ids in enumerate(rows)] if len(sys.argv) > 1 and sys.argv[1] == "add" else []
tr = load_training_set(DATA, cat, TRAIN_ONLY_FILES, None, False, None)
ref = CollaborativeModel.load(Path(sys.argv[2] if len(sys.argv) > 2 else "data/artifacts/collab-v2-trainonly.npz"))
model = fit_blocks(tr.fit + tr.rest + extra, cat, content=ref.content_item)
f = ref.fusion
samples = [s for d in read_dialogues(DATA / "redial/valid_dialogues.jsonl") for s in dialogue_samples(d, cat) if not s.repeated]
r = dedup_ranks(model, samples, f.decay, [(f.words, f.content, f.popularity)], labels)[0]
print(len(extra), {k: round(float(np.mean((r > 0) & (r <= k))), 4) for k in (1, 10, 50, 200)})
