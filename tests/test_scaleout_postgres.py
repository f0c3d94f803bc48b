"""The session database and the dialogue checkpoints on a real PostgreSQL server.

Each test gets a fresh database (``pg_url``); row counts are checked with plain SQL
through psycopg, not through the repository under test.
"""

from __future__ import annotations

import threading
from typing import TypedDict

import psycopg
import pytest
from sqlalchemy import Connection, text

from crs.dialogue.checkpoints import libpq_conninfo, open_postgres_saver, prune_checkpoints
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.storage import Repository, StorageError, UnknownSessionError
from crs.storage.db import make_engine
from crs.storage.migrations import MIGRATIONS, migrate
from scaleout_fixtures import pg_url, postgres_admin_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.scaleout

CHILD_TABLES = ("turns", "preferences", "recommendations_shown", "feedback_events")


def prefs(*items: tuple[Slot, str, Polarity], year_min: int | None = None) -> Preferences:
    p = Preferences(year_min=year_min)
    for slot, value, polarity in items:
        p.add(PreferenceItem(slot=slot, value=value, polarity=polarity, label=value.title()))
    return p


def record(repo: Repository, sid: str, index: int, text_: str = "hi", p: Preferences | None = None,
           recs: list[dict] | None = None) -> None:
    repo.record_turn(sid, index=index, user_text=text_, reply=f"reply {index}", phase="elicit",
                     intent="inform", preferences=p or Preferences(), recommendations=recs or [])


def rows(url: str, session_id: str) -> dict[str, int]:
    """Every table's rows of one session, counted by psycopg directly."""
    with psycopg.connect(libpq_conninfo(url)) as conn:
        out = {"sessions": conn.execute("SELECT count(*) FROM sessions WHERE id = %s", (session_id,)).fetchone()[0]}
        for table in CHILD_TABLES:
            out[table] = conn.execute(f"SELECT count(*) FROM {table} WHERE session_id = %s",  # noqa: S608
                                      (session_id,)).fetchone()[0]
    return out


@pytest.fixture
def repo(pg_url: str):  # noqa: F811
    with Repository.from_url(pg_url) as repository:
        yield repository


def test_sessions_turns_preferences_round_trip(repo: Repository, pg_url: str) -> None:  # noqa: F811
    assert repo.next_turn_index("s1") == 0 and not repo.session_exists("s1")
    p0 = prefs((Slot.MOVIE, "2001", Polarity.LIKE), (Slot.GENRE, "horror", Polarity.DISLIKE), year_min=1990)
    record(repo, "s1", 0, "J'ai adoré « Heat » — 'quotes'; DROP TABLE turns; --", p0,
           [{"id": "2001", "score": 0.9}, {"id": "77", "score": None}])
    p1 = prefs((Slot.GENRE, "horror", Polarity.DISLIKE), (Slot.PERSON, "Michael Mann", Polarity.LIKE))
    record(repo, "s1", 1, "more", p1, [{"id": "5", "score": 0.5}])
    assert repo.next_turn_index("s1") == 2
    history = repo.history("s1")
    assert [t["index"] for t in history] == [0, 1]
    assert history[0]["user_text"] == "J'ai adoré « Heat » — 'quotes'; DROP TABLE turns; --"
    assert history[0]["preferences"]["year_min"] == 1990 and history[0]["created_at"].endswith("+00:00")
    loaded = repo.load_preferences("s1")
    assert [(i.slot, i.value, i.polarity) for i in loaded.items] == [
        (Slot.GENRE, "horror", Polarity.DISLIKE), (Slot.PERSON, "Michael Mann", Polarity.LIKE)]
    assert loaded.items[0].turn == 0 and loaded.items[1].turn == 1  # unchanged items keep their source turn
    assert repo.shown_movie_ids("s1") == ["2001", "77", "5"]
    listed = repo.list_sessions()
    assert [(s["id"], s["turns"]) for s in listed] == [("s1", 2)] and listed[0]["title"].startswith("J'ai")
    assert repo.sessions_by_ids(["s1", "nope", "bad id"]) == listed
    assert rows(pg_url, "s1") == {"sessions": 1, "turns": 2, "preferences": 2, "recommendations_shown": 3,
                                  "feedback_events": 0}


