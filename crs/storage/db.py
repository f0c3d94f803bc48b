"""Engine setup: one place that knows SQLite's quirks.

SQLite is the default store and is shared by the web app's worker threads and, at times,
a second process (the CLI next to a running app). Three settings make that safe:

* WAL journal mode, so readers never block the writer and vice versa;
* ``busy_timeout``, so a writer waits for another writer instead of failing at once;
* write transactions start with ``BEGIN IMMEDIATE`` (see :func:`writer`). A deferred
  transaction that reads and then writes can dead-lock with another such transaction,
  and SQLite then answers "database is locked" without waiting at all.

Foreign keys are switched on for every connection because SQLite leaves them off.
PostgreSQL (psycopg 3) gets the same one-writer-at-a-time rule from an advisory lock;
any other SQLAlchemy URL gets a plain engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_MS = 15_000
_BEGIN_OPTION = "crs_sqlite_begin"


def _is_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine for ``url``; for a SQLite file, create its folder and tune it.

    Args:
        url: Any SQLAlchemy URL, e.g. ``sqlite:///data/crs.db`` or ``sqlite://`` (memory).
        echo: Log SQL (debugging only: statements carry user text as bound parameters).

    Raises:
        ValueError: The URL cannot be parsed.
    """
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError with a terse message
        raise ValueError(f"Invalid database URL {url!r}: {exc}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 (the 'server' extra), not psycopg2
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(parsed, echo=echo, pool_pre_ping=True)
        _tune_postgres(engine)
        return engine
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, echo=echo, pool_pre_ping=True)

    kwargs: dict[str, Any] = {"echo": echo, "connect_args": {"check_same_thread": False,
                                                            "timeout": BUSY_TIMEOUT_MS / 1000}}
    memory = _is_memory(parsed.database)
    if memory:
        kwargs["poolclass"] = StaticPool  # one connection, or every checkout is a new empty DB
    else:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, **kwargs)
    _tune_sqlite(engine, wal=not memory)
    return engine


def _tune_sqlite(engine: Engine, *, wal: bool) -> None:
    """Register the connection pragmas and our own BEGIN (the SQLAlchemy-documented recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if wal:
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


#: PostgreSQL advisory lock that write transactions take first ("CRSW"), see below.
PG_WRITE_LOCK_KEY = 0x43525357


def _tune_postgres(engine: Engine) -> None:
    """Give :func:`writer` transactions SQLite's semantics on PostgreSQL: they take one
    database-wide write lock (a transaction-scoped advisory lock) before anything else.

    The repository reads a row and then inserts it if it was missing ("get or create");
    under PostgreSQL's READ COMMITTED two workers doing that for one session at once would
    both insert and one would fail on the primary key. Serialising the (millisecond-short)
    write transactions, as SQLite's ``BEGIN IMMEDIATE`` does, keeps the repository the
    same on both engines; reads are never blocked.
    """

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_BEGIN_OPTION) == "IMMEDIATE":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK_KEY})")


def writer(engine: Engine) -> Engine:
    """The same engine (same pool) whose transactions take the write lock up front.

    Use it for every transaction that writes; plain ``engine`` is for reads.
    PostgreSQL takes an advisory write lock instead (see :func:`_tune_postgres`); other
    engines ignore the option.
    """
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
