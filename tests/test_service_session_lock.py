"""Turns of one session sent to two app workers at once run one after the other, on SQLite.

Two ``ChatService`` instances, each with its own database engine and its own connection to
the checkpoint file (what two ``crs chat`` processes on one machine have), share one
database; their in-process locks know nothing of each other, so only the database's
session lock (crs/storage/session_lock.py) keeps the turns apart. The PostgreSQL form is
tests/test_scaleout_session_lock.py.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crs.settings import Settings
from crs.storage import Repository, SessionLockTimeout
from crs.storage.session_lock import FileSessionLocks, session_lock_key
from session_race import PHRASES, busy_session_is_refused_then_kept, check, race


@pytest.fixture
def two_services(small_store: Settings, tmp_path: Path):
    from crs.wiring import build_components

    settings = small_store.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'crs.db'}",
                                              "checkpoint_path": None})
    services = [build_components(settings).service for _ in range(2)]
    try:
        yield services
    finally:
        for service in services:
            service.close()


def test_session_lock_key_is_stable_and_spread() -> None:
    # The same in every process and Python version (it names PostgreSQL advisory locks).
    assert session_lock_key("s1") == session_lock_key("s1") == -1613499974713208588  # pinned: workers of different releases must agree
    keys = {session_lock_key(f"session-{n}") for n in range(10_000)}
    assert len(keys) == 10_000 and min(keys) < 0 < max(keys)


def test_file_lock_excludes_other_holders_and_dies_with_its_process(tmp_path: Path) -> None:
    locks = FileSessionLocks(tmp_path / "crs.db.locks")
    release = locks.acquire("abc", timeout_s=1)
    started = time.monotonic()
    with pytest.raises(SessionLockTimeout):  # another open file: another worker, or another service here
        FileSessionLocks(tmp_path / "crs.db.locks").acquire("abc", timeout_s=0.3)
    assert 0.3 <= time.monotonic() - started < 2
    release()
    FileSessionLocks(tmp_path / "crs.db.locks").acquire("abc", timeout_s=0.3)()

    # A worker killed with SIGKILL while holding the lock does not leave it behind.
    code = ("import sys, time; from pathlib import Path; from crs.storage.session_lock import FileSessionLocks;"
            f"FileSessionLocks(Path({str(tmp_path / 'crs.db.locks')!r})).acquire('abc', 5);"
            "print('held', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(SessionLockTimeout):
            locks.acquire("abc", timeout_s=0.2)
        child.kill()
        child.wait(timeout=10)
        locks.acquire("abc", timeout_s=2)()
    finally:
        child.kill()


def test_same_session_turns_on_two_services_are_serialised(two_services) -> None:
    a, b = two_services
    assert a.repo.session_lock_kind == "file-flock"
    sid = "race-session"
    acked, errors = race([lambda text: a.handle_turn(sid, text), lambda text: b.handle_turn(sid, text)], rounds=4)
    assert errors == []
    history = b.repo.history(sid)
    check(acked, [t["user_text"] for t in history], a.repo.load_preferences(sid).summary()["liked_genres"], 8)
    # The dialogue state (checkpoint) agrees with the rows: the next turn, on either service, sees all 8.
    nxt = a.handle_turn(sid, "what should I watch?")
    assert nxt["turn"] == 8 and set(PHRASES.values()) <= set(nxt["preferences"]["liked_genres"])
    # The in-process lock table keeps only sessions with a turn in flight (it used to grow with
    # every session a worker had seen), also after threads raced on one entry.
    a.handle_turn("another-session", "hello")
    assert a._locks == {} and b._locks == {}  # noqa: SLF001


def test_without_the_database_lock_the_same_race_loses_turns(two_services) -> None:
    """The control: with only the in-process locks (as before), the race above breaks."""
    from crs.storage.session_lock import SessionLocks

    a, b = two_services
    for service in two_services:
        service.repo._session_locks = SessionLocks()  # noqa: SLF001 - what the service had before
    sid = "race-session"
    acked, errors = race([lambda text: a.handle_turn(sid, text), lambda text: b.handle_turn(sid, text)], rounds=4)
    with pytest.raises(AssertionError):
        assert errors == []
        check(acked, [t["user_text"] for t in b.repo.history(sid)],
              a.repo.load_preferences(sid).summary()["liked_genres"], 8)


def test_a_busy_session_asks_to_send_again_and_loses_nothing(two_services, tmp_path: Path) -> None:
    busy_session_is_refused_then_kept(*two_services, Repository.from_url(f"sqlite:///{tmp_path / 'crs.db'}"))



def test_close_closes_the_checkpoint_connection(small_store: Settings, tmp_path: Path) -> None:
    from crs.wiring import build_components

    settings = small_store.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'crs.db'}",
                                              "checkpoint_path": None})
    service = build_components(settings).service
    service.handle_turn("s1", "hello")
    conn = service.graph.checkpointer.conn
    service.close()
    service.close()  # twice is fine
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")
