"""The entry node: read the message, update preferences, and set the routing flags."""

from __future__ import annotations

import logging
import re
from typing import Any

from crs import facets
from crs.catalog.normalize import norm_words
from crs.dialogue import facts, policy, wishes
from crs.dialogue.deps import DialogueDeps
from crs.nlu.types import Intent, NLUResult
from crs.nlu.years import parse_years
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot

log = logging.getLogger(__name__)


def make_understand(deps: DialogueDeps):
    """Build the node with its dependencies bound."""
    refiner = deps.nlu_refiner  # None unless CRS_LLM_NLU is on

    def understand(state: dict[str, Any]) -> dict[str, Any]:
        text, turn = state["text"], state["turn"]
        prefs = Preferences.model_validate(state.get("preferences") or {})
        nlu = deps.nlu.parse(text, turn)
        if refiner is not None:
            _refine(refiner, text, nlu, turn)
        nlu = wishes.with_facets(wishes.with_audience(nlu, turn), turn)
        nlu = wishes.older_than_shown(nlu, text, list(state.get("last_recs") or []))
        about = None if state.get("pending") else _about(nlu, text, state, prefs, deps)
        _like_focus(nlu, text, state, deps)
        _person_of_focus(nlu, text, state, deps)
        if about is not None:  # "who directed the second one?": answered from the corpus, nothing else changes
            return {"act": {"reset": False, "feedback": "about", "about": about}, "intent": Intent.ASK_ABOUT.value,
                    "refs": nlu.refers_to_shown, "mentioned": nlu.mentioned, "preface": "", "feedback_events": [],
                    "recommendations": [], "focus": dict(about, turn=turn) if about["movie"] else state.get("focus")}
        preface: list[str] = []
        if nlu.other_people:  # "something similar by someone else"
            wishes.away_from_person(nlu, prefs, list(state.get("shown") or []), turn, preface, deps,
                              f"{state['session_id']}|{turn}")
        if nlu.ambiguous:  # "Heat and Collateral": the Heat that shares Collateral's director
            _settle_by_company(nlu, prefs, turn, preface, deps, f"{state['session_id']}|{turn}")
        excluded = list(state.get("excluded") or []) + nlu.excluded  # "other than Ocean's Eleven"
        pending = state.get("pending")
        if nlu.has(Intent.RESET):
            return {"preferences": Preferences().model_dump(mode="json"), "pending": None, "excluded": [], "shown": [],
                    "last_recs": [], "preface": "", "feedback_events": [], "recommendations": [],
                    "question": None, "asked": [], "conflict": None, "focus": None,
                    "intent": Intent.RESET.value, "act": {"reset": True}}
        resolved_pending = False
        queued: list[dict[str, Any]] = []
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
                queued = list(pending.get("queue") or [])  # "Parasite and Oldboy": Oldboy's question next
            else:
                excluded.extend(pending["candidates"])
                for other in pending.get("queue") or []:  # the first question went unanswered: so do these
                    excluded.extend(other["candidates"])
            pending = None
        seed = f"{state['session_id']}|{turn}"
        asked = list(state.get("asked") or [])
        answered = False
        question = state.get("question")
        if question and not resolved_pending:
            feedback = _is_feedback(nlu)  # "none of those, something darker": ordinals mean shown movies
            answered = _answer_question(question, nlu, text, prefs, turn, preface, deps, seed, ordinals=not feedback)
            if answered and not feedback:
                nlu.refers_to_shown = []  # "the second one" picked an option, not a shown movie
        wishes.keep_asked_genres(nlu, prefs)
        changed_mind = policy.says_change_of_mind(text, nlu.has(Intent.CHANGE_MIND))
        conflict = state.get("conflict")
        resolved_conflict = False
        if conflict:
            _settle_conflict(conflict, nlu, text, prefs, turn, preface, deps, seed)
            resolved_conflict, conflict = True, None
        new_conflict = None if resolved_conflict else policy.find_conflict(
            prefs, nlu.items, nlu.year_min, nlu.year_max, _clause_years(text, deps), changed_mind)
        if new_conflict is not None:
            _hold_back(nlu, new_conflict)
            conflict = new_conflict.to_state()
        if nlu.has(Intent.CHANGE_MIND):
            _replace_likes(prefs, nlu)
        for item in nlu.items:
            wishes.drop_same_facet(prefs, item)
            wishes.drop_opposite_mood(prefs, item)
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
            pending = _which(mention, polarity)
            pending["queue"] = [_which(other, p) for other, p in nlu.ambiguous[1:]]
        elif queued:
            pending = dict(queued[0], queue=queued[1:])
        act = _act(nlu, prefs, pending is not None, resolved_pending or resolved_conflict)
        act["conflict"] = conflict is not None and pending is None
        act["answered"] = answered
        if answered:
            act["can_recommend"] = True
        if policy.says_surprise(text) and not pending:  # "surprise me": well-liked films now, no question
            act["ask"] = act["can_recommend"] = True
        if act["more"] and state.get("last_recs") and not pending:  # "another" after such a list
            act["can_recommend"] = True
        if conflict is not None and pending is not None:  # the title question first; the newer wish wins meanwhile
            _settle_conflict(conflict, nlu, "", prefs, turn, preface, deps, seed)
            conflict = None
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
            "question": None,
            "asked": list(dict.fromkeys(asked)),
            "conflict": conflict,
        }

    return understand


