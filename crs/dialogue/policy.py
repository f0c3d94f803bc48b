"""The dialogue policy's decisions, as pure functions (table-tested in tests/test_policy.py).

* **Which attribute to ask about.** Given the stage-1 candidates (their scores and
  metadata), :func:`choose_question` picks the attribute whose answer is expected to
  tell the candidates apart best: the candidates' scores become a distribution
  (softmax), each attribute's top values become the options of the question, every
  candidate falls into the first option it has (or "none of these"), and the expected
  information gain of the answer is the entropy of that partition. The attribute with
  the largest gain is asked, provided the gain and the options' coverage are high enough.
* **When to ask after a rejected list** (:func:`follow_up_wanted`).
* **Contradictory wishes** (:func:`find_conflict`): the same genre or person both wanted
  and not wanted, or year bounds no movie can meet, unless the user said they changed
  their mind.
* **Relaxing an empty result** (:func:`relaxations`): the softest constraint first.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crs.preferences import Polarity, PreferenceItem, Preferences, Slot

#: Attributes the bot may ask about, in the order ties are broken.
ATTRIBUTES = ("genre", "era", "director", "actor", "mood", "keyword")

#: Era buckets: (key, label, first year, last year). Labels are what the question says.
ERAS: tuple[tuple[str, str, int | None, int | None], ...] = (
    ("recent", "something recent (2010 on)", 2010, None),
    ("2000s", "the 2000s", 2000, 2009),
    ("80s-90s", "the 80s or 90s", 1980, 1999),
    ("classic", "a classic from before 1980", None, 1979),
)
#: Words in an answer that pick an era option.
ERA_WORDS = {
    "recent": ("recent", "new", "newer", "modern", "latest", "2010", "2010s", "2020", "2020s"),
    "2000s": ("2000s", "2000", "noughties", "aughts"),
    "80s-90s": ("80s", "90s", "80", "90", "eighties", "nineties", "1980s", "1990s"),
    "classic": ("classic", "classics", "old", "older", "vintage", "oldie", "oldies"),
}


@dataclass(frozen=True)
class Facts:
    """What the policy knows about one candidate: its stage-1 score and metadata."""

    score: float
    year: int | None = None
    genres: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    moods: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Option:
    """One answer the question offers: ``value`` (a genre, era key, name or mood tag),
    how to say it, and the share of the candidate distribution it covers."""

    value: str
    label: str
    share: float


@dataclass(frozen=True)
class Question:
    """An attribute question: the attribute, its options, and the expected gain in bits."""

    attribute: str
    options: tuple[Option, ...]
    gain: float

    def to_state(self) -> dict[str, Any]:
        """The JSON form kept in the dialogue state until the user answers."""
        return {"attribute": self.attribute, "gain": round(self.gain, 4),
                "options": [{"value": o.value, "label": o.label, "share": round(o.share, 4)} for o in self.options]}


# ---------------------------------------------------------------------- attribute choice
def entropy(probabilities: Iterable[float]) -> float:
    """Shannon entropy in bits of a (not necessarily normalised) distribution."""
    ps = [p for p in probabilities if p > 0]
    total = sum(ps)
    return -sum(p / total * math.log2(p / total) for p in ps) if total > 0 else 0.0


def candidate_weights(scores: Sequence[float], temperature: float = 0.25) -> list[float]:
    """A softmax over stage-1 scores: how likely each candidate is the one the user wants."""
    if not scores:
        return []
    top = max(scores)
    exps = [math.exp((s - top) / max(temperature, 1e-6)) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def era_of(year: int | None) -> str | None:
    """The era bucket key of a year (None when the year is unknown)."""
    if year is None:
        return None
    for key, _, lo, hi in ERAS:
        if (lo is None or year >= lo) and (hi is None or year <= hi):
            return key
    return None


def values_of(facts: Facts, attribute: str) -> tuple[str, ...]:
    """The values a candidate has for ``attribute`` (lead director, two lead actors)."""
    if attribute == "genre":
        return facts.genres
    if attribute == "era":
        era = era_of(facts.year)
        return (era,) if era else ()
    if attribute == "director":
        return facts.directors[:1]
    if attribute == "actor":
        return facts.cast[:2]
    if attribute == "mood":
        return tuple(m for m in facts.moods if m in MOOD_LABELS)
    if attribute == "keyword":
        return tuple(k.lower() for k in facts.keywords[:8])
    raise ValueError(f"unknown attribute {attribute!r}; use one of {', '.join(ATTRIBUTES)}")


#: Moods worth offering as options, and how to say them (others, such as "violent" or
#: "kids", are not asked about).
MOOD_LABELS = {"dark": "dark", "feel-good": "feel-good", "light": "light-hearted", "mind-bending": "mind-bending",
               "twist": "with a twist", "smart": "clever", "intense": "intense", "gritty": "gritty", "epic": "epic"}


def option_label(attribute: str, value: str) -> str:
    """How an option is said in the question."""
    if attribute == "era":
        return next(label for key, label, _, _ in ERAS if key == value)
    if attribute == "mood":
        return MOOD_LABELS.get(value, value)
    return value


def score_attribute(candidates: Sequence[Facts], weights: Sequence[float], attribute: str,
                    max_options: int = 3, skip_values: frozenset[str] = frozenset()) -> Question | None:
    """The question about ``attribute`` and its expected information gain.

    Options are the ``max_options`` values with the most probability mass (values in
    ``skip_values``, such as genres the user already named, are left out); each candidate
    counts towards the first option it has, in that order, or towards "none of these".
    The answer then reveals the candidate's group, so the expected gain is the entropy
    of the groups' masses.
    """
    mass: dict[str, float] = {}
    for facts, w in zip(candidates, weights):
        for value in dict.fromkeys(values_of(facts, attribute)):
            if value.lower() not in skip_values:
                mass[value] = mass.get(value, 0.0) + w
    if len(mass) < 2:
        return None
    picked = sorted(mass, key=lambda v: (-mass[v], v))[:max_options]
    if attribute == "era":  # said newest first: "something recent, the 2000s or a classic"
        order = [key for key, *_ in ERAS]
        picked.sort(key=order.index)
    groups = dict.fromkeys(picked, 0.0)
    other = 0.0
    for facts, w in zip(candidates, weights):
        have = set(values_of(facts, attribute))
        first = next((v for v in picked if v in have), None)
        if first is None:
            other += w
        else:
            groups[first] += w
    total = sum(groups.values()) + other
    if total <= 0 or sum(1 for v in groups.values() if v > 0) < 2:
        return None
    gain = entropy([*groups.values(), other])
    options = tuple(Option(v, option_label(attribute, v), groups[v] / total) for v in picked)
    return Question(attribute, options, gain)


def choose_question(candidates: Sequence[Facts], open_attributes: Iterable[str], *, max_options: int = 3,
                    min_gain: float = 1.0, min_coverage: float = 0.5, temperature: float = 0.25,
                    skip_values: frozenset[str] = frozenset()) -> Question | None:
    """The most informative question about one of ``open_attributes``, or None.

    None when there are too few candidates, or no attribute splits them well enough:
    the gain must reach ``min_gain`` bits and the options must cover ``min_coverage``
    of the candidate distribution (a question whose likely answer is "none of these"
    wastes the user's turn).
    """
    if len(candidates) < 2:
        return None
    weights = candidate_weights([c.score for c in candidates], temperature)
    best: Question | None = None
    for attribute in ATTRIBUTES:
        if attribute not in set(open_attributes):
            continue
        question = score_attribute(candidates, weights, attribute, max_options, skip_values)
        if question is None or question.gain < min_gain or sum(o.share for o in question.options) < min_coverage:
            continue
        if best is None or question.gain > best.gain + 1e-9:
            best = question
    return best


def open_attributes(prefs: Preferences, asked: Iterable[str]) -> list[str]:
    """Attributes worth asking about: not asked before, and not stated by the user yet."""
    stated: set[str] = set(asked)
    if prefs.liked_genres:
        stated.add("genre")
    if prefs.year_min is not None or prefs.year_max is not None:
        stated.add("era")
    if prefs.liked_people:
        stated.update({"director", "actor"})
    if prefs.values(Slot.MOOD, Polarity.LIKE):
        stated.add("mood")
    if prefs.values(Slot.KEYWORD, Polarity.LIKE):
        stated.add("keyword")
    return [a for a in ATTRIBUTES if a not in stated]


# ---------------------------------------------------------------------- when to ask
def knows_enough(prefs: Preferences) -> bool:
    """A liked movie or person, or two kinds of facts (genre, years, mood): enough to
    recommend from without a question."""
    if prefs.liked_movies or prefs.liked_people:
        return True
    kinds = [bool(prefs.liked_genres), prefs.year_min is not None or prefs.year_max is not None, bool(prefs.moods)]
    return sum(kinds) >= 2


def follow_up_wanted(act: dict[str, Any], prefs: Preferences, asked: Sequence[str], pending: bool) -> bool:
    """After a wholly rejected list, also ask one question when the bot knows little beyond a
    genre and a decade (no liked movie or person): the new list comes first, the
    question only adds a way to narrow it. Never while another question is open, and at
    most two attribute questions per conversation."""
    if pending or len(asked) >= 2 or act.get("feedback") != "reject" or not act.get("rejected_all", True):
        return False
    return not (prefs.liked_movies or prefs.liked_people)


# ---------------------------------------------------------------------- answers
_SKIP = re.compile(r"\b(any|either|whatever|no preference|don'?t (really )?(care|mind)|doesn'?t matter|surprise me|"
                   r"not sure|no idea|all of them|dunno|up to you)\b", re.IGNORECASE)


def match_option(question: dict[str, Any], text: str, refs: Sequence[int] = ()) -> int | None:
    """Which option an answer picks: an ordinal ("the second"), the option's own words
    ("comedy", "Nolan", "the 90s", "something classic"), or None."""
    options = question.get("options") or []
    for ref in refs:
        if 0 <= ref < len(options):
            return ref
        if ref == -2 and options:
            return len(options) - 1
    words = set(re.findall(r"[a-z0-9]+", text.lower().replace("-", " ").replace("'", "")))
    hits = []
    for k, option in enumerate(options):
        if question.get("attribute") == "era":
            keys = ERA_WORDS.get(option["value"], ())
            if words & set(keys):
                hits.append(k)
            continue
        value_words = re.findall(r"[a-z0-9]+", option["value"].lower().replace("-", " "))
        label_words = re.findall(r"[a-z0-9]+", option.get("label", "").lower().replace("-", " "))
        if not value_words:
            continue
        if question.get("attribute") in {"director", "actor"}:
            surname = value_words[-1]
            if len(surname) > 2 and surname in words:
                hits.append(k)
        elif all(w in words for w in value_words) or (label_words and all(w in words for w in label_words)) \
                or (len(value_words) == 1 and value_words[0].rstrip("s") + "s" in words):
            hits.append(k)
    return hits[0] if len(hits) == 1 else None


def is_skip(text: str) -> bool:
    """"Any", "don't mind", "surprise me": the user has no preference on the question."""
    return bool(_SKIP.search(text))


# ---------------------------------------------------------------------- contradictions
_CHANGE_CUES = re.compile(r"\b(actually|anymore|any more|after all|instead|changed my mind|on second thought|"
                          r"scratch that|rather)\b", re.IGNORECASE)


#: "Surprise me", "you pick", "the best movie of all time?", "what's your favourite movie?": recommend
#: now, ask nothing first.
_SURPRISE = re.compile(r"\b(?:surprise me|(?:you|u) (?:pick|choose|decide)|dealer'?s choice|"
                       r"(?:your|ur) (?:own |personal |all[- ]time )?(?:favou?rite|fave|fav|top) (?:movies?|films?|picks?)|"
                       r"(?:a )?random (?:movie|film|one|pick)|anything (?:is fine|goes|works)|"
                       r"whatever you (?:like|want|recommend|think|suggest)|"
                       r"best (?:movies?|films?) (?:ever(?: made)?|of all time)|"
                       r"(?:i )?don'?t (?:care|mind),? (?:just )?(?:pick|recommend|suggest|show me) (?:something|anything|one))\b",
                       re.IGNORECASE)


def says_surprise(text: str) -> bool:
    """The user leaves the choice to the bot: recommend well-liked films at once."""
    return bool(_SURPRISE.search(text))


def says_change_of_mind(text: str, nlu_change: bool) -> bool:
    """The user marked the new wish as replacing the old one ("actually", "instead")."""
    return nlu_change or bool(_CHANGE_CUES.search(text))


@dataclass(frozen=True)
class Side:
    """One side of a contradiction: a preference item, or year bounds."""

    label: str
    item: dict[str, Any] | None = None
    year_min: int | None = None
    year_max: int | None = None

    def to_state(self) -> dict[str, Any]:
        return {"label": self.label, "item": self.item, "year_min": self.year_min, "year_max": self.year_max}


@dataclass(frozen=True)
class Conflict:
    """Two wishes no movie can meet together; ``second`` is the newer statement."""

    kind: str  # "genre" | "person" | "year"
    first: Side
    second: Side

    def to_state(self) -> dict[str, Any]:
        return {"kind": self.kind, "first": self.first.to_state(), "second": self.second.to_state()}


def item_label(item: PreferenceItem | dict[str, Any]) -> str:
    """"horror" / "no horror", "Tom Cruise" / "nothing with Tom Cruise"."""
    data = item if isinstance(item, dict) else item.model_dump(mode="json")
    value = data.get("label") or data["value"]
    if data["polarity"] == Polarity.DISLIKE.value:
        return f"nothing with {value}" if data["slot"] == Slot.PERSON.value else f"no {value}"
    return value


def year_label(year_min: int | None, year_max: int | None) -> str:
    """"1990–1999", "after 2010" / "from 2012 on", "before 1990" / "up to 1994"
    (bounds are inclusive; a round year is said the way people say it)."""
    if year_min is not None and year_max is not None:
        return f"{year_min}–{year_max}"
    if year_min is not None:
        return f"after {year_min - 1}" if (year_min - 1) % 5 == 0 else f"from {year_min} on"
    return f"before {year_max + 1}" if (year_max + 1) % 5 == 0 else f"up to {year_max}"


def find_conflict(prefs: Preferences, new_items: Sequence[PreferenceItem], new_year_min: int | None,
                  new_year_max: int | None, clause_years: Sequence[tuple[int | None, int | None]] = (),
                  changed_mind: bool = False) -> Conflict | None:
    """The first contradiction between this message's wishes and each other or the
    earlier ones, or None. A change of mind is no contradiction: the newer wish wins.

    Args:
        prefs: What was known before this message.
        new_items: This message's genre / person / ... items, in the order stated.
        new_year_min / new_year_max: This message's year bounds (as the NLU read them).
        clause_years: Year bounds read from each clause separately, to catch "after 2010
            and before 1990" within one message.
        changed_mind: The user said the new wish replaces the old one.
    """
    slots = (Slot.GENRE, Slot.PERSON)
    wishes = [i for i in new_items if i.slot in slots and i.polarity in (Polarity.LIKE, Polarity.DISLIKE)]
    for a_pos, a in enumerate(wishes):  # within the message: "a comedy, no comedies"
        for b in wishes[a_pos + 1:]:
            if a.slot == b.slot and a.value.lower() == b.value.lower() and a.polarity != b.polarity:
                return Conflict(a.slot.value, _side(a), _side(b))
    if not changed_mind:
        for b in wishes:  # across turns, without a change of mind
            for a in prefs.items:
                if (a.slot == b.slot and a.value.lower() == b.value.lower() and a.polarity != b.polarity
                        and a.polarity in (Polarity.LIKE, Polarity.DISLIKE) and a.turn < b.turn):
                    return Conflict(a.slot.value, _side(a), _side(b))
    bounds = [(lo, hi) for lo, hi in clause_years if lo is not None or hi is not None]
    for k, (lo, _) in enumerate(bounds):  # within the message
        for j, (_, hi) in enumerate(bounds):
            if j != k and lo is not None and hi is not None and lo > hi:
                first, second = sorted([(k, (lo, None)), (j, (None, hi))])
                return Conflict("year", _year_side(*first[1]), _year_side(*second[1]))
    if not changed_mind:  # across turns: a new bound that contradicts the other old bound
        old = _year_side(prefs.year_min, prefs.year_max) if prefs.year_min is not None or prefs.year_max is not None else None
        if new_year_min is not None and new_year_max is None and prefs.year_max is not None and new_year_min > prefs.year_max:
            return Conflict("year", old, _year_side(new_year_min, None))
        if new_year_max is not None and new_year_min is None and prefs.year_min is not None and new_year_max < prefs.year_min:
            return Conflict("year", old, _year_side(None, new_year_max))
    return None


def _side(item: PreferenceItem) -> Side:
    return Side(item_label(item), item=item.model_dump(mode="json"))


def _year_side(year_min: int | None, year_max: int | None) -> Side:
    return Side(year_label(year_min, year_max), year_min=year_min, year_max=year_max)


_FIRST = re.compile(r"\b(first|former|earlier|the one before|1st)\b", re.IGNORECASE)
_SECOND = re.compile(r"\b(second|latter|newer|later|last|latest|2nd|what i (just )?said)\b", re.IGNORECASE)


def pick_side(conflict: dict[str, Any], text: str, items: Sequence[PreferenceItem], year_min: int | None,
              year_max: int | None) -> str | None:
    """Which side the answer keeps: "first" / "second" / None (not answered).

    By the answer's own wish ("horror is fine" -> the like; "no horror" -> the dislike;
    "after 2010" -> that bound), by its words ("the second", "the newer one"), or by
    naming a side's label.
    """
    for name in ("first", "second"):
        side = conflict[name]
        item = side.get("item")
        if item is not None and any(i.slot.value == item["slot"] and i.value.lower() == item["value"].lower()
                                    and i.polarity.value == item["polarity"] for i in items):
            return name
        if item is None and ((side.get("year_min") is not None and year_min == side["year_min"])
                             or (side.get("year_max") is not None and year_max == side["year_max"])):
            return name
    first, second = bool(_FIRST.search(text)), bool(_SECOND.search(text))
    if first != second:
        return "first" if first else "second"
    return None


# ---------------------------------------------------------------------- relaxing an empty result
#: The order in which constraints are loosened when nothing meets them all: softest first.
RELAX_ORDER = ("mood", "years widened", "years", "genre", "person")


@dataclass(frozen=True)
class Relaxation:
    """One way to loosen the constraints: the step, the constraint(s) it loosens as the
    user would say them, the loosened preferences, and (when widened) the new bound."""

    step: str
    label: str
    preferences: Preferences
    widened_to: str = ""

    def describe(self) -> str:
        """"dropping 'before 1990'" / "widening 'after 2020' to after 2010"."""
        return f"widening {self.label} to {self.widened_to}" if self.widened_to else f"dropping {self.label}"


def relaxations(prefs: Preferences, widen_by: int = 10) -> list[Relaxation]:
    """Each single loosening that applies, in :data:`RELAX_ORDER`: drop the moods, widen
    the year range by ``widen_by`` years each side, drop the year range, drop the
    unwanted genres, drop the unwanted people. Movies already shown, seen or turned down
    are never loosened."""
    out: list[Relaxation] = []
    moods = [i for i in prefs.items if i.slot in (Slot.MOOD, Slot.KEYWORD)]
    if moods:
        labels = list(dict.fromkeys(item_label(i) for i in moods))
        out.append(Relaxation("mood", _quote(labels), _without(prefs, moods)))
    if prefs.year_min is not None or prefs.year_max is not None:
        lo = None if prefs.year_min is None else prefs.year_min - widen_by
        hi = None if prefs.year_max is None else prefs.year_max + widen_by
        out.append(Relaxation("years widened", _quote([year_label(prefs.year_min, prefs.year_max)]),
                              prefs.model_copy(update={"year_min": lo, "year_max": hi}), year_label(lo, hi)))
        out.append(Relaxation("years", _quote([year_label(prefs.year_min, prefs.year_max)]),
                              prefs.model_copy(update={"year_min": None, "year_max": None})))
    for step, slot in (("genre", Slot.GENRE), ("person", Slot.PERSON)):
        unwanted = [i for i in prefs.items if i.slot == slot and i.polarity == Polarity.DISLIKE]
        if unwanted:
            out.append(Relaxation(step, _quote([item_label(i) for i in unwanted]), _without(prefs, unwanted)))
    return out


def cumulative(prefs: Preferences, widen_by: int = 10) -> list[Relaxation]:
    """Loosenings piled up in :data:`RELAX_ORDER` (years; + unwanted genres; + unwanted
    people), for when no single one is enough. Moods are left out (they only weigh the
    scores, so they never empty a list and dropping them would be named for nothing),
    and so is widening: the years are dropped outright once one step is not enough."""
    out: list[Relaxation] = []
    current, steps, labels = prefs, [], []
    for step in RELAX_ORDER:
        if step in {"mood", "years widened"}:
            continue
        found = next((r for r in relaxations(current, widen_by) if r.step == step), None)
        if found is None:
            continue
        current = found.preferences
        steps.append(step)
        labels.append(found.label)
        out.append(Relaxation("+".join(steps), " and ".join(labels), current))
    return out


def _without(prefs: Preferences, items: Sequence[PreferenceItem]) -> Preferences:
    drop = {id(i) for i in items}
    return prefs.model_copy(update={"items": [i for i in prefs.items if id(i) not in drop]})


def _quote(labels: Sequence[str]) -> str:
    return ", ".join(f"'{x}'" for x in labels)
