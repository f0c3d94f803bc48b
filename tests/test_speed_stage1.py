"""Stage 1's array shortcuts give exactly what the per-movie code gives (issue #6 speed work).

The retriever checks hard constraints, scores implicit feedback and orders candidates over
arrays of per-movie facts built once per store; these tests hold each shortcut to the plain
per-movie definition it replaces, on the real small store, with ``==`` (bit for bit).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from crs.catalog import store_files
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.recommender.constraints import Constraints
from crs.recommender.feedback import FeedbackSignal
from crs.recommender.hybrid import HybridRetriever, HybridWeights
from crs.recommender.types import RecQuery


def _warm(movie_store) -> HybridRetriever:
    retriever = HybridRetriever(movie_store)
    retriever.warm()
    return retriever


def test_attribute_scores_equal_attribute_score_per_movie(movie_store):
    retriever = _warm(movie_store)
    facts, movies = retriever._rows, movie_store.index.movies
    rng = random.Random(3)
    rows = np.arange(len(movies))
    genres = sorted({g for m in movies for g in m.genres})
    nonzero = 0
    for _ in range(30):
        rewards = {rng.choice(movies).id: rng.choice([1.0, 0.8, 0.3, -0.3, -1.0, -1.4]) for _ in range(rng.randint(1, 12))}
        signal = FeedbackSignal.from_rewards(rewards, movie_store.index)
        exempt = set(rng.sample(genres, rng.randint(0, 3)))
        fast = signal.attribute_scores(facts.genre_seq[rows], facts.genre_names, facts.director_seq[rows],
                                       facts.director_col, exempt)
        slow = [signal.attribute_score(m, exempt) for m in movies]
        assert fast.tolist() == slow
        nonzero += sum(v != 0.0 for v in slow)
    assert nonzero > 1000  # the signals really scored genres and directors


def test_allows_rows_equals_allows_per_movie(movie_store):
    retriever = _warm(movie_store)
    index, titles = movie_store.index, retriever._rows.titles
    rng = random.Random(5)
    movies = index.movies
    genres = sorted({g for m in movies for g in m.genres})
    people = sorted({p for m in movies[:200] for p in m.directors})
    rows = np.arange(len(movies))
    rejected = 0
    for _ in range(40):
        items = [PreferenceItem(slot=Slot.MOVIE, value=rng.choice(movies).id,
                                polarity=rng.choice([Polarity.LIKE, Polarity.DISLIKE, Polarity.SEEN]))
                 for _ in range(rng.randint(0, 6))]
        if rng.random() < .4:
            items.append(PreferenceItem(slot=Slot.GENRE, value=rng.choice(genres), polarity=Polarity.DISLIKE))
        if rng.random() < .4:
            items.append(PreferenceItem(slot=Slot.PERSON, value=rng.choice(people), polarity=Polarity.DISLIKE))
        years = {}
        if rng.random() < .5:
            years = {"year_min": rng.choice([None, 1970, 1990, 2005]), "year_max": rng.choice([None, 1985, 2000, 2015])}
        query = RecQuery(preferences=Preferences(items=items, **years),
                         exclude=frozenset(rng.choice(movies).id for _ in range(rng.randint(0, 5))))
        rules = Constraints.from_query(query, index, retriever._title_facts)
        fast = rules.allows_rows(rows, index, titles)
        slow = [rules.allows(m) for m in movies]
        assert fast.tolist() == slow
        rejected += len(slow) - sum(slow)
    assert rejected > 500  # the constraints really excluded movies


def test_candidates_come_in_requirement_score_id_order(movie_store):
    retriever = _warm(movie_store)
    genre = next(g for m in movie_store.index.movies for g in m.genres)
    prefs = Preferences(items=[PreferenceItem(slot=Slot.GENRE, value=genre, polarity=Polarity.LIKE),
                               PreferenceItem(slot=Slot.MOOD, value="dark", polarity=Polarity.LIKE),
                               PreferenceItem(slot=Slot.MOOD, value="violent", polarity=Polarity.DISLIKE)])
    found = retriever.retrieve(RecQuery(preferences=prefs), 200)
    keys = [(-c.evidence["meets"], -c.score, c.movie.id) for c in found]
    assert len(found) == 200 and keys == sorted(keys)
    assert len({c.score for c in found}) < len(found)  # ties exist, so the id tie-break is exercised


def _mapping_rss_kb(path: Path) -> int:
    rss, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        if line[:1].isalnum() and "-" in line.split()[0]:  # a mapping's header line
            inside = line.endswith(str(path))
        elif inside and line.startswith("Rss:"):
            rss += int(line.split()[1])
    return rss


def test_touch_pages_maps_the_whole_vector_cache(tmp_path):
    matrix = np.random.default_rng(0).standard_normal((6000, 384)).astype(np.float32)  # 9 MB
    path = tmp_path / "vectors.npy"
    np.save(path, matrix)
    mapped = np.load(path, mmap_mode="r")
    before = _mapping_rss_kb(path.resolve())
    store_files.touch_pages(mapped)
    after = _mapping_rss_kb(path.resolve())
    assert before < 0.5 * matrix.nbytes / 1024 <= 0.95 * matrix.nbytes / 1024 <= after
    assert np.array_equal(np.asarray(mapped), matrix)


@pytest.mark.parametrize("exact", [True, False])
def test_cached_neighbours_equal_a_fresh_search(movie_store, exact):
    """The cached neighbours (search_each_movie, search_text) equal a fresh search, with the
    exact index of the movies with content (no Chroma query at all) and with Chroma (the
    path of a catalogue too large for it: one query per new question, then the cache)."""
    movie_store.warm_vectors()
    ids = [m.id for m in movie_store.index.movies[:40:8]]
    exclude = set(ids[:2]) | {movie_store.index.movies[50].id}
    asked: list[int] = []
    collection = movie_store._collection

    class Counting:  # counts Chroma queries, answers through the real collection
        def query(self, **kwargs):
            asked.append(len(kwargs["query_embeddings"]))
            return collection.query(**kwargs)

        def __getattr__(self, name):
            return getattr(collection, name)

    movie_store._neighbours.clear()
    movie_store._collection = Counting()
    if not exact:  # as for a catalogue with too many movies with content
        movie_store._exact, movie_store._exact_for = None, len(movie_store.index)
    try:
        fresh = movie_store.search_each(movie_store.vectors(ids), n=20, exclude=exclude)
        first = movie_store.search_each_movie(ids, n=20, exclude=exclude)
        again = movie_store.search_each_movie(ids[1:], n=20, exclude=exclude)
        text = movie_store.search_text("dark violent", n=30)
        text_again = movie_store.search_text("dark violent", n=30)
        plain = movie_store.search(movie_store.embedder.embed_one("dark violent"), n=30)
    finally:
        movie_store._collection = collection
        movie_store._neighbours.clear()
        movie_store._exact_for = -1  # rebuilt on the next search
    assert first == fresh and again == fresh[1:]
    assert text == text_again == plain and len(text) == 30
    # search_each, the first search_each_movie, the first text, search; none with the exact index
    assert asked == ([] if exact else [len(ids), len(ids), 1, 1])


def test_adding_movies_empties_the_neighbour_cache(writable_store, embedder):
    from crs.catalog.models import Movie
    from crs.catalog.store import MovieStore

    store = MovieStore.open(writable_store.store_dir, embedder, writable_store.collection)
    store.warm_vectors()
    liked = store.index.movies[0]
    before = store.search_each_movie([liked.id], n=5)[0]
    twin = Movie(id="twin-1", title="A Twin", year=2001, genres=liked.genres, directors=liked.directors,
                 cast=liked.cast, plot=liked.plot, keywords=liked.keywords)
    store.add_movies([twin])
    store.warm_vectors()
    after = store.search_each_movie([liked.id], n=5)[0]
    assert "twin-1" not in [m.id for m, _ in before]
    assert [m.id for m, _ in after[:2]] == [liked.id, "twin-1"]  # itself, then its twin (same text, same vector)


class _CountingScorer:
    """A deterministic stand-in for the trained collaborative model that counts its calls."""

    def __init__(self, movies):
        self.movies = movies
        self.calls = 0

    def score(self, weights, text="", k=None):
        self.calls += 1
        ranked = sorted(self.movies[:300], key=lambda m: (hash((m.id, tuple(weights), text)) % 997, m.id))
        return {m.id: 1.0 / (1 + i) for i, m in enumerate(ranked[:k])}


def test_collaborative_answers_are_reused_only_for_the_same_question(movie_store):
    movies = movie_store.index.movies
    scorer = _CountingScorer(movies)
    retriever = HybridRetriever(movie_store, scorer)
    retriever.warm()
    liked = [PreferenceItem(slot=Slot.MOVIE, value=movies[i].id, polarity=Polarity.LIKE, turn=0) for i in (3, 9)]
    query = RecQuery(preferences=Preferences(items=liked))
    first = retriever.retrieve(query, 50)
    again = retriever.retrieve(query, 50)
    assert scorer.calls == 1
    assert [(c.movie.id, c.score, c.evidence) for c in first] == [(c.movie.id, c.score, c.evidence) for c in again]
    disliked = PreferenceItem(slot=Slot.MOVIE, value=movies[20].id, polarity=Polarity.DISLIKE, turn=1)
    retriever.retrieve(RecQuery(preferences=Preferences(items=[*liked, disliked])), 50)
    assert scorer.calls == 2


def test_without_a_liked_movie_the_collaborative_signal_weighs_less(movie_store):
    """Genre and topic words alone are matched by the genre, mood and topic signals; the model's
    word-only ranking at full weight made attribute-only simulated users find their film less often."""
    movies = movie_store.index.movies
    full = HybridRetriever(movie_store, _CountingScorer(movies), HybridWeights(collab_words=1.0))
    default = HybridRetriever(movie_store, _CountingScorer(movies))
    share = HybridWeights().collab_words
    assert 0 < share < 1
    words_only = Preferences(items=[PreferenceItem(slot=Slot.GENRE, value="comedy", polarity=Polarity.LIKE),
                                    PreferenceItem(slot=Slot.KEYWORD, value="dog", polarity=Polarity.LIKE)])
    a = {c.movie.id: c for c in full.retrieve(RecQuery(preferences=words_only), 300)}
    b = {c.movie.id: c for c in default.retrieve(RecQuery(preferences=words_only), 300)}
    both = [i for i in a if i in b and a[i].evidence["collab"] > 0]
    assert both
    for i in both:
        assert a[i].score - b[i].score == pytest.approx((1.0 - share) * a[i].evidence["collab"])
    liked = PreferenceItem(slot=Slot.MOVIE, value=movies[3].id, polarity=Polarity.LIKE)
    with_movie = RecQuery(preferences=Preferences(items=[*words_only.items, liked]))
    assert ([(c.movie.id, c.score) for c in full.retrieve(with_movie, 50)]
            == [(c.movie.id, c.score) for c in default.retrieve(with_movie, 50)])
