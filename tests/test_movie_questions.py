"""Questions about one movie ("who directed the second one?", "how long is it?", "what is
Coco about?"): what the NLU reads, and the answers of the real graph on the small store,
checked against the corpus's own metadata."""

from __future__ import annotations

import pytest

from crs.catalog.models import Movie, MovieIndex
from crs.dialogue import facts
from crs.nlu.questions import aspects
from crs.nlu.types import NLUResult
from crs.prompts import PromptLibrary
from crs.settings import Settings
from crs.wiring import build_components


@pytest.mark.parametrize("text, expected", [
    ("who directed it?", ["director"]),
    ("who's in it", ["cast"]),
    ("who stars in Heat?", ["cast"]),
    ("how long is the first one?", ["runtime"]),
    ("is the second one long?", ["runtime"]),
    ("is it too long?", ["runtime"]),
    ("what year is it from?", ["year"]),
    ("when did it come out?", ["year"]),
    ("what is Coco about?", ["plot"]),
    ("what's the plot of the third one", ["plot"]),
    ("tell me more about the first one", ["overview"]),
    ("who directed it and how long is it?", ["director", "runtime"]),
    ("is it in French?", ["language"]),
    ("what studio made it?", ["studio"]),
    ("is it ok for kids?", ["audience"]),
    ("is it any good?", ["rating"]),
    ("is the first one good?", ["rating"]),
    ("was it really good?", ["rating"]),
    ("is the first one on Netflix?", ["where"]),
    ("where can I watch it?", ["where"]),
    ("is Inception scary?", ["tone:scary"]),
    ("is that one funny?", ["tone:funny"]),
    ("what kind of movie is it?", ["genre"]),
    ("which of these is the shortest?", ["compare:shortest"]),
    ("which one is the most recent?", ["compare:newest"]),
    ("which of the movies is the oldest", ["compare:oldest"]),
])
def test_aspects_of_a_question(text, expected):
    assert aspects(text) == expected


@pytest.fixture(scope="module")
def service(small_store: Settings, tmp_path_factory):
    db = tmp_path_factory.mktemp("questions") / "crs.db"
    svc = build_components(small_store.model_copy(update={"database_url": f"sqlite:///{db}"})).service
    yield svc
    svc.close()


def _movie(service, movie_id: str) -> Movie:
    movie = service.index.get(movie_id)
    assert movie is not None
    return movie


def _listed(service, session: str) -> list[dict]:
    turn = service.handle_turn(session, "I loved The Matrix and Die Hard")
    assert turn["phase"] == "recommendation" and len(turn["recommendations"]) >= 3
    return turn["recommendations"]


def test_questions_about_shown_movies_are_answered_from_the_corpus_and_change_nothing(service):
    recs = _listed(service, "q-shown")
    second, third = _movie(service, recs[1]["id"]), _movie(service, recs[2]["id"])
    before = service.handle_turn("q-shown", "who directed the second one?")
    assert before["phase"] == "feedback" and not before["recommendations"]
    assert second.display in before["reply"]
    assert all(d in before["reply"] for d in second.directors) if second.directors else "doesn't list" in before["reply"]
    # "it" is the movie just talked about; the preferences did not move
    cast = service.handle_turn("q-shown", "who's in it?")
    assert second.display in cast["reply"] and all(a in cast["reply"] for a in second.cast[:facts.CAST_SHOWN])
    assert cast["preferences"] == before["preferences"]
    # a bare "and the third?" asks the same of another shown movie
    again = service.handle_turn("q-shown", "and the third?")
    assert again["phase"] == "feedback" and third.display in again["reply"]
    # a length question is no length wish
    length = service.handle_turn("q-shown", "how long is the first one? is it in French?")
    first = _movie(service, recs[0]["id"])
    assert first.display in length["reply"]
    assert (str(first.runtime) in length["reply"]) if first.runtime else "running time" in length["reply"]
    assert length["preferences"] == before["preferences"]
    # asking is interest in a shown movie (a mild "why" signal), and the list stays for "more"
    kinds = {(e["movie_id"], e["kind"]) for e in service.repo.feedback("q-shown")}
    assert {(second.id, "why"), (third.id, "why"), (first.id, "why")} <= kinds
    more = service.handle_turn("q-shown", "more please")
    assert more["phase"] == "recommendation" and not {r["id"] for r in more["recommendations"]} & {r["id"] for r in recs}


def test_a_named_movie_question_answers_its_plot_without_a_like_and_more_like_it_follows(service):
    [matrix] = [m for m in service.index.movies if m.title == "The Matrix" and m.year == 1999]
    assert matrix.plot
    turn = service.handle_turn("q-named", "what is The Matrix about?")
    assert turn["phase"] == "feedback" and turn["reply"] == f"{matrix.display}: {matrix.plot.strip()}"
    assert not turn["preferences"]["liked_movies"] and not turn["recommendations"]
    follow = service.handle_turn("q-named", "sounds good, more like it please")
    assert follow["phase"] == "recommendation" and follow["recommendations"]
    assert any("The Matrix" in m for m in follow["preferences"]["liked_movies"])


@pytest.mark.parametrize("first, question", [("what about The Matrix, is it any good?", "rating"),
                                             ("how about The Matrix? who directed it?", "director")])
