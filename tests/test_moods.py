"""Moods read from a film's plot and keywords (crs.nlu.lexicon.mood_pattern) and an unwanted
mood in the retriever: "I loved Heat and Collateral, nothing too violent though"."""

from __future__ import annotations

import numpy as np
import pytest

from crs.catalog.models import Movie
from crs.nlu.lexicon import load_lexicon, mood_pattern, mood_word_count
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.recommender.hybrid import HybridRetriever
from crs.recommender.types import RecQuery


@pytest.mark.parametrize("text, count", [
    ("a soldier home from the war", 1),
    ("after the wars of the roses", 1),
    ("she wins an award for software toward the end", 0),  # "war" inside other words is no war
    ("he killed a man; the killing goes on", 1),  # inflections of one word count once
    ("a serial killer stalks the town", 1),  # the longer word, not "killer" as well
    ("a hitman out for revenge", 2),
    ("a skilled baker", 0),
    ("gangsters in a machine gun shootout", 3),
    ("bodies turn up, each having met a uniquely gruesome demise", 1),  # Jigsaw: "not gory" listed it
    ("a sadistic family with a chainsaw", 2),
])
def test_violent_words_are_whole_words_with_their_endings(text, count):
    pattern = mood_pattern(load_lexicon().mood_words["violent"])
    assert mood_word_count(pattern, text) == count


def test_a_funeral_is_no_fun():
    pattern = mood_pattern(("fun", "friendship"))
    assert mood_word_count(pattern, "a funeral in the family") == 0
    assert mood_word_count(pattern, "fun with friends and friendships") == 2
    assert mood_pattern(()) is None and mood_word_count(None, "anything") == 0


def _prefs(liked: list[str], disliked_moods: list[str]) -> Preferences:
    prefs = Preferences()
    for movie_id in liked:
        prefs.add(PreferenceItem(slot=Slot.MOVIE, value=movie_id, polarity=Polarity.LIKE))
    for mood in disliked_moods:
        prefs.add(PreferenceItem(slot=Slot.MOOD, value=mood, polarity=Polarity.DISLIKE))
    return prefs


def test_an_action_film_scores_below_a_crime_drama_when_violence_is_unwanted(movie_store):
    retriever = HybridRetriever(movie_store)
    action = Movie("a1", "A Chase", 2001, ("action", "crime"), plot="Two cops chase a thief across town.")
    drama = Movie("d1", "A Trial", 2001, ("crime", "drama"), plot="A lawyer takes on a hopeless case.")
    retriever._ensure_indexes()  # a fresh retriever: its per-row mood cache is empty, so rows 0 and 1 read these films
    rows = np.array([0, 1])
    score = retriever._mood([action, drama], rows, [], ["violent"])
    assert score[0] < score[1] == 0.0  # the action genre alone makes a film "violent"
    wanted = retriever._mood([action, drama], rows, ["violent"], [])
    assert wanted[0] > wanted[1]


def test_nothing_violent_after_crime_films_brings_crime_without_action(movie_store):
    """Liked crime thrillers and "nothing too violent": the list keeps to crime and drama
    and leaves out action, war and horror films, which come first without the wish."""
    index = movie_store.index
    liked = [m.id for m in index.movies if m.title in ("Heat", "The Dark Knight") and "action" in m.genres][:2]
    assert liked, "the small store holds the most mentioned ReDial films"
    retriever = HybridRetriever(movie_store)
    violent = {"action", "war", "horror"}
    plain = retriever.retrieve(RecQuery(preferences=_prefs(liked, []), exclude=frozenset(liked)), 10)
    assert sum(bool(violent & set(c.movie.genres)) for c in plain[:5]) >= 3  # the wish changes something
    calm = retriever.retrieve(RecQuery(preferences=_prefs(liked, ["violent"]), exclude=frozenset(liked)), 10)
    assert not any(violent & set(c.movie.genres) for c in calm[:5]), [(c.movie.display, c.movie.genres) for c in calm[:5]]


