"""Clarification: an ambiguous title — ask which movie was meant."""

from __future__ import annotations

from typing import Any

from crs.dialogue.deps import DialogueDeps
from crs.dialogue.state import Phase


def make_clarification(deps: DialogueDeps):
    def clarification(state: dict[str, Any]) -> dict[str, Any]:
        pending = state.get("pending") or {}
        seed = f"{state['session_id']}|{state['turn']}"
        options = []
        for movie_id in pending.get("candidates", []):
            movie = deps.index.get(movie_id)
            if movie is None:
                continue
            extra = f", {movie.directors[0]}" if movie.directors else ""
            options.append(deps.prompts.reply("clarify_option", seed, title=movie.title, year=movie.year or "?", extra=extra))
        joined = ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else "".join(options)
        reply = deps.prompts.reply("clarify_title", seed, mention=pending.get("mention", ""), options=joined)
        if state.get("preface"):
            reply = f"{state['preface']} {reply}"
        return {"phase": Phase.CLARIFICATION.value, "reply": reply}

    return clarification
