"""LangGraph checkpoint stores: open the PostgreSQL one, and keep either kind small.

``SqliteSaver`` and ``PostgresSaver`` keep every checkpoint of every step forever; a
session only ever resumes from its latest one, so after each turn all but the newest few
are deleted. With a PostgreSQL session database the checkpoints live in the same
database (tables ``checkpoints``, ``checkpoint_blobs``, ``checkpoint_writes``), so every
app worker sees every session's dialogue state.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

log = logging.getLogger(__name__)

#: Key of the PostgreSQL advisory lock that serialises the saver's table setup between
#: workers starting at the same time (CREATE TABLE IF NOT EXISTS races otherwise).
_SETUP_LOCK_KEY = 0x43525331  # "CRS1"


def is_postgres_url(url: str) -> bool:
    """True for a SQLAlchemy or libpq URL of PostgreSQL (``postgresql[+driver]://``)."""
    scheme = str(url).split(":", 1)[0].lower()
    return scheme.split("+", 1)[0] in ("postgresql", "postgres")


def libpq_conninfo(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://u:p@h:5432/db``) as psycopg's conninfo."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def open_postgres_saver(url: str, *, max_connections: int = 2, setup_wait_s: float = 120.0) -> Any:
    """LangGraph's ``PostgresSaver`` on the database at ``url``, its tables created.

    Args:
        url: The session database URL (SQLAlchemy form, as in ``CRS_DATABASE_URL``).
        max_connections: Pool size; the saver runs one statement at a time anyway.
        setup_wait_s: How long to wait for another worker creating the tables.

    Raises:
        RuntimeError: The ``server`` extra (psycopg, langgraph-checkpoint-postgres) is missing,
            or another worker held the setup lock for longer than ``setup_wait_s``.
        psycopg.OperationalError: The database cannot be reached.
    """
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool
    except ImportError as exc:
        raise RuntimeError("PostgreSQL needs the 'server' extra: "
                           ".venv/bin/uv pip install -p .venv/bin/python -e '.[server]'") from exc
    pool = ConnectionPool(libpq_conninfo(url), min_size=1, max_size=max_connections, open=False,
                          kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
                          check=ConnectionPool.check_connection, name="crs-checkpoints")
    pool.open(wait=True, timeout=15)
    saver = PostgresSaver(pool)
    with pool.connection() as conn:  # held until setup is done, so two workers never race
        _take_setup_lock(conn, setup_wait_s)
        try:
            saver.setup()
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))
    return saver


def _take_setup_lock(conn: Any, wait_s: float) -> None:
    """Take the setup lock by polling ``pg_try_advisory_lock``, never by a blocking
    ``pg_advisory_lock``: a worker blocked inside that statement keeps a transaction open,
    and the saver's ``CREATE INDEX CONCURRENTLY`` in the worker holding the lock waits for
    every open transaction to end, so two workers starting together deadlocked (seen in CI:
    one waiting on the advisory lock, the other's index build waiting on it)."""
    deadline = time.monotonic() + wait_s
    while not conn.execute("SELECT pg_try_advisory_lock(%s) AS taken", (_SETUP_LOCK_KEY,)).fetchone()["taken"]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"another app worker has been creating the checkpoint tables for over {wait_s:.0f} s; "
                               "check it (or the database) and start this worker again")
        time.sleep(0.2)


def close_saver(saver: Any) -> None:
    """Close a checkpointer's connection: the SQLite connection of ``SqliteSaver`` or the
    psycopg pool (or connection) of ``PostgresSaver``; anything else is left alone. Safe
    to call twice."""
    conn = getattr(saver, "conn", None)
    if conn is None:
        return
    if isinstance(conn, sqlite3.Connection):
        lock = getattr(saver, "lock", None)
        if lock is not None:
            with lock:
                conn.close()
        else:
            conn.close()
        return
    if type(saver).__module__.startswith("langgraph.checkpoint.postgres") and hasattr(conn, "close"):
        conn.close()  # psycopg_pool.ConnectionPool.close() waits for connections in use, then closes all


