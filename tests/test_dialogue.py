"""The real compiled graph, real Chroma store, real SQLite files: whole conversations."""

import pytest

from crs.catalog.normalize import norm_title
from crs.nlu.attributes import other_people
from crs.service import InputError
from crs.wiring import build_components


@pytest.fixture()
def settings(small_store, tmp_path):
    return small_store.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'crs.db'}"})


@pytest.fixture()
def service(settings):
    svc = build_components(settings).service
    yield svc
    svc.close()


def titles(turn):
    return [norm_title(r["title"]) for r in turn["recommendations"]]


def test_greeting_then_genre_request(service):
    t0 = service.handle_turn("s1", "hello!")
    assert t0["phase"] == "greeting" and not t0["recommendations"]
    t1 = service.handle_turn("s1", "I want to watch an animated movie")
    assert t1["phase"] == "recommendation"
    assert t1["recommendations"] and all("animation" in r["genres"] for r in t1["recommendations"])
    assert t1["preferences"]["liked_genres"] == ["animation"]
    assert all(r["reason"] for r in t1["recommendations"])


def test_constraints_are_honoured_and_nothing_repeats(service):
    t0 = service.handle_turn("s2", "I loved The Matrix, but no horror")
    assert t0["recommendations"]
    assert "thematrix" not in titles(t0)
    t1 = service.handle_turn("s2", "nothing before 1995 please")
    t2 = service.handle_turn("s2", "more please")
    for t in (t1, t2):
        assert t["recommendations"]
        for r in t["recommendations"]:
            assert "horror" not in r["genres"] and r["year"] >= 1995
    assert not set(titles(t2)) & set(titles(t1)) and not set(titles(t1)) & set(titles(t0))


def test_person_request_and_seen_feedback(service):
    t0 = service.handle_turn("s3", "Any films by Christopher Nolan?")
    assert t0["recommendations"]
    assert all("Christopher Nolan" in r["directors"] + r["cast"] or r["reason"] for r in t0["recommendations"])
    nolan = [r for r in t0["recommendations"] if "Christopher Nolan" in r["directors"]]
    assert len(nolan) >= 0.6 * len(t0["recommendations"])
    t1 = service.handle_turn("s3", "Seen all of those, anything else?")
    assert not set(titles(t1)) & set(titles(t0))
    assert len(t1["preferences"]["seen_movies"]) == len(t0["recommendations"])


def test_seen_it_marks_one_film_and_seen_those_all(service):
    t0 = service.handle_turn("s3b", "Any films by Christopher Nolan?")
    assert len(t0["recommendations"]) >= 3
    t1 = service.handle_turn("s3b", "I've seen it")  # the top pick, not the whole list
    assert [s.split(" (")[0] for s in t1["preferences"]["seen_movies"]] == [t0["recommendations"][0]["title"]]
    shown = t1["recommendations"]
    assert len(shown) >= 2
    t2 = service.handle_turn("s3b", "tell me more about the second one")
    assert t2["phase"] == "feedback" and not t2["recommendations"]
    t3 = service.handle_turn("s3b", "oh wait, seen it already")  # the film just talked about
    assert [s.split(" (")[0] for s in t3["preferences"]["seen_movies"]][1:] == [shown[1]["title"]]
    t4 = service.handle_turn("s3b", "seen those too")
    assert len(t4["preferences"]["seen_movies"]) >= len(shown) + 1


def test_ambiguous_title_asks_then_resolves(service):
    t0 = service.handle_turn("s4", "I loved Ghostbusters")
    assert t0["phase"] == "clarification" and "?" in t0["reply"] and "1984" in t0["reply"] and "2016" in t0["reply"]
    assert not t0["preferences"]["liked_movies"]
    t1 = service.handle_turn("s4", "the 1984 one")
    assert t1["preferences"]["liked_movies"] == ["Ghostbusters (1984)"]
    assert t1["recommendations"] and "ghostbusters" not in titles(t1)


