"""What the web UI can do to a conversation besides chatting: card-click wording, the
editable "what I know about you" panel, this browser's session list, per-session options,
and "forget me". Mixed into :class:`crs.service.ChatService` (kept here so the service
module stays about turns).

Every edit goes to both stores a session lives in, the repository and the LangGraph
checkpoint (thread id = session id), so the next turn and a resumed session agree.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from crs.preferences import Polarity, Preferences, Slot
from crs.storage import check_session_id


def _input_error(message: str) -> Exception:
    from crs.service import InputError  # the service module imports this one

    return InputError(message)


class SessionControls:
    """UI-facing session operations; needs ``graph``, ``repo``, ``index``, ``CLICK_TEXT``,
    ``_lock`` and ``_seed_if_needed`` from :class:`crs.service.ChatService`."""

    #: Preference slots the UI may remove one value of, and the year-bound "slots".
    YEAR_SLOTS = ("year_min", "year_max", "years")
    #: Per-session options and their checks (stored with the session and in the checkpoint).
    OPTION_RANGES = {"n_recommendations": (1, 20)}

    def click_text(self, movie_id: str, kind: str) -> str:
        """What a card click says in the chat (the text :meth:`click` answers)."""
        if kind not in self.CLICK_TEXT:
            raise _input_error(f"Unknown feedback {kind!r}; use one of {', '.join(self.CLICK_TEXT)}.")
        movie = self.index.get(movie_id)
        if movie is None:
            raise _input_error(f"Unknown movie id {movie_id!r}.")
        return self.CLICK_TEXT[kind].format(title=movie.display)

    def _state(self, session_id: str) -> dict[str, Any]:
        return dict(self.graph.get_state({"configurable": {"thread_id": session_id}}).values or {})

    def _current_preferences(self, session_id: str) -> Preferences:
        """What the next turn will start from: the checkpoint, else the database."""
        values = self._state(session_id)
        if "preferences" in values:
            return Preferences.model_validate(values["preferences"] or {})
        return self.repo.load_preferences(session_id)

    def preference_items(self, session_id: str) -> dict[str, Any]:
        """The session's preferences item by item, for a panel that can remove each one:
        {"items": [{"slot", "value", "polarity", "label"}], "year_min", "year_max"}."""
        check_session_id(session_id)
        prefs = self._current_preferences(session_id)
        return {"items": [{"slot": i.slot.value, "value": i.value, "polarity": i.polarity.value,
                           "label": i.label or i.value} for i in prefs.items],
                "year_min": prefs.year_min, "year_max": prefs.year_max}

    def remove_preference(self, session_id: str, slot: str, value: str = "",
                          polarity: str | None = None) -> dict[str, Any]:
        """Forget one stated preference (or a year bound: slot "year_min", "year_max" or
        "years") in the database and in the dialogue state, so the next turn and a resumed
        session both go without it. Returns :meth:`preference_items` after the change."""
        check_session_id(session_id)
        if slot not in self.YEAR_SLOTS:
            try:
                slot_enum = Slot(slot)
                pol = Polarity(polarity) if polarity else None
            except ValueError:
                raise _input_error(f"Unknown preference {slot!r}/{polarity!r}.") from None
        with self._lock(session_id):
            if not self.repo.session_exists(session_id):
                raise _input_error("This conversation no longer exists.")
            config = {"configurable": {"thread_id": session_id}}
            self._seed_if_needed(session_id, config)
            prefs = self._current_preferences(session_id)
            if slot in self.YEAR_SLOTS:
                if slot in ("year_min", "years"):
                    prefs.year_min = None
                if slot in ("year_max", "years"):
                    prefs.year_max = None
            else:
                prefs.items = [i for i in prefs.items if not (
                    i.slot == slot_enum and i.value.lower() == str(value).lower()
                    and (pol is None or i.polarity == pol))]
            self.repo.replace_preferences(session_id, prefs)
            self.graph.update_state(config, {"preferences": prefs.model_dump(mode="json")}, as_node="recommendation")
        return self.preference_items(session_id)

    def current_recommendations(self, session_id: str) -> list[dict[str, Any]]:
        """The list the user is looking at: the last one shown, less the movies since
        rejected or marked seen ([] after "start over")."""
        check_session_id(session_id)
        values = self._state(session_id)
        if "last_recs" in values:
            recs = list(values.get("last_recs") or [])
        else:
            recs = next((t["recommendations"] for t in reversed(self.repo.history(session_id))
                         if t.get("recommendations")), [])
        prefs = self._current_preferences(session_id)
        gone = set(prefs.disliked_movies) | set(prefs.seen_movies)
        return [r for r in recs if r.get("id") not in gone]

    def sessions_overview(self, session_ids: list[str]) -> list[dict[str, Any]]:
        """Title, dates and turn count of the given sessions only (a browser's own list)."""
        return self.repo.sessions_by_ids(list(session_ids or []))

    def session_settings(self, session_id: str) -> dict[str, Any]:
        """The session's own options ({} when it has none: the product defaults apply)."""
        return self.repo.session_settings(session_id)

    def update_session_settings(self, session_id: str, *, n_recommendations: int | None = None,
                                include_seen: bool | None = None) -> dict[str, Any]:
        """Store per-session options with the session and hand them to the dialogue
        (the ``options`` state key the recommendation node reads). Returns all options."""
        check_session_id(session_id)
        values: dict[str, Any] = {}
        if n_recommendations is not None:
            low, high = self.OPTION_RANGES["n_recommendations"]
            if not isinstance(n_recommendations, int | float) or not low <= int(n_recommendations) <= high:
                raise _input_error(f"The number of recommendations must be between {low} and {high}.")
            values["n_recommendations"] = int(n_recommendations)
        if include_seen is not None:
            values["include_seen"] = bool(include_seen)
        with self._lock(session_id):
            config = {"configurable": {"thread_id": session_id}}
            self._seed_if_needed(session_id, config)
            options = self.repo.save_session_settings(session_id, values)
            self.graph.update_state(config, {"options": options}, as_node="recommendation")
        return options

    def llm_settings(self, session_id: str) -> dict[str, Any]:
        """The session's language model: {"kind", "base_url", "model", "has_key",
        "description", "local_available"} (the product default when it chose none).
        The API key itself is never returned."""
        from crs.llm.local_backend import local_available

        llm = getattr(self, "llm", None)
        options = self.repo.session_settings(session_id) if self.repo.session_exists(session_id) else {}
        if llm is None:
            return {"kind": "template", "base_url": "", "model": "", "has_key": False,
                    "description": "Templates (no language model)", "local_available": local_available()}
        choice = llm.choice(options)
        return {**choice.to_json(), "base_url": choice.base_url, "model": choice.model,
                "has_key": llm.has_key(session_id), "description": choice.describe(),
                "local_available": local_available()}

    def update_llm_settings(self, session_id: str, kind: str, base_url: str = "", model: str = "",
                            api_key: str | None = None) -> dict[str, Any]:
        """Choose the session's language model from its next turn on.

        The choice (kind, URL, model) is stored with the session; ``api_key`` is kept in
        this process's memory only (never stored or logged): None keeps the key given
        before, "" forgets it. Returns :meth:`llm_settings`.

        Raises:
            InputError: An unknown kind, a malformed URL, no model name, ``local`` without
                its extra, or a server without per-session language models.
        """
        from crs.llm.local_backend import LOCAL_EXTRA_HINT, local_available
        from crs.llm.sessions import BackendChoice

        check_session_id(session_id)
        llm = getattr(self, "llm", None)
        if llm is None:
            raise _input_error("This server does not let conversations choose a language model.")
        try:
            choice = BackendChoice(str(kind or ""), (base_url or "").strip(), (model or "").strip())
        except ValueError as exc:
            raise _input_error(str(exc)) from None
        if choice.kind == "local" and not local_available():
            raise _input_error(f"The local model is not installed here: {LOCAL_EXTRA_HINT}.")
        with self._lock(session_id):
            config = {"configurable": {"thread_id": session_id}}
            self._seed_if_needed(session_id, config)
            options = self.repo.save_session_settings(session_id, {"llm": choice.to_json()})
            self.graph.update_state(config, {"options": options}, as_node="recommendation")
            if api_key is not None:
                llm.set_key(session_id, api_key.strip() if choice.kind == "openai" else "")
            elif choice.kind != "openai":
                llm.set_key(session_id, "")
        llm.prepare(session_id, choice)
        return self.llm_settings(session_id)

    def delete_session(self, session_id: str) -> bool:
        """Forget me: remove the session's rows from the database and its dialogue
        checkpoints for real (no soft delete). True if there was anything to remove."""
        check_session_id(session_id)
        with self._lock(session_id):
            had_state = bool(self._state(session_id))
            removed = self.repo.purge_session(session_id)
            saver = getattr(self.graph, "checkpointer", None)
            if saver is not None:
                self._purge_checkpoints(saver, session_id)
        if getattr(self, "llm", None) is not None:
            self.llm.forget(session_id)  # its API key, if any
        return removed or had_state

    @staticmethod
    def _purge_checkpoints(saver: Any, thread_id: str) -> None:
        """Delete a checkpoint thread; on LangGraph's SQLite saver also rebuild the file
        and truncate its write-ahead log, so no old copy of the text is left in either."""
        saver.delete_thread(thread_id)
        conn, lock = getattr(saver, "conn", None), getattr(saver, "lock", None)
        if isinstance(conn, sqlite3.Connection) and lock is not None:
            with lock:
                conn.commit()
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