def test_settings_feedback_and_errors(repo: Repository) -> None:
    assert repo.save_session_settings("s2", {"n": 3, "seen": True}) == {"n": 3, "seen": True}
    assert repo.save_session_settings("s2", {"seen": None}) == {"n": 3}
    assert repo.session_settings("s2") == {"n": 3}
    repo.add_feedback("s2", "42", "like", turn=0, dwell_s=1.5)
    repo.add_feedback("s2", "43", "reject")
    assert [(f["movie_id"], f["kind"], f["dwell_s"]) for f in repo.feedback("s2")] == [
        ("42", "like", 1.5), ("43", "reject", None)]
    with pytest.raises(UnknownSessionError):
        repo.add_feedback("nobody", "42", "like")
    with pytest.raises(ValueError, match="unknown feedback kind"):
        repo.add_feedback("s2", "42", "love")
    record(repo, "s2", 0)
    with pytest.raises(StorageError, match="already stored"):
        record(repo, "s2", 0, "again")
    assert [t["user_text"] for t in repo.history("s2")] == ["hi"]
    repo.replace_preferences("s2", prefs((Slot.MOOD, "dark", Polarity.LIKE)))
    assert [i.value for i in repo.load_preferences("s2").items] == ["dark"]


def test_delete_and_purge_remove_every_row(repo: Repository, pg_url: str) -> None:  # noqa: F811
    for sid in ("gone", "kept"):
        record(repo, sid, 0, p=prefs((Slot.GENRE, "drama", Polarity.LIKE)), recs=[{"id": "1"}])
        repo.add_feedback(sid, "1", "seen")
    assert repo.delete_session("gone") is True
    assert set(rows(pg_url, "gone").values()) == {0}
    assert set(rows(pg_url, "kept").values()) == {1}
    assert repo.delete_session("gone") is False
    assert repo.purge_session("kept") is True  # no VACUUM on PostgreSQL, same rows gone
    assert set(rows(pg_url, "kept").values()) == {0}


