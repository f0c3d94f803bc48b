"""Length, language and studio wishes ("something short", "under 90 minutes", "French films",
"Pixar movies"): the TMDB facts in the corpus, the NLU, the retriever and whole conversations."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from crs import facets
from crs.catalog.models import Movie, MovieIndex
from crs.corpus.build import _checked_movie
from crs.corpus.merge import load_movies
from crs.corpus.sources import _language
from crs.nlu.attributes import language, runtime, studio
from crs.nlu.factory import build_rule_nlu
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.recommender.facet_rows import FacetRows
from crs.recommender.hybrid import KIDS_MISS, LESSER_KNOWN, LESSER_KNOWN_WEIGHT, HybridRetriever
from crs.recommender.types import RecQuery
from crs.ui.render import minutes_label, recommendation_card
from crs.wiring import build_components


@pytest.mark.parametrize("text, expected", [
    ("something short tonight", "short"),
    ("under 90 minutes please", "under 90 min"),
    ("less than two hours", "under 120 min"),
    ("no longer than an hour and a half", "under 90 min"),
    ("90 mins or less", "under 90 min"),
    ("within 2 hours", "under 120 min"),
    ("not too long", "short"),
    ("a romantic comedy for date night, nothing too long", "short"),
    ("a long epic", "long"),
    ("I haven't seen it in a long time", None),
    ("under 5 minutes", None),  # no film wish: not read as one
])
def test_the_nlu_reads_length_wishes_as_facet_words(text, expected):
    assert runtime(text) == expected


def test_facet_words_parse_label_and_replace_their_kind():
    assert facets.parse("under 90 min") == facets.Facet("runtime", high=90)
    assert facets.parse("short") == facets.Facet("runtime", high=facets.SHORT_MAX)
    assert facets.parse("french") == facets.Facet("language", code="fr")
    assert facets.parse("foreign") == facets.Facet("language")
    assert facets.parse("pixar") == facets.Facet("studio", code="pixar") and facets.label("ghibli") == "Studio Ghibli"
    assert facets.parse("dark") is None  # an ordinary mood
    assert facets.label("foreign") == "foreign-language" and facets.label("french") == "French"
    assert facets.same_kind("short", "long") and facets.same_kind("french", "foreign")
    assert not facets.same_kind("short", "french") and not facets.same_kind("short", "dark")
    assert language("any good French films?") == "french" and facets.is_facet(language("foreign movies"))
    assert language("Korean thrillers like Oldboy") == "korean" and language("french comedies") == "french"
    assert language("my English teacher liked it") is None and language("I speak English") is None
    assert language("something Korean") == "korean" and language("anything else French?") == "french"
    assert language("any good korean food") is None


@pytest.mark.parametrize("text, expected", [
    ("Pixar movies please", "pixar"),
    ("a Studio Ghibli film", "ghibli"),
    ("Ghibli stuff", "ghibli"),
    ("some A24 horror", "a24"),
    ("old Hammer horror films", "hammer"),
    ("anything by Laika?", "laika"),
    ("it's hammer time", None),  # a word that is also a studio needs a film word or "by"/"from"
    ("no Disney stuff please", None),  # a negated studio is no wish for it
    ("I don't like Pixar", None),
])
def test_the_nlu_reads_studio_wishes(text, expected):
    found = studio(text)
    assert (found[0] if found else None) == expected


def test_a_studio_name_is_not_linked_as_a_title():
    index = MovieIndex([Movie("l1", "Laika", 2013, ("documentary",)), Movie("c1", "Coraline", 2009, ("animation",))])
    nlu = build_rule_nlu(index, year=2020)
    assert [i.value for i in nlu.parse("I watched Laika last week", 1).items] == ["l1"]  # the title is linkable
    result = nlu.parse("anything by Laika?", 1)
    assert result.studio == "laika" and not result.ambiguous
    assert not [i for i in result.items if i.slot == Slot.MOVIE]


def test_facet_rows_say_fit_misfit_or_unknown():
    movies = [Movie("a", "A", runtime=85, language="fr", companies=("Pixar Animation Studios",)),
              Movie("b", "B", runtime=150, language="en", companies=("Walt Disney Pictures",)), Movie("c", "C")]
    rows = FacetRows.build(movies)
    every = np.arange(3)
    assert rows.fit(facets.parse("under 90 min"), every).tolist() == [1.0, -1.0, 0.0]
    assert rows.fit(facets.parse("long"), every).tolist() == [-1.0, 1.0, 0.0]
    assert rows.fit(facets.parse("foreign"), every).tolist() == [1.0, -1.0, 0.0]
    assert rows.fit(facets.parse("french"), every).tolist() == [1.0, -1.0, 0.0]
    assert rows.fit(facets.parse("pixar"), every).tolist() == [1.0, -1.0, 0.0]
    assert rows.fit(facets.parse("disney"), every).tolist() == [-1.0, 1.0, 0.0]
    assert rows.pool(facets.parse("french"), np.array([2, 1, 0]), 5).tolist() == [0]
    assert rows.pool(facets.parse("disney"), np.array([2, 1, 0]), 5).tolist() == [1]
    assert rows.pool(facets.parse("short"), np.array([2, 1, 0]), 5).tolist() == []


def test_tmdb_language_falls_back_to_the_spoken_one():
    assert _language("da", '[{"iso_639_1": "en", "name": "English"}]') == "en"  # "What Happens in Vegas"
    assert _language("fr", '[{"iso_639_1": "fr"}, {"iso_639_1": "en"}]') == "fr"
    assert _language("en", '[{"iso_639_1": "fr"}]') == "en"  # "Shrek the Third": spoken French only
    assert _language("nb", '[{"iso_639_1": "no"}]') == "no"
    assert _language("cn", "") == "zh" and _language("xx", "[]") is None and _language("", "bad json") is None


def test_the_corpus_carries_runtime_language_and_companies(small_store):
    movies = {m.display: m for m in load_movies(Path(small_store.data_dir), limit=400, include_movielens=False)}
    toy = movies["Toy Story (1995)"]
    assert toy.runtime == 81 and toy.language == "en" and "Pixar Animation Studios" in toy.companies
    assert sum(1 for m in movies.values() if m.runtime) > 200  # most popular ReDial films have one
    round_trip = Movie.from_dict(toy.to_dict())
    assert round_trip == toy


def test_a_movie_file_may_give_runtime_and_language_and_bad_ones_are_refused():
    movie = _checked_movie({"id": "x1", "title": "Short One", "runtime": 75, "language": "fr",
                            "companies": ["Studio X"]})
    assert (movie.runtime, movie.language, movie.companies) == (75, "fr", ("Studio X",))
    for bad in ({"runtime": "75"}, {"runtime": 0}, {"runtime": True}, {"language": 3}, {"companies": "Studio X"}):
        with pytest.raises(ValueError):
            _checked_movie({"id": "x2", "title": "Bad", **bad})


@contextmanager
def _service(store, tmp_path):
    """The real app service on ``store`` with its own SQLite file."""
    service = build_components(store.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'crs.db'}"})).service
    try:
        yield service
    finally:
        service.close()


def _wish(*values: str, genre: str | None = None) -> Preferences:
    items = [PreferenceItem(slot=Slot.MOOD, value=v, polarity=Polarity.LIKE) for v in values]
    if genre:
        items.append(PreferenceItem(slot=Slot.GENRE, value=genre, polarity=Polarity.LIKE))
    return Preferences(items=items)


def test_a_length_wish_puts_known_fits_first_and_known_misfits_last(movie_store):
    retriever = HybridRetriever(movie_store)
    plain = retriever.retrieve(RecQuery(preferences=_wish(genre="comedy")), 30)
    short = retriever.retrieve(RecQuery(preferences=_wish("under 90 min", genre="comedy")), 30)
    assert any(c.movie.runtime and c.movie.runtime > 90 for c in plain[:10])  # the wish changes something
    top = [c.movie.runtime for c in short[:10]]
    assert all(r is not None and r <= 90 for r in top), top
    known = [c.movie.runtime <= 90 for c in short if c.movie.runtime]
    assert known == sorted(known, reverse=True)  # every known misfit after every known fit
    assert all("comedy" in c.movie.genres for c in short[:10])  # the genre ask still rules


def test_a_language_wish_pools_films_in_that_language(movie_store):
    retriever = HybridRetriever(movie_store, pool_size=20)
    found = retriever.retrieve(RecQuery(preferences=_wish("foreign")), 10)
    in_store = [m for m in movie_store.index.movies if m.language and m.language != "en" and (m.genres or m.plot)]
    assert len(in_store) >= 3, "the test store should hold a few films not in English"
    assert [c.movie.language not in (None, "en") for c in found[:3]] == [True] * 3


def test_a_studio_wish_puts_its_films_first_and_the_reason_says_so(small_store, tmp_path):
    with _service(small_store, tmp_path) as service:
        t = service.handle_turn("f2", "Pixar movies please")
        assert t["preferences"]["moods"] == ["pixar"] and "Pixar" in t["reply"]
        assert len(t["recommendations"]) >= 3
        assert all(r["reason"].endswith("from Pixar.") for r in t["recommendations"][:3])


def test_conversation_short_then_long_replaces_the_wish_and_says_the_length(small_store, tmp_path):
    with _service(small_store, tmp_path) as service:
        t1 = service.handle_turn("f1", "a comedy, something under 90 minutes")
        assert t1["preferences"]["moods"] == ["under 90 min"] and "under 90 min" in t1["reply"]
        assert t1["recommendations"] and all(r["runtime"] and r["runtime"] <= 90 for r in t1["recommendations"])
        assert all("minutes long" in r["reason"] for r in t1["recommendations"])
        t2 = service.handle_turn("f1", "actually make it a long one")
        assert t2["preferences"]["moods"] == ["long"]  # the later length wish replaced the earlier one
        assert t2["recommendations"] and all((r["runtime"] or 999) >= facets.LONG_MIN for r in t2["recommendations"][:3])


def test_the_card_shows_the_runtime():
    card = recommendation_card({"id": "1", "title": "Airplane!", "year": 1980, "runtime": 88})
    assert "1 h 28 min" in card and 'class="crs-card-runtime"' in card
    assert "crs-card-runtime" not in recommendation_card({"id": "2", "title": "Unknown", "runtime": None})
    assert (minutes_label(142), minutes_label(120), minutes_label(59)) == ("2 h 22 min", "2 h", "59 min")


def test_an_ambiguous_title_is_settled_by_the_language_asked_for(redial_store, tmp_path):
    """"Korean thrillers like Oldboy": only Park Chan-wook's Oldboy is known to be Korean (the
    store of every ReDial film: the small one lacks Spike Lee's)."""
    with _service(redial_store, tmp_path) as service:
        plain = service.handle_turn("f3", "thrillers like Oldboy")
        assert plain["phase"] == "clarification"  # two Oldboys, nothing to tell them apart
        t = service.handle_turn("f4", "Korean thrillers like Oldboy")
        assert t["phase"] == "recommendation" and "the one in Korean" in t["reply"]
        assert t["preferences"]["liked_movies"] == ["Oldboy (2003)"] and t["preferences"]["moods"] == ["korean"]
        assert any(r["reason"].endswith("in Korean.") for r in t["recommendations"])


