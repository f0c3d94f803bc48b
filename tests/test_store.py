"""MovieStore search, filters, exclusion and vectors on the shared small store."""

from __future__ import annotations

import numpy as np
import pytest

from crs.catalog.store import MovieStore, build_where

pytestmark = pytest.mark.slow

MATRIX = "85036"  # The Matrix (1999) in ReDial


def test_build_where_shapes() -> None:
    assert build_where() is None
    assert build_where(year_min=1990) == {"year": {"$gte": 1990}}
    assert build_where(year_max=1990) == {"$and": [{"year": {"$gte": 0}}, {"year": {"$lte": 1990}}]}
    assert build_where(exclude_genres=["Science Fiction"]) == {"g_sci_fi": {"$ne": True}}
    both = build_where(require_genres=["comedy"], any_genres=["horror", "western"])
    assert both == {"$and": [{"g_comedy": {"$eq": True}},
                             {"$or": [{"g_horror": {"$eq": True}}, {"g_western": {"$eq": True}}]}]}


def test_text_search_finds_the_obvious_movie(movie_store: MovieStore) -> None:
    hits = movie_store.search_text("a stranger leads the hacker Neo to the truth: his life is a deception of an evil cyber-intelligence", 5)
    assert hits[0][0].id == MATRIX
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0


def test_excluded_genres_never_come_back(movie_store: MovieStore) -> None:
    hits = movie_store.search_text("terrifying ghosts and demons, a scary horror movie", 50,
                                   where=build_where(exclude_genres=["horror"]))
    assert len(hits) == 50
    assert not any("horror" in movie.genres for movie, _ in hits)
    unfiltered = movie_store.search_text("terrifying ghosts and demons, a scary horror movie", 10)
    assert any("horror" in movie.genres for movie, _ in unfiltered)


def test_year_bounds_are_honoured_and_unknown_years_fail(movie_store: MovieStore) -> None:
    hits = movie_store.search_text("a fun adventure", 100, where=build_where(year_min=1980, year_max=1989))
    assert hits and all(1980 <= movie.year <= 1989 for movie, _ in hits)
    before = movie_store.search_text("a fun adventure", 200, where=build_where(year_max=1970))
    assert all(movie.year is not None and movie.year <= 1970 for movie, _ in before)


def test_required_genres_and_redial_only(movie_store: MovieStore) -> None:
    hits = movie_store.search_text("cowboys", 20, where=build_where(require_genres=["western"],
                                                                    redial_only=True))
    assert hits and all("western" in movie.genres and movie.redial_id for movie, _ in hits)


def test_search_excludes_ids_and_still_fills_n(movie_store: MovieStore) -> None:
    first = movie_store.search_text("space adventure with aliens", 10)
    banned = {movie.id for movie, _ in first[:5]}
    second = movie_store.search_text("space adventure with aliens", 10, exclude=banned)
    assert len(second) == 10
    assert not banned & {movie.id for movie, _ in second}
    assert [m.id for m, _ in second[:5]] == [m.id for m, _ in first[5:]]


def test_several_query_vectors_merge_by_max(movie_store: MovieStore) -> None:
    ids = [MATRIX, movie_store.index.movies[1].id]
    hits = movie_store.search(movie_store.vectors(ids), 2)
    assert {movie.id for movie, _ in hits} == set(ids)
    assert all(score > 0.99 for _, score in hits)


def test_vectors_match_the_matrix_and_reject_unknown_ids(movie_store: MovieStore) -> None:
    ids = [movie_store.index.movies[i].id for i in (3, 0, 7)]
    rows = movie_store.vectors(ids)
    assert rows.shape == (3, 384)
    np.testing.assert_allclose(rows, movie_store.matrix()[[3, 0, 7]], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(movie_store.matrix(), axis=1), 1.0, atol=1e-4)
    with pytest.raises(KeyError):
        movie_store.vectors(["no-such-movie"])


def test_where_with_few_matches_returns_what_there_is(movie_store: MovieStore) -> None:
    hits = movie_store.search_text("film", 500, where=build_where(require_genres=["western", "comedy"]))
    assert 0 < len(hits) < 500
