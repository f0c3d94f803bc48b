"""What happens when the user acts on the page, kept apart from the layout.

Each public method of :class:`ChatHandlers` is one Gradio event handler; they only call the
chat service and the pure renderers, so they can be read (and tested) without a browser.
The service stays the single source of truth for a conversation; the page holds only the
session id (in the browser's localStorage) and what it currently displays.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import gradio as gr

from crs.ui import render

logger = logging.getLogger(__name__)

#: Shown in the chat when a turn fails for a reason the user cannot fix.
ERROR_REPLY = (
    "Sorry, something went wrong on my side while answering. Your message is back in "
    "the text box, so you can try again."
)
#: Shown when the service rejects a message without a message of its own.
BAD_INPUT_REPLY = "I couldn't use that message. Could you rephrase it?"


class ChatServiceLike(Protocol):
    """The part of :class:`crs.service.ChatService` the web UI uses."""

    def new_session(self) -> str: ...

    def handle_turn(self, session_id: str, text: str) -> dict[str, Any]: ...

    def session_view(self, session_id: str) -> dict[str, Any] | None: ...

    def movie_details(self, movie_id: str) -> dict[str, Any] | None: ...


Messages = list[dict[str, Any]]


class ChatHandlers:
    """Event handlers bound to one chat service.

    Args:
        service: The chat service (shared by all browser sessions).
        input_error: The exception type(s) that mean "the caller's input was bad"; their
            message is shown to the user. Defaults to ``crs.service.InputError`` and
            ``crs.storage.InvalidSessionIdError`` (a malformed API session id).
    """

    def __init__(
        self, service: ChatServiceLike, input_error: type[Exception] | tuple[type[Exception], ...] | None = None,
    ) -> None:
        if input_error is None:
            from crs.service import InputError
            from crs.storage import InvalidSessionIdError

            input_error = (InputError, InvalidSessionIdError)
        self.service = service
        self.input_error = input_error

    # ----------------------------------------------------------------- page events

    def load(self, stored_id: str | None) -> tuple[str, Messages, str, str]:
        """Resume the browser's stored session if the service knows it, else start one.

        Returns:
            (session id, chat messages, preferences HTML, recommendations HTML).
        """
        view = None
        if isinstance(stored_id, str) and stored_id:
            try:
                view = self.service.session_view(stored_id)
            except Exception:  # a broken store must not make the page unusable
                logger.exception("could not restore session %s; starting a new one", stored_id)
        if view is None:
            return self.new_conversation()[:4]
        return (
            stored_id,
            render.chat_history(view.get("history")),
            render.preferences_html(view.get("preferences")),
            self._recommendations_html(view.get("recommendations")),
        )

    def new_conversation(self) -> tuple[str, Messages, str, str, str, str]:
        """Start a fresh session and clear the page.

        Returns:
            (session id, chat, preferences HTML, recommendations HTML, textbox, pending).
        """
        session_id = self.service.new_session()
        return session_id, [], render.EMPTY_PREFERENCES_HTML, render.EMPTY_RECOMMENDATIONS_HTML, "", ""

    def accept(self, message: str | None, history: Messages | None) -> tuple[str, Messages, str]:
        """Show the user's message at once and clear the box (the reply comes in :meth:`respond`).

        Returns:
            (textbox value, chat with the user's message, the pending message).
        """
        text = message or ""
        chat = list(history or [])
        if text.strip():
            chat.append(render.chat_message("user", text))
        return "", chat, text

    def respond(
        self, pending: str | None, session_id: str | None, history: Messages | None
    ) -> tuple[Messages, Any, Any, str, Any]:
        """Run the turn for the pending message and show the reply, preferences and picks.

        Bad input and unexpected failures become a reply in the chat; in both cases the
        message goes back into the text box so nothing the user typed is lost.

        Returns:
            (chat, preferences HTML, recommendations HTML, session id, textbox value).
        """
        chat = list(history or [])
        text = pending or ""
        if not (isinstance(session_id, str) and session_id):
            session_id = self.service.new_session()
        try:
            turn = self.service.handle_turn(session_id, text)
        except self.input_error as exc:
            chat.append(render.chat_message("assistant", str(exc) or BAD_INPUT_REPLY))
            return chat, gr.skip(), gr.skip(), session_id, text if text.strip() else gr.skip()
        except Exception:
            logger.exception("chat turn failed (session %s)", session_id)
            chat.append(render.chat_message("assistant", ERROR_REPLY))
            return chat, gr.skip(), gr.skip(), session_id, text
        chat.append(render.chat_message("assistant", str(turn.get("reply") or "")))
        return (
            chat,
            render.preferences_html(turn.get("preferences")),
            self._recommendations_html(turn.get("recommendations")),
            session_id,
            gr.skip(),
        )

    # ------------------------------------------------------------------------ API

    def api_chat(self, message: str, session_id: str) -> dict[str, Any]:
        """One chat turn for programs: the turn object, as in ``crs replay`` output.

        An empty ``session_id`` starts a new session; its id is the turn's "session".
        Bad input is reported as a ``gr.Error`` carrying the service's message.
        """
        sid = (session_id or "").strip() or self.service.new_session()
        try:
            return self.service.handle_turn(sid, message or "")
        except self.input_error as exc:
            raise gr.Error(str(exc) or BAD_INPUT_REPLY) from exc
        except Exception as exc:
            logger.exception("API chat turn failed (session %s)", sid)
            raise gr.Error("Internal error while answering; the server log has the details.") from exc

    # -------------------------------------------------------------------- helpers

    def _recommendations_html(self, recs: list[dict[str, Any]] | None) -> str:
        """Cards for ``recs``, with each movie's plot when the service has one."""
        plots: dict[str, str] = {}
        for rec in recs or []:
            movie_id = str(rec.get("id", ""))
            try:
                details = self.service.movie_details(movie_id) if movie_id else None
            except Exception:  # the plot is a nicety; never fail the turn for it
                logger.exception("movie_details(%r) failed", movie_id)
                details = None
            if details and details.get("plot"):
                plots[movie_id] = str(details["plot"])
        return render.recommendations_html(recs, plots)