def test_children_watching_put_comedies_without_a_family_genre_last(movie_store):
    retriever = HybridRetriever(movie_store)
    kids = lambda m: bool({"family", "animation"} & set(m.genres))  # noqa: E731
    plain = retriever.retrieve(RecQuery(preferences=_wish(genre="comedy")), 30)
    assert not all(kids(c.movie) for c in plain[:10])  # the wish changes something
    found = retriever.retrieve(RecQuery(preferences=_wish("kids", genre="comedy")), 30)
    assert all(kids(c.movie) for c in found[:5]), [(c.movie.display, c.movie.genres) for c in found[:5]]
    fits = [kids(c.movie) for c in found if c.movie.genres]
    assert fits == sorted(fits, reverse=True)  # every known misfit after every fit
    # the mood score itself: a comedy whose genres hold no family or animation sinks by KIDS_MISS
    index = movie_store.index
    adult = next(m for m in index.movies if "comedy" in m.genres and not kids(m))
    family = next(m for m in index.movies if "comedy" in m.genres and kids(m))
    rows = np.array([index.row[adult.id], index.row[family.id]])
    score = retriever._mood([adult, family], rows, ["kids"], [])
    assert KIDS_MISS > 0 and score[0] < 0 < score[1]  # without the penalty a wanted mood never scores below 0


def test_a_lesser_known_wish_sinks_the_most_talked_about(movie_store):
    retriever = HybridRetriever(movie_store)
    plain = retriever.retrieve(RecQuery(preferences=_wish(genre="drama")), 10)
    hidden = retriever.retrieve(RecQuery(preferences=_wish(LESSER_KNOWN, genre="drama")), 10)
    assert np.mean([c.movie.popularity for c in hidden]) < np.mean([c.movie.popularity for c in plain])
    index = movie_store.index
    by_pop = sorted((m for m in index.movies if m.genres and not m.plot), key=lambda m: -m.popularity) or \
        sorted((m for m in index.movies if m.genres), key=lambda m: -m.popularity)
    top, rare = by_pop[0], by_pop[-1]
    assert top.popularity > rare.popularity
    rows = np.array([index.row[top.id], index.row[rare.id]])
    score = retriever._mood([top, rare], rows, [LESSER_KNOWN], [])
    assert score[0] < score[1] and score[0] <= -LESSER_KNOWN_WEIGHT * 0.5