def test_an_ambiguous_title_named_with_a_related_movie_is_not_asked(service):
    t = service.handle_turn("s4b", "I loved Ghostbusters and Stripes")
    assert t["phase"] == "recommendation" and t["recommendations"]
    assert "Ghostbusters (1984)" in t["preferences"]["liked_movies"]
    assert 'I took "Ghostbusters" to be Ghostbusters (1984), by Ivan Reitman like Stripes (1981)' in t["reply"]
    # a movie liked earlier settles it too, the other way round
    service.handle_turn("s4e", "Bridesmaids was great")
    t = service.handle_turn("s4e", "and I liked Ghostbusters too")
    assert "Ghostbusters (2016)" in t["preferences"]["liked_movies"] and t["recommendations"]


def test_two_genres_in_one_ask_want_films_of_both_first(service):
    t = service.handle_turn("s4f", "a romantic comedy for date night")
    assert len(t["recommendations"]) >= 3
    assert all({"comedy", "romance"} <= set(r["genres"]) for r in t["recommendations"])  # Titanic came first before


def test_a_genre_ask_narrows_an_earlier_person_ask(service):
    service.handle_turn("s4c", "movies with Tom Hanks")
    t = service.handle_turn("s4c", "only comedies")
    assert t["recommendations"] and "loosened" not in t["reply"]
    assert all("comedy" in r["genres"] for r in t["recommendations"])  # the latest ask is the requirement
    hanks = ["Tom Hanks" in r["cast"] + r["directors"] for r in t["recommendations"]]
    assert sum(hanks) >= 2 and hanks == sorted(hanks, reverse=True)  # his comedies first


def test_a_person_with_no_film_of_the_earlier_genre_is_a_new_topic(service):
    service.handle_turn("s4d", "I'd like a western")
    t = service.handle_turn("s4d", "anything by Christopher Nolan?")
    assert t["recommendations"] and "loosened" not in t["reply"]
    nolan = [r for r in t["recommendations"] if "Christopher Nolan" in r["directors"]]
    assert len(nolan) >= 0.6 * len(t["recommendations"])


def test_no_sequels_keeps_the_liked_movies_franchise_out(service):
    first = service.handle_turn("s4g", "movies like Star Wars")
    assert any("star wars" in r["title"].lower() or r["title"] == "The Empire Strikes Back"
               for r in first["recommendations"])  # the collaborative signal ranks the saga first
    for t in (service.handle_turn("s4g", "no sequels please"), service.handle_turn("s4g", "more")):
        assert t["recommendations"] and "no sequel" in t["reply"]
        for r in t["recommendations"]:
            assert "star wars" not in r["title"].lower() and r["title"] not in ("The Empire Strikes Back",
                                                                                "Return of the Jedi"), r


def test_bad_input(service):
    with pytest.raises(InputError):
        service.handle_turn("s5", "   ")
    huge = service.handle_turn("s5", "I love comedies " * 10_000)
    assert "first" in huge["reply"] and huge["recommendations"]
    odd = service.handle_turn("s5", "\x00\x01\x02 ÿþ 🎬🍿 <script>alert(1)</script>")
    assert "<script>" not in odd["reply"]
    assert service.handle_turn("s5", "Je voudrais un film")["reply"]
    with pytest.raises(ValueError):
        service.handle_turn("bad id with spaces", "hi")


def test_session_resumes_after_restart(settings):
    first = build_components(settings).service
    first.handle_turn("s6", "I loved The Matrix and no horror please")
    shown = first.handle_turn("s6", "more")["recommendations"]
    first.close()
    second = build_components(settings).service
    t = second.handle_turn("s6", "others?")
    assert t["turn"] == 2
    assert "horror" in t["preferences"]["disliked_genres"]
    assert any("Matrix" in m for m in t["preferences"]["liked_movies"])
    assert not {r["id"] for r in t["recommendations"]} & {r["id"] for r in shown}
    view = second.session_view("s6")
    assert len(view["history"]) == 6
    second.close()


