"""What a message wants beyond the movies, genres and people it names, turned into
preferences before the understand node stores them: who watches ("for my kids"), a length,
language or studio ("under 90 minutes", "French films", "Pixar": facets, :mod:`crs.facets`),
and "something similar by someone else"."""

from __future__ import annotations

import re
from typing import Any

from crs import facets
from crs.dialogue.deps import DialogueDeps
from crs.nlu.types import Intent, NLUResult
from crs.nlu.years import CLASSIC_UNTIL
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.recommender.constraints import person_match

#: Who watches -> the mood that scores for them (the lexicon's "kids" mood favours family
#: and animation films, softly). A couple has no preference slot yet; length and language
#: wishes are facets (see with_facets).
_AUDIENCE_MOOD = {"kids": "kids", "family": "kids"}


#: Genres not shown to an audience unless asked for: horror is no film for children.
_AUDIENCE_UNWANTED = {"kids": ("horror",)}


def with_audience(nlu: NLUResult, turn: int) -> NLUResult:
    """"Something for my kids", "to watch with my whole family": the NLU reports the
    audience; the preferences keep it as the "kids" mood (soft), unless the message asks
    for the family genre outright ("a family movie"). Children watching also rules out
    horror (a stated preference the user sees and can remove), unless they asked for it."""
    audience = getattr(nlu, "audience", None) or ""
    for genre in _AUDIENCE_UNWANTED.get(audience, ()):
        if not any(i.slot == Slot.GENRE and i.value == genre for i in nlu.items):
            nlu.items.append(PreferenceItem(slot=Slot.GENRE, value=genre, polarity=Polarity.DISLIKE, label=genre,
                                            turn=turn))
    mood = _AUDIENCE_MOOD.get(audience)
    if audience == "family" and any(i.slot == Slot.GENRE and i.value == "family" for i in nlu.items):
        return nlu  # "a family movie": the genre says it already
    if mood and not any(i.slot == Slot.MOOD and i.value == mood for i in nlu.items):
        nlu.items.append(PreferenceItem(slot=Slot.MOOD, value=mood, polarity=Polarity.LIKE, label=mood, turn=turn))
        if Intent.PREFERENCE not in nlu.intents:
            nlu.intents.append(Intent.PREFERENCE)
    return nlu


#: "Her older stuff", "something older", "older than these": older than the films just shown.
_OLDER_THAN_SHOWN = re.compile(r"\b(?:older|earlier)\s+(?:stuff|ones?|movies?|films?|work|flicks?)\b|"
                               r"\b(?:something|anything)\s+(?:a bit\s+|a little\s+)?older\b|"
                               r"\bolder\s+than\s+(?:these|those|that|them)\b", re.IGNORECASE)


def older_than_shown(nlu: NLUResult, text: str, last_recs: list[dict[str, Any]]) -> NLUResult:
    """"What about her older stuff?" after a list: older than the films shown (up to the year
    before the earliest), not the NLU's "classic" bound, which only fits a first message."""
    years = [r["year"] for r in last_recs if r.get("year")]
    if (years and nlu.year_min is None and nlu.year_max in (None, CLASSIC_UNTIL)
            and _OLDER_THAN_SHOWN.search(text)):
        nlu.year_max = min(years) - 1
    return nlu


def with_facets(nlu: NLUResult, turn: int) -> NLUResult:
    """"Something short", "under 90 minutes", "French films", "Pixar movies": the NLU reports
    the length, language and studio wishes; the preferences keep each as a mood whose value
    is a facet word (:mod:`crs.facets`), scored from the corpus's runtimes, languages and
    production companies."""
    for value in (nlu.runtime, nlu.language, nlu.studio):
        if value and not any(i.slot == Slot.MOOD and i.value == value for i in nlu.items):
            nlu.items.append(PreferenceItem(slot=Slot.MOOD, value=value, polarity=Polarity.LIKE,
                                            label=facets.label(value), turn=turn))
            if Intent.PREFERENCE not in nlu.intents:
                nlu.intents.append(Intent.PREFERENCE)
    return nlu


