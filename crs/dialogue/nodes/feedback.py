"""Feedback on the last list: seen it, not for me, sounds good, why this one?"""

from __future__ import annotations

import re
from typing import Any

from crs.dialogue import facts
from crs.dialogue.deps import DialogueDeps
from crs.dialogue.state import Phase
from crs.nlu import complaints
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot


def make_feedback(deps: DialogueDeps):
    def feedback(state: dict[str, Any]) -> dict[str, Any]:
        seed = f"{state['session_id']}|{state['turn']}"
        kind = state["act"]["feedback"]
        if kind == "about":
            return _about(state["act"]["about"], state.get("last_recs") or [], deps, seed)
        recs = state.get("last_recs") or []
        named = [r for r in recs if r["id"] in set(state.get("mentioned") or [])]
        targets = named or _targets(recs, state.get("refs") or [], kind, _one_meant(state))
        prefs = Preferences.model_validate(state.get("preferences") or {})
        events = [{"movie_id": r["id"], "kind": "accept" if kind == "accept" else kind} for r in targets]
        titles = ", ".join(_label(r) for r in targets)
        if kind in {"seen", "reject"}:
            polarity = Polarity.SEEN if kind == "seen" else Polarity.DISLIKE
            for r in targets:
                prefs.add(PreferenceItem(slot=Slot.MOVIE, value=r["id"], polarity=polarity, label=_label(r), turn=state["turn"]))
            key = "feedback_seen" if kind == "seen" else "feedback_reject"
            preface = " ".join(x for x in (state.get("preface"), deps.prompts.reply(key, seed, titles=titles)) if x)
            return {"preferences": prefs.model_dump(mode="json"), "preface": preface, "feedback_events": events,
                    "phase": Phase.FEEDBACK.value}
        if kind == "why":
            lines = [deps.prompts.reply("feedback_why", seed, title=_label(r), reason=r.get("reason", "")) for r in targets]
            out = {"phase": Phase.FEEDBACK.value, "reply": "\n".join(lines), "feedback_events": events}
            if len(targets) == 1:  # "why the third one?" then "seen it" / "I'll watch it": that film
                out["focus"] = {"movie": targets[0]["id"], "aspects": [], "turn": state["turn"]}
            return out
        if named or state.get("refs"):
            # "I'll watch the second one": a like, so "more" now finds movies like it
            for r in targets:
                prefs.add(PreferenceItem(slot=Slot.MOVIE, value=r["id"], polarity=Polarity.LIKE, label=_label(r),
                                         turn=state["turn"]))
            if state["act"].get("more"):  # "... anything like it?": the list follows (route_after_feedback)
                preface = " ".join(x for x in (state.get("preface"),
                                               deps.prompts.reply("feedback_accept_more", seed, titles=titles)) if x)
                return {"phase": Phase.FEEDBACK.value, "preface": preface, "feedback_events": events,
                        "preferences": prefs.model_dump(mode="json")}
            return {"phase": Phase.FEEDBACK.value, "reply": deps.prompts.reply("feedback_accept_title", seed, titles=titles),
                    "feedback_events": events, "preferences": prefs.model_dump(mode="json")}
        return {"phase": Phase.FEEDBACK.value, "reply": deps.prompts.reply("feedback_accept", seed),
                "feedback_events": events}

    return feedback


def _about(about: dict[str, Any], recs: list[dict[str, Any]], deps: DialogueDeps, seed: str) -> dict[str, Any]:
    """Answer a question about one movie from the corpus; one about a shown movie counts as
    interest in it (a "why" event, the same mild signal)."""
    how = facts.compared(about["aspects"])
    if how:  # "which of these is the shortest?"
        shown = [m for r in recs if (m := deps.index.get(r["id"])) is not None]
        reply = facts.compare(shown, how, deps.prompts, seed) if shown else deps.prompts.reply("compare_none", seed)
        return {"phase": Phase.FEEDBACK.value, "reply": reply, "feedback_events": []}
    movie = deps.index.get(about["movie"]) if about.get("movie") else None
    if movie is None:
        reply = deps.prompts.reply("about_where" if about["aspects"] == ["where"] else "about_which", seed,
                                   title="it")
        return {"phase": Phase.FEEDBACK.value, "reply": reply, "feedback_events": []}
    events = [{"movie_id": movie.id, "kind": "why"}] if any(r["id"] == movie.id for r in recs) else []
    return {"phase": Phase.FEEDBACK.value, "reply": facts.answer(movie, about["aspects"], deps.prompts, seed),
            "feedback_events": events}


#: One film meant, not the list: "seen it", "not that one", "watched this one already".
_ONE = re.compile(r"\b(?:seen|watched|saw|into|like|liked|love|loved|for me|thing|style)\s+(?:it|that|this)\b"
                  r"|\b(?:that|this)\s+(?:one|movie|film)\b|^\W*(?:seen|watched)\s+it\b"
                  r"|^\W*(?:it|that|this)(?:'s|\s+(?:is|was|looks|seems|sounds))\b", re.IGNORECASE)  # "that looks too scary"


def _one_meant(state: dict[str, Any]) -> str | None:
    """The film a singular "it" / "that one" points at, when the message says one and no
    ordinal: the film of last turn's question ("tell me about the third" → "seen it"),
    else the top pick; ``None`` when the message is not singular."""
    text = state.get("text") or ""
    focus = facts.last_focus(state)
    if focus and complaints.opens_with(text):  # "why the second one?" then "too weird for me": that film
        return focus["movie"]
    if not _ONE.search(text):
        return None
    if focus:
        return focus["movie"]
    recs = state.get("last_recs") or []
    return recs[0]["id"] if recs else None


def _targets(recs: list[dict[str, Any]], refs: list[int], kind: str, one: str | None = None) -> list[dict[str, Any]]:
    """Which shown movies the message is about: ordinals, "those" (all), a singular "it" (the
    film in focus or the top pick), or a default."""
    picked = []
    for ref in refs:
        if ref == -1:
            return list(recs)
        if ref == -2 and recs:
            picked.append(recs[-1])
        elif 0 <= ref < len(recs):
            picked.append(recs[ref])
    if picked:
        return picked
    if one is not None and (match := [r for r in recs if r["id"] == one]):
        return match
    return list(recs) if kind in {"seen", "reject", "why"} else recs[:1]


def _label(rec: dict[str, Any]) -> str:
    return f"{rec['title']} ({rec['year']})" if rec.get("year") else rec["title"]
