"""Turns of one session sent to two app workers at once run one after the other, on the
real PostgreSQL server (the session's advisory lock, crs/storage/session_lock.py).

Two in-process ``ChatService`` instances, each with its own engine and checkpoint pool
(as two workers have), over one PostgreSQL database and the Chroma server; the same with
two ``crs chat`` processes over HTTP is in tests/test_scaleout_e2e.py.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from crs.dialogue.checkpoints import libpq_conninfo
from crs.settings import Settings
from crs.storage import Repository
from scaleout_fixtures import chroma_url, pg_url, postgres_admin_url, server_store  # noqa: F401  (fixtures)
from session_race import PHRASES, busy_session_is_refused_then_kept, check, race

pytestmark = pytest.mark.scaleout


@pytest.fixture
def two_workers(server_store: Settings, pg_url: str):  # noqa: F811
    from crs.wiring import build_components

    services = [build_components(server_store.model_copy(update={"database_url": pg_url})).service
                for _ in range(2)]
    try:
        yield services
    finally:
        for service in services:
            service.close()


def test_same_session_turns_on_two_workers_are_serialised(two_workers, pg_url: str) -> None:  # noqa: F811
    a, b = two_workers
    assert a.repo.session_lock_kind == "postgresql-advisory"
    sid = "race-session"
    acked, errors = race([lambda text: a.handle_turn(sid, text), lambda text: b.handle_turn(sid, text)], rounds=4)
    assert errors == []
    with psycopg.connect(libpq_conninfo(pg_url)) as conn:  # what the database holds, in plain SQL
        texts = [r[0] for r in conn.execute(
            "SELECT user_text FROM turns WHERE session_id = %s ORDER BY turn_index", (sid,))]
        liked = [r[0] for r in conn.execute(
            "SELECT value FROM preferences WHERE session_id = %s AND slot = 'genre' AND polarity = 'like'", (sid,))]
        held = conn.execute("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                            "WHERE l.locktype = 'advisory' AND d.datname = current_database()").fetchone()[0]
        assert held == 0  # every turn released its session's lock
    check(acked, texts, liked, 8)
    nxt = b.handle_turn(sid, "what should I watch?")
    assert nxt["turn"] == 8 and set(PHRASES.values()) <= set(nxt["preferences"]["liked_genres"])


def test_a_busy_session_asks_to_send_again_and_loses_nothing(two_workers, pg_url: str) -> None:  # noqa: F811
    busy_session_is_refused_then_kept(*two_workers, Repository.from_url(pg_url))



def test_close_closes_the_checkpoint_pool(server_store: Settings, pg_url: str) -> None:  # noqa: F811
    from crs.wiring import build_components

    service = build_components(server_store.model_copy(update={"database_url": pg_url})).service
    service.handle_turn("s1", "hello")
    pool = service.graph.checkpointer.conn
    assert not pool.closed
    service.close()
    service.close()
    assert pool.closed
    # No connection of the worker is left open. A closed connection's server process exits a
    # moment after the client hangs up (seconds on a loaded machine: CI saw 2 left), so wait for it.
    deadline = time.monotonic() + 15
    with psycopg.connect(libpq_conninfo(pg_url), autocommit=True) as conn:
        while True:
            left = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND pid <> pg_backend_pid()").fetchone()[0]
            if left == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert left == 0