def test_migrations_fresh_then_incremental(pg_url: str) -> None:  # noqa: F811
    engine = make_engine(pg_url)
    try:
        assert migrate(engine) == [m.__name__ for m in MIGRATIONS]
        assert migrate(engine) == []

        def m900_add_note_column(conn: Connection) -> None:
            conn.execute(text("ALTER TABLE sessions ADD COLUMN note TEXT"))

        assert migrate(engine, [*MIGRATIONS, m900_add_note_column]) == ["m900_add_note_column"]
        assert migrate(engine, [*MIGRATIONS, m900_add_note_column]) == []
        with engine.connect() as conn:
            columns = set(conn.scalars(text(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'sessions'")))
        assert {"note", "settings"} <= columns
    finally:
        engine.dispose()


def test_each_released_migration_runs_on_postgres(pg_url: str) -> None:  # noqa: F811
    """An old database (as m001 left it, without the later columns) is brought up to date
    by the real later migrations: their DDL must be valid PostgreSQL, not only SQLite."""
    from crs.storage.models import Base

    later = MIGRATIONS[1:]
    added = _columns_added_by(later)
    assert ("sessions", "settings") in added  # m002: the recorder sees the DDL
    engine = make_engine(pg_url)
    try:
        migrate(engine, MIGRATIONS[:1])  # a fresh database marks m001 only...
        with engine.begin() as conn:  # ...and gets m001's shape: no later columns
            for table, column in added:
                conn.execute(text(f'ALTER TABLE {table} DROP COLUMN "{column}"'))
        assert migrate(engine) == [m.__name__ for m in later]
        with engine.connect() as conn:
            for table in Base.metadata.tables.values():
                have = set(conn.scalars(text("SELECT column_name FROM information_schema.columns "
                                             "WHERE table_name = :t"), {"t": table.name}))
                assert {c.name for c in table.columns} <= have, table.name
    finally:
        engine.dispose()


def _columns_added_by(migrations) -> list[tuple[str, str]]:
    """(table, column) of each ``ALTER TABLE t ADD COLUMN c`` the migrations execute,
    found by running them against a connection that only records."""
    import re

    found: list[tuple[str, str]] = []

    class Recorder:
        def execute(self, statement, *args, **kwargs):  # noqa: ANN001, ANN202
            sql = str(statement)
            match = re.fullmatch(r"\s*ALTER TABLE (\w+) ADD COLUMN \"?(\w+)\"?\s+.*", sql, re.IGNORECASE | re.DOTALL)
            assert match, f"this test only knows ADD COLUMN migrations; extend it for: {sql}"
            found.append((match.group(1), match.group(2)))

    for migration in migrations:
        migration(Recorder())
    return found


def test_workers_migrating_a_fresh_database_at_once(pg_url: str) -> None:  # noqa: F811
    """Four workers start together against an empty database: one creates the schema,
    the others wait (advisory lock) and find it done; nobody fails."""
    results: list[list[str]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        engine = make_engine(pg_url)
        try:
            barrier.wait(timeout=30)
            results.append(migrate(engine))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(results, key=len) == [[], [], [], [m.__name__ for m in MIGRATIONS]]
    with psycopg.connect(libpq_conninfo(pg_url)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM schema_version ORDER BY name")]
    assert names == sorted(m.__name__ for m in MIGRATIONS)


def test_concurrent_writers_from_two_pools(pg_url: str) -> None:  # noqa: F811
    """Two repositories (as two app workers) write at once: distinct sessions all land;
    racing for the same turn of one session, exactly one writer wins each index."""
    repos = [Repository.from_url(pg_url), Repository.from_url(pg_url)]
    errors: list[BaseException] = []
    lost: list[int] = []
    turns = 12
    barrier = threading.Barrier(6)

    def own_sessions(worker: int) -> None:
        repo = repos[worker % 2]
        try:
            barrier.wait(timeout=30)
            for i in range(turns):
                sid = f"w{worker}"
                record(repo, sid, repo.next_turn_index(sid), f"msg {i}",
                       prefs((Slot.GENRE, f"g{i}", Polarity.LIKE)), [{"id": str(i), "score": i}])
                repo.ensure_session("shared")
                repo.add_feedback("shared", str(i), "like", turn=i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def same_session(worker: int) -> None:
        repo = repos[worker % 2]
        try:
            barrier.wait(timeout=30)
            for i in range(turns):
                try:
                    record(repo, "contested", i, f"worker {worker} turn {i}")
                except StorageError:
                    lost.append(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=own_sessions, args=(w,)) for w in range(4)]
    threads += [threading.Thread(target=same_session, args=(w,)) for w in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for r in repos:
        r.close()
    assert errors == []
    with Repository.from_url(pg_url) as check:
        for w in range(4):
            assert [t["user_text"] for t in check.history(f"w{w}")] == [f"msg {i}" for i in range(turns)]
            assert len(check.load_preferences(f"w{w}").items) == 1
        assert len(check.feedback("shared")) == 4 * turns
        contested = check.history("contested")
    assert [t["index"] for t in contested] == list(range(turns))  # every index once, no duplicates
    assert sorted(lost) == list(range(turns))  # and the other writer was refused each time


class _Counter(TypedDict):
    n: int
    text: str


def _counter_graph(saver):
    from langgraph.graph import END, START, StateGraph

    builder = StateGraph(_Counter)
    builder.add_node("step", lambda s: {"n": s.get("n", 0) + 1, "text": "x" * (s.get("n", 0) + 1)})
    builder.add_edge(START, "step")
    builder.add_edge("step", END)
    return builder.compile(checkpointer=saver)


def test_postgres_checkpoints_are_shared_and_pruned(pg_url: str) -> None:  # noqa: F811
    first, second = open_postgres_saver(pg_url), open_postgres_saver(pg_url)  # two workers
    try:
        g1, g2 = _counter_graph(first), _counter_graph(second)
        config = {"configurable": {"thread_id": "t1"}}
        for i in range(12):
            graph = g1 if i % 2 == 0 else g2  # alternate workers on one thread
            graph.invoke({"n": graph.get_state(config).values.get("n", 0)}, config)
        assert g2.get_state(config).values == {"n": 12, "text": "x" * 12}
        other = {"configurable": {"thread_id": "t2"}}
        g1.invoke({"n": 0}, other)

        def count(table: str, thread: str) -> int:
            with psycopg.connect(libpq_conninfo(pg_url)) as conn:
                return conn.execute(f"SELECT count(*) FROM {table} WHERE thread_id = %s",  # noqa: S608
                                    (thread,)).fetchone()[0]

        before = {t: count(t, "t1") for t in ("checkpoints", "checkpoint_blobs", "checkpoint_writes")}
        assert before["checkpoints"] > 8 and before["checkpoint_blobs"] > 1
        deleted = prune_checkpoints(second, "t1", keep=8)
        assert deleted == before["checkpoints"] - 8 and count("checkpoints", "t1") == 8
        assert count("checkpoint_blobs", "t1") < before["checkpoint_blobs"]
        assert count("checkpoint_writes", "t1") < before["checkpoint_writes"]
        assert prune_checkpoints(second, "t1", keep=8) == 0
        assert count("checkpoints", "t2") > 0  # other threads untouched
        assert g1.get_state(config).values == {"n": 12, "text": "x" * 12}  # still resumes
        g1.invoke({"n": 12}, config)
        assert g2.get_state(config).values["n"] == 13
        first.delete_thread("t1")
        assert count("checkpoints", "t1") == count("checkpoint_blobs", "t1") == 0
    finally:
        first.conn.close()
        second.conn.close()


def test_longest_movie_id_fits_the_database(repo: Repository, tmp_path) -> None:
    """``crs corpus add`` refuses ids PostgreSQL could not store in a shown/feedback row
    (SQLite would take them silently, PostgreSQL would fail the turn)."""
    import json

    from crs.corpus.build import MOVIE_ID_MAX, AddFileError, read_movie_file

    longest = "x" * MOVIE_ID_MAX
    record(repo, "ids", 0, recs=[{"id": longest, "score": 1.0}])
    repo.add_feedback("ids", longest, "like")
    assert repo.shown_movie_ids("ids") == [longest] and repo.feedback("ids")[0]["movie_id"] == longest
    movies = tmp_path / "movies.jsonl"
    movies.write_text(json.dumps({"id": longest, "title": "Fits"}) + "\n"
                      + json.dumps({"id": longest + "y", "title": "Too long"}) + "\n")
    with pytest.raises(AddFileError, match=rf"movies.jsonl:2: 'id' must be at most {MOVIE_ID_MAX} characters"):
        read_movie_file(movies)


def test_a_worker_waiting_to_set_up_checkpoints_blocks_no_index_build(pg_url: str) -> None:  # noqa: F811
    """Two workers starting together deadlocked in CI: the one waiting inside a blocking
    pg_advisory_lock kept a transaction open, and the other's CREATE INDEX CONCURRENTLY
    (LangGraph's setup, run while it held that lock) waited for that transaction forever."""
    from crs.dialogue import checkpoints

    conninfo = libpq_conninfo(pg_url)
    holder = psycopg.connect(conninfo, autocommit=True)  # plays the worker setting up the tables
    holder.execute("SELECT pg_advisory_lock(%s)", (checkpoints._SETUP_LOCK_KEY,))
    opened: list = []
    waiter = threading.Thread(target=lambda: opened.append(open_postgres_saver(pg_url, setup_wait_s=60)))
    waiter.start()
    try:
        with psycopg.connect(conninfo, autocommit=True) as other:
            other.execute("CREATE TABLE setup_probe (x int)")
            other.execute("SET statement_timeout = '10s'")  # the old code: canceled here, never done
            other.execute("CREATE INDEX CONCURRENTLY setup_probe_x ON setup_probe (x)")
        assert waiter.is_alive() and not opened, "the waiting worker must still wait for the lock"
    finally:
        holder.execute("SELECT pg_advisory_unlock(%s)", (checkpoints._SETUP_LOCK_KEY,))
        holder.close()
        waiter.join(timeout=60)
    assert len(opened) == 1
    checkpoints.close_saver(opened[0])


def test_checkpoint_setup_gives_up_with_a_clear_error(pg_url: str) -> None:  # noqa: F811
    from crs.dialogue import checkpoints

    with psycopg.connect(libpq_conninfo(pg_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (checkpoints._SETUP_LOCK_KEY,))
        with pytest.raises(RuntimeError, match="another app worker"):
            open_postgres_saver(pg_url, setup_wait_s=0.5)
