"""Shared by the ranker probes (source_weight.py, max_queries.py): the valid dedup pools of a train-only
artefact and Recall@1/10/50 of a score vector over them (the same ranking as ``crs evaluate``)."""
import numpy as np
from pathlib import Path
from crs.datasets import dialogue_samples, read_dialogues
from crs.recommender.collaborative_training import mention_weights, utterance_words
from crs.recommender.ltr import pool_features


class ValidPools:
    """Features of every valid dedup sample's pool (``X``), pool offsets and the target's place in its pool."""

    def __init__(self, model, catalogue, data: Path, pool_size: int = 200):
        labels = dict(zip(catalogue.ids, catalogue.labels))
        samples = [s for d in read_dialogues(data / "redial/valid_dialogues.jsonl") for s in dialogue_samples(d, catalogue)
                   if not s.repeated]
        xs, where, sizes = [], [], []
        for s in samples:
            pool, x, _ = pool_features(model, model.facts, mention_weights(s, model.fusion),
                                       utterance_words(s.context, labels), pool_size)
            t = model.row.get(s.target)
            hit = np.flatnonzero(pool == t) if t is not None else []
            where.append(int(hit[0]) if len(hit) else -1)
            xs.append(x)
            sizes.append(len(pool))
        self.X = np.concatenate(xs)
        self.starts = np.concatenate([[0], np.cumsum(sizes)])
        self.where = np.array(where)

    def hits(self, pred: np.ndarray) -> np.ndarray:
        """Per sample, whether scores ``pred`` (one per row of ``X``) rank the target in the top 1 / 10 / 50."""
        hits = np.zeros((len(self.where), 3), bool)
        for i, w in enumerate(self.where):
            if w < 0:
                continue
            scores = pred[self.starts[i]:self.starts[i + 1]]
            rank = 1 + int(np.flatnonzero(np.argsort(-scores, kind="stable") == w)[0])
            hits[i] = [rank <= 1, rank <= 10, rank <= 50]
        return hits

    @staticmethod
    def fmt(hits: np.ndarray) -> str:
        return " / ".join(f"{v:.4f}" for v in hits.mean(axis=0))

    def recall(self, pred: np.ndarray) -> str:
        """"R@1 / R@10 / R@50" of scores ``pred``."""
        return self.fmt(self.hits(pred))
