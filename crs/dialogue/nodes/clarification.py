"""Clarification: an ambiguous title (which movie was meant?) or contradictory wishes
(which of the two should hold?)."""

from __future__ import annotations

from typing import Any

from crs.dialogue.deps import DialogueDeps
from crs.dialogue.state import Phase


def make_clarification(deps: DialogueDeps):
    def clarification(state: dict[str, Any]) -> dict[str, Any]:
        seed = f"{state['session_id']}|{state['turn']}"
        conflict = state.get("conflict")
        if conflict and not state.get("pending"):
            key = "conflict_year" if conflict["kind"] == "year" else "conflict_wish"
            reply = deps.prompts.reply(key, seed, first=conflict["first"]["label"], second=conflict["second"]["label"])
        else:
            reply = _which_title(deps, state.get("pending") or {}, seed)
        if state.get("preface"):
            reply = f"{state['preface']} {reply}"
        return {"phase": Phase.CLARIFICATION.value, "reply": reply}

    return clarification


def _which_title(deps: DialogueDeps, pending: dict[str, Any], seed: str) -> str:
    options = []
    for movie_id in pending.get("candidates", []):
        movie = deps.index.get(movie_id)
        if movie is None:
            continue
        extra = f", {movie.directors[0]}" if movie.directors else ""
        options.append(deps.prompts.reply("clarify_option", seed, title=movie.title, year=movie.year or "?", extra=extra))
    joined = ", ".join(options[:-1]) + " or " + options[-1] if len(options) > 1 else "".join(options)
    return deps.prompts.reply("clarify_title", seed, mention=pending.get("mention", ""), options=joined)
