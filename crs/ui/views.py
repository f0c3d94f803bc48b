"""What each panel of the page shows for a session, read from the chat service.

The service is the single source of truth; the page keeps only the current session id
and the ids of this browser's conversations (both in localStorage). :class:`PageViews`
builds every panel from those, so a reload, a resume and a turn all show the same thing.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import Any, Protocol

from crs.ui import render

logger = logging.getLogger(__name__)

#: How many of this browser's conversations it remembers (oldest forgotten first).
MAX_KNOWN_SESSIONS = 50

Messages = list[dict[str, Any]]
#: (session id, known ids, chat, preferences HTML, recommendations HTML, sessions HTML,
#: number of recommendations, include-seen) — the outputs of a whole-page refresh.
Page = tuple[str, list[str], Messages, str, str, str, int, bool]


class ChatServiceLike(Protocol):
    """The part of :class:`crs.service.ChatService` the web UI uses."""

    def new_session(self) -> str: ...
    def handle_turn(self, session_id: str, text: str) -> dict[str, Any]: ...
    def click(self, session_id: str, movie_id: str, kind: str) -> dict[str, Any]: ...
    def click_text(self, movie_id: str, kind: str) -> str: ...
    def session_view(self, session_id: str) -> dict[str, Any] | None: ...
    def movie_details(self, movie_id: str) -> dict[str, Any] | None: ...
    def preference_items(self, session_id: str) -> dict[str, Any]: ...
    def remove_preference(self, session_id: str, slot: str, value: str = "",
                          polarity: str | None = None) -> dict[str, Any]: ...
    def current_recommendations(self, session_id: str) -> list[dict[str, Any]]: ...
    def sessions_overview(self, session_ids: list[str]) -> list[dict[str, Any]]: ...
    def session_settings(self, session_id: str) -> dict[str, Any]: ...
    def update_session_settings(self, session_id: str, *, n_recommendations: int | None = None,
                                include_seen: bool | None = None) -> dict[str, Any]: ...
    def delete_session(self, session_id: str) -> bool: ...
    def stream_turn(self, session_id: str, text: str) -> Iterator[tuple[str, Any]]: ...
    def stream_click(self, session_id: str, movie_id: str, kind: str) -> Iterator[tuple[str, Any]]: ...
    def llm_settings(self, session_id: str) -> dict[str, Any]: ...
    def update_llm_settings(self, session_id: str, kind: str, base_url: str = "", model: str = "",
                            api_key: str | None = None) -> dict[str, Any]: ...


def known_ids(value: Any, current: str | None = None) -> list[str]:
    """The browser's stored conversation ids, cleaned, with ``current`` first."""
    ids = [v for v in value if isinstance(v, str) and v] if isinstance(value, list) else []
    if current:
        ids = [current, *(i for i in ids if i != current)]
    return list(dict.fromkeys(ids))[:MAX_KNOWN_SESSIONS]


class PageViews:
    """Panels of one session, rendered from the service.

    Args:
        service: The chat service.
        default_n: The product's number of recommendations (the slider's default).
    """

    def __init__(self, service: ChatServiceLike, default_n: int = 5) -> None:
        self.service = service
        self.default_n = default_n
        self._revision = itertools.count(1)

    def preferences(self, session_id: str) -> str:
        """The "What I know about you" panel."""
        try:
            return render.preferences_html(self.service.preference_items(session_id))
        except Exception:  # a panel must never break the page
            logger.exception("could not read the preferences of session %s", session_id)
            return render.EMPTY_PREFERENCES_HTML

    def recommendations(self, session_id: str) -> str:
        """The cards of the list the user is looking at, each with its plot."""
        try:
            recs = self.service.current_recommendations(session_id)
        except Exception:
            logger.exception("could not read the recommendations of session %s", session_id)
            recs = []
        plots: dict[str, str] = {}
        for rec in recs:
            movie_id = str(rec.get("id", ""))
            try:
                details = self.service.movie_details(movie_id) if movie_id else None
            except Exception:  # the plot is a nicety; never fail the turn for it
                logger.exception("movie_details(%r) failed", movie_id)
                details = None
            if details and details.get("plot"):
                plots[movie_id] = str(details["plot"])
        return render.recommendations_html(recs, plots, revision=next(self._revision))

    def sessions(self, known: list[str], current: str) -> tuple[list[str], str]:
        """This browser's conversations: (ids that still exist, plus ``current``; the list HTML)."""
        try:
            rows = self.service.sessions_overview(known)
        except Exception:
            logger.exception("could not list sessions")
            return known, render.EMPTY_SESSIONS_HTML
        alive = {r["id"] for r in rows}
        kept = [i for i in known if i in alive or i == current]
        return kept, render.sessions_html(rows, current)

    def settings(self, session_id: str) -> tuple[int, bool]:
        """(number of recommendations, include already-seen) of the session."""
        try:
            options = self.service.session_settings(session_id)
        except Exception:
            logger.exception("could not read the settings of session %s", session_id)
            options = {}
        return int(options.get("n_recommendations") or self.default_n), bool(options.get("include_seen", False))

    def history(self, session_id: str) -> Messages:
        """The stored conversation as chat messages ([] for a new session)."""
        view = self.service.session_view(session_id)
        return render.chat_history((view or {}).get("history"))

    def page(self, session_id: str, known: Any, chat: Messages | None = None) -> Page:
        """Everything the page shows for ``session_id`` (``chat``: already built history)."""
        ids, sessions = self.sessions(known_ids(known, session_id), session_id)
        n, include_seen = self.settings(session_id)
        return (session_id, ids, self.history(session_id) if chat is None else chat,
                self.preferences(session_id), self.recommendations(session_id), sessions, n, include_seen)
