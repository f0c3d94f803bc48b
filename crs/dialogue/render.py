"""Turning preferences and candidates into reply text and turn-object dicts."""

from __future__ import annotations

from typing import Any

from crs.preferences import Polarity, Preferences, Slot
from crs.recommender.types import Candidate


#: The digest of preferences that say nothing yet.
NOTHING_STATED = "your taste"


def summarize(prefs: Preferences, limit: int = 4) -> str:
    """A short, readable digest: "you liked Up (2009), Coco (2017); no horror; from 1980"."""
    parts: list[str] = []
    liked = prefs.labels_liked_movies()
    if liked:
        parts.append("you liked " + join_words(liked[-3:]))
    if prefs.liked_people:
        parts.append("with " + join_words(prefs.liked_people[-2:]))
    if prefs.liked_genres:
        parts.append(join_words(prefs.liked_genres[-3:]))
    moods = prefs.labels(Slot.MOOD, Polarity.LIKE) + prefs.values(Slot.KEYWORD, Polarity.LIKE)
    if moods:  # labels: a length or language wish reads "short (up to 100 min)", "French"
        parts.append(join_words(moods[-2:]))
    nots = prefs.disliked_genres + prefs.disliked_people + prefs.disliked_keywords
    if nots:
        parts.append("no " + join_words(nots[-3:], "or"))
    if prefs.disliked_moods:  # a mood is an adjective: "nothing violent", not "no violent"
        parts.append("nothing " + join_words(prefs.disliked_moods[-2:], "or"))
    if prefs.year_min is not None and prefs.year_max is not None:
        parts.append(f"{prefs.year_min}–{prefs.year_max}")
    elif prefs.year_min is not None:
        parts.append(f"from {prefs.year_min} on")
    elif prefs.year_max is not None:
        parts.append(f"up to {prefs.year_max}")
    return "; ".join(parts[:limit]) or NOTHING_STATED


def join_words(items: list[str], word: str = "and") -> str:
    """["a", "b", "c"] -> "a, b and c" (repeats dropped)."""
    items = list(dict.fromkeys(items))
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


def rec_dict(cand: Candidate) -> dict[str, Any]:
    """The recommendation object of the turn JSON (replay output, API, UI)."""
    m = cand.movie
    return {
        "id": m.id,
        "title": m.title,
        "year": m.year,
        "genres": list(m.genres),
        "directors": list(m.directors),
        "cast": list(m.cast[:5]),
        "runtime": m.runtime,
        "score": round(float(cand.score), 4),
        "reason": cand.reason,
    }