def _which(mention, polarity: Polarity) -> dict[str, Any]:
    """The open question "which X do you mean?" for an ambiguous title mention."""
    # the corpus's spelling, not the user's ("which "Heat" do you mean", also for "heat")
    title = mention.candidates[0].title if mention.candidates else mention.text
    return {"mention": title, "candidates": [m.id for m in mention.candidates[:4]], "polarity": polarity.value}


def _about(nlu: NLUResult, text: str, state: dict[str, Any], prefs: Preferences,
           deps: DialogueDeps) -> dict[str, Any] | None:
    """``{"movie": id | None, "aspects": [...]}`` when the message only asks about a movie
    ("how long is it?", "and the second?"); None when it also states a taste or asks for
    something else (then the usual flow reads it)."""
    if nlu.items or nlu.ambiguous or any(nlu.has(i) for i in (Intent.RESET, Intent.ASK_WHY, Intent.SEEN, Intent.REJECT)):
        return None
    aspects = facts.aspects_of(nlu, text, state.get("focus"), state["turn"])
    if not aspects:
        return None
    how = facts.compared(aspects)
    if how is not None:  # "which of these is the shortest?": about the list; "it" is then that film
        shown = [m for r in state.get("last_recs") or [] if (m := deps.index.get(r["id"])) is not None]
        picked = facts.pick_by(shown, how)
        return {"movie": picked.id if picked else None, "aspects": aspects}
    known = [*prefs.liked_movies, *(state.get("shown") or [])]
    movie, pointed = facts.subject(nlu, text, list(state.get("last_recs") or []), state.get("focus"), aspects,
                                   deps.index, known)
    if not pointed:
        return None
    return {"movie": movie, "aspects": aspects}


def _like_focus(nlu: NLUResult, text: str, state: dict[str, Any], deps: DialogueDeps) -> None:
    """"What is Inception about?" (or "what is the third one about?") then "sounds good, more
    like it": the movie just talked about becomes a like."""
    focus = facts.last_focus(state)
    movie = deps.index.get(focus["movie"]) if focus else None
    if (movie is None or nlu.items or nlu.refers_to_shown or nlu.asks
            or not (nlu.has(Intent.MORE) or nlu.has(Intent.ACCEPT)) or not facts.points_back(text)):
        return
    if not nlu.has(Intent.MORE) and movie.id in {r["id"] for r in state.get("last_recs") or []}:
        nlu.mentioned.append(movie.id)  # "sounds good, I'll watch it": accepted as feedback on that film
        return
    nlu.items.append(PreferenceItem(slot=Slot.MOVIE, value=movie.id, polarity=Polarity.LIKE, label=movie.display,
                                    turn=state["turn"]))
    nlu.mentioned.append(movie.id)


#: "Not a fan of him", "I love her", "more with him": a taste for the person the last answer named.
_OF_HIM = re.compile(r"\b(?P<neg>not (?:a |the |really a |much of a )?(?:big |huge )?fan of|(?:don'?t|do not|didn'?t) "
                     r"(?:really )?(?:like|love|care for|rate)|can'?t stand|hate|dislike|not into|no more (?:of|with)|"
                     r"without)?\s*(?P<pos>fan of|like|love|adore|more (?:of|with|from|by)|others? (?:with|by)|"
                     r"(?:anything|something|films?|movies?) (?:else )?(?:with|by|from))?\s*(?:him|her)\b", re.IGNORECASE)


