"""Elicitation: ask for something to recommend from."""

from __future__ import annotations

from typing import Any

from crs.dialogue.deps import DialogueDeps
from crs.dialogue.state import Phase
from crs.preferences import Preferences


def make_elicitation(deps: DialogueDeps):
    def elicitation(state: dict[str, Any]) -> dict[str, Any]:
        seed = f"{state['session_id']}|{state['turn']}"
        act = state.get("act") or {}
        prefs = Preferences.model_validate(state.get("preferences") or {})
        if act.get("new_info") or not prefs.is_empty():
            key = "elicit_more"
        elif state.get("intent") == "chitchat" and state["turn"] > 0:
            key = "elicit_unclear"
        else:
            key = "elicit_first"
        reply = deps.prompts.reply(key, seed)
        if state.get("preface"):
            reply = f"{state['preface']} {reply}"
        return {"phase": Phase.ELICITATION.value, "reply": reply}

    return elicitation
