"""The one object the service uses to remember sessions, turns, preferences and feedback.

Every public method is one transaction. Writes take SQLite's write lock up front (see
:mod:`crs.storage.db`) so several app workers, or the app and the CLI, can share a file.
Results are plain JSON-ready dicts (timestamps as ISO-8601 strings) or ``Preferences``,
so callers never hold ORM objects bound to a closed session.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.storage.db import make_engine, writer
from crs.storage.migrations import migrate
from crs.storage.session_lock import Release, session_locks_for
from crs.storage.models import (
    SESSION_CHILD_TABLES,
    SESSION_ID_MAX,
    TITLE_MAX,
    FeedbackKind,
    FeedbackRow,
    PreferenceRow,
    SessionRow,
    ShownRow,
    TurnRow,
    utcnow,
)

_SESSION_ID = re.compile(rf"[A-Za-z0-9_.:-]{{1,{SESSION_ID_MAX}}}")


class StorageError(Exception):
    """A request the session database cannot satisfy (the message says why)."""


class InvalidSessionIdError(StorageError, ValueError):
    """A session id that is not a string of 1-128 URL-safe characters."""


class UnknownSessionError(StorageError, LookupError):
    """An operation that needs an existing session got an id nobody created."""


def check_session_id(session_id: object) -> str:
    """Return ``session_id`` if it is well-formed, else raise :class:`InvalidSessionIdError`."""
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise InvalidSessionIdError(
            f"invalid session id {session_id!r}: expected 1-{SESSION_ID_MAX} characters "
            "from A-Z a-z 0-9 _ - . : (e.g. secrets.token_urlsafe() or 's1')")
    return session_id


def make_title(text: str) -> str | None:
    """A one-line session title from the first user message (None for blank text)."""
    line = " ".join(text.split())
    if not line:
        return None
    return line if len(line) <= TITLE_MAX else line[: TITLE_MAX - 1].rstrip() + "…"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _turn_dict(row: TurnRow) -> dict[str, Any]:
    return {
        "index": row.index, "user_text": row.user_text, "reply": row.reply, "phase": row.phase,
        "intent": row.intent, "recommendations": row.recommendations, "preferences": row.preferences,
        "latency_ms": row.latency_ms, "llm_backend": row.llm_backend, "tokens_in": row.tokens_in,
        "tokens_out": row.tokens_out, "llm_latency_ms": row.llm_latency_ms, "created_at": _iso(row.created_at),
    }


def _score(rec: dict[str, Any]) -> float | None:
    score = rec.get("score")
    return None if score is None else float(score)


class Repository:
    """Session persistence over any SQLAlchemy engine (SQLite by default).

    Args:
        engine: A migrated engine; most callers want :meth:`from_url` instead.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(writer(engine), expire_on_commit=False)
        self._session_locks = session_locks_for(engine)

    @classmethod
    def from_url(cls, url: str) -> Repository:
        """Open (creating and migrating as needed) the database at ``url``."""
        engine = make_engine(url)
        migrate(engine)
        return cls(engine)

    def close(self) -> None:
        """Release every pooled connection (the file stays consistent; WAL is checkpointed)."""
        self._engine.dispose()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- sessions -----------------------------------------------------------------------

    def lock_session(self, session_id: str, timeout_s: float) -> Release:
        """Take the session's cross-process lock (see :mod:`crs.storage.session_lock`),
        waiting at most ``timeout_s``; returns the function that releases it. Hold it
        around a whole turn (or any read-modify-write of one session's state) so that
        app workers sharing this database take a session's turns one after the other.

        Raises:
            SessionLockTimeout: Another holder kept it for longer than ``timeout_s``.
        """
        check_session_id(session_id)
        return self._session_locks.acquire(session_id, timeout_s)

    @property
    def session_lock_kind(self) -> str:
        """How sessions are locked across processes: "postgresql-advisory", "file-flock" or "none"."""
        return self._session_locks.kind

    def session_exists(self, session_id: str) -> bool:
        check_session_id(session_id)
        with self._read() as s:
            return s.get(SessionRow, session_id) is not None

    def ensure_session(self, session_id: str, title: str | None = None) -> None:
        """Create the session if it is new; set its title if it has none yet."""
        check_session_id(session_id)
        with self._write.begin() as s:
            row = s.get(SessionRow, session_id)
            if row is None:
                now = utcnow()
                s.add(SessionRow(id=session_id, title=make_title(title or ""), created_at=now, updated_at=now))
            elif title and not row.title:
                row.title = make_title(title)

    def list_sessions(self, limit: int = 50) -> list[dict[str, Any]]:
        """Most recently active sessions first: id, title, created_at, updated_at, turns."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        counts = (select(TurnRow.session_id, func.count().label("n"))
                  .group_by(TurnRow.session_id).subquery())
        stmt = (select(SessionRow, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.session_id == SessionRow.id)
                .order_by(SessionRow.updated_at.desc(), SessionRow.id).limit(limit))
        with self._read() as s:
            return [{"id": row.id, "title": row.title, "created_at": _iso(row.created_at),
                     "updated_at": _iso(row.updated_at), "turns": int(n)}
                    for row, n in s.execute(stmt)]

    def delete_session(self, session_id: str) -> bool:
        """Forget a session and every row that belongs to it; False if there was none."""
        check_session_id(session_id)
        deleted = 0
        with self._write.begin() as s:
            for table in SESSION_CHILD_TABLES:
                deleted += s.execute(delete(table).where(table.session_id == session_id)).rowcount
            deleted += s.execute(delete(SessionRow).where(SessionRow.id == session_id)).rowcount
        return deleted > 0

    # -- turns --------------------------------------------------------------------------

    def next_turn_index(self, session_id: str) -> int:
        """The index the next turn of this session gets (0 for a new session)."""
        check_session_id(session_id)
        with self._read() as s:
            last = s.scalar(select(func.max(TurnRow.index)).where(TurnRow.session_id == session_id))
        return 0 if last is None else last + 1

    def record_turn(self, session_id: str, *, index: int, user_text: str, reply: str, phase: str,
                    intent: str, preferences: Preferences, recommendations: list[dict[str, Any]],
                    latency_ms: float | None = None, llm_backend: str = "template",
                    tokens_in: int | None = None, tokens_out: int | None = None,
                    llm_latency_ms: float | None = None) -> None:
        """Store one turn and the session state after it, atomically.

        In one transaction: the turn row (with a snapshot of ``preferences``), the session's
        current preference rows replaced by ``preferences`` (unchanged items keep their
        ``source_turn``), the year bounds, one ``recommendations_shown`` row per entry of
        ``recommendations`` (dicts with at least ``id``; ``score`` optional; JSON-ready),
        and the session's ``updated_at``/title. The session is created if it is new.

        Raises:
            InvalidSessionIdError: Malformed ``session_id``.
            ValueError: A recommendation without an ``id`` or a negative ``index``.
            StorageError: Turn ``index`` of this session is already stored.
        """
        check_session_id(session_id)
        if index < 0:
            raise ValueError(f"turn index must be >= 0, got {index}")
        for pos, rec in enumerate(recommendations):
            if rec.get("id") in (None, ""):
                raise ValueError(f"recommendation #{pos} of turn {index} has no 'id': {rec!r}")
        now = utcnow()
        try:
            with self._write.begin() as s:
                row = s.get(SessionRow, session_id)
                if row is None:
                    row = SessionRow(id=session_id, created_at=now)
                    s.add(row)
                if not row.title:
                    row.title = make_title(user_text)
                row.updated_at = now
                row.year_min, row.year_max = preferences.year_min, preferences.year_max
                s.flush()  # the session row must exist before rows that reference it
                s.add(TurnRow(session_id=session_id, index=index, user_text=user_text, reply=reply,
                              phase=str(phase), intent=str(intent), recommendations=list(recommendations),
                              preferences=preferences.model_dump(mode="json"), latency_ms=latency_ms,
                              llm_backend=llm_backend, tokens_in=tokens_in, tokens_out=tokens_out,
                              llm_latency_ms=llm_latency_ms,
                              created_at=now))
                self._replace_preferences(s, session_id, preferences, index, now)
                s.add_all(ShownRow(session_id=session_id, turn=index, movie_id=str(rec["id"]), rank=rank,
                                   score=_score(rec), shown_at=now)
                          for rank, rec in enumerate(recommendations, start=1))
        except IntegrityError as exc:
            if "unique" in str(exc.orig).lower():
                raise StorageError(f"turn {index} of session {session_id!r} is already stored") from exc
            raise

    @staticmethod
    def _replace_preferences(s: Session, session_id: str, prefs: Preferences, index: int,
                             now: datetime) -> None:
        """Make the stored preference rows equal ``prefs`` (update, delete, insert)."""
        by_key: dict[tuple[str, str, str], PreferenceRow] = {}
        for row in s.scalars(select(PreferenceRow).where(PreferenceRow.session_id == session_id)):
            key = (row.slot, row.value, row.polarity)
            if key in by_key:
                s.delete(row)
            else:
                by_key[key] = row
        for pos, item in enumerate(prefs.items):
            row = by_key.pop((item.slot.value, item.value, item.polarity.value), None)
            if row is not None:
                row.position, row.label = pos, item.label
                continue
            source = item.turn if "turn" in item.model_fields_set else index
            s.add(PreferenceRow(session_id=session_id, position=pos, slot=item.slot.value, value=item.value,
                                polarity=item.polarity.value, label=item.label, source_turn=source,
                                created_at=now))
        for stale in by_key.values():
            s.delete(stale)

    def last_turn(self, session_id: str) -> dict[str, Any] | None:
        """The latest stored turn (``preferences`` is the snapshot dict), or None."""
        check_session_id(session_id)
        with self._read() as s:
            row = s.scalars(select(TurnRow).where(TurnRow.session_id == session_id)
                            .order_by(TurnRow.index.desc()).limit(1)).first()
            return None if row is None else _turn_dict(row)

    def history(self, session_id: str) -> list[dict[str, Any]]:
        """All stored turns of a session in order (same shape as :meth:`last_turn`)."""
        check_session_id(session_id)
        with self._read() as s:
            rows = s.scalars(select(TurnRow).where(TurnRow.session_id == session_id).order_by(TurnRow.index))
            return [_turn_dict(row) for row in rows]

    # -- preferences and shown movies -----------------------------------------------------

    def load_preferences(self, session_id: str) -> Preferences:
        """The session's current preferences (empty for an unknown session)."""
        check_session_id(session_id)
        with self._read() as s:
            session = s.get(SessionRow, session_id)
            if session is None:
                return Preferences()
            rows = s.scalars(select(PreferenceRow).where(PreferenceRow.session_id == session_id)
                             .order_by(PreferenceRow.position, PreferenceRow.id))
            items = [PreferenceItem(slot=Slot(r.slot), value=r.value, polarity=Polarity(r.polarity),
                                    label=r.label, turn=r.source_turn) for r in rows]
            return Preferences(items=items, year_min=session.year_min, year_max=session.year_max)

    def shown_movie_ids(self, session_id: str) -> list[str]:
        """Every movie id shown in this session, first showing first, without repeats."""
        check_session_id(session_id)
        with self._read() as s:
            ids = s.scalars(select(ShownRow.movie_id).where(ShownRow.session_id == session_id)
                            .order_by(ShownRow.turn, ShownRow.rank, ShownRow.id))
            return list(dict.fromkeys(ids))

    # -- feedback -----------------------------------------------------------------------

    def add_feedback(self, session_id: str, movie_id: str, kind: str | FeedbackKind, *,
                     turn: int | None = None, dwell_s: float | None = None) -> None:
        """Record a reaction to a movie.

        Raises:
            InvalidSessionIdError: Malformed ``session_id``.
            UnknownSessionError: No such session.
            ValueError: Unknown ``kind``, empty ``movie_id`` or negative ``dwell_s``.
        """
        check_session_id(session_id)
        try:
            kind = FeedbackKind(kind)
        except ValueError:
            allowed = ", ".join(k.value for k in FeedbackKind)
            raise ValueError(f"unknown feedback kind {kind!r}; expected one of: {allowed}") from None
        if not movie_id:
            raise ValueError("feedback needs a movie_id")
        if dwell_s is not None and dwell_s < 0:
            raise ValueError(f"dwell_s must be >= 0, got {dwell_s}")
        with self._write.begin() as s:
            if s.get(SessionRow, session_id) is None:
                raise UnknownSessionError(f"no session {session_id!r}: feedback needs an existing session")
            s.add(FeedbackRow(session_id=session_id, movie_id=str(movie_id), kind=kind.value, turn=turn,
                              dwell_s=dwell_s, created_at=utcnow()))

    def feedback(self, session_id: str) -> list[dict[str, Any]]:
        """The session's feedback events, oldest first."""
        check_session_id(session_id)
        with self._read() as s:
            rows = s.scalars(select(FeedbackRow).where(FeedbackRow.session_id == session_id)
                             .order_by(FeedbackRow.created_at, FeedbackRow.id))
            return [{"movie_id": r.movie_id, "kind": r.kind, "turn": r.turn, "dwell_s": r.dwell_s,
                     "created_at": _iso(r.created_at)} for r in rows]

    def feedback_session_ids(self) -> list[str]:
        """Ids of every session that was shown at least one movie, oldest first (the
        sessions ``crs train feedback`` learns from)."""
        stmt = (select(ShownRow.session_id, func.min(ShownRow.shown_at).label("first"))
                .group_by(ShownRow.session_id).order_by("first", ShownRow.session_id))
        with self._read() as s:
            return [row.session_id for row in s.execute(stmt)]

    def feedback_counts(self) -> dict[str, int]:
        """How many feedback events of each kind the database holds."""
        with self._read() as s:
            return {kind: int(n) for kind, n in s.execute(
                select(FeedbackRow.kind, func.count()).group_by(FeedbackRow.kind).order_by(FeedbackRow.kind))}

    # -- web UI: this browser's sessions, per-session settings, edits, forgetting -------

    def sessions_by_ids(self, session_ids: list[str]) -> list[dict[str, Any]]:
        """Like :meth:`list_sessions`, but only the given sessions (those that exist).

        The web UI lists a browser's own conversations this way, never everybody's.
        Malformed ids are skipped rather than raised: they come from browser storage.
        """
        ids = [i for i in dict.fromkeys(session_ids) if isinstance(i, str) and _SESSION_ID.fullmatch(i)]
        if not ids:
            return []
        counts = (select(TurnRow.session_id, func.count().label("n"))
                  .where(TurnRow.session_id.in_(ids)).group_by(TurnRow.session_id).subquery())
        stmt = (select(SessionRow, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.session_id == SessionRow.id)
                .where(SessionRow.id.in_(ids))
                .order_by(SessionRow.updated_at.desc(), SessionRow.id))
        with self._read() as s:
            return [{"id": row.id, "title": row.title, "created_at": _iso(row.created_at),
                     "updated_at": _iso(row.updated_at), "turns": int(n)}
                    for row, n in s.execute(stmt)]

    def session_settings(self, session_id: str) -> dict[str, Any]:
        """The session's stored UI options ({} for none or an unknown session)."""
        check_session_id(session_id)
        with self._read() as s:
            row = s.get(SessionRow, session_id)
            return dict(row.settings or {}) if row is not None else {}

    def save_session_settings(self, session_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """Merge ``values`` (JSON-ready) into the session's options, creating the session
        if it is new, and return the merged options. ``None`` values delete a key."""
        check_session_id(session_id)
        now = utcnow()
        with self._write.begin() as s:
            row = s.get(SessionRow, session_id)
            if row is None:
                row = SessionRow(id=session_id, created_at=now, updated_at=now)
                s.add(row)
            merged = {**(row.settings or {}), **values}
            row.settings = {k: v for k, v in merged.items() if v is not None}
            return dict(row.settings)

    def replace_preferences(self, session_id: str, preferences: Preferences) -> None:
        """Make the session's current preferences (items and year bounds) equal
        ``preferences`` outside a turn, e.g. after the user removed one in the UI.

        Raises:
            UnknownSessionError: No such session.
        """
        check_session_id(session_id)
        now = utcnow()
        with self._write.begin() as s:
            row = s.get(SessionRow, session_id)
            if row is None:
                raise UnknownSessionError(f"no session {session_id!r}: nothing to edit")
            last = s.scalar(select(func.max(TurnRow.index)).where(TurnRow.session_id == session_id))
            row.year_min, row.year_max = preferences.year_min, preferences.year_max
            row.updated_at = now
            self._replace_preferences(s, session_id, preferences, last or 0, now)

    def purge_session(self, session_id: str) -> bool:
        """Forget a session for real: like :meth:`delete_session`, and on SQLite the file
        is then rebuilt (``VACUUM``) and its write-ahead log checkpointed and truncated, so
        the conversation's text is not left in free pages or old log frames either.
        """
        deleted = self.delete_session(session_id)
        if self._engine.dialect.name == "sqlite":
            raw = self._engine.raw_connection()
            try:  # autocommit connection (see crs.storage.db): VACUUM needs no open transaction
                raw.driver_connection.execute("VACUUM")
                raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        return deleted