def _person_of_focus(nlu: NLUResult, text: str, state: dict[str, Any], deps: DialogueDeps) -> None:
    """"Who's in it?" / "who directed it?" then "not a fan of him" (or "more with her"): the
    person is the first one the answer named (the director when it was asked, else the lead)."""
    focus = facts.last_focus(state)
    movie = deps.index.get(focus["movie"]) if focus else None
    m = _OF_HIM.search(text)
    if movie is None or m is None or not (m.group("neg") or m.group("pos")) or nlu.people_mentioned:
        return
    people = movie.directors if "director" in (focus.get("aspects") or []) else movie.cast
    if not people:
        return
    polarity = Polarity.DISLIKE if m.group("neg") else Polarity.LIKE
    nlu.items.append(PreferenceItem(slot=Slot.PERSON, value=people[0], polarity=polarity, label=people[0],
                                    turn=state["turn"]))
    wanted = [Intent.PREFERENCE] + ([Intent.MORE] if polarity == Polarity.LIKE else [])  # "more by her"
    nlu.intents.extend(i for i in wanted if i not in nlu.intents)


def _settle_by_company(nlu: NLUResult, prefs: Preferences, turn: int, preface: list[str], deps: DialogueDeps,
                       seed: str) -> None:
    """Settle the ambiguous titles that only one candidate of shares a director (or two stars)
    with a movie named in this message or liked before, or is known to be in the language the
    message asks for (:mod:`crs.dialogue.company`)."""
    from crs.dialogue.company import resolve_by_company, resolve_by_language

    ids = [i.value for i in nlu.items if i.slot == Slot.MOVIE] + list(prefs.liked_movies)
    anchors = [m for m in (deps.index.get(i) for i in dict.fromkeys(ids)) if m is not None]
    settled, nlu.ambiguous = resolve_by_company(nlu.ambiguous, anchors)
    for s in settled:
        nlu.items.append(PreferenceItem(slot=Slot.MOVIE, value=s.movie.id, polarity=s.polarity, label=s.movie.display,
                                        turn=turn))
        nlu.mentioned.append(s.movie.id)
        preface.append(deps.prompts.reply(f"clarify_inferred_{s.role}", seed, mention=s.movie.title,
                                          title=s.movie.display, person=s.person, anchor=s.anchor.display))
    by_language, nlu.ambiguous = resolve_by_language(nlu.ambiguous, nlu.language)
    for _, polarity, movie in by_language:  # "Korean thrillers like Oldboy": the Korean Oldboy
        nlu.items.append(PreferenceItem(slot=Slot.MOVIE, value=movie.id, polarity=polarity, label=movie.display,
                                        turn=turn))
        nlu.mentioned.append(movie.id)
        preface.append(deps.prompts.reply("clarify_inferred_language", seed, mention=movie.title, title=movie.display,
                                          language=facets.language_name(movie.language)))


def _refine(refiner, text: str, nlu: NLUResult, turn: int) -> None:
    """Let the turn's LLM (none for the template backend) add what the rules missed."""
    from crs.llm.turn import current_backend

    try:
        refiner.refine(text, nlu, current_backend(), turn)
    except Exception as exc:  # never let refinement break a turn: the rules' result stands
        log.debug("NLU refinement skipped (%s)", type(exc).__name__)


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
    """"Sci-fi instead", "on second thought, a comedy", "something about music instead":
    the new genres (people, topics) replace the ones liked before rather than adding to them."""
    for slot in (Slot.GENRE, Slot.PERSON, Slot.KEYWORD):
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


#: Answers to "which X?" that pick by age: "the original", "the old one"; "the remake", "the new one".
_ORIGINAL = re.compile(r"\b(?:original|older|oldest|old one|classic one|first version)\b", re.IGNORECASE)
_REMAKE = re.compile(r"\b(?:remake|reboot|newer|newest|new one|latest|recent one|most recent)\b", re.IGNORECASE)


