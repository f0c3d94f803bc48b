"""The metadata block of the collaborative model: TMDB keywords and dense-embedding neighbours."""

from __future__ import annotations

import json

import numpy as np
import pytest
from eval_fixtures import data_dir

from crs.recommender.collaborative_content import (
    DENSE_WEIGHT, content_similarity, dense_similarity, metadata_tokens, tmdb_keywords,
)

TOY_STORY, TOY_STORY_2 = "80067", "75881"


def test_tmdb_keywords_join_redial_movies_through_imdb_ids():
    info = json.loads((data_dir() / "movies/redial_id2info.json").read_text(encoding="utf-8"))
    keywords = tmdb_keywords(data_dir(), info)
    assert 3000 < len(keywords) < len(info)  # TMDB 5000 + MovieLens 1M cover about half the catalogue
    assert "toy comes to life" in keywords[TOY_STORY]  # tt0114709 -> TMDB 862
    tokens = metadata_tokens(info[TOY_STORY], keywords[TOY_STORY])
    assert "k:toy comes to life" in tokens and "g:animation" in tokens


def test_tmdb_keywords_absent_files_give_no_keywords(tmp_path):
    assert tmdb_keywords(tmp_path, {"1": {"imdb_id": "tt0114709"}}) == {}


def test_dense_similarity_keeps_close_neighbours_only():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.0, 0.0]], np.float32)
    sim = dense_similarity(vectors, top_k=2, shift=0.5).toarray()
    cos01 = 0.9 / np.hypot(0.9, 0.1)
    assert sim[0, 1] == pytest.approx(cos01 - 0.5) and sim[1, 0] == pytest.approx(cos01 - 0.5)
    assert sim[0, 2] == 0 and sim[2, 0] == 0  # orthogonal: below the shift
    assert np.all(np.diag(sim) == 0) and not sim[3].any()  # no self link; no vector, no neighbours
    assert (sim > 0).sum(axis=1).max() <= 2


def test_content_similarity_adds_the_weighted_dense_part():
    info = json.loads((data_dir() / "movies/redial_id2info.json").read_text(encoding="utf-8"))
    ids = [TOY_STORY, TOY_STORY_2, *list(info)[:48]]
    metadata = content_similarity(data_dir(), ids, top_k=10).toarray()
    assert metadata[0, 1] > 0  # sequels share genres, people and keywords
    vectors = np.zeros((len(ids), 3), np.float32)
    vectors[0], vectors[1] = [1, 0, 0], [1, 0.1, 0]  # only the two Toy Story movies are close
    both = content_similarity(data_dir(), ids, top_k=10, vectors=vectors).toarray()
    dense = dense_similarity(vectors, top_k=10).toarray()
    assert dense[0, 1] > 0
    assert both[0, 1] == pytest.approx(metadata[0, 1] + DENSE_WEIGHT * dense[0, 1], rel=1e-5)
    assert np.allclose(both[2:], metadata[2:])


def test_training_uses_a_store_only_once_it_is_built_and_records_it(tmp_path):
    from crs.recommender.collaborative_training import built_store, content_record

    assert built_store(tmp_path) is None and built_store(None) is None  # nothing built: metadata alone
    (tmp_path / "manifest.json").write_text(json.dumps({"fingerprint": "abc", "model": "m"}), encoding="utf-8")
    assert built_store(tmp_path) == tmp_path
    vectors = np.array([[1.0, 0.0], [0.0, 0.0], [0.2, 0.3]], np.float32)
    record = content_record(data_dir(), tmp_path, vectors)
    assert record["dense"]["movies_with_vector"] == 2 and record["dense"]["store_fingerprint"] == "abc"
    assert set(record["keywords"]) == {"movies/movielens_links.csv", "movies/tmdb_5000_movies.csv.zip",
                                       "movies/movielens_movies_tmdb.csv"}
    assert content_record(data_dir(), None, None)["dense"] is None
