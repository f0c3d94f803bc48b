"""What happens when the user acts on the page, kept apart from the layout.

Each public method of :class:`ChatHandlers` is one Gradio event handler; they only call the
chat service and the pure renderers, so they can be read (and tested) without a browser.
A turn is split in two events: ``accept``/``accept_click`` (no queue) put the user's words
in the chat at once, then ``respond``/``respond_click`` run the turn while the chat shows
its typing indicator. After a turn the chat is rebuilt from the stored history, so events
that overlap (a card click while a typed message runs) can never leave it out of order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from crs.ui import render
from crs.ui.views import ChatServiceLike, Messages, Page, PageViews, known_ids

logger = logging.getLogger(__name__)

#: Shown in the chat when a turn fails for a reason the user cannot fix.
ERROR_REPLY = (
    "Sorry, something went wrong on my side while answering. Your message is back in "
    "the text box, so you can try again."
)
#: Shown when the service rejects a message without a message of its own.
BAD_INPUT_REPLY = "I couldn't use that message. Could you rephrase it?"
#: Shown (as a toast) when a panel action fails unexpectedly.
ACTION_FAILED = "Sorry, that didn't work. Please try again."

#: How often a streamed reply is redrawn (seconds): smooth, without flooding the page.
STREAM_INTERVAL_S = 0.08

#: The drawer's language-model outputs: (kind, base URL, model, key field, OpenAI fields
#: visibility, status line).
LLMPanel = tuple[str, str, str, str, Any, str]

#: The outputs of a turn: (chat, preferences HTML, recommendations HTML, session id,
#: textbox value, known ids, sessions HTML).
Turn = tuple[Messages, Any, Any, str, Any, list[str], Any]


class ChatHandlers(PageViews):
    """Event handlers bound to one chat service.

    Args:
        service: The chat service (shared by all browser sessions).
        input_error: The exception type(s) that mean "the caller's input was bad"; their
            message is shown to the user. Defaults to ``crs.service.InputError`` and
            ``crs.storage.InvalidSessionIdError`` (a malformed API session id).
        default_n: The product's number of recommendations (see ``Settings``).
    """

    def __init__(
        self, service: ChatServiceLike, input_error: type[Exception] | tuple[type[Exception], ...] | None = None,
        *, default_n: int = 5, default_base_url: str = "", default_model: str = "",
    ) -> None:
        if input_error is None:
            from crs.service import InputError
            from crs.storage import InvalidSessionIdError

            input_error = (InputError, InvalidSessionIdError)
        super().__init__(service, default_n)
        self.input_error = input_error
        #: What the drawer's OpenAI fields show before a session chose a server.
        self.default_base_url = default_base_url
        self.default_model = default_model

    # ----------------------------------------------------------------- page events

    def load(self, stored_id: str | None, known: Any = None) -> Page:
        """Resume the browser's stored session if the service knows it, else start one."""
        if isinstance(stored_id, str) and stored_id:
            try:
                if self.service.session_view(stored_id) is not None:
                    return self.page(stored_id, known)
            except Exception:  # a broken store must not make the page unusable
                logger.exception("could not restore session %s; starting a new one", stored_id)
        return self.page(self.service.new_session(), known, chat=[])

    def new_conversation(self, session_id: str | None, known: Any, n: Any, include_seen: Any,
                         llm_kind: Any = None, llm_url: Any = None, llm_model: Any = None) -> tuple[Any, ...]:
        """Start a fresh session (keeping the current settings, the language model
        included; an API key is not carried over) and clear the page.

        Returns:
            The page (see :data:`crs.ui.views.Page`), then the textbox value.
        """
        new_id = self.service.new_session()
        n_value, seen = _int(n, self.default_n), bool(include_seen)
        if n_value != self.default_n or seen:
            try:
                self.service.update_session_settings(new_id, n_recommendations=n_value, include_seen=seen)
            except Exception:
                logger.exception("could not carry the settings over to session %s", new_id)
        if llm_kind and str(llm_kind) != "template" and hasattr(self.service, "update_llm_settings"):
            try:
                self.service.update_llm_settings(new_id, str(llm_kind), str(llm_url or ""), str(llm_model or ""))
            except Exception:  # e.g. the previous choice is no longer valid: templates answer
                logger.warning("could not carry the language model over to session %s", new_id)
        return (*self.page(new_id, known_ids(known, session_id), chat=[]), "")

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

    def accept_example(self, history: Messages | None, evt: gr.SelectData) -> tuple[str, Messages, str]:
        """A starter clicked in the empty chat: sent as if typed."""
        value = evt.value if isinstance(evt.value, dict) else {"text": evt.value}
        return self.accept(str(value.get("text") or ""), history)

    def respond(self, pending: str | None, session_id: str | None, known: Any, history: Messages | None) -> Turn:
        """Run the turn for the pending message; show the reply, preferences and picks.

        Bad input and unexpected failures become a reply in the chat; in both cases the
        message goes back into the text box so nothing the user typed is lost.
        """
        text = pending or ""
        return self._turn(session_id, history, text, lambda sid: self.service.handle_turn(sid, text), known=known)

    def respond_stream(self, pending: str | None, session_id: str | None, known: Any,
                       history: Messages | None) -> Iterator[Turn]:
        """:meth:`respond`, showing the reply as the session's language model writes it.

        Yields the chat with the reply so far (other outputs unchanged) at most every
        :data:`STREAM_INTERVAL_S`, then the finished turn as :meth:`respond` returns it
        (the stored, validated reply: with the template backend that is the only yield).
        """
        text = pending or ""
        steps = getattr(self.service, "stream_turn", None)
        if steps is None:  # a service that cannot stream: one whole turn
            yield self.respond(pending, session_id, known, history)
            return
        yield from self._turn_stream(session_id, history, text, lambda sid: steps(sid, text), known=known)

    def accept_click(self, history: Messages | None, evt: gr.EventData) -> tuple[Messages, dict[str, str] | None]:
        """A card button: show what it says in the chat at once (e.g. "Not for me: Heat (1995)").

        Returns:
            (chat, the pending click {movie_id, kind, text} or None when it is not valid).
        """
        data = getattr(evt, "_data", None) or {}
        movie_id, kind = str(data.get("movie_id") or ""), str(data.get("kind") or "")
        chat = list(history or [])
        try:
            text = self.service.click_text(movie_id, kind)
        except self.input_error as exc:
            logger.warning("ignored a card click: %s", exc)
            return chat, None
        chat.append(render.chat_message("user", text))
        return chat, {"movie_id": movie_id, "kind": kind, "text": text}

    def respond_click(self, click: dict[str, str] | None, session_id: str | None, known: Any,
                      history: Messages | None) -> Turn:
        """Run the turn a card click stands for (stored as a feedback event by the service)."""
        if not click:
            sid = session_id if isinstance(session_id, str) and session_id else self.service.new_session()
            return (list(history or []), gr.skip(), self.recommendations(sid), sid, gr.skip(),
                    known_ids(known, sid), gr.skip())
        return self._turn(session_id, history, "",
                          lambda sid: self.service.click(sid, click["movie_id"], click["kind"]), known=known)

    def respond_click_stream(self, click: dict[str, str] | None, session_id: str | None, known: Any,
                             history: Messages | None) -> Iterator[Turn]:
        """:meth:`respond_click`, showing the reply as it is written (see :meth:`respond_stream`)."""
        steps = getattr(self.service, "stream_click", None)
        if not click or steps is None:
            yield self.respond_click(click, session_id, known, history)
            return
        yield from self._turn_stream(session_id, history, "",
                                     lambda sid: steps(sid, click["movie_id"], click["kind"]), known=known)

    def _turn(self, session_id: str | None, history: Messages | None, text: str, run, known: Any = None) -> Turn:
        """One whole turn: ``run(sid)`` answers it (the service's turn object)."""
        last: Turn | None = None
        for last in self._turn_stream(session_id, history, text, lambda sid: [("turn", run(sid))], known=known):
            pass
        assert last is not None
        return last

    def _turn_stream(self, session_id: str | None, history: Messages | None, text: str, steps,
                     known: Any = None) -> Iterator[Turn]:
        """Run ``steps(sid)`` (``("partial", text)``... then ``("turn", turn)``) and yield
        the page after each partial reply (throttled) and once finished."""
        sid = session_id if isinstance(session_id, str) and session_id else self.service.new_session()
        chat = list(history or [])
        shown_at = 0.0
        try:
            for kind, value in steps(sid):
                if kind == "partial" and time.monotonic() - shown_at >= STREAM_INTERVAL_S:
                    shown_at = time.monotonic()
                    yield ([*chat, render.chat_message("assistant", str(value))], gr.skip(), gr.skip(), sid,
                           gr.skip(), gr.skip(), gr.skip())
        except self.input_error as exc:
            chat.append(render.chat_message("assistant", str(exc) or BAD_INPUT_REPLY))
            yield (chat, gr.skip(), self.recommendations(sid), sid, text if text.strip() else gr.skip(),
                   known_ids(known, sid), gr.skip())
            return
        except Exception:
            logger.exception("chat turn failed (session %s)", sid)
            chat.append(render.chat_message("assistant", ERROR_REPLY))
            yield chat, gr.skip(), self.recommendations(sid), sid, text or gr.skip(), known_ids(known, sid), gr.skip()
            return
        ids, sessions = self.sessions(known_ids(known, sid), sid)
        yield (self.history(sid), self.preferences(sid), self.recommendations(sid), sid, gr.skip(), ids, sessions)

    # ------------------------------------------------------------- panel actions

    def remove_preference(self, session_id: str | None, evt: gr.EventData) -> str:
        """The × of a preference chip: forget it for good; returns the panel."""
        data = getattr(evt, "_data", None) or {}
        sid = session_id if isinstance(session_id, str) and session_id else ""
        try:
            self.service.remove_preference(sid, str(data.get("slot") or ""), str(data.get("value") or ""),
                                           str(data.get("polarity") or "") or None)
        except self.input_error as exc:
            gr.Warning(str(exc) or ACTION_FAILED)
        except Exception:
            logger.exception("could not remove a preference (session %s)", sid)
            gr.Warning(ACTION_FAILED)
        return self.preferences(sid) if sid else render.EMPTY_PREFERENCES_HTML

    def session_action(self, session_id: str | None, known: Any, evt: gr.EventData) -> Page:
        """Open or forget one of this browser's conversations (others' ids are ignored)."""
        data = getattr(evt, "_data", None) or {}
        action, target = str(data.get("action") or ""), str(data.get("session") or "")
        current = session_id if isinstance(session_id, str) and session_id else self.service.new_session()
        ids = known_ids(known, current)
        if target not in ids:
            logger.warning("ignored %s of a session this browser does not know", action or "an action")
            return self.page(current, ids)
        if action == "resume":
            return self.page(target, ids)
        if action == "delete":
            try:
                self.service.delete_session(target)
            except Exception:
                logger.exception("could not delete session %s", target)
                gr.Warning(ACTION_FAILED)
                return self.page(current, ids)
            ids = [i for i in ids if i != target]
            if target == current:
                return self.page(self.service.new_session(), ids, chat=[])
            return self.page(current, ids)
        return self.page(current, ids)

    def save_settings(self, session_id: str | None, n: Any, include_seen: Any) -> None:
        """Store the settings drawer's values with the session (used from the next turn)."""
        if not (isinstance(session_id, str) and session_id):
            return
        try:
            self.service.update_session_settings(session_id, n_recommendations=_int(n, self.default_n),
                                                 include_seen=bool(include_seen))
        except self.input_error as exc:
            gr.Warning(str(exc) or ACTION_FAILED)
        except Exception:
            logger.exception("could not save the settings of session %s", session_id)
            gr.Warning(ACTION_FAILED)

    # ------------------------------------------------------------- language model

    def llm_panel(self, session_id: str | None) -> LLMPanel:
        """The drawer's language-model controls for the session (the key field always empty)."""
        info = self._llm_info(session_id)
        return (info["kind"], info.get("base_url") or self.default_base_url, info.get("model") or self.default_model,
                "", gr.update(visible=info["kind"] == "openai"), llm_status(info))

    def choose_llm_kind(self, session_id: str | None, kind: Any, base_url: Any, model: Any) -> LLMPanel:
        """A click on the backend choice: template and local apply at once; OpenAI-compatible
        shows its fields and applies with :meth:`save_llm` (the "Use this server" button)."""
        kind = str(kind or "template")
        if kind == "openai":
            panel = self.llm_panel(session_id)
            return ("openai", panel[1], panel[2], "", gr.update(visible=True), panel[5])
        return self.save_llm(session_id, kind, base_url, model, "")

    def save_llm(self, session_id: str | None, kind: Any, base_url: Any, model: Any, api_key: Any) -> LLMPanel:
        """Store the session's language model; a bad choice is a warning and the previous
        choice stays. The key field is cleared either way (the key stays in server memory)."""
        if not (isinstance(session_id, str) and session_id):
            return self.llm_panel(session_id)
        key = str(api_key or "").strip() or None
        try:
            self.service.update_llm_settings(session_id, str(kind or "template"), str(base_url or ""),
                                             str(model or ""), api_key=key)
        except self.input_error as exc:
            gr.Warning(str(exc) or ACTION_FAILED)
        except Exception:
            logger.exception("could not save the language model of session %s", session_id)
            gr.Warning(ACTION_FAILED)
        return self.llm_panel(session_id)

    def _llm_info(self, session_id: str | None) -> dict[str, Any]:
        try:
            if isinstance(session_id, str) and session_id:
                return self.service.llm_settings(session_id)
        except Exception:
            logger.exception("could not read the language model of session %s", session_id)
        return {"kind": "template", "base_url": "", "model": "", "has_key": False,
                "description": "Templates (no language model)", "local_available": False}

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


def llm_status(info: dict[str, Any]) -> str:
    """One line saying which language model the conversation uses (never the key)."""
    key = " (API key set for this session)" if info.get("has_key") else ""
    return f"Now using: {info.get('description') or info.get('kind')}{key}"


def _int(value: Any, default: int) -> int:
    """A slider value as an int (the default for anything unusable)."""
    try:
        return int(round(float(value)))
    except (TypeError, ValueError):
        return default
