"""Greeting: hello, welcome back, fresh start after a reset, and goodbye."""

from __future__ import annotations

from typing import Any

from crs.dialogue.deps import DialogueDeps
from crs.dialogue.render import summarize
from crs.dialogue.state import Phase
from crs.preferences import Preferences


def make_greeting(deps: DialogueDeps):
    def greeting(state: dict[str, Any]) -> dict[str, Any]:
        seed = f"{state['session_id']}|{state['turn']}"
        act = state.get("act") or {}
        prefs = Preferences.model_validate(state.get("preferences") or {})
        if act.get("reset"):
            reply = deps.prompts.reply("reset", seed)
        elif act.get("goodbye"):
            reply = deps.prompts.reply("goodbye", seed)
        elif not prefs.is_empty() and state["turn"] > 0:
            reply = deps.prompts.reply("greeting_back", seed, summary=summarize(prefs))
        else:
            reply = deps.prompts.reply("greeting", seed)
        return {"phase": Phase.GREETING.value, "reply": reply}

    return greeting
