"""The session database against real SQLite files in tmp dirs."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.storage import InvalidSessionIdError, Repository, StorageError, UnknownSessionError
from crs.storage.db import make_engine
from crs.storage.migrations import MIGRATIONS, migrate
from crs.storage.models import TITLE_MAX

TABLES = ("sessions", "turns", "preferences", "recommendations_shown", "feedback_events")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "crs.db"  # from_url must create the folders


@pytest.fixture
def repo(db_path: Path):
    repository = Repository.from_url(f"sqlite:///{db_path}")
    yield repository
    repository.close()


def prefs(*items: tuple[Slot, str, Polarity, str], year_min: int | None = None,
          year_max: int | None = None) -> Preferences:
    p = Preferences(year_min=year_min, year_max=year_max)
    for slot, value, polarity, label in items:
        p.add(PreferenceItem(slot=slot, value=value, polarity=polarity, label=label))
    return p


def record(repo: Repository, sid: str, index: int, text: str = "hello", *, p: Preferences | None = None,
           recs: list[dict] | None = None, **kw) -> None:
    repo.record_turn(sid, index=index, user_text=text, reply=f"reply {index}", phase="elicit",
                     intent="inform", preferences=p or Preferences(), recommendations=recs or [], **kw)


def count_rows(db_path: Path, session_id: str) -> dict[str, int]:
    """Count a session's rows in every table, straight through sqlite3 (not our code)."""
    with sqlite3.connect(db_path) as con:
        out = {"sessions": con.execute("SELECT COUNT(*) FROM sessions WHERE id = ?", (session_id,)).fetchone()[0]}
        for table in TABLES[1:]:
            out[table] = con.execute(f"SELECT COUNT(*) FROM {table} WHERE session_id = ?", (session_id,)).fetchone()[0]
    return out


def test_turn_round_trip(repo: Repository) -> None:
    assert not repo.session_exists("s1")
    assert repo.next_turn_index("s1") == 0
    assert repo.last_turn("s1") is None and repo.history("s1") == []
    p0 = prefs((Slot.MOVIE, "2001", Polarity.LIKE, "Heat (1995)"), (Slot.GENRE, "comedy", Polarity.DISLIKE, ""),
               year_min=1990)
    recs0 = [{"id": "10", "score": 0.9, "title": "Ronin"}, {"id": "11", "score": 0.5}]
    record(repo, "s1", 0, "I loved Heat, no comedies please", p=p0, recs=recs0, latency_ms=12.5,
           llm_backend="openai", tokens_in=40, tokens_out=9)
    record(repo, "s1", 1, "more", p=p0, recs=[{"id": "11", "score": 0.4}, {"id": "12"}])

    assert repo.session_exists("s1")
    assert repo.next_turn_index("s1") == 2
    last = repo.last_turn("s1")
    assert last is not None and last["index"] == 1 and last["user_text"] == "more"
    first = repo.history("s1")[0]
    assert first["recommendations"] == recs0
    assert first["preferences"] == p0.model_dump(mode="json")
    assert (first["latency_ms"], first["llm_backend"], first["tokens_in"], first["tokens_out"]) == (12.5, "openai", 40, 9)
    assert [t["index"] for t in repo.history("s1")] == [0, 1]
    assert repo.shown_movie_ids("s1") == ["10", "11", "12"]

    loaded = repo.load_preferences("s1")
    assert loaded.liked_movies == ["2001"] and loaded.disliked_genres == ["comedy"]
    assert loaded.labels(Slot.MOVIE, Polarity.LIKE) == ["Heat (1995)"]
    assert (loaded.year_min, loaded.year_max) == (1990, None)

    [listed] = repo.list_sessions()
    assert listed["id"] == "s1" and listed["turns"] == 2
    assert listed["title"] == "I loved Heat, no comedies please"
    assert listed["updated_at"] >= listed["created_at"]


def test_list_sessions_orders_by_activity_and_limits(repo: Repository) -> None:
    for sid in ("a", "b", "c"):
        repo.ensure_session(sid, title=f"title {sid}")
    record(repo, "a", 0)
    listed = repo.list_sessions()
    assert [s["id"] for s in listed][0] == "a"
    assert {s["id"]: s["turns"] for s in listed} == {"a": 1, "b": 0, "c": 0}
    assert listed[0]["title"] == "title a"  # ensure_session's title is kept by record_turn
    assert len(repo.list_sessions(limit=2)) == 2
    with pytest.raises(ValueError, match="limit"):
        repo.list_sessions(limit=0)


def test_title_is_first_message_truncated(repo: Repository) -> None:
    record(repo, "s1", 0, "  word " * 50)
    record(repo, "s1", 1, "second message")
    title = repo.list_sessions()[0]["title"]
    assert title.startswith("word word") and title.endswith("…") and len(title) <= TITLE_MAX


