"""Exact neighbours over the movies with content (crs.catalog.exact_search): Chroma's HNSW
graph, crowded with identical genre-only vectors, answered The Matrix with genre-only films."""

from __future__ import annotations

import numpy as np

from crs.catalog.exact_search import ExactIndex, searchable
from crs.catalog.models import Movie


def _unit(v):
    v = np.asarray(v, np.float32)
    return v / np.linalg.norm(v)


def test_exact_index_ranks_only_movies_with_content_best_first():
    movies = [Movie("g1", "Genre Only", genres=("drama",)), Movie("a", "A", plot="a heist"),
              Movie("b", "B", directors=("X",)), Movie("c", "C", keywords=("time travel",))]
    matrix = np.stack([_unit([1, 0, 0]), _unit([0.9, 0.1, 0]), _unit([0, 1, 0]), _unit([0.5, 0.5, 0])])
    index = ExactIndex.build(movies, matrix)
    assert index.rows.tolist() == [1, 2, 3] and not searchable(movies[0])
    (best,) = index.top(_unit([1, 0, 0])[None, :], 2)
    assert best.tolist() == [1, 3]  # the genre-only movie, the closest of all, is not searched
    assert [r.tolist() for r in index.top(np.stack([_unit([0, 1, 0])]), 10)] == [[2, 3, 1]]
    assert ExactIndex.build(movies, matrix, max_rows=2) is None  # too many: Chroma answers


def test_the_store_finds_a_movies_true_neighbours(movie_store):
    """On the real store: the neighbours are the exact best among movies with content."""
    matrix = movie_store.matrix()
    movie = next(m for m in movie_store.index.movies if m.title == "The Matrix")
    found = movie_store.search_each_movie([movie.id], n=10, exclude={movie.id})[0]
    rows = [i for i, m in enumerate(movie_store.index.movies) if searchable(m) and m.id != movie.id]
    scores = matrix[rows] @ matrix[movie_store.index.row[movie.id]]
    exact = {movie_store.index.movies[rows[i]].id for i in np.argsort(-scores)[:10]}
    assert {m.id for m, _ in found} == exact
    assert any(m.title == "The Matrix Reloaded" for m, _ in found)
