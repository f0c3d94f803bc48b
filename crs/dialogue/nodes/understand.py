"""The entry node: read the message, update preferences, and set the routing flags."""

from __future__ import annotations

import re
from typing import Any

from crs.catalog.normalize import norm_words
from crs.dialogue.deps import DialogueDeps
from crs.nlu.types import Intent, NLUResult
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot


def make_understand(deps: DialogueDeps):
    """Build the node with its dependencies bound."""

    def understand(state: dict[str, Any]) -> dict[str, Any]:
        text, turn = state["text"], state["turn"]
        prefs = Preferences.model_validate(state.get("preferences") or {})
        nlu = deps.nlu.parse(text, turn)
        preface: list[str] = []
        excluded = list(state.get("excluded") or [])
        pending = state.get("pending")
        if nlu.has(Intent.RESET):
            return {"preferences": Preferences().model_dump(mode="json"), "pending": None, "excluded": [], "shown": [],
                    "last_recs": [], "preface": "", "feedback_events": [], "recommendations": [],
                    "intent": Intent.RESET.value, "act": {"reset": True}}
        resolved_pending = False
        if pending:
            choice = resolve_clarification(pending, nlu, text, deps)
            if choice is not None:
                movie = deps.index.get(choice)
                prefs.add(PreferenceItem(slot=Slot.MOVIE, value=choice, polarity=Polarity(pending["polarity"]),
                                         label=movie.display if movie else choice, turn=turn))
                preface.append(deps.prompts.reply("clarify_resolved", f"{state['session_id']}|{turn}",
                                                  title=movie.display if movie else choice))
                resolved_pending = True
                nlu = _without_answer(nlu, movie, pending["candidates"])
            else:
                excluded.extend(pending["candidates"])
            pending = None
        if nlu.has(Intent.CHANGE_MIND):
            _replace_likes(prefs, nlu)
        for item in nlu.items:
            prefs.add(item)
        if nlu.year_min is not None:
            prefs.year_min = nlu.year_min
        if nlu.year_max is not None:
            prefs.year_max = nlu.year_max
        if prefs.year_min is not None and prefs.year_max is not None and prefs.year_min > prefs.year_max:
            prefs.year_max = None if nlu.year_min is not None else prefs.year_max
            prefs.year_min = None if nlu.year_max is not None and nlu.year_min is None else prefs.year_min
        if nlu.ambiguous:
            mention, polarity = nlu.ambiguous[0]
            pending = {"mention": mention.text, "candidates": [m.id for m in mention.candidates[:4]],
                       "polarity": polarity.value}
            for other, _ in nlu.ambiguous[1:]:
                excluded.extend(m.id for m in other.candidates)
        act = _act(nlu, prefs, bool(nlu.ambiguous), resolved_pending)
        return {
            "preferences": prefs.model_dump(mode="json"),
            "pending": pending,
            "excluded": list(dict.fromkeys(excluded)),
            "act": act,
            "preface": " ".join(preface),
            "intent": (nlu.primary or Intent.CHITCHAT).value,
            "refs": nlu.refers_to_shown,
            "mentioned": nlu.mentioned,
            "feedback_events": [],
            "recommendations": [],
        }

    return understand


def _act(nlu: NLUResult, prefs: Preferences, ambiguous: bool, resolved: bool) -> dict[str, Any]:
    feedback = None
    if nlu.has(Intent.ASK_WHY):
        feedback = "why"
    elif nlu.has(Intent.SEEN):
        feedback = "seen"
    elif nlu.has(Intent.REJECT):
        feedback = "reject"
    elif nlu.has(Intent.ACCEPT) and not nlu.items:
        feedback = "accept"
    new_info = bool(nlu.items) or nlu.year_min is not None or nlu.year_max is not None or resolved
    return {
        "reset": False,
        "ambiguous": ambiguous,
        "feedback": feedback,
        "new_info": new_info,
        "more": nlu.has(Intent.MORE),
        "ask": nlu.has(Intent.ASK_REC),
        "greet": nlu.has(Intent.GREET),
        "goodbye": nlu.has(Intent.GOODBYE),
        # Something to go on: a like, or only constraints when the user asks outright
        # ("anything but horror", "something from the 90s").
        "can_recommend": prefs.has_positive() or (not prefs.is_empty() and (nlu.has(Intent.ASK_REC) or nlu.has(Intent.MORE))),
    }


def _replace_likes(prefs: Preferences, nlu: NLUResult) -> None:
    """"Sci-fi instead", "on second thought, a comedy": the new genres (or people) replace
    the ones liked before rather than adding to them."""
    for slot in (Slot.GENRE, Slot.PERSON):
        if any(i.slot == slot and i.polarity == Polarity.LIKE for i in nlu.items):
            prefs.items = [i for i in prefs.items if not (i.slot == slot and i.polarity == Polarity.LIKE)]


def _without_answer(nlu: NLUResult, movie, candidates: list[str]) -> NLUResult:
    """Drop what only identified the movie in a clarification answer ("the 1984 one",
    "the one by Paul Verhoeven"): its year is no year bound, its people no new likes."""
    if movie is None:
        return nlu
    credited = {p.lower() for p in (*movie.directors, *movie.cast, *movie.writers)}
    nlu.items = [i for i in nlu.items
                 if not (i.slot == Slot.PERSON and i.value.lower() in credited)
                 and not (i.slot == Slot.MOVIE and i.value in candidates)]
    if movie.year is not None and movie.year in nlu.years_mentioned:
        nlu.year_min = nlu.year_max = None
    return nlu


def resolve_clarification(pending: dict[str, Any], nlu: NLUResult, text: str, deps: DialogueDeps) -> str | None:
    """Which candidate the answer picks: by year, ordinal, a person's name, or the title itself."""
    movies = [m for i in pending["candidates"] if (m := deps.index.get(i)) is not None]
    if not movies:
        return None
    for year in nlu.years_mentioned:
        hits = [m for m in movies if m.year == year]
        if len(hits) == 1:
            return hits[0].id
    for ref in nlu.refers_to_shown:
        if 0 <= ref < len(movies):
            return movies[ref].id
        if ref == -2:
            return movies[-1].id
    answer = re.sub(r"(?<=[^\W_])['\u2019]s\b", "", text)  # "John Carpenter's" names him too
    words = f" {norm_words(answer)} "
    for movie in movies:
        for person in (*movie.directors[:2], *movie.cast[:3]):
            last = norm_words(person).split()[-1:] or [""]
            if f" {norm_words(person)} " in words or (len(last[0]) > 3 and f" {last[0]} " in words):
                return movie.id
    for item in nlu.items:
        if item.slot == Slot.MOVIE and item.value in pending["candidates"]:
            return item.value
    return None
