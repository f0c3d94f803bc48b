"""The one entry point the UI, the API, replay and the CLI use: ``handle_turn``.

A turn runs the LangGraph dialogue (checkpointed per session in SQLite or PostgreSQL) and
then records the turn, the preferences, the shown movies and any feedback through the
repository, so a session resumes after a restart from either store.

A turn holds its session's lock from reading the state to writing it back: a lock of
this process (threads) and one of the database (app workers sharing it, see
:mod:`crs.storage.session_lock`), so two turns of one session, in any two workers, run one
after the other and the second starts from the first one's result.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from crs.dialogue.checkpoints import prune_checkpoints
from crs.preferences import Preferences
from crs.session_controls import SessionControls

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InputError(ValueError):
    """A message the bot cannot take, with a user-facing explanation."""


class SessionBusyError(InputError):
    """Another turn of the same session (another tab, another app worker) kept the
    session for longer than the service waits; nothing of this message was stored."""

    MESSAGE = ("This conversation is still busy with another message (sent from another tab or window?), "
               "so I did not read yours. Please send it again in a moment.")


class ChatService(SessionControls):
    """Conversations over the dialogue graph and the session database.

    Args:
        session_wait_s: How long a turn (or an edit of a session) waits for another turn of
            the same session, in this process or another one, before it gives up with
            :class:`SessionBusyError` (``CRS_SESSION_WAIT_S``).
        close_checkpointer: :meth:`close` also closes the graph's checkpointer (its
            SQLite connection or PostgreSQL pool): true when the service opened it.
    """

    def __init__(self, graph, repo, index, prompts, *, max_message_chars: int = 4000, backend_name: str = "template",
                 llm: Any = None, session_wait_s: float = 30.0, close_checkpointer: bool = False) -> None:
        self.graph = graph
        self.repo = repo
        self.index = index
        self.prompts = prompts
        self.max_message_chars = max_message_chars
        self.backend_name = backend_name
        #: Per-session language models (:class:`crs.llm.sessions.SessionLLM`); None: the
        #: graph's own backend for every session and template wording.
        self.llm = llm
        if session_wait_s <= 0:
            raise ValueError(f"session_wait_s must be positive, got {session_wait_s}")
        self.session_wait_s = session_wait_s
        self.close_checkpointer = close_checkpointer
        #: session id -> [its in-process lock, how many turns hold or wait for it]; an entry
        #: goes when its last user leaves, so the table does not grow with every session seen.
        self._locks: dict[str, list[Any]] = {}
        self._locks_guard = threading.Lock()

    # ------------------------------------------------------------------ sessions
    @staticmethod
    def new_session() -> str:
        """A fresh, unguessable session id."""
        return secrets.token_urlsafe(16)

    @contextmanager
    def _lock(self, session_id: str) -> Iterator[None]:
        """Hold the session: first this process's lock of it, then the database's (other
        app workers), both within one wait of :attr:`session_wait_s`.

        Raises:
            SessionBusyError: Not had within the wait (nothing was read or written).
        """
        from crs.storage import SessionLockTimeout

        deadline = time.monotonic() + self.session_wait_s
        with self._locks_guard:
            entry = self._locks.setdefault(session_id, [threading.Lock(), 0])
            entry[1] += 1
        local: threading.Lock = entry[0]
        try:
            if not local.acquire(timeout=self.session_wait_s):
                raise SessionBusyError(SessionBusyError.MESSAGE)
            try:
                try:
                    release = self.repo.lock_session(session_id, max(0.001, deadline - time.monotonic()))
                except SessionLockTimeout as exc:
                    raise SessionBusyError(SessionBusyError.MESSAGE) from exc
                try:
                    yield
                finally:
                    release()
            finally:
                local.release()
        finally:
            with self._locks_guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[session_id]

    # ------------------------------------------------------------------ turns
    def clean(self, text: Any) -> tuple[str, str]:
        """Validate a message: (text to understand, notice for the user or "")."""
        if not isinstance(text, str):
            raise InputError("A message must be text.")
        text = _CONTROL.sub(" ", text).strip()
        if not text:
            raise InputError("Your message is empty. Tell me a movie you liked or what you're in the mood for.")
        notice = ""
        if len(text) > self.max_message_chars:
            text = text[: self.max_message_chars]
            notice = self.prompts.reply("notice_truncated", limit=self.max_message_chars)
        return text, notice

    def handle_turn(self, session_id: str, text: str) -> dict[str, Any]:
        """Answer one user message in a session (created on first use)."""
        return self._run_turn(session_id, text)

    def stream_turn(self, session_id: str, text: str) -> Iterator[tuple[str, Any]]:
        """:meth:`handle_turn` for a UI that shows the reply as it is written.

        Yields ``("partial", reply so far)`` while the session's language model words the
        reply (nothing of the kind with the template backend), then ``("turn", turn
        object)`` once; the turn is stored before that last item. A partial reply may
        still be replaced: the final one is the validated (or the template) wording.
        """
        return self._turn_steps(session_id, text)

    def _run_turn(self, session_id: str, text: str, click: dict[str, Any] | None = None) -> dict[str, Any]:
        """One turn; ``click`` is a feedback event to store with it (from a card button)."""
        out: dict[str, Any] = {}
        for kind, value in self._turn_steps(session_id, text, click):
            if kind == "turn":
                out = value
        return out

    def _turn_backend(self, session_id: str) -> Any:
        """This turn's :class:`crs.llm.turn.TurnBackend` (None without per-session LLMs)."""
        if self.llm is None:
            return None
        options = self.repo.session_settings(session_id) if self.repo.session_exists(session_id) else {}
        return self.llm.turn_backend(session_id, options)

    def _turn_steps(self, session_id: str, text: str,
                    click: dict[str, Any] | None = None) -> Iterator[tuple[str, Any]]:
        from crs.llm.turn import CONFIG_KEY
        from crs.storage import check_session_id

        check_session_id(session_id)
        message, notice = self.clean(text)
        with self._lock(session_id):
            started = time.perf_counter()
            turn = self.repo.next_turn_index(session_id)
            config: dict[str, Any] = {"configurable": {"thread_id": session_id}}
            self._seed_if_needed(session_id, config)
            llm = self._turn_backend(session_id)
            if llm is not None:
                config["configurable"][CONFIG_KEY] = llm
            state = self.graph.invoke({"session_id": session_id, "turn": turn, "text": message}, config)
            prefs = Preferences.model_validate(state.get("preferences") or {})
            recs = state.get("recommendations") or []
            reply = state.get("reply", "")
            if llm is not None and llm.has_model and not llm.failed and self.llm.wording is not None:
                reply = yield from self._reword(llm, reply, recs, notice)
            prefix = "\n".join(part for part in (notice, self.llm.notice(llm) if llm is not None else "") if part)
            if prefix:
                reply = f"{prefix}\n{reply}"
            out = {
                "session": session_id,
                "turn": turn,
                "user": message,
                "reply": reply,
                "phase": state.get("phase", ""),
                "preferences": prefs.summary(),
                "recommendations": recs,
            }
            latency = (time.perf_counter() - started) * 1000
            self.repo.record_turn(session_id, index=turn, user_text=message, reply=reply, phase=out["phase"],
                                  intent=state.get("intent", ""), preferences=prefs, recommendations=recs,
                                  latency_ms=latency, **self._llm_accounting(llm))
            prune_checkpoints(self.graph.checkpointer, session_id)
            events = [e for e in state.get("feedback_events") or [] if not click or e["movie_id"] != click["movie_id"]]
            for event in events + ([click] if click else []):
                self.repo.add_feedback(session_id, event["movie_id"], event["kind"], turn=turn,
                                       dwell_s=event.get("dwell_s"))
        yield "turn", out

    def _reword(self, llm: Any, draft: str, recs: list[dict[str, Any]], notice: str) -> Iterator[tuple[str, Any]]:
        """Stream the model's wording of ``draft`` (as partial replies) and return the
        reply: the wording if it passes validation in time, else ``draft``. The outcome
        is counted in ``self.llm.outcomes`` (worded / rejected / slow / failed / empty)."""
        lead = f"{notice}\n" if notice else ""
        deadline = time.perf_counter() + self.llm.timeout_s
        parts: list[str] = []
        try:
            for piece in self.llm.wording.stream(llm, draft):
                parts.append(piece)
                yield "partial", lead + "".join(parts)
                if time.perf_counter() > deadline:
                    log.warning("reply wording ran past %.1f s; the template reply stands", self.llm.timeout_s)
                    self.llm.count("slow")
                    return draft
        except Exception:  # counted and logged by the turn backend (never the text)
            self.llm.count("failed")
            return draft
        if not parts:
            self.llm.count("failed" if llm.failed else "empty")
            return draft
        verdict = self.llm.wording.validate("".join(parts), draft, recs)
        if not verdict.ok:
            log.info("reworded reply rejected (%s); the template reply stands", verdict.reason)
            self.llm.count("rejected")
            return draft
        self.llm.count("worded")
        return "".join(parts).strip()

    def _llm_accounting(self, llm: Any) -> dict[str, Any]:
        """The turn row's backend, tokens and LLM wait (0 tokens for the template)."""
        if llm is None:
            return {"llm_backend": self.backend_name}
        if not llm.has_model:
            return {"llm_backend": llm.name, "tokens_in": 0, "tokens_out": 0, "llm_latency_ms": 0.0}
        usage = llm.usage
        name = f"{llm.name}:failed" if usage.error else llm.name
        return {"llm_backend": name, "tokens_in": usage.tokens_in, "tokens_out": usage.tokens_out,
                "llm_latency_ms": round(usage.latency_ms, 1)}

    #: How a click on a recommendation card is said, so the dialogue treats it exactly
    #: as if the user had typed it (the feedback node and the NLU do the rest).
    CLICK_TEXT = {
        "like": "I like {title}",
        "reject": "Not for me: {title}",
        "seen": "I have already seen {title}",
        "more_like_this": "More like {title} please",
        "why": "Why {title}?",
    }

    @staticmethod
    def clock():
        """Now, timezone-aware: the time a click's dwell is measured to (a simulated user
        replaces it on the instance to give its clicks realistic dwell times)."""
        from datetime import datetime, timezone

        return datetime.now(timezone.utc)

    def click(self, session_id: str, movie_id: str, kind: str) -> dict[str, Any]:
        """A one-click feedback on a shown movie: stored as a feedback event (with the
        seconds since the list was shown) and answered as the equivalent typed turn; the
        per-session implicit-feedback signal (crs.recommender.feedback) reads it back."""
        text, event = self._click_event(session_id, movie_id, kind)
        return self._run_turn(session_id, text, click=event)

    def stream_click(self, session_id: str, movie_id: str, kind: str) -> Iterator[tuple[str, Any]]:
        """:meth:`click`, yielding the reply as it is written (see :meth:`stream_turn`)."""
        text, event = self._click_event(session_id, movie_id, kind)
        return self._turn_steps(session_id, text, event)

    def _click_event(self, session_id: str, movie_id: str, kind: str) -> tuple[str, dict[str, Any]]:
        """What a click says and the feedback event it stores (with its dwell time)."""
        if kind not in self.CLICK_TEXT:
            raise InputError(f"Unknown feedback {kind!r}; use one of {', '.join(self.CLICK_TEXT)}.")
        movie = self.index.get(movie_id)
        if movie is None:
            raise InputError(f"Unknown movie id {movie_id!r}.")
        dwell = None
        last = self.repo.last_turn(session_id) if self.repo.session_exists(session_id) else None
        if last and last.get("created_at"):
            from datetime import datetime, timezone

            shown_at = datetime.fromisoformat(last["created_at"])
            if shown_at.tzinfo is None:
                shown_at = shown_at.replace(tzinfo=timezone.utc)
            dwell = max(0.0, (self.clock() - shown_at).total_seconds())
        return (self.CLICK_TEXT[kind].format(title=movie.display),
                {"movie_id": movie_id, "kind": kind, "dwell_s": dwell})

    def _seed_if_needed(self, session_id: str, config: dict[str, Any]) -> None:
        """A session known to the database but missing from the checkpoint store (deleted
        checkpoint file, another database engine) resumes from the database."""
        if self.graph.get_state(config).values:
            return
        if not self.repo.session_exists(session_id):
            return
        last = self.repo.last_turn(session_id)
        if last is None:
            return
        self.graph.update_state(config, {
            "preferences": self.repo.load_preferences(session_id).model_dump(mode="json"),
            "shown": self.repo.shown_movie_ids(session_id),
            "last_recs": last.get("recommendations") or [],
            "options": self.repo.session_settings(session_id),
        }, as_node="recommendation")

    # ------------------------------------------------------------------ views
    def session_view(self, session_id: str) -> dict[str, Any] | None:
        """History, preferences and the last list of a stored session, or None."""
        try:
            if not self.repo.session_exists(session_id):
                return None
        except ValueError:
            return None
        history: list[dict[str, str]] = []
        last_recs: list[dict[str, Any]] = []
        for turn in self.repo.history(session_id):
            history.append({"role": "user", "content": turn["user_text"]})
            history.append({"role": "assistant", "content": turn["reply"]})
            if turn.get("recommendations"):
                last_recs = turn["recommendations"]
        return {"session": session_id, "history": history,
                "preferences": self.repo.load_preferences(session_id).summary(), "recommendations": last_recs}

    def movie_details(self, movie_id: str) -> dict[str, Any] | None:
        movie = self.index.get(movie_id)
        if movie is None:
            return None
        return {"id": movie.id, "title": movie.title, "year": movie.year, "genres": list(movie.genres),
                "directors": list(movie.directors), "cast": list(movie.cast[:5]), "plot": movie.plot}

    def close(self) -> None:
        """Release the database connections and, if the service opened it, the
        checkpointer's (SQLite connection or PostgreSQL pool). Safe to call twice."""
        try:
            self.repo.close()
        finally:
            if self.close_checkpointer:
                from crs.dialogue.checkpoints import close_saver

                close_saver(getattr(self.graph, "checkpointer", None))


def build_service(settings) -> ChatService:
    """Open the corpus, database and graph described by ``settings`` (see crs.wiring)."""
    from crs.wiring import build_components

    return build_components(settings).service
