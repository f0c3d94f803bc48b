"""The collaborative model: EASE, the artefact round trip, and sanity on real data."""

from __future__ import annotations

import json
import time
from collections import Counter
from itertools import combinations

import numpy as np
import pytest
import scipy.sparse as sp
from eval_fixtures import data_dir, small_model_path

from crs.recommender.collaborative import ARTEFACT_VERSION, CollaborativeModel, Fusion, fit_ease, strip_titles, tokenize


def _gram(rows: list[set[int]], m: int) -> np.ndarray:
    x = np.zeros((len(rows), m))
    for r, cols in enumerate(rows):
        x[r, list(cols)] = 1
    return x.T @ x


def test_ease_learns_co_occurrence():
    rows = [{0, 1}] * 20 + [{2, 3}] * 20 + [{0, 1, 4}] * 3 + [{4, 5}] * 5
    b = fit_ease(_gram(rows, 7), lam=1.0, n_targets=6)  # column 6 never occurs
    assert b.shape == (7, 6) and np.all(np.diag(b[:6]) == 0)
    assert int(np.argmax(b[0])) == 1 and int(np.argmax(b[2])) == 3 and int(np.argmax(b[5])) == 4
    assert not b[6].any()


def test_tokenize_and_strip_titles():
    assert tokenize("I'd love a SCARY movie, like really creepy!") == ["scary", "creepy"]
    text = strip_titles("Loved The Shining (1980) and Heat", ["The Shining (1980)", "Heat (1995)"])
    assert tokenize(text) == []


def _tiny_model() -> CollaborativeModel:
    ids = ("a", "b", "c", "d")
    item_item = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], np.float32)
    word_item = np.array([[0, 0, 0.5, 0]], np.float32)  # "scary" -> c
    content = sp.csr_matrix(np.array([[0, 0, 0, 0.2], [0, 0, 0, 0], [0, 0, 0, 0], [0.2, 0, 0, 0]], np.float32))
    return CollaborativeModel(ids, item_item, ("scary",), word_item, np.array([1, 2, 3, 4], np.float32), content,
                              Fusion(words=1.0, content=1.0, popularity=0.0))


def test_scores_follow_weights_and_text():
    model = _tiny_model()
    assert list(model.score({"a": 1.0}))[:1] == ["b"]
    assert model.score({"a": 1.0, "zzz": 5.0}) == model.score({"a": 1.0})  # unknown ids are ignored
    disliked = model.score_vector({"a": 1.0, "c": -1.0})
    assert disliked[model.row["d"]] < 0  # a disliked movie pushes its neighbours down
    assert next(iter(model.score({}, text="something scary please"))) == "c"
    assert model.score_vector({"a": 1.0})[model.row["d"]] == pytest.approx(0.2)  # metadata neighbour
    assert list(model.score({"a": 1.0}, k=2)) == ["b", "d"]


def test_artefact_round_trip_and_version_check(tmp_path):
    path = _tiny_model().save(tmp_path / "collab-v1.npz")
    loaded = CollaborativeModel.load(path)
    assert loaded.item_ids == ("a", "b", "c", "d") and loaded.vocabulary == ("scary",)
    assert loaded.fusion == Fusion(words=1.0, content=1.0, popularity=0.0)
    np.testing.assert_allclose(loaded.score_vector({"a": 1.0}, "scary"), _tiny_model().score_vector({"a": 1.0}, "scary"))
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["version"] = 0
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="retrain"):
        CollaborativeModel.load(path)
    with pytest.raises(FileNotFoundError, match="crs train retriever"):
        CollaborativeModel.load(tmp_path / "nothing.npz")


@pytest.mark.slow
def test_trained_model_ranks_co_mentioned_movies_high():
    from crs.datasets import load_redial_catalogue
    from crs.recommender.collaborative_training import load_training_dialogues

    model = CollaborativeModel.load(small_model_path())
    meta = json.loads(small_model_path().with_suffix(".json").read_text())
    assert meta["version"] == ARTEFACT_VERSION == 2 and meta["limit"] == 400 and len(meta["fingerprint"]) == 16
    full, reduced = load_training_dialogues(data_dir(), load_redial_catalogue(data_dir()), limit=400)
    pairs: Counter[tuple[str, str]] = Counter()
    for d in full + reduced:
        items = sorted({i for u in d.utterances for i in u.item_ids if i in model.row})
        pairs.update(combinations(items, 2))
    checked = 0
    for (x, y), count in pairs.most_common(10):
        top = list(model.score({x: 1.0}, k=10))
        assert y in top, f"{y} co-mentioned {count}x with {x} is not in its top 10"
        checked += 1
    assert checked == 10
    start = time.perf_counter()
    for _ in range(50):
        model.score_vector({x: 1.0, y: 1.5, "0": -1.0}, text="a scary movie with zombies")
    assert (time.perf_counter() - start) / 50 < 0.02  # a few ms per call