def prune_checkpoints(saver: Any, thread_id: str, keep: int = 8) -> int:
    """Delete all but the ``keep`` newest checkpoints (and their writes) of one thread.

    Works on LangGraph's ``SqliteSaver`` and ``PostgresSaver`` (there also the channel
    blobs no kept checkpoint refers to); other savers are left alone. Checkpoint ids are
    time-ordered (uuid6), which is also how the savers find the latest one.

    Returns:
        How many checkpoints were deleted.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    if isinstance(getattr(saver, "conn", None), sqlite3.Connection) and hasattr(saver, "cursor"):
        return _prune_sqlite(saver, thread_id, keep)
    if type(saver).__module__.startswith("langgraph.checkpoint.postgres"):
        return _prune_postgres(saver, thread_id, keep)
    return 0


def _prune_sqlite(saver: Any, thread_id: str, keep: int) -> int:
    with saver.cursor() as cur:
        cur.execute(
            "SELECT checkpoint_id FROM checkpoints WHERE thread_id = ? AND checkpoint_ns = '' "
            "ORDER BY checkpoint_id DESC LIMIT ?",
            (thread_id, keep),
        )
        kept = [row[0] for row in cur.fetchall()]
        if len(kept) < keep:
            return 0
        oldest = kept[-1]
        cur.execute("DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id < ?", (thread_id, oldest))
        deleted = cur.rowcount
        cur.execute("DELETE FROM writes WHERE thread_id = ? AND checkpoint_id < ?", (thread_id, oldest))
    return deleted


#: One transaction: the oldest kept id, then checkpoints and writes older than it, then
#: the blobs (values stored per channel version) that no remaining checkpoint names and
#: that a remaining checkpoint has superseded with a newer version of the channel (so a
#: blob written for a checkpoint still being saved elsewhere is never taken; versions
#: are zero-padded, so they compare as text).
_PG_OLDEST_KEPT = (
    "SELECT checkpoint_id FROM checkpoints WHERE thread_id = %s AND checkpoint_ns = '' "
    "ORDER BY checkpoint_id DESC OFFSET %s LIMIT 1")
_PG_DELETE_CHECKPOINTS = "DELETE FROM checkpoints WHERE thread_id = %s AND checkpoint_id < %s"
_PG_DELETE_WRITES = "DELETE FROM checkpoint_writes WHERE thread_id = %s AND checkpoint_id < %s"
_PG_DELETE_BLOBS = (
    "DELETE FROM checkpoint_blobs b WHERE b.thread_id = %s AND NOT EXISTS ("
    " SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns"
    " AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)"
    " AND EXISTS ("
    " SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id AND c.checkpoint_ns = b.checkpoint_ns"
    " AND c.checkpoint -> 'channel_versions' ->> b.channel > b.version)")


def _prune_postgres(saver: Any, thread_id: str, keep: int) -> int:
    """The PostgreSQL form; best effort: a concurrent writer of the same thread (another
    worker answering the same session at that moment) makes it skip, not fail the turn."""
    import psycopg

    try:
        with saver._cursor() as cur, cur.connection.transaction():  # noqa: SLF001 - the saver's own lock and pool
            row = cur.execute(_PG_OLDEST_KEPT, (thread_id, keep - 1)).fetchone()
            if row is None:
                return 0
            oldest = row["checkpoint_id"]
            deleted = cur.execute(_PG_DELETE_CHECKPOINTS, (thread_id, oldest)).rowcount
            if deleted:
                cur.execute(_PG_DELETE_WRITES, (thread_id, oldest))
                cur.execute(_PG_DELETE_BLOBS, (thread_id,))
            return deleted
    except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected) as exc:
        log.info("checkpoint pruning of one session skipped: %s", type(exc).__name__)
        return 0