def test_session_resumes_from_database_when_checkpoints_are_lost(settings):
    first = build_components(settings).service
    first.handle_turn("s7", "I like westerns")
    first.close()
    settings.resolved_checkpoint_path().unlink()
    second = build_components(settings).service
    t = second.handle_turn("s7", "more please")
    assert t["preferences"]["liked_genres"] == ["western"] and t["recommendations"]
    second.close()


@pytest.mark.parametrize("kind, check", [
    ("reject", lambda t, m: any(m in x for x in t["preferences"]["disliked_movies"])),
    ("seen", lambda t, m: any(m in x for x in t["preferences"]["seen_movies"])),
    ("like", lambda t, m: any(m in x for x in t["preferences"]["liked_movies"])),
    ("why", lambda t, m: m in t["reply"] and t["phase"] == "feedback" and not any(m in x for x in t["preferences"]["liked_movies"])),
])
def test_card_clicks_act_as_typed_feedback(service, kind, check):
    shown = service.handle_turn("c-" + kind, "I want a funny animated movie")["recommendations"]
    target = shown[1]
    label = f"{target['title']} ({target['year']})"
    turn = service.click("c-" + kind, target["id"], kind)
    assert check(turn, label)
    if kind in {"reject", "seen"}:
        assert target["id"] not in {r["id"] for r in turn["recommendations"]} and turn["recommendations"]
    events = service.repo.feedback("c-" + kind)
    assert [(e["movie_id"], e["kind"]) for e in events] == [(target["id"], kind)]
    assert events[0]["dwell_s"] is not None and events[0]["dwell_s"] >= 0


def test_click_on_unknown_movie_is_refused(service):
    service.handle_turn("c-x", "I like comedies")
    with pytest.raises(InputError):
        service.click("c-x", "no-such-movie", "like")
    with pytest.raises(InputError):
        service.click("c-x", service.handle_turn("c-x", "more")["recommendations"][0]["id"], "explode")


def test_checkpoints_are_pruned_and_the_session_still_resumes(settings):
    import sqlite3

    svc = build_components(settings).service
    for text in ["I like westerns", "more", "more", "nothing before 1990", "more", "more"]:
        svc.handle_turn("p1", text)
    svc.close()
    conn = sqlite3.connect(settings.resolved_checkpoint_path())
    count = conn.execute("SELECT COUNT(*) FROM checkpoints WHERE thread_id = 'p1'").fetchone()[0]
    conn.close()
    assert count <= 8
    again = build_components(settings).service
    turn = again.handle_turn("p1", "more please")
    assert turn["preferences"]["liked_genres"] == ["western"] and turn["preferences"]["year_min"] == 1990
    assert all(r["year"] >= 1990 for r in turn["recommendations"])
    again.close()


def test_rejected_movies_pull_similar_ones_down(settings, movie_store):
    from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
    from crs.recommender.types import RecQuery

    parts = build_components(settings)
    retriever = parts.recommender.retriever
    liked = Preferences(items=[PreferenceItem(slot=Slot.GENRE, value="animation", polarity=Polarity.LIKE)])
    before = retriever.retrieve(RecQuery(preferences=liked), 30)
    top = before[0].movie
    rejected = liked.model_copy(deep=True)
    rejected.add(PreferenceItem(slot=Slot.MOVIE, value=top.id, polarity=Polarity.DISLIKE, label=top.display))
    after = {c.movie.id: c for c in retriever.retrieve(RecQuery(preferences=rejected), 30)}
    assert top.id not in after
    close = [c for c in before[1:] if c.movie.id in after
             and float((movie_store.vectors([c.movie.id]) @ movie_store.vectors([top.id]).T)[0, 0]) > 0.52]
    assert close, "expected some candidates similar to the rejected movie"
    for c in close:
        assert after[c.movie.id].score < c.score
    parts.service.close()


def _state(service, session):
    return service.graph.get_state({"configurable": {"thread_id": session}}).values