def test_preferences_are_replaced_and_keep_their_source_turn(repo: Repository, db_path: Path) -> None:
    heat = (Slot.MOVIE, "2001", Polarity.LIKE, "Heat")
    comedy = (Slot.GENRE, "comedy", Polarity.DISLIKE, "")
    record(repo, "s1", 0, p=prefs(heat, comedy, year_min=1990, year_max=2000))

    later = prefs((Slot.MOVIE, "2001", Polarity.LIKE, "Heat (1995)"), (Slot.PERSON, "Al Pacino", Polarity.LIKE, ""))
    record(repo, "s1", 1, p=later)

    loaded = repo.load_preferences("s1")
    assert [(i.slot, i.value, i.polarity) for i in loaded.items] == [
        (Slot.MOVIE, "2001", Polarity.LIKE), (Slot.PERSON, "Al Pacino", Polarity.LIKE)]
    assert loaded.items[0].label == "Heat (1995)"  # label updated in place
    assert [i.turn for i in loaded.items] == [0, 1]  # unchanged item keeps turn 0; new one gets turn 1
    assert (loaded.year_min, loaded.year_max) == (None, None)
    assert count_rows(db_path, "s1")["preferences"] == 2

    # flipping like -> dislike is a new statement: it gets the new turn
    flipped = prefs((Slot.MOVIE, "2001", Polarity.DISLIKE, "Heat (1995)"))
    record(repo, "s1", 2, p=flipped)
    [item] = repo.load_preferences("s1").items
    assert (item.polarity, item.turn) == (Polarity.DISLIKE, 2)
    # the turn snapshot of turn 0 is untouched by later replacements
    assert repo.history("s1")[0]["preferences"]["year_max"] == 2000


def test_explicit_item_turn_is_kept(repo: Repository) -> None:
    p = Preferences(items=[PreferenceItem(slot=Slot.MOOD, value="dark", polarity=Polarity.LIKE, turn=7)])
    record(repo, "s1", 9, p=p)
    assert repo.load_preferences("s1").items[0].turn == 7


def test_unknown_session_has_empty_preferences(repo: Repository) -> None:
    assert repo.load_preferences("nobody").is_empty()
    assert repo.shown_movie_ids("nobody") == [] and repo.feedback("nobody") == []


def test_delete_session_removes_every_row(repo: Repository, db_path: Path) -> None:
    for sid in ("gone", "kept"):
        drama = prefs((Slot.GENRE, "drama", Polarity.LIKE, ""))
        record(repo, sid, 0, p=drama, recs=[{"id": "1", "score": 1.0}])
        record(repo, sid, 1, p=drama, recs=[{"id": "2"}])
        repo.add_feedback(sid, "1", "like", turn=0, dwell_s=3.5)
    assert all(n > 0 for n in count_rows(db_path, "gone").values())

    assert repo.delete_session("gone") is True
    assert count_rows(db_path, "gone") == dict.fromkeys(TABLES, 0)
    assert count_rows(db_path, "kept") == {"sessions": 1, "turns": 2, "preferences": 1,
                                           "recommendations_shown": 2, "feedback_events": 1}
    assert repo.delete_session("gone") is False
    assert not repo.session_exists("gone") and repo.next_turn_index("gone") == 0


def test_feedback_round_trip_and_errors(repo: Repository) -> None:
    repo.ensure_session("s1")
    repo.add_feedback("s1", "42", "accept", turn=3)
    repo.add_feedback("s1", "43", "more_like_this", dwell_s=1.25)
    events = repo.feedback("s1")
    assert [(e["movie_id"], e["kind"], e["turn"], e["dwell_s"]) for e in events] == [
        ("42", "accept", 3, None), ("43", "more_like_this", None, 1.25)]
    with pytest.raises(ValueError, match="unknown feedback kind 'love'.*accept"):
        repo.add_feedback("s1", "42", "love")
    with pytest.raises(ValueError, match="dwell_s"):
        repo.add_feedback("s1", "42", "seen", dwell_s=-1)
    with pytest.raises(UnknownSessionError, match="no session 'ghost'"):
        repo.add_feedback("ghost", "42", "like")
    assert len(repo.feedback("s1")) == 2


@pytest.mark.parametrize("bad", ["", "has space", "x" * 129, "../etc/passwd", "semi;colon", None, 42])
def test_bad_session_ids_are_rejected(repo: Repository, bad: object) -> None:
    for call in (repo.session_exists, repo.ensure_session, repo.load_preferences, repo.delete_session,
                 repo.history, repo.last_turn, repo.next_turn_index, repo.shown_movie_ids):
        with pytest.raises(InvalidSessionIdError, match="invalid session id"):
            call(bad)
    with pytest.raises(ValueError):  # InvalidSessionIdError is a ValueError too
        record(repo, bad, 0)  # type: ignore[arg-type]


def test_token_urlsafe_ids_are_accepted(repo: Repository) -> None:
    import secrets

    sid = secrets.token_urlsafe(32)
    record(repo, sid, 0)
    assert repo.session_exists(sid)