def test_a_wanted_topic_lifts_the_films_about_it(movie_store):
    """"Something about journalism": a film whose keywords or plot name the topic gains
    LIKED_TOPIC mood units (before, only the text search saw the word)."""
    from collections import Counter

    from crs.recommender.hybrid import LIKED_TOPIC, _mentions_topic

    index = movie_store.index
    counts = Counter(k for m in index.movies if "drama" in m.genres for k in m.keywords)
    topic = next(k for k, n in counts.most_common() if 5 <= n <= 40 and " " not in k)
    about = lambda found: sum(_mentions_topic([c.movie], (topic,))[0] for c in found)  # noqa: E731
    prefs = Preferences()
    prefs.add(PreferenceItem(slot=Slot.GENRE, value="drama", polarity=Polarity.LIKE))
    plain = HybridRetriever(movie_store).retrieve(RecQuery(preferences=prefs), 10)
    prefs.add(PreferenceItem(slot=Slot.KEYWORD, value=topic, polarity=Polarity.LIKE))
    wanted = HybridRetriever(movie_store).retrieve(RecQuery(preferences=prefs), 10)
    assert about(wanted) > about(plain), topic
    assert LIKED_TOPIC > 0 and all(c.evidence["mood"] >= LIKED_TOPIC for c in wanted if about([c]))


def test_a_sad_wish_lifts_dramas_and_not_sad_sinks_none(movie_store):
    """"A sad movie that will make me cry" listed Jumanji and The Avengers after three tear-jerkers:
    the sad mood had no genre. Dramas now gain a mood unit when sadness is wanted; "not sad" does
    not sink every drama (the genre is in ``mood_genres_wanted``, not ``mood_genres``)."""
    retriever = HybridRetriever(movie_store)
    retriever._ensure_indexes()
    index = movie_store.index
    drama = next(m for m in index.movies if "drama" in m.genres and "comedy" not in m.genres)
    comedy = next(m for m in index.movies if "comedy" in m.genres and "drama" not in m.genres)
    rows = np.array([index.row[drama.id], index.row[comedy.id]])
    words, _ = retriever._mood_rows("sad", [drama, comedy], rows)
    wanted = retriever._mood([drama, comedy], rows, ["sad"], [])
    assert list(wanted) == [0.5 * words[0] + 1.0, 0.5 * words[1]]
    unwanted = retriever._mood([drama, comedy], rows, [], ["sad"])
    assert list(unwanted) == [-1.5 * words[0], -1.5 * words[1]]  # words only: no drama sinks for being one


def test_every_candidate_is_scored_by_its_closeness_to_the_words(movie_store):
    """The text signal was Chroma's similarity for its top hits and 0 for every other candidate,
    so a film from another pool (a topic's, a genre's) lost ~.3 for not being among them. The
    score now uses each candidate's own cosine; the evidence keeps Chroma's (its explanation)."""
    retriever = HybridRetriever(movie_store)
    movies = movie_store.index.movies[:3]
    rows = np.array([movie_store.index.row[m.id] for m in movies])
    text = "based on true story"
    found = {movies[0].id: {"text": 0.9}}  # Chroma proposed only the first
    sims = retriever._similarities(movies, {}, [], text, found, rows)
    assert list(sims.text) == [0.9, 0.0, 0.0]
    query = movie_store.embedder.embed_one(text)
    expected = movie_store.vectors([m.id for m in movies[1:]]) @ (query / np.linalg.norm(query))
    assert sims.text_all[0] == 0.9 and np.allclose(sims.text_all[1:], expected, atol=1e-6) and min(sims.text_all[1:]) > 0


def test_a_wanted_corpus_keyword_brings_its_most_popular_films(movie_store):
    """"Looking for a movie based on a true story" listed Won't Back Down, The Iceman, Frances:
    only the text search proposed films, and those with the keyword that it missed (Titanic,
    Schindler's List) were never scored. A keyword now has its own pool, most popular first."""
    from collections import Counter

    index = movie_store.index
    counts = Counter(k for m in index.movies for k in m.keywords)
    topic = next(k for k, n in counts.most_common() if n >= 8)
    tagged = [m.id for m in sorted(index.movies, key=lambda m: -m.popularity) if topic in m.keywords]
    retriever = HybridRetriever(movie_store, pool_size=6)  # small pools: the popular backstop misses most of them
    prefs = Preferences(items=[PreferenceItem(slot=Slot.KEYWORD, value=topic, polarity=Polarity.LIKE)])
    found = retriever.retrieve(RecQuery(preferences=prefs, text=topic), 5)
    assert sum(c.movie.id in tagged for c in found) >= 4, (topic, [c.movie.display for c in found])
    assert tagged[0] in {c.movie.id for c in found}
    assert retriever._with_keyword(topic) == tagged[:6] and retriever._with_keyword("no such keyword") == []
