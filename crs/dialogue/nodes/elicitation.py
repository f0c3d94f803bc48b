"""Elicitation: ask for something to recommend from — the most informative attribute of
the current candidates when one splits them well ("More comedy, drama or thriller?"),
an open question otherwise."""

from __future__ import annotations

from typing import Any

from crs.dialogue.asking import pick_question, question_text
from crs.dialogue.deps import DialogueDeps
from crs.dialogue.state import Phase
from crs.preferences import Preferences


def make_elicitation(deps: DialogueDeps):
    def elicitation(state: dict[str, Any]) -> dict[str, Any]:
        seed = f"{state['session_id']}|{state['turn']}"
        act = state.get("act") or {}
        prefs = Preferences.model_validate(state.get("preferences") or {})
        unclear = state.get("intent") == "chitchat" and state["turn"] > 0 and not act.get("new_info")
        question = pick_question(deps, state, prefs)
        out: dict[str, Any] = {"phase": Phase.ELICITATION.value}
        if question is not None:
            lead = deps.prompts.reply("elicit_unclear_lead", seed) + " " if unclear else ""
            reply = lead + question_text(deps, question, seed)
            out["question"] = question.to_state()
            out["asked"] = list(dict.fromkeys([*(state.get("asked") or []), question.attribute]))
        else:
            if act.get("new_info") or not prefs.is_empty():
                key = "elicit_more"
            elif unclear:
                key = "elicit_unclear"
            else:
                key = "elicit_first"
            reply = deps.prompts.reply(key, seed)
        if state.get("preface"):
            reply = f"{state['preface']} {reply}"
        out["reply"] = reply
        return out

    return elicitation