def resolve_clarification(pending: dict[str, Any], nlu: NLUResult, text: str, deps: DialogueDeps) -> str | None:
    """Which candidate the answer picks: by year, ordinal, "the original" / "the remake", a
    person's name, or the title itself."""
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
    dated = [m for m in movies if m.year is not None]
    if dated and _ORIGINAL.search(text):  # the earliest film people talk about, not a forgotten 1931 namesake
        return min([m for m in dated if m.popularity > 0] or dated, key=lambda m: m.year).id
    if dated and _REMAKE.search(text):
        return max(dated, key=lambda m: m.year).id
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


def _is_feedback(nlu: NLUResult) -> bool:
    return any(nlu.has(i) for i in (Intent.SEEN, Intent.REJECT, Intent.ASK_WHY, Intent.ACCEPT, Intent.RESET))


#: Which preference slot answers which attribute question.
_ATTRIBUTE_SLOT = {"genre": Slot.GENRE, "director": Slot.PERSON, "actor": Slot.PERSON, "mood": Slot.MOOD,
                   "keyword": Slot.KEYWORD}


def _answer_question(question: dict[str, Any], nlu: NLUResult, text: str, prefs: Preferences, turn: int,
                     preface: list[str], deps: DialogueDeps, seed: str, ordinals: bool = True) -> bool:
    """Use the answer to an attribute question; True if the message answered it (an
    option, by name or ordinal, or "any" / "don't mind"). What the NLU read from the
    answer is used as it is; an option it could not read ("the second one", "Nolan",
    "something classic") is added here."""
    attribute = question["attribute"]
    options = question.get("options") or []
    slot = _ATTRIBUTE_SLOT.get(attribute)
    said = [i for i in nlu.items if slot is not None and i.slot == slot and i.polarity == Polarity.LIKE]
    stated_years = nlu.year_min is not None or nlu.year_max is not None
    if (said and attribute != "era") or (attribute == "era" and stated_years):
        return True  # the NLU already understood the answer
    pick = policy.match_option(question, text, nlu.refers_to_shown if ordinals else ())
    if pick is None:
        if ordinals and policy.is_skip(text) and not nlu.items and not stated_years:
            preface.append(deps.prompts.reply("ask_skipped", seed))
            return True
        return False
    option = options[pick]
    if attribute == "era":
        _, _, lo, hi = next(e for e in policy.ERAS if e[0] == option["value"])
        prefs.year_min, prefs.year_max = lo, hi
    else:
        prefs.add(PreferenceItem(slot=slot, value=option["value"], polarity=Polarity.LIKE, label=option["value"], turn=turn))
    preface.append(deps.prompts.reply("ask_answered", seed, option=option["label"]))
    return True


def _clause_years(text: str, deps: DialogueDeps) -> list[tuple[int | None, int | None]]:
    """Year bounds of each part of the message ("after 2010 and before 1990" -> two)."""
    parts = re.split(r"\band\b|\bbut\b|[,;]", text)
    if len(parts) < 2:
        return []
    reference = getattr(deps.nlu, "reference_year", 2020)
    return [(c.year_min, c.year_max) for part in parts if part.strip() for c in [parse_years(part, reference)]]


def _hold_back(nlu: NLUResult, conflict: policy.Conflict) -> None:
    """Keep this message's side(s) of a contradiction out of the preferences until the
    user says which they meant."""
    if conflict.kind == "year":
        nlu.year_min = nlu.year_max = None
        return
    value = (conflict.first.item or conflict.second.item)["value"].lower()
    slot = conflict.kind
    nlu.items = [i for i in nlu.items if not (i.slot.value == slot and i.value.lower() == value)]


def _settle_conflict(conflict: dict[str, Any], nlu: NLUResult, text: str, prefs: Preferences, turn: int,
                     preface: list[str], deps: DialogueDeps, seed: str) -> None:
    """Apply the side the answer keeps; without an answer the newer statement wins, and
    the reply says so."""
    side_name = policy.pick_side(conflict, text, nlu.items, nlu.year_min, nlu.year_max) if text else None
    key = "conflict_resolved"
    if side_name is None:
        side_name, key = "second", "conflict_default"
    side = conflict[side_name]
    if side.get("item") is not None:
        item = dict(side["item"], turn=turn)
        prefs.add(PreferenceItem.model_validate(item))
    else:
        prefs.year_min, prefs.year_max = side.get("year_min"), side.get("year_max")
        nlu.year_min = nlu.year_max = None
    preface.append(deps.prompts.reply(key, seed, choice=side["label"]))
