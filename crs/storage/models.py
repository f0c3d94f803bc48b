"""ORM tables of the session database.

One row type per table. The in-memory forms live elsewhere (``crs.preferences``); the
repository translates between them, so nothing outside ``crs.storage`` sees these classes.
Every child table points at ``sessions`` with ``ON DELETE CASCADE`` *and* the repository
deletes children explicitly, so forgetting a session works even where foreign keys are off.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: Session ids are ``secrets.token_urlsafe`` tokens or replay ids ("s1"); this bounds them.
SESSION_ID_MAX = 128
TITLE_MAX = 80


class FeedbackKind(StrEnum):
    """What a user can tell us about one shown movie."""

    ACCEPT = "accept"
    REJECT = "reject"
    SEEN = "seen"
    LIKE = "like"
    MORE_LIKE_THIS = "more_like_this"
    WHY = "why"


def utcnow() -> datetime:
    """Timezone-aware now; one clock for every timestamp we write."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware (SQLite drops the offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass a timezone-aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base; ``Base.metadata`` is what ``create_all`` builds."""

    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[dict[str, Any]]: JSON}


def _session_fk() -> Mapped[str]:
    return mapped_column(String(SESSION_ID_MAX), ForeignKey("sessions.id", ondelete="CASCADE"), index=True)


class SchemaVersion(Base):
    """One row per applied migration (by name), like simonw/llm's ``_llm_migrations``."""

    __tablename__ = "schema_version"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)


class SessionRow(Base):
    """A conversation. Year bounds live here because they belong to no single preference."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(SESSION_ID_MAX), primary_key=True)
    title: Mapped[str | None] = mapped_column(String(TITLE_MAX))
    year_min: Mapped[int | None]
    year_max: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: The user's per-conversation options from the web UI (see migration m002).
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class TurnRow(Base):
    """One user message and our reply, with what we knew and showed at that point."""

    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("session_id", "turn_index", name="uq_turn_session_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = _session_fk()
    index: Mapped[int] = mapped_column("turn_index")
    user_text: Mapped[str] = mapped_column(Text)
    reply: Mapped[str] = mapped_column(Text)
    phase: Mapped[str] = mapped_column(String(40))
    intent: Mapped[str] = mapped_column(String(40))
    recommendations: Mapped[list[dict[str, Any]]]
    preferences: Mapped[dict[str, Any]]
    latency_ms: Mapped[float | None] = mapped_column(Float)
    llm_backend: Mapped[str] = mapped_column(String(40), default="template")
    #: Prompt and completion tokens of the turn's language-model calls (0 with the
    #: template backend, None when the model did not report them) and the wall time
    #: spent waiting for it (see migration m003).
    tokens_in: Mapped[int | None]
    tokens_out: Mapped[int | None]
    llm_latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PreferenceRow(Base):
    """One currently-held preference of a session (replaced as a set on every turn)."""

    __tablename__ = "preferences"
    __table_args__ = (Index("ix_preferences_key", "session_id", "slot", "value", "polarity"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = _session_fk()
    position: Mapped[int]  # order within the session's list (later statements last)
    slot: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    polarity: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(Text, default="")
    source_turn: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShownRow(Base):
    """A movie we put in front of the user: the denominator of every online metric."""

    __tablename__ = "recommendations_shown"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = _session_fk()
    turn: Mapped[int]
    movie_id: Mapped[str] = mapped_column(String(64))
    rank: Mapped[int]
    score: Mapped[float | None] = mapped_column(Float)
    shown_at: Mapped[datetime] = mapped_column(default=utcnow)


class FeedbackRow(Base):
    """An explicit reaction to a movie (buttons in the UI, or parsed from chat)."""

    __tablename__ = "feedback_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = _session_fk()
    movie_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    turn: Mapped[int | None]
    dwell_s: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: Every table that holds rows of one session, children first (the delete order).
SESSION_CHILD_TABLES: tuple[type[Base], ...] = (FeedbackRow, ShownRow, PreferenceRow, TurnRow)
