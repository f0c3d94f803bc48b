"""Complaints about a film ("Interstellar was too slow", "the first one is too violent"): the
title is disliked, the mood or genre unwanted, a shown film rejected (crs/nlu/complaints.py)."""

from __future__ import annotations

import pytest

from crs.catalog.models import Movie, MovieIndex
from crs.nlu.complaints import complains, of_shown
from crs.nlu.factory import build_rule_nlu
from crs.nlu.types import Intent
from crs.wiring import build_components

MOVIES = [
    Movie("1", "Heat", 1995, ("action", "crime"), ("Michael Mann",), ("Al Pacino",), popularity=40),
    Movie("3", "Collateral", 2004, ("crime", "thriller"), ("Michael Mann",), ("Tom Cruise",), popularity=10),
    Movie("7", "Interstellar", 2014, ("sci-fi",), ("Christopher Nolan",), ("Matthew McConaughey",), popularity=150),
    Movie("12", "Jurassic Park", 1993, ("adventure", "sci-fi"), ("Steven Spielberg",), ("Sam Neill",), popularity=300),
]


@pytest.fixture(scope="module")
def nlu():
    return build_rule_nlu(MovieIndex(list(MOVIES)), year=2020)


def _items(result):
    return {(i.slot.value, i.value, i.polarity.value) for i in result.items}


def _service(small_store, tmp_path):
    settings = small_store.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'crs.db'}"})
    return build_components(settings).service


def _label(rec):
    return f"{rec['title']} ({rec['year']})"


@pytest.mark.parametrize("text, expected, absent", [
    ("Jurassic Park was too scary for my son", {("movie", "12", "dislike"), ("genre", "horror", "dislike")},
     {("movie", "12", "like")}),
    ("He's seen Jurassic Park, too scary", {("movie", "12", "dislike"), ("movie", "12", "seen"),
                                            ("genre", "horror", "dislike")}, {("movie", "12", "like")}),
    ("Jurassic Park was way too violent", {("movie", "12", "dislike"), ("mood", "violent", "dislike")},
     {("mood", "violent", "like")}),
    ("Interstellar was too slow and boring", {("movie", "7", "dislike")}, {("movie", "7", "like")}),
    ("Interstellar was boring", {("movie", "7", "dislike")}, {("movie", "7", "like")}),  # a plain bad verdict
    ("Interstellar wasn't bad at all", {("movie", "7", "like")}, {("movie", "7", "dislike")}),
    ("Collateral was so bad ass", {("movie", "3", "like")}, {("movie", "3", "dislike")}),
    # praise before the title keeps it: the film was loved, only the scare is unwanted
    ("I loved Jurassic Park but it was too scary for my son", {("movie", "12", "like"), ("genre", "horror", "dislike")},
     {("movie", "12", "dislike")}),
    # wishes stay wishes, and the titles stay liked
    ("I loved Heat and Collateral, nothing too violent though", {("movie", "3", "like"), ("mood", "violent", "dislike")},
     {("movie", "3", "dislike")}),
    ("I liked Collateral, not too violent", {("movie", "3", "like"), ("mood", "violent", "dislike")},
     {("movie", "3", "dislike")}),
    # "too" names what is unwanted, whatever precedes it
    ("the first one is too violent", {("mood", "violent", "dislike")}, {("mood", "violent", "like")}),
    ("too much violence in those", {("mood", "violent", "dislike")}, set()),
])
def test_a_complaint_dislikes_the_title_and_the_mood(nlu, text, expected, absent):
    found = _items(nlu.parse(text))
    assert expected <= found and not (absent & found), found


@pytest.mark.parametrize("text, rejects", [
    ("the first one is too violent", True),
    ("that looks too scary", True),
    ("those are way too long", True),
    ("too scary for my kids", True),
    ("Jurassic Park was too scary", False),  # the named film is disliked; nothing shown is rejected
    ("something not too long please", False),
    ("nothing too violent", False),
    ("I want to watch it too", False),
    ("I liked it too much", False),
    ("the second one was boring", True),
    ("that one looks dull", True),
    ("the first movie was a letdown", True),
    ("it was not bad", False),
    ("the last one wasn't bad", False),
    ("is it too long?", False),  # a question about the film, answered from the corpus
    ("is the second one too scary for kids?", False),
])
def test_a_complaint_about_a_shown_film_rejects_it(nlu, text, rejects):
    assert (Intent.REJECT in nlu.parse(text).intents) is rejects