def test_a_title_named_before_a_question_about_it_is_asked_about_not_liked(service, first, question):
    [matrix] = [m for m in service.index.movies if m.title == "The Matrix" and m.year == 1999]
    session = f"q-subject-{question}"
    turn = service.handle_turn(session, first)
    assert turn["phase"] == "feedback" and matrix.display in turn["reply"] and not turn["recommendations"]
    assert not turn["preferences"]["liked_movies"]
    if question == "director":
        assert all(d in turn["reply"] for d in matrix.directors)
    liked = service.handle_turn(f"{session}-like", "I loved The Matrix, is it on Netflix?")  # a taste word: a like
    assert any("The Matrix" in m for m in liked["preferences"]["liked_movies"])


def test_a_question_with_nothing_to_point_at_asks_which_movie(service):
    turn = service.handle_turn("q-none", "who directed it?")
    assert turn["phase"] == "feedback" and "Which movie do you mean" in turn["reply"]
    netflix = service.handle_turn("q-none", "is it on Netflix?")
    assert "streaming" in netflix["reply"]


def test_answers_say_what_the_corpus_does_not_know(small_store: Settings):
    bare = Movie("m1", "Obscure", 1950)
    full = Movie("m2", "Known", 2001, ("animation", "family"), directors=("A Director",), cast=("B", "C"),
                 plot="A plot.", runtime=95, language="fr", companies=("Pixar Animation Studios",))
    prompts = PromptLibrary(small_store.prompts_dir)
    assert "doesn't list a director" in facts.answer(bare, ["director"], prompts, "s")
    assert "doesn't list a running time" in facts.answer(bare, ["runtime"], prompts, "s")
    assert "Obscure (1950)" in facts.answer(bare, ["overview"], prompts, "s")
    text = facts.answer(full, ["director", "runtime", "language", "studio", "audience"], prompts, "s")
    assert "A Director" in text and "95 minutes (1 h 35)" in text and "French" in text and "Pixar" in text
    assert text.count("Known (2001)") == 1  # later sentences say "it"
    assert "families" in facts.answer(full, ["audience"], prompts, "s")
    assert facts.answer(full, ["tone:scary"], prompts, "s").startswith("Probably not")
    overview = facts.answer(full, ["overview"], prompts, "s")
    assert overview.startswith("Known (2001): animation and family; directed by A Director; with B and C; 95 minutes.")
    assert overview.endswith("A plot.")


def test_an_ambiguous_title_in_a_question_means_the_one_of_this_session():
    heat95 = Movie("h95", "Heat", 1995, ("crime",), directors=("Michael Mann",), popularity=8)
    heat96 = Movie("h96", "Heat", 1996, ("drama",), popularity=44)
    index = MovieIndex([heat95, heat96])
    nlu = NLUResult(asks=["cast"], about_movies=["h96"])
    assert facts.subject(nlu, "who stars in Heat?", [], None, ["cast"], index, known=["h95"]) == ("h95", True)
    assert facts.subject(nlu, "who stars in Heat?", [], None, ["cast"], index) == ("h96", True)


def test_which_of_the_shown_movies_is_the_shortest_or_oldest(service):
    recs = _listed(service, "q-compare")
    shown = [_movie(service, r["id"]) for r in recs]
    timed = [m for m in shown if m.runtime]
    turn = service.handle_turn("q-compare", "which of these is the shortest?")
    assert turn["phase"] == "feedback" and not turn["recommendations"]
    if timed:
        shortest = min(timed, key=lambda m: m.runtime)
        assert turn["reply"].startswith(f"{shortest.display} is the shortest of these, at {shortest.runtime} minutes.")
        assert ("for " + str(len(shown) - len(timed)) + " of them") in turn["reply"] or len(timed) == len(shown)
        cast = service.handle_turn("q-compare", "who's in it?")  # "it" is the film just named
        assert shortest.display in cast["reply"]
    oldest = min(shown, key=lambda m: m.year)
    again = service.handle_turn("q-compare", "which one is the oldest?")
    assert again["reply"] == f"{oldest.display} is the oldest of these."
    newest = max(shown, key=lambda m: m.year)
    follow = service.handle_turn("q-compare", "and the newest?")
    assert follow["phase"] == "feedback" and follow["reply"].startswith(newest.title)
    assert service.handle_turn("q-compare-none", "which one is the longest?")["reply"].startswith("I haven't suggested")


def test_him_or_her_after_a_cast_or_director_answer_is_that_person(service):
    [matrix] = [m for m in service.index.movies if m.title == "The Matrix" and m.year == 1999]
    service.handle_turn("q-him", "who stars in The Matrix?")
    turn = service.handle_turn("q-him", "hmm, not a fan of him. others?")
    assert turn["preferences"]["disliked_people"] == [matrix.cast[0]]
    assert turn["recommendations"] and not any(matrix.cast[0] in r["cast"] for r in turn["recommendations"])
    service.handle_turn("q-her", "who directed The Matrix?")
    turn = service.handle_turn("q-her", "more by her please")
    assert turn["preferences"]["liked_people"] == [matrix.directors[0]] and turn["recommendations"]
    assert not service.handle_turn("q-none-him", "not a fan of him")["preferences"]["disliked_people"]
