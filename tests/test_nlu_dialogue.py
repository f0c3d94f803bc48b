"""What the NLU reads for topics and sibling filmmakers reaches the recommender: the real
graph over the real small store (the 800 most mentioned ReDial movies)."""

import pytest

from crs.wiring import build_components


@pytest.fixture(scope="module")
def components(small_store, tmp_path_factory):
    db = tmp_path_factory.mktemp("nlu_dialogue") / "crs.db"
    comps = build_components(small_store.model_copy(update={"database_url": f"sqlite:///{db}"}))
    yield comps
    comps.service.close()


def _about(movie, word: str) -> bool:
    return word in f"{movie.plot} {' '.join(movie.keywords)}".lower()


def test_a_zombie_movie_is_a_horror_topic_and_the_list_is_about_zombies(components):
    index = components.store.index
    turn = components.service.handle_turn("zombies", "I want a zombie movie")
    prefs = turn["preferences"]
    assert prefs["keywords"] == ["zombie"] and prefs["liked_genres"] == ["horror"] and not prefs["liked_people"]
    shown = [index.get(r["id"]) for r in turn["recommendations"]]
    plain = components.service.handle_turn("horror", "I want a horror movie")
    plain_shown = [index.get(r["id"]) for r in plain["recommendations"]]
    # the topic moves the list towards zombie films (a plain horror ask shows fewer of them)
    assert sum(_about(m, "zombie") for m in shown) >= 2
    assert sum(_about(m, "zombie") for m in shown) > sum(_about(m, "zombie") for m in plain_shown)


def test_horror_but_no_zombies_keeps_horror_and_sinks_zombie_films(components):
    index = components.store.index
    turn = components.service.handle_turn("nozombies", "a horror movie but no zombie movies please")
    assert turn["phase"] == "recommendation"  # before: "horror, or no horror?" (zombie -> horror, negated)
    assert turn["preferences"]["liked_genres"] == ["horror"] and not turn["preferences"]["disliked_genres"]
    assert "no zombie" in turn["reply"]
    shown = [index.get(r["id"]) for r in turn["recommendations"]]
    more = [index.get(r["id"]) for r in components.service.handle_turn("nozombies", "more")["recommendations"]]
    assert shown and not any(_about(m, "zombie") for m in shown + more)


def test_something_about_a_topic_is_kept_as_a_keyword(components):
    turn = components.service.handle_turn("topic", "Something about time travel please")
    assert turn["preferences"]["keywords"] == ["time travel"]
    assert turn["recommendations"]


def test_the_coen_brothers_are_both_liked_and_their_films_shown(components):
    turn = components.service.handle_turn("coens", "anything by the coen brothers?")
    assert set(turn["preferences"]["liked_people"]) == {"Joel Coen", "Ethan Coen"}
    recs = turn["recommendations"]
    assert recs and all({"Joel Coen", "Ethan Coen"} & set(r["directors"]) for r in recs[:2])


def test_a_heist_movie_other_than_oceans_eleven_leaves_it_out_without_disliking_it(components):
    """"Other than X" / "besides X" / "that isn't X" named a film to leave out, and the NLU read it
    as a dislike: heist films close to Ocean's Eleven then sank. Now X is only excluded."""
    index = components.store.index
    oceans = next(m for m in index.movies if m.title == "Ocean's Eleven" and m.year == 2001)
    for session, text in (("other", "a heist movie other than Ocean's Eleven"),
                          ("besides", "any heist movies besides Ocean's Eleven?"),
                          ("isnt", "a good heist movie that isn't Ocean's Eleven")):
        turn = components.service.handle_turn(session, text)
        prefs = turn["preferences"]
        assert not prefs["disliked_movies"] and not prefs["liked_movies"], (text, prefs)
        shown = [r["id"] for r in turn["recommendations"]]
        more = [r["id"] for r in components.service.handle_turn(session, "more")["recommendations"]]
        assert shown and oceans.id not in shown + more, text
    disliked = components.service.handle_turn("except", "anything but Ocean's Eleven")["preferences"]
    assert disliked["disliked_movies"] == [oceans.display]  # "anything but X" stays a dislike
