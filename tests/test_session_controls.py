"""What the web UI does to a conversation besides chatting (``crs.session_controls``), on the
real service behind the live app: editing preferences, per-session options, this browser's
session list, "forget me", and the schema migration that stores the options."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest

from app_fixtures import LiveApp, live_app, small_movies  # noqa: F401  (fixtures)
from crs.service import InputError
from crs.storage import Repository


@pytest.fixture()
def service(live_app: LiveApp):  # noqa: F811
    return live_app.service


def new_id() -> str:
    return "t-" + uuid.uuid4().hex


def state(service, session: str) -> dict:
    return service.graph.get_state({"configurable": {"thread_id": session}}).values


def test_removed_preference_is_gone_from_database_state_and_next_turn(service, small_movies) -> None:
    session = new_id()
    (first, first_year) = small_movies[0]
    service.handle_turn(session, f"I loved {first} ({first_year}), but no horror please. Only movies from the 90s")
    items = service.preference_items(session)
    assert {(i["slot"], i["value"], i["polarity"]) for i in items["items"]} >= {("genre", "horror", "dislike")}
    assert (items["year_min"], items["year_max"]) == (1990, 1999)

    after = service.remove_preference(session, "genre", "horror", "dislike")
    after = service.remove_preference(session, "years")
    assert ("genre", "horror") not in {(i["slot"], i["value"]) for i in after["items"]}
    assert after["year_min"] is None and after["year_max"] is None
    stored = service.repo.load_preferences(session)
    assert "horror" not in stored.disliked_genres and stored.year_min is None and stored.year_max is None
    assert "horror" not in str(state(service, session)["preferences"])

    turn = service.handle_turn(session, "more please")
    assert turn["preferences"]["disliked_genres"] == [] and turn["preferences"]["year_min"] is None
    assert any(first.lower() in m.lower() for m in turn["preferences"]["liked_movies"])


def test_remove_preference_rejects_bad_requests(service) -> None:
    with pytest.raises(InputError):
        service.remove_preference(new_id(), "genre", "horror")  # no such conversation
    session = new_id()
    service.handle_turn(session, "hello")
    with pytest.raises(InputError):
        service.remove_preference(session, "planet", "mars")


def test_number_of_recommendations_is_a_per_session_option(service, small_movies, live_app: LiveApp) -> None:  # noqa: F811
    (first, first_year) = small_movies[0]
    three, default = new_id(), new_id()
    assert service.update_session_settings(three, n_recommendations=3) == {"n_recommendations": 3}
    assert len(service.handle_turn(three, f"I loved {first} ({first_year})")["recommendations"]) == 3
    default_n = live_app.settings.n_recommendations
    assert len(service.handle_turn(default, f"I loved {first} ({first_year})")["recommendations"]) == default_n
    assert service.session_settings(three) == {"n_recommendations": 3}
    assert service.session_settings(default) == {}
    for bad in (0, 21):
        with pytest.raises(InputError, match="between 1 and 20"):
            service.update_session_settings(three, n_recommendations=bad)


def test_include_seen_lets_a_seen_movie_be_recommended(service, small_movies) -> None:
    (first, first_year) = small_movies[0]
    ask = f"I loved {first} ({first_year})"
    picks = service.handle_turn(new_id(), ask)["recommendations"]
    counts: dict[str, int] = {}
    for movie in service.index.movies:
        counts[movie.title.lower()] = counts.get(movie.title.lower(), 0) + 1
    seen = next(r for r in picks if r["year"] and counts[r["title"].lower()] == 1)
    said = f"I have already seen {seen['title']} ({seen['year']}). {ask}"

    without = service.handle_turn(new_id(), said)
    assert any(seen["title"] in m for m in without["preferences"]["seen_movies"])
    assert seen["id"] not in {r["id"] for r in without["recommendations"]}
    allowed = new_id()
    service.update_session_settings(allowed, include_seen=True)
    turn = service.handle_turn(allowed, said)
    assert any(seen["title"] in m for m in turn["preferences"]["seen_movies"])  # still remembered as seen
    assert seen["id"] in {r["id"] for r in turn["recommendations"]}


def test_sessions_overview_lists_only_the_ids_asked_for(service) -> None:
    mine, other = new_id(), new_id()
    service.handle_turn(mine, "I'd like a comedy")
    service.handle_turn(other, "I'd like a western")
    listed = service.sessions_overview([mine, "not a valid id!", new_id()])
    assert [s["id"] for s in listed] == [mine]
    assert listed[0]["title"] == "I'd like a comedy" and listed[0]["turns"] == 1
    assert service.sessions_overview([]) == []


def test_click_text_and_current_recommendations_follow_feedback(service, small_movies) -> None:
    session = new_id()
    (first, first_year) = small_movies[0]
    service.handle_turn(session, f"I loved {first} ({first_year})")
    shown = service.current_recommendations(session)
    target = shown[0]
    assert service.click_text(target["id"], "reject").startswith("Not for me: " + target["title"])
    with pytest.raises(InputError):
        service.click_text(target["id"], "launch")
    service.click(session, target["id"], "reject")
    now = service.current_recommendations(session)
    assert now and target["id"] not in {r["id"] for r in now}
    service.handle_turn(session, "start over")
    assert service.current_recommendations(session) == []


def test_delete_session_forgets_rows_and_checkpoints(service, live_app: LiveApp) -> None:  # noqa: F811
    session = new_id()
    service.handle_turn(session, "I loved Heat")
    service.update_session_settings(session, n_recommendations=4)
    assert service.delete_session(session) is True
    assert service.session_view(session) is None and service.repo.feedback(session) == []
    assert not state(service, session) and service.session_settings(session) == {}
    with sqlite3.connect(live_app.settings.checkpoint_path) as con:
        assert con.execute("SELECT COUNT(*) FROM checkpoints WHERE thread_id = ?", (session,)).fetchone()[0] == 0
    assert service.delete_session(session) is False
    assert service.handle_turn(session, "hello")["turn"] == 0  # the id starts afresh


def test_settings_column_is_added_to_an_existing_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    Repository.from_url(url).close()
    with sqlite3.connect(tmp_path / "old.db") as con:  # make it look like a database from before m002
        con.execute("ALTER TABLE sessions DROP COLUMN settings")
        con.execute("DELETE FROM schema_version WHERE name = 'm002_session_settings'")
    with Repository.from_url(url) as repo:
        assert repo.save_session_settings("s1", {"include_seen": True}) == {"include_seen": True}
        assert repo.save_session_settings("s1", {"n_recommendations": 8}) == {"include_seen": True, "n_recommendations": 8}
        assert repo.session_settings("s1") == {"include_seen": True, "n_recommendations": 8}
        assert repo.list_sessions()[0]["turns"] == 0