def test_duplicate_turn_is_a_clear_error_and_changes_nothing(repo: Repository) -> None:
    record(repo, "s1", 0, p=prefs((Slot.GENRE, "drama", Polarity.LIKE, "")), recs=[{"id": "1"}])
    with pytest.raises(StorageError, match="turn 0 of session 's1' is already stored"):
        record(repo, "s1", 0, "again", p=prefs((Slot.GENRE, "horror", Polarity.LIKE, "")), recs=[{"id": "9"}])
    # the failed turn left no trace: one transaction
    assert repo.load_preferences("s1").liked_genres == ["drama"]
    assert repo.shown_movie_ids("s1") == ["1"]
    assert [t["user_text"] for t in repo.history("s1")] == ["hello"]


def test_recommendation_without_id_is_rejected(repo: Repository) -> None:
    with pytest.raises(ValueError, match="has no 'id'"):
        record(repo, "s1", 0, recs=[{"score": 1.0}])
    assert not repo.session_exists("s1")


def test_user_text_with_quotes_and_sql_is_stored_verbatim(repo: Repository, db_path: Path) -> None:
    nasty = "Robert'); DROP TABLE turns;--\n\"quoted\" %s ? :name \\ 🎬 ünïcode"
    record(repo, "s1", 0, nasty, p=prefs((Slot.KEYWORD, nasty, Polarity.LIKE, nasty)))
    assert repo.last_turn("s1")["user_text"] == nasty
    assert repo.load_preferences("s1").items[0].value == nasty
    with sqlite3.connect(db_path) as con:
        assert con.execute("SELECT user_text FROM turns").fetchone()[0] == nasty
        assert {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")} >= set(TABLES)


def test_survives_close_and_reopen(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    first = Repository.from_url(url)
    record(first, "s1", 0, "before restart", p=prefs((Slot.GENRE, "western", Polarity.LIKE, "")),
           recs=[{"id": "5", "score": 0.3}])
    first.add_feedback("s1", "5", "seen")
    first.close()

    second = Repository.from_url(url)  # an app restart
    try:
        assert second.last_turn("s1")["user_text"] == "before restart"
        assert second.load_preferences("s1").liked_genres == ["western"]
        assert second.shown_movie_ids("s1") == ["5"]
        assert second.feedback("s1")[0]["kind"] == "seen"
        assert second.next_turn_index("s1") == 1
        record(second, "s1", 1)
    finally:
        second.close()
    with sqlite3.connect(db_path) as con:
        assert con.execute("SELECT name FROM schema_version").fetchall() == [(m.__name__,) for m in MIGRATIONS]


def test_sqlite_pragmas_and_integrity(repo: Repository, db_path: Path) -> None:
    record(repo, "s1", 0, recs=[{"id": "1"}])
    with sqlite3.connect(db_path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    finally:
        engine.dispose()


def test_two_repositories_on_one_file_write_concurrently(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    repos = [Repository.from_url(url), Repository.from_url(url)]
    errors: list[BaseException] = []
    turns = 15

    def work(worker: int, repo: Repository) -> None:
        try:
            for i in range(turns):
                sid = f"w{worker}"
                record(repo, sid, repo.next_turn_index(sid), f"msg {i}",
                       p=prefs((Slot.GENRE, f"g{i}", Polarity.LIKE, "")), recs=[{"id": str(i), "score": i}])
                repo.ensure_session("shared")
                repo.add_feedback("shared", str(i), "like", turn=i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w, repos[w % 2])) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for r in repos:
        r.close()
    assert errors == []

    with Repository.from_url(url) as check:
        for w in range(4):
            assert [t["user_text"] for t in check.history(f"w{w}")] == [f"msg {i}" for i in range(turns)]
        assert len(check.feedback("shared")) == 4 * turns
    with sqlite3.connect(db_path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_migrations_run_once_and_new_ones_apply_on_open(db_path: Path) -> None:
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        assert migrate(engine) == [m.__name__ for m in MIGRATIONS]  # fresh: all recorded
        assert migrate(engine) == []

        def m002_add_note_column(conn: Connection) -> None:
            conn.execute(text("ALTER TABLE sessions ADD COLUMN note TEXT"))

        assert migrate(engine, [*MIGRATIONS, m002_add_note_column]) == ["m002_add_note_column"]
        assert migrate(engine, [*MIGRATIONS, m002_add_note_column]) == []
        with engine.connect() as conn:
            columns = {row[1] for row in conn.execute(text("PRAGMA table_info(sessions)"))}
        assert "note" in columns
        with pytest.raises(ValueError, match="duplicate"):
            migrate(engine, [*MIGRATIONS, *MIGRATIONS])
    finally:
        engine.dispose()


def test_in_memory_url_works() -> None:
    with Repository.from_url("sqlite://") as repo:
        record(repo, "s1", 0, recs=[{"id": "1"}])
        assert repo.shown_movie_ids("s1") == ["1"]


def test_bad_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Invalid database URL"):
        Repository.from_url("not a url")