def test_vague_ask_gets_one_attribute_question_then_uses_the_answer(service):
    t0 = service.handle_turn("q1", "Can you recommend something?")
    question = _state(service, "q1")["question"]
    assert t0["phase"] == "elicitation" and not t0["recommendations"]
    assert question and len(question["options"]) >= 2 and question["gain"] >= 1.0
    for option in question["options"]:  # concrete options, drawn from the candidates, are named
        assert option["label"] in t0["reply"]
    t1 = service.handle_turn("q1", "the second one")
    picked = question["options"][1]["value"]
    assert t1["phase"] == "recommendation" and t1["recommendations"]
    if question["attribute"] == "genre":
        assert t1["preferences"]["liked_genres"] == [picked]
        assert sum(picked in r["genres"] for r in t1["recommendations"]) >= 0.6 * len(t1["recommendations"])
    assert _state(service, "q1")["asked"] == [question["attribute"]] and _state(service, "q1")["question"] is None


def test_an_attribute_is_never_asked_twice(service):
    service.handle_turn("q2", "hello")
    seen = []
    for text in ["what should I watch?", "hmm", "no idea really, it's raining", "ok"]:
        turn = service.handle_turn("q2", text)
        question = _state(service, "q2").get("question")
        if question:
            assert turn["phase"] == "elicitation"
            seen.append(question["attribute"])
    assert seen and len(seen) == len(set(seen))


def test_no_question_when_the_user_asks_and_enough_is_known(service):
    t = service.handle_turn("q3", "I loved The Matrix, recommend me something")
    assert t["phase"] == "recommendation" and t["recommendations"]
    assert not _state(service, "q3").get("question")


def test_contradiction_is_asked_and_resolved_by_the_answer(service):
    t0 = service.handle_turn("k1", "a comedy, no comedies")
    assert t0["phase"] == "clarification" and not t0["recommendations"]
    assert "comedy" in t0["reply"] and "no comedy" in t0["reply"]
    assert not t0["preferences"]["liked_genres"] and not t0["preferences"]["disliked_genres"]
    t1 = service.handle_turn("k1", "the second")
    assert t1["preferences"]["disliked_genres"] == ["comedy"] and not t1["preferences"]["liked_genres"]
    assert all("comedy" not in r["genres"] for r in t1["recommendations"])


def test_unanswered_contradiction_keeps_the_newer_wish_and_says_so(service):
    service.handle_turn("k2", "a thriller from after 2010")
    t1 = service.handle_turn("k2", "nothing after 1990")
    assert t1["phase"] == "clarification" and t1["preferences"]["year_min"] == 2011
    t2 = service.handle_turn("k2", "more please")
    assert "what you said last" in t2["reply"]
    assert t2["preferences"]["year_max"] == 1990 and t2["preferences"]["year_min"] is None
    assert all(r["year"] <= 1990 for r in t2["recommendations"])


def test_empty_result_is_relaxed_and_the_reply_says_what_was_dropped(service):
    t = service.handle_turn("x1", "a western from after 2030 please")
    assert t["recommendations"] and "dropping 'after 2030'" in t["reply"]
    assert t["preferences"]["year_min"] == 2031  # only this list is loosened, not what the user said


def test_similar_by_someone_else_leaves_the_person_for_films_like_theirs(service):
    first = service.handle_turn("s4h", "Do you know any movies by Quentin Tarantino?")
    assert first["recommendations"] and first["preferences"]["liked_people"] == ["Quentin Tarantino"]
    t = service.handle_turn("s4h", "I've seen all of his, something similar by someone else")
    prefs = t["preferences"]
    assert prefs["liked_people"] == [] and prefs["disliked_people"] == ["Quentin Tarantino"]
    shown = {r["title"] for r in first["recommendations"]}
    assert prefs["liked_movies"] and all(label.rsplit(" (", 1)[0] in shown for label in prefs["liked_movies"])
    assert "by other people" in t["reply"] and "?" not in t["reply"].split("\n")[0]  # no contradiction question
    assert t["recommendations"]
    for r in t["recommendations"]:
        assert "Quentin Tarantino" not in r["directors"] + r["cast"], r


