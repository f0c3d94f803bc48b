"""Ad-hoc probe of stage-1 pool recall on ReDial valid (dedup), for the pool-recall experiments.

Usage: python scripts/pool_probe.py MODEL.npz CACHE.npz   (writes the per-sample block scores)

For every dedup sample of valid it stores the item / content / word block scores (float16),
the target row, the context-movie rows and a few context facts, so that a candidate block can
be added and measured (pool recall@200, stage-1 R@1/10/50) in seconds. Not part of the app.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from crs.datasets import Role, dialogue_samples, load_redial_catalogue, read_dialogues
from crs.recommender.collaborative import CollaborativeModel
from crs.recommender.collaborative_training import mention_weights, utterance_words

DATA = Path("/work/shared/data")


def valid_samples(catalogue, path=DATA / "redial/valid_dialogues.jsonl"):
    out = []
    for d in read_dialogues(path):
        for s in dialogue_samples(d, catalogue):
            if not s.repeated:
                out.append(s)
    return out


def main(model_path: str, cache: str) -> None:
    model = CollaborativeModel.load(Path(model_path))
    catalogue = load_redial_catalogue(DATA)
    labels = dict(zip(catalogue.ids, catalogue.labels))
    samples = valid_samples(catalogue)
    n = len(samples)
    m = len(model.item_ids)
    item = np.zeros((n, m), np.float16)
    content = np.zeros((n, m), np.float16)
    word = np.zeros((n, m), np.float16)
    target = np.full(n, -1, np.int64)
    final_rank = np.zeros(n, np.int64)
    banned, nctx, nwords, dialog, turn = [], np.zeros(n, int), np.zeros(n, int), [], np.zeros(n, int)
    for i, s in enumerate(samples):
        w = mention_weights(s, model.fusion)
        words = utterance_words(s.context, labels)
        item[i] = model.item_vector(w)
        content[i] = model.content_vector(w)
        word[i] = model.word_vector(words)
        rows = [model.row[x] for x in s.mentioned_ids if x in model.row]
        banned.append(np.array(rows, np.int64))
        nctx[i] = len(rows)
        nwords[i] = len({x for x in words if x in model.word_row})
        dialog.append(s.dialog_id)
        turn[i] = s.turn
        if s.target in model.row:
            t = model.row[s.target]
            target[i] = t
            final = model.rank_vector(w, words).astype(np.float64)
            final[rows] = -np.inf
            final_rank[i] = 1 + np.count_nonzero(final > final[t]) + np.count_nonzero(final[:t] == final[t])
    lens = np.array([len(b) for b in banned])
    np.savez(cache, item=item, content=content, word=word, target=target, final_rank=final_rank,
             banned=np.concatenate(banned) if n else np.zeros(0, int), banned_len=lens, nctx=nctx, nwords=nwords,
             turn=turn, dialog=np.array(dialog), popularity=model.popularity)


if __name__ == "__main__":
    main(*sys.argv[1:])
