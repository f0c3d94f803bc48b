"""Schema migrations as named functions in an ordered list (the simonw/llm pattern).

A fresh database is built by ``create_all`` from the current models and every known
migration is then recorded as applied. An existing database gets the migrations it has
not seen yet, in list order, each recorded in ``schema_version`` in the same transaction.
To change the schema: change the model *and* append a function here that brings an old
database to the same shape (``op``-free: plain ``conn.execute`` of DDL via SQLAlchemy).
Migrations must run on SQLite and PostgreSQL alike (the scale-out tests run them on both):
use types both know (``JSON``, ``TEXT``, ``INTEGER``, ``FLOAT``), no ``IF NOT EXISTS``
on ``ADD COLUMN`` (SQLite lacks it) and no SQLite-only statements.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Connection, Engine, inspect, select, text

from crs.storage.db import writer
from crs.storage.models import Base, SchemaVersion

log = logging.getLogger(__name__)

Migration = Callable[[Connection], None]


def m001_initial(conn: Connection) -> None:
    """v0: the tables as first released (sessions, turns, preferences, shown, feedback)."""
    Base.metadata.create_all(conn)


def m002_session_settings(conn: Connection) -> None:
    """Per-session options chosen in the web UI (number of picks, include seen movies)."""
    conn.execute(text("ALTER TABLE sessions ADD COLUMN settings JSON"))


def m003_turn_llm_latency(conn: Connection) -> None:
    """Wall time each turn spent waiting for its language model (tokens were already there)."""
    conn.execute(text("ALTER TABLE turns ADD COLUMN llm_latency_ms FLOAT"))


#: Applied in this order; never reorder or rename an entry once released.
MIGRATIONS: tuple[Migration, ...] = (m001_initial, m002_session_settings, m003_turn_llm_latency)


#: PostgreSQL advisory lock key held while migrating ("CRS0"): several app workers
#: starting at once against a fresh database would otherwise all run ``create_all``.
MIGRATION_LOCK_KEY = 0x43525330


def _serialise(conn: Connection) -> None:
    """Make concurrent migrations of one database run one after the other.

    SQLite gets this from the ``BEGIN IMMEDIATE`` of :func:`crs.storage.db.writer`;
    PostgreSQL from a transaction-scoped advisory lock (released at commit; its DDL is
    transactional, so a worker that waited then sees the finished schema).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def migrate(engine: Engine, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
    """Bring the database behind ``engine`` up to date.

    Args:
        engine: The database to migrate.
        migrations: The ordered migrations (injectable so tests can add one).

    Returns:
        The names of the migrations applied now (all of them for a fresh database,
        none when it was already current).
    """
    names = [m.__name__ for m in migrations]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate migration names in {names}")
    with writer(engine).begin() as conn:
        _serialise(conn)
        SchemaVersion.__table__.create(conn, checkfirst=True)
        applied = set(conn.scalars(select(SchemaVersion.name)))
        fresh = not applied and not inspect(conn).has_table("sessions")
        if fresh:
            Base.metadata.create_all(conn)
            for name in names:
                conn.execute(SchemaVersion.__table__.insert().values(name=name))
            log.debug("created a fresh session database (%d migrations marked)", len(names))
            return names
        ran: list[str] = []
        for migration in migrations:
            if migration.__name__ in applied:
                continue
            migration(conn)
            conn.execute(SchemaVersion.__table__.insert().values(name=migration.__name__))
            ran.append(migration.__name__)
            log.info("applied database migration %s", migration.__name__)
        return ran