def test_directors_similar_to_a_named_one_bring_films_like_theirs_by_others(service):
    """"Any directors similar to Tarantino?" listed more Tarantino: the named person was read as
    wanted. Now the person is avoided and their best-known films are the anchors."""
    t = service.handle_turn("s4n", "any directors similar to Quentin Tarantino?")
    prefs = t["preferences"]
    assert prefs["liked_people"] == [] and prefs["disliked_people"] == ["Quentin Tarantino"]
    assert prefs["liked_movies"] and "by other people" in t["reply"]
    assert t["recommendations"]
    for r in t["recommendations"]:
        assert "Quentin Tarantino" not in r["directors"] + r["cast"], r


@pytest.mark.parametrize("text, expected", [
    ("I've seen all of his, something similar by someone else", True),
    ("anything similar by other directors?", True),
    ("any directors similar to him?", True),
    ("actors similar to Jim Carrey", True),
    ("a director who is similar to Nolan", True),
    ("is it similar to Heat?", False),
    ("not by him though", True),
    ("something by Nolan", False),
    ("I'd watch anything else", False),
    ("other people say it's good", False),
])
def test_the_nlu_reads_films_like_theirs_by_others(text, expected):
    assert other_people(text) is expected


def test_older_stuff_after_a_list_means_older_than_the_films_shown(service):
    t0 = service.handle_turn("old1", "movies with Tom Hanks")
    years = [r["year"] for r in t0["recommendations"] if r["year"]]
    assert years and min(years) > 1980
    t1 = service.handle_turn("old1", "what about his older stuff?")
    assert t1["preferences"]["year_max"] == min(years) - 1  # not the "classic" bound, 1979
    assert t1["recommendations"]
    assert all(r["year"] < min(years) for r in t1["recommendations"]) or "loosened" in t1["reply"]
    t2 = service.handle_turn("old2", "I'd like some older movies")  # nothing shown to compare with
    assert t2["preferences"]["year_max"] == 1979


@pytest.mark.parametrize("text, expected", [
    ("what about her older stuff?", 1999), ("something a bit older", 1999), ("older than these please", 1999),
    ("older movies", 1999), ("anything before 1990", 1989), ("the older version", None), ("recent ones", None),
])
def test_older_than_shown_reads_the_list(text, expected):
    from crs.dialogue import wishes
    from crs.nlu.types import NLUResult
    from crs.nlu.years import parse_years

    bounds = parse_years(text.lower(), 2026)
    nlu = NLUResult(year_min=bounds.year_min, year_max=bounds.year_max)
    wishes.older_than_shown(nlu, text, [{"year": 2004}, {"year": 2000}, {"year": None}, {"year": 2012}])
    assert nlu.year_max == expected


def test_didnt_like_it_after_why_rejects_the_film_asked_about(service):
    t0 = service.handle_turn("why1", "I loved The Matrix and Die Hard")
    assert len(t0["recommendations"]) >= 3
    service.handle_turn("why1", "why the third one?")
    t2 = service.handle_turn("why1", "I didn't like it much actually")
    third = f'{t0["recommendations"][2]["title"]} ({t0["recommendations"][2]["year"]})'
    assert t2["preferences"]["disliked_movies"] == [third]
    assert third not in [f'{r["title"]} ({r["year"]})' for r in t2["recommendations"]]



def test_the_summary_says_nothing_violent_not_no_violent():
    from crs.dialogue.render import summarize
    from crs.preferences import Polarity, PreferenceItem, Preferences, Slot

    prefs = Preferences()
    prefs.add(PreferenceItem(slot=Slot.GENRE, value="horror", polarity=Polarity.DISLIKE, label="horror"))
    prefs.add(PreferenceItem(slot=Slot.MOOD, value="violent", polarity=Polarity.DISLIKE, label="violent"))
    assert summarize(prefs) == "no horror; nothing violent"
