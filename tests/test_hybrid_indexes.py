"""Stage 1's per-genre / per-person / title indexes: built once, at start, even with parallel first turns."""

from __future__ import annotations

import threading
import time

from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.recommender.hybrid import HybridRetriever
from crs.recommender.types import RecQuery


def test_parallel_first_turns_build_the_indexes_once(movie_store):
    retriever = HybridRetriever(movie_store)
    builds: list[int] = []
    real = retriever._build_indexes

    def slow_build() -> None:  # slow enough that unguarded threads would all start a build
        builds.append(1)
        time.sleep(0.2)
        real()

    retriever._build_indexes = slow_build
    threads = [threading.Thread(target=retriever.warm) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(builds) == 1
    assert len(retriever._popular) == len(movie_store.index)
    retriever.warm()  # already built: nothing to do
    assert len(builds) == 1


def test_warm_retriever_answers_without_rebuilding(movie_store):
    retriever = HybridRetriever(movie_store)
    retriever.warm()
    retriever._build_indexes = lambda: (_ for _ in ()).throw(AssertionError("rebuilt on the first turn"))
    genre = next(g for m in movie_store.index.movies for g in m.genres)
    prefs = Preferences(items=[PreferenceItem(slot=Slot.GENRE, value=genre, polarity=Polarity.LIKE)])
    found = retriever.retrieve(RecQuery(preferences=prefs), 20)
    assert found and all(c.evidence["meets_all"] for c in found[:5])
    assert [c.score for c in found if c.evidence["meets"] == found[0].evidence["meets"]] == sorted(
        (c.score for c in found if c.evidence["meets"] == found[0].evidence["meets"]), reverse=True)


def test_a_year_bound_alone_pools_the_popular_movies_inside_it(movie_store):
    """"old classics before 1960" must not run dry after a page: the overall most popular
    movies are mostly recent, so a bound pulls in the most popular movies of its own range."""
    retriever = HybridRetriever(movie_store, pool_size=15)
    retriever.warm()
    old = [m for m in movie_store.index.movies if m.year and m.year <= 1979 and (m.genres or m.plot)]
    assert len(old) >= 15, "the test store should hold some old movies"
    found = retriever.retrieve(RecQuery(preferences=Preferences(year_max=1979)), 15)
    assert all(c.movie.year <= 1979 for c in found)
    assert len(found) == 15  # without the year pool only the few old movies among the 15 most popular came back


def test_a_genre_with_a_year_bound_pools_that_genres_movies_inside_it(movie_store):
    """"a comedy from the 1950s": the genre's most popular movies are mostly recent, so its
    pool must also hold its most popular movies of the asked years (before, the list ran
    dry and the bound was widened although such comedies exist)."""
    retriever = HybridRetriever(movie_store, pool_size=15)
    retriever.warm()
    genre = "comedy"
    old = [m for m in movie_store.index.movies if genre in m.genres and m.year and m.year <= 1989]
    assert len(old) >= 10, "the test store should hold some older comedies"
    prefs = Preferences(items=[PreferenceItem(slot=Slot.GENRE, value=genre, polarity=Polarity.LIKE)], year_max=1989)
    found = retriever.retrieve(RecQuery(preferences=prefs), 10)
    assert len(found) == 10 and all(c.movie.year <= 1989 and genre in c.movie.genres for c in found)
