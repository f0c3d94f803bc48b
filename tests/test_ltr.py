"""The second-stage pool ranker: features, the learned order, the artefact round trip."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from eval_fixtures import data_dir, small_model_path

from crs.recommender.collaborative import CollaborativeModel
from crs.recommender.ltr import FEATURES, MovieFacts, PoolRanker, pool_features
from crs.recommender.ltr_training import PoolData, fit_ranker


def test_fit_ranker_learns_the_informative_feature():
    """Targets are the candidates with the strongest ``max_link``; the other features are noise
    and ``hybrid`` (the first stage's score) points elsewhere, so following the first stage fails."""
    rng = np.random.default_rng(0)

    def pools(n: int) -> PoolData:
        x = rng.normal(size=(n * 30, len(FEATURES))).astype(np.float32)
        y = np.zeros(n * 30, np.float32)
        for q in range(n):
            rows = slice(q * 30, (q + 1) * 30)
            y[q * 30 + int(np.argmax(x[rows, FEATURES.index("max_link")]))] = 1
        return PoolData(x, y, np.full(n, 30), n)

    ranker = fit_ranker(pools(300), pool_size=30, rounds=40, params={"min_data_in_leaf": 5, "num_threads": 1})
    test = pools(100)
    top1 = [int(np.argmax(ranker.predict(test.features[q * 30:(q + 1) * 30]))) ==
            int(np.argmax(test.labels[q * 30:(q + 1) * 30])) for q in range(100)]
    assert np.mean(top1) > 0.7  # chance is 1/30
    assert ranker.meta["train_queries"] == 300 and ranker.meta["features"] == list(FEATURES)
    assert len(ranker.boosters) == len(ranker.meta["seeds"]) == 3  # the default seed ensemble


def test_seed_ensemble_averages_its_boosters():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40 * 20, len(FEATURES))).astype(np.float32)
    y = np.zeros(len(x), np.float32)
    y[np.arange(40) * 20 + rng.integers(0, 20, 40)] = 1
    data = PoolData(x, y, np.full(40, 20), 40)
    ranker = fit_ranker(data, pool_size=20, rounds=10, params={"min_data_in_leaf": 5}, max_queries=30, seeds=(4, 5))
    assert ranker.meta["seeds"] == [4, 5] and ranker.meta["train_queries"] == 30
    single = [PoolRanker(text, 20) for text in ranker.model_texts]
    assert not np.allclose(single[0].predict(x), single[1].predict(x))  # other subset, other seed
    np.testing.assert_allclose(ranker.predict(x), (single[0].predict(x) + single[1].predict(x)) / 2)
    again = fit_ranker(data, pool_size=20, rounds=10, params={"min_data_in_leaf": 5}, max_queries=30, seeds=(4, 5))
    assert again.model_texts == ranker.model_texts  # deterministic
    with pytest.raises(ValueError):
        fit_ranker(data, seeds=())


def test_movie_facts_from_real_metadata():
    info = json.loads((data_dir() / "movies/redial_id2info.json").read_text(encoding="utf-8"))
    ids = tuple(itertools.islice(info, 50))
    facts = MovieFacts.from_info(info, ids)
    assert facts.genres.shape[0] == facts.people.shape[0] == len(ids) == len(facts.year)
    first = info[ids[0]]
    assert str(int(facts.year[0])) in first["name"]
    context = np.zeros(len(ids), np.float32)
    context[0] = 1.0
    genre = facts.overlap("genres", context)
    assert genre[0] == pytest.approx(1.0)  # a movie shares all its genres with itself
    others = [i for i in range(1, len(ids)) if not set(info[ids[i]].get("genre") or []) & set(first.get("genre") or [])]
    assert others and np.all(genre[others] == 0)
    restored = MovieFacts.from_arrays(facts.arrays())
    np.testing.assert_allclose(restored.overlap("people", context), facts.overlap("people", context))


@pytest.mark.slow
def test_trained_pool_ranker_reorders_the_pool_and_round_trips(tmp_path):
    model = CollaborativeModel.load(small_model_path())
    assert model.ranker is not None and model.facts is not None
    assert model.meta["ranker"]["train_queries"] > 100 and model.meta["ranker"]["features"] == list(FEATURES)
    liked = [model.item_ids[i] for i in np.argsort(-model.popularity)[:3]]
    weights = {liked[0]: 1.0, liked[1]: 0.9, liked[2]: -1.0}
    words = ["scary", "zombies"]
    pool, x, hybrid = pool_features(model, model.facts, weights, words, model.ranker.pool_size)
    assert x.shape == (len(pool), len(FEATURES)) and len(pool) == model.ranker.pool_size
    assert not {model.row[i] for i in liked} & set(pool.tolist())  # context movies are never candidates
    assert np.all(np.diff(hybrid[pool]) <= 0)  # the pool is the hybrid score's best, best first
    np.testing.assert_allclose(x[:, FEATURES.index("negative_item")],  # the disliked movie's links
                               model.item_item[model.row[liked[2]], pool].astype(np.float32), rtol=1e-5)
    ranked = model.rank_vector(weights, words)
    # the pool's scores are handed back in the ranker's order: same values, another order
    np.testing.assert_allclose(np.sort(ranked[pool]), np.sort(hybrid[pool]), atol=1e-4 * abs(hybrid[pool[0]]))
    order = np.argsort(-model.ranker.predict(x), kind="stable")
    # what the app gets from score(): the ranker's order (context movies keep their own hybrid score)
    top = [i for i in model.score(weights, "scary zombies", k=20) if i not in weights][:10]
    assert top == [model.item_ids[i] for i in pool[order[:10]]]
    assert not np.array_equal(order, np.arange(len(pool)))  # the second stage changed something
    again = CollaborativeModel.load(model.save(tmp_path / "m.npz"))
    np.testing.assert_allclose(again.rank_vector(weights, words), ranked)
    assert again.ranker.model_texts == model.ranker.model_texts
    # an artefact from before the seed ensemble (one booster saved as a 0-d string) still loads
    with np.load(tmp_path / "m.npz") as data:
        arrays = {k: data[k] for k in data.files}
    arrays["ranker_model"] = np.array(model.ranker.model_texts[0])
    np.savez(tmp_path / "m.npz", **arrays)
    old = CollaborativeModel.load(tmp_path / "m.npz")
    assert len(old.ranker.boosters) == 1
    np.testing.assert_allclose(old.ranker.predict(x), model.ranker.boosters[0].predict(x))
