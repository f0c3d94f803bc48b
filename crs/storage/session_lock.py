"""One turn of a session at a time, across every process that shares the database.

A turn reads the session's state (dialogue checkpoint, turn count, preferences), runs the
dialogue, and writes the new state back (checkpoint, turn row, preference rows, feedback).
Two turns of one session interleaving that read-modify-write, on two app workers, would
both read turn N's state: one of them would be refused (the ``(session, turn)`` key) and
its preferences lost. So the whole turn holds a lock keyed by the session:

* **PostgreSQL**: a transaction-scoped advisory lock, ``pg_advisory_xact_lock(key)``, with
  ``key`` a stable 64-bit hash of the session id (:func:`session_lock_key`), held in a
  transaction of its own connection for the duration of the turn. The wait is bounded by
  ``lock_timeout``; the lock goes when the transaction ends, also when the worker dies
  (the server ends the connection's transaction).
* **SQLite file**: an exclusive ``flock`` on one of :data:`LOCK_SLOTS` empty files in the
  folder beside the database (``crs.db.locks/``), chosen by the same hash. SQLite itself
  serialises with file locks, so this holds wherever the database can be shared (one
  machine). It is released by the kernel when the process dies: a lock *row* in the
  database would outlive a ``kill -9`` and keep the session busy until a lease ran out,
  and a ``BEGIN IMMEDIATE`` held for a whole turn would stop every other session's
  writes. ``flock`` locks belong to an open file, so two services in one process exclude
  each other too. Two sessions sharing a slot only wait for each other.
* In-memory SQLite and other engines: nothing beyond the service's in-process lock (such
  a database has one process anyway; other engines are not supported for scale-out).

:meth:`SessionLocks.acquire` waits at most ``timeout_s`` and raises
:class:`SessionLockTimeout` after that; the caller tells the user to send the message again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)

#: Lock files of a SQLite database (created as used; each is empty).
LOCK_SLOTS = 1024
#: PostgreSQL's SQLSTATE for "lock_timeout expired" (lock_not_available).
_PG_LOCK_NOT_AVAILABLE = "55P03"
#: Longest sleep between two tries of a file lock.
_MAX_POLL_S = 0.02

Release = Callable[[], None]


class SessionLockTimeout(Exception):
    """Another turn of the same session held its lock for longer than the wait allowed."""


def session_lock_key(session_id: str) -> int:
    """A stable signed 64-bit key of ``session_id`` (the same in every process and
    Python version, unlike ``hash()``), for PostgreSQL's bigint advisory locks."""
    digest = hashlib.blake2b(session_id.encode("utf-8"), digest_size=8, person=b"crs-sess").digest()
    return int.from_bytes(digest, "big", signed=True)


class SessionLocks:
    """In-process only: acquiring always succeeds at once (see the module docstring)."""

    kind = "none"

    def acquire(self, session_id: str, timeout_s: float) -> Release:
        """Take the session's lock, waiting at most ``timeout_s``; returns its release.

        Raises:
            SessionLockTimeout: Still held by another turn after ``timeout_s``.
        """
        return _noop


def _noop() -> None:
    return None


class PostgresSessionLocks(SessionLocks):
    """``pg_advisory_xact_lock`` on a connection of the repository's engine."""

    kind = "postgresql-advisory"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def acquire(self, session_id: str, timeout_s: float) -> Release:
        conn = self.engine.connect()
        try:
            conn.begin()
            # lock_timeout 0 would mean "wait for ever": at least one millisecond.
            conn.execute(text("SELECT set_config('lock_timeout', :wait, true)"),
                         {"wait": f"{max(1, int(timeout_s * 1000))}ms"})
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": session_lock_key(session_id)})
        except OperationalError as exc:
            conn.close()
            if getattr(exc.orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
                raise SessionLockTimeout(f"session busy for more than {timeout_s:.1f} s") from None
            raise
        except BaseException:
            conn.close()
            raise

        def release() -> None:
            try:
                conn.rollback()  # ends the transaction, and with it the advisory lock
            except Exception:  # noqa: BLE001 - a dropped connection released the lock already
                log.warning("releasing a session lock failed; the server drops it with the connection",
                            exc_info=True)
            finally:
                conn.close()

        return release


class FileSessionLocks(SessionLocks):
    """``flock`` on one of :data:`LOCK_SLOTS` files in ``directory``."""

    kind = "file-flock"

    def __init__(self, directory: Path, slots: int = LOCK_SLOTS) -> None:
        import fcntl  # noqa: F401 - POSIX only; session_locks_for() checks first

        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.directory = Path(directory)
        self.slots = slots
        self._made = False

    def path(self, session_id: str) -> Path:
        """The lock file of ``session_id``."""
        return self.directory / f"{session_lock_key(session_id) % self.slots:04d}.lock"

    def acquire(self, session_id: str, timeout_s: float) -> Release:
        import fcntl

        if not self._made:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._made = True
        fd = os.open(self.path(session_id), os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        deadline = time.monotonic() + timeout_s
        pause = 0.001
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise SessionLockTimeout(f"session busy for more than {timeout_s:.1f} s") from None
                    time.sleep(min(pause, left))
                    pause = min(pause * 2, _MAX_POLL_S)
        except BaseException:
            os.close(fd)
            raise

        def release() -> None:
            try:
                fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

        return release


def session_locks_for(engine: Engine) -> SessionLocks:
    """The cross-process session locks that fit the database behind ``engine``."""
    backend = engine.dialect.name
    if backend == "postgresql":
        return PostgresSessionLocks(engine)
    if backend == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:" or "mode=memory" in database:
            return SessionLocks()
        try:
            import fcntl  # noqa: F401
        except ImportError:  # Windows: one app process per database file there
            log.warning("no fcntl here: turns of one session are serialised within this process only")
            return SessionLocks()
        db = Path(database).expanduser()
        return FileSessionLocks(db.with_name(db.name + ".locks"))
    return SessionLocks()