def keep_asked_genres(nlu: NLUResult, prefs: Preferences) -> None:
    """A film "too" much of a genre the user asks for ("the third one was way too scary" while
    asking for horror; "a scary movie but not too scary") is a matter of degree: the genre stays
    wanted and there is no "horror or no horror?" question."""
    if nlu.too_genres:
        liked = {g.lower() for g in prefs.liked_genres}
        liked |= {i.value.lower() for i in nlu.items if i.slot == Slot.GENRE and i.polarity == Polarity.LIKE}
        nlu.items = [i for i in nlu.items if not (i.slot == Slot.GENRE and i.polarity == Polarity.DISLIKE
                                                  and i.value in nlu.too_genres and i.value.lower() in liked)]


def drop_same_facet(prefs: Preferences, item: PreferenceItem) -> None:
    """A new length, language or studio wish replaces the earlier one ("short" after "long")."""
    if item.slot == Slot.MOOD and facets.is_facet(item.value):
        for old in [i for i in prefs.items if i.slot == Slot.MOOD and facets.same_kind(i.value, item.value)]:
            prefs.remove(Slot.MOOD, old.value)


#: Moods that cannot hold together: a new one drops its opposites ("something to cry to", then "happier").
MOOD_OPPOSITES = {"sad": {"feel-good", "light"}, "feel-good": {"sad", "dark"}, "light": {"sad", "dark", "intense", "gritty"},
                  "dark": {"feel-good", "light"}, "intense": {"light"}, "gritty": {"light"}}


def drop_opposite_mood(prefs: Preferences, item: PreferenceItem) -> None:
    """A liked mood replaces the liked moods opposite to it ("happier" after "something sad")."""
    if item.slot == Slot.MOOD and item.polarity == Polarity.LIKE:
        for old in [i for i in prefs.items if i.slot == Slot.MOOD and i.polarity == Polarity.LIKE
                    and i.value in MOOD_OPPOSITES.get(item.value, ())]:
            prefs.remove(Slot.MOOD, old.value)


#: At most this many of the person's films become the anchors of "something similar by someone else".
OTHER_PEOPLE_ANCHORS = 5


def away_from_person(nlu: NLUResult, prefs: Preferences, shown: list[str], turn: int, preface: list[str],
                      deps: DialogueDeps, seed: str) -> None:
    """"I've seen all of his, something similar by someone else": the person last asked for
    (or the one the message names: "any directors similar to Tarantino?") stops being wanted and
    is avoided, and the films of theirs this session showed or the user named (else their
    best-known ones) become the liked movies to find similar ones from.
    The change is made to the preferences before the contradiction check, so it is no
    "you said you like him" question; the reply says what was done."""
    named = [i.value for i in nlu.items if i.slot == Slot.PERSON and i.polarity == Polarity.LIKE]
    if named:  # "any directors similar to Tarantino?", "other directors like Nolan": the named ones
        people = named
        nlu.items = [i for i in nlu.items if not (i.slot == Slot.PERSON and i.value in named)]
    else:
        liked = [i for i in prefs.items if i.slot == Slot.PERSON and i.polarity == Polarity.LIKE]
        if not liked:
            return
        latest = max(i.turn for i in liked)
        people = [i.value for i in liked if i.turn == latest]
    ids = dict.fromkeys([*prefs.liked_movies, *prefs.seen_movies, *shown])
    films = [m for i in ids if (m := deps.index.get(i)) is not None and person_match(m, people)]
    if not films:  # none of theirs came up yet: their best-known films
        films = sorted((m for m in deps.index.movies if person_match(m, people)), key=lambda m: -m.popularity)
    for person in people:
        prefs.remove(Slot.PERSON, person)
        nlu.items.append(PreferenceItem(slot=Slot.PERSON, value=person, polarity=Polarity.DISLIKE, label=person,
                                        turn=turn))
    for movie in films[:OTHER_PEOPLE_ANCHORS]:
        if movie.id not in prefs.liked_movies:
            nlu.items.append(PreferenceItem(slot=Slot.MOVIE, value=movie.id, polarity=Polarity.LIKE,
                                            label=movie.display, turn=turn))
    if Intent.PREFERENCE not in nlu.intents:
        nlu.intents.append(Intent.PREFERENCE)
    preface.append(deps.prompts.reply("other_people", seed, people=" and ".join(people)))