def test_wishes_are_no_complaints():
    assert complains("it was too long") and complains("Way too much gore")
    assert not complains("nothing too violent") and not complains("not too long please")
    assert not complains("me too") and not complains("I loved it too")
    assert complains("too many jump scares") and not complains("I liked it too much")
    assert not complains("I love it too much to pick another") and not complains("too much for me to say")
    assert of_shown("the second one looks too scary") and not of_shown("nothing too scary for the second one")


def test_that_looks_too_scary_rejects_one_film_and_keeps_horror_out(small_store, tmp_path):
    service = _service(small_store, tmp_path)
    try:
        shown = service.handle_turn("c1", "some sci-fi movies")["recommendations"]
        assert len(shown) >= 2
        turn = service.handle_turn("c1", "that looks too scary")
        prefs = turn["preferences"]
        assert "horror" in prefs["disliked_genres"]
        first = _label(shown[0])
        assert prefs["disliked_movies"] == [first]  # "that": the top pick, not the whole list
        assert turn["recommendations"] and first not in {_label(r) for r in turn["recommendations"]}
    finally:
        service.close()


def test_seen_then_loved_it_after_a_comma_is_a_like(nlu):
    """"seen Collateral, loved it": the verdict in the next clause of the sentence counts."""
    found = _items(nlu.parse("seen Collateral, loved it"))
    assert {("movie", "3", "like"), ("movie", "3", "seen")} <= found


def test_a_documentary_about_space_is_no_sci_fi(nlu):
    found = _items(nlu.parse("I want to watch a documentary about space"))
    assert ("genre", "documentary", "like") in found and ("genre", "sci-fi", "like") not in found
    assert ("genre", "sci-fi", "like") in _items(nlu.parse("something about space"))  # no documentary: still sci-fi


def test_too_scary_while_asking_for_horror_rejects_the_film_and_keeps_horror(small_store, tmp_path):
    """Before: "You've asked for horror and also for no horror ... which?" after "the second one was
    way too scary for me" in a horror conversation."""
    service = _service(small_store, tmp_path)
    try:
        shown = service.handle_turn("h1", "some horror movies please")["recommendations"]
        turn = service.handle_turn("h1", "the second one was way too scary for me")
        assert turn["phase"] == "recommendation" and turn["recommendations"]
        prefs = turn["preferences"]
        assert prefs["liked_genres"] == ["horror"] and "horror" not in prefs["disliked_genres"]
        assert prefs["disliked_movies"] == [_label(shown[1])]
    finally:
        service.close()


def test_a_scary_movie_but_not_too_scary_is_horror_without_a_question(small_store, tmp_path):
    """A degree, not a contradiction ("a horror movie but nothing scary" still asks which)."""
    service = _service(small_store, tmp_path)
    try:
        turn = service.handle_turn("s1", "a scary movie but not too scary")
        assert turn["phase"] == "recommendation" and turn["recommendations"]
        assert turn["preferences"]["liked_genres"] == ["horror"] and not turn["preferences"]["disliked_genres"]
        assert service.handle_turn("s2", "a horror movie but nothing scary")["phase"] == "clarification"
    finally:
        service.close()


def test_too_weird_after_why_rejects_the_film_asked_about(small_store, tmp_path):
    service = _service(small_store, tmp_path)
    try:
        shown = service.handle_turn("w1", "some comedies")["recommendations"]
        service.handle_turn("w1", "why the second one?")
        turn = service.handle_turn("w1", "too weird for me")
        assert turn["preferences"]["disliked_movies"] == [_label(shown[1])]  # not all five
    finally:
        service.close()
