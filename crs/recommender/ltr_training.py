"""Cross-fitted training of the pool ranker (:mod:`crs.recommender.ltr`).

The training dialogues are split into ``folds`` parts. For each part the blocks are
refitted on the other parts and make the candidate pools and features of the held-out
part's recommendation turns (dedup: targets not mentioned before, context movies never
candidates), so no feature comes from a block that saw its own dialogue. A LightGBM
lambdarank model is then fitted on all held-out turns whose target is in the pool.
No valid or test file is read here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from crs.datasets import Catalogue, Dialogue, dialogue_samples
from crs.recommender.collaborative import CollaborativeModel, Fusion
from crs.recommender.ltr import FEATURES, MovieFacts, PoolRanker, pool_features

#: LightGBM settings (tuned on valid, see docs/results.md). Truncation 200 = the whole pool: every
#: pair counts, which suits Recall@50 better than the top-40 pairs alone. Two threads, deterministic:
#: the same booster on every machine.
LGB_PARAMS = {
    "objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [10, 50], "learning_rate": 0.05,
    "num_leaves": 31, "min_data_in_leaf": 50, "feature_fraction": 0.8, "bagging_fraction": 0.8,
    "bagging_freq": 1, "lambdarank_truncation_level": 200, "verbose": -1, "num_threads": 2,
    "deterministic": True, "force_row_wise": True,
}
#: A seed ensemble: one booster per seed (its own seeded subset of the turns and its own LightGBM
#: seed), their scores averaged. One booster's valid R@50 moves by ~.005 with the seed alone; the
#: mean of three is steadier and a little better (docs/results.md).
DEFAULT_SEEDS = (1, 2, 3)
DEFAULT_ROUNDS = 250
DEFAULT_POOL = 200
DEFAULT_FOLDS = 4
#: Training turns kept for the ranker (a seeded subset; bounds training time and memory).
DEFAULT_MAX_QUERIES = 12000


@dataclass
class PoolData:
    """Held-out training turns: features, 0/1 labels and query sizes (LightGBM's ``group``)."""

    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    turns: int  # all held-out turns, including those whose target missed the pool

    @property
    def pool_recall(self) -> float:
        return len(self.groups) / max(self.turns, 1)


def held_out_pools(dialogues: Sequence[Dialogue], catalogue: Catalogue, fusion: Fusion, facts: MovieFacts,
                   fit, folds: int = DEFAULT_FOLDS, pool_size: int = DEFAULT_POOL,
                   progress: bool = True) -> PoolData:
    """Cross-fitted pools and features of every dedup recommendation turn of ``dialogues``.

    Args:
        fit: ``fit(dialogues) -> CollaborativeModel`` (the blocks, e.g. a partial of
            :func:`~crs.recommender.collaborative_training.fit_blocks`).
    """
    from crs.recommender.collaborative_training import mention_weights, utterance_words

    labels_of = dict(zip(catalogue.ids, catalogue.labels))
    xs, ys, groups, turns = [], [], [], 0
    for k in tqdm(range(folds), desc="cross-fitting the pool ranker", disable=not progress):
        model: CollaborativeModel = fit([d for i, d in enumerate(dialogues) if i % folds != k])
        model.fusion = fusion
        for i in range(k, len(dialogues), folds):
            for sample in dialogue_samples(dialogues[i], catalogue):
                if sample.repeated or sample.target is None or sample.target not in model.row:
                    continue
                turns += 1
                pool, x, _ = pool_features(model, facts, mention_weights(sample, fusion),
                                           utterance_words(sample.context, labels_of), pool_size)
                hit = pool == model.row[sample.target]
                if not hit.any():
                    continue
                xs.append(x)
                ys.append(hit.astype(np.float32))
                groups.append(len(pool))
    width = len(FEATURES)
    return PoolData(np.concatenate(xs) if xs else np.zeros((0, width), np.float32),
                    np.concatenate(ys) if ys else np.zeros(0, np.float32), np.array(groups, np.int64), turns)


def subsample(data: PoolData, max_queries: int, seed: int = 0) -> PoolData:
    """At most ``max_queries`` of the turns of ``data`` (a seeded random subset, order kept)."""
    if len(data.groups) <= max_queries:
        return data
    starts = np.concatenate([[0], np.cumsum(data.groups)])
    keep = np.sort(np.random.default_rng(seed).choice(len(data.groups), max_queries, replace=False))
    rows = np.concatenate([np.arange(starts[q], starts[q + 1]) for q in keep])
    return PoolData(data.features[rows], data.labels[rows], data.groups[keep], data.turns)


def fit_ranker(data: PoolData, pool_size: int = DEFAULT_POOL, rounds: int = DEFAULT_ROUNDS,
               params: Mapping | None = None, max_queries: int = DEFAULT_MAX_QUERIES,
               seeds: Sequence[int] = DEFAULT_SEEDS, progress: bool = False) -> PoolRanker:
    """LightGBM lambdarank on (at most ``max_queries`` turns of) ``data``, one booster per seed.

    Each booster is fitted on the turn subset drawn with its seed, with LightGBM's ``seed`` set to
    it (``params`` may still override LightGBM settings); the ranker averages their scores.
    """
    import lightgbm as lgb

    if not seeds:
        raise ValueError("fit_ranker needs at least one seed")
    pool_recall = data.pool_recall  # before subsampling: the share of turns whose target is in the pool
    texts, queries = [], 0
    for seed in tqdm(seeds, desc="fitting the pool ranker", disable=not progress):
        part = subsample(data, max_queries, seed=seed)
        queries = int(len(part.groups))
        train_set = lgb.Dataset(part.features, part.labels, group=part.groups, feature_name=list(FEATURES),
                                free_raw_data=True)
        fit_params = {**LGB_PARAMS, "seed": seed, **(params or {})}
        texts.append(lgb.train(fit_params, train_set, num_boost_round=rounds).model_to_string())
    shown = {k: v for k, v in {**LGB_PARAMS, **(params or {})}.items() if k != "ndcg_eval_at"}
    meta = {"pool_size": pool_size, "rounds": rounds, "params": shown, "seeds": [int(s) for s in seeds],
            "train_queries": queries, "train_turns": int(data.turns),
            "pool_recall_on_train": round(pool_recall, 4), "features": list(FEATURES)}
    return PoolRanker(texts, pool_size, meta)
