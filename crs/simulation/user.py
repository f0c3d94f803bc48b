"""The attribute-only simulated user: what it knows and what it says.

It knows the target movie's genres, people, year and keywords, never its title, and
follows a fixed, deterministic script (SimpleUserSim, arXiv 2403.16416): open with a
genre and a decade, then, each turn the target is not shown, reject the list and reveal
one more attribute, most telling first (director, lead actor, another genre, a second
actor, keywords).
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crs.catalog.models import Movie
from crs.catalog.normalize import norm_title
from crs.nlu.lexicon import Lexicon, mood_pattern, mood_word_count

#: The order in which attributes are revealed after the opening.
REVEAL_ORDER = ("director", "actor", "genre", "actor", "keyword", "keyword")
#: The kinds an order may name.
KINDS = ("director", "actor", "genre", "keyword")


@dataclass(frozen=True)
class Attribute:
    """One fact about the target: kind ("genre", "decade", "director", "actor", "keyword")
    and the words the user says for it."""

    kind: str
    value: str


def genre_phrases(lexicon: Lexicon) -> dict[str, str]:
    """Corpus genre -> a phrase the NLU reads as exactly that genre ("film-noir" -> "film noir")."""
    out: dict[str, str] = {}
    for phrase, genres in lexicon.genres.items():
        if len(genres) == 1 and (genres[0] not in out or phrase == genres[0]):
            out[genres[0]] = phrase
    return out


def _nameable_genres(movie: Movie, phrases: dict[str, str], genre_counts: Counter[str]) -> list[str]:
    """The target's genres the NLU can name, rarest (most telling) first."""
    return sorted((g for g in movie.genres if g in phrases), key=lambda g: (genre_counts[g], g))


def _untold(movie: Movie):
    """A test of whether a fact may be said: never one that would give the title away."""
    title = norm_title(movie.title)
    return lambda value: bool(value.strip()) and title not in norm_title(value) and norm_title(value) not in title


def plan(movie: Movie, phrases: dict[str, str], genre_counts: Counter[str],
         order: tuple[str, ...] = REVEAL_ORDER) -> tuple[list[Attribute], list[Attribute]]:
    """(opening attributes, attributes to reveal later, in ``order``) for ``movie``.

    Genres the NLU can name come rarest first (the most telling); people need a first and
    last name (how the NLU finds them); keywords are used as written in the metadata.
    """
    genres = _nameable_genres(movie, phrases, genre_counts)
    opening = [Attribute("genre", phrases[genres[0]])] if genres else []
    if movie.year:
        opening.append(Attribute("decade", f"{movie.year // 10 * 10}s"))
    untold = _untold(movie)
    pools: dict[str, list[Attribute]] = {
        "director": [Attribute("director", p) for p in movie.directors[:1] if " " in p.strip() and untold(p)],
        "actor": [Attribute("actor", p) for p in movie.cast[:2] if " " in p.strip() and untold(p)],
        "genre": [Attribute("genre", phrases[g]) for g in genres[1:3]],
        "keyword": [Attribute("keyword", k) for k in movie.keywords[:3] if untold(k)],
    }
    later: list[Attribute] = []
    for kind in order:
        if pools.get(kind):
            later.append(pools[kind].pop(0))
    return opening, later


def say_opening(attrs: list[Attribute]) -> str:
    """"Hi! I'm looking for a western from the 1990s." (a bare "a good movie" without facts)."""
    genre = next((a.value for a in attrs if a.kind == "genre"), None)
    decade = next((a.value for a in attrs if a.kind == "decade"), None)
    what = f"{'an' if genre and genre[0] in 'aeiou' else 'a'} {genre} movie" if genre else "a good movie"
    return f"Hi! I'm looking for {what}" + (f" from the {decade}." if decade else ".")


_SAY = {"director": "Something directed by {}.", "actor": "I'd like one with {} in it.",
        "genre": "It should be {} too.", "keyword": "Something about {}."}


def say_reveal(attr: Attribute | None, rejecting: bool) -> str:
    """One more fact ("Something directed by Michael Mann."), after "None of those." when a
    wrong list was shown; "Any other ideas?" once every fact is told."""
    fact = _SAY[attr.kind].format(attr.value) if attr else "Any other ideas?"
    return f"None of those. {fact}" if rejecting else fact


def is_target(rec: dict[str, Any], movie: Movie) -> bool:
    """The shown movie is the target: the same id, or a duplicate record (same title and year)."""
    return rec.get("id") == movie.id or (norm_title(rec.get("title", "")) == norm_title(movie.title)
                                         and rec.get("year") == movie.year)


# ---------------------------------------------------------------------- answering questions
#: The attributes the bot may ask about (``crs.dialogue.policy.ATTRIBUTES``); each has reply
#: templates ``ask_<attribute>`` in prompts/replies.toml.
ASKABLE = ("genre", "era", "director", "actor", "mood", "keyword")


@dataclass(frozen=True)
class AskedQuestion:
    """An attribute question read from a reply: the attribute and its options as said
    ("comedy, drama or thriller")."""

    attribute: str
    options: str


class QuestionReader:
    """Finds the bot's attribute question in a reply, as a user would: by the wording of the
    question templates (``ask_<attribute>`` in prompts/replies.toml), also inside a
    follow-up ("If none of these is it: ..."). A reply a language model reworded may not
    match; the user then goes on with its script."""

    def __init__(self, replies: dict[str, Any]) -> None:
        self.patterns: list[tuple[str, re.Pattern[str]]] = []
        for attribute in ASKABLE:
            variants = replies.get(f"ask_{attribute}") or []
            for variant in [variants] if isinstance(variants, str) else variants:
                parts = re.split(r"(\{\w+\})", variant)
                regex = "".join("(?P<options>.+?)" if p == "{options}" else ".+?" if re.fullmatch(r"\{\w+\}", p)
                                else re.escape(p) for p in parts)
                if "(?P<options>" in regex:
                    self.patterns.append((attribute, re.compile(regex + "$")))

    @classmethod
    def from_prompts(cls, prompts_dir: Path) -> QuestionReader:
        return cls(tomllib.loads((prompts_dir / "replies.toml").read_text(encoding="utf-8")))

    def read(self, reply: str) -> AskedQuestion | None:
        """The question of the reply's last line that asks one, or None."""
        for line in reversed(reply.splitlines()):
            for attribute, pattern in self.patterns:
                match = pattern.search(line.strip())
                if match:
                    return AskedQuestion(attribute, match.group("options"))
        return None


@dataclass(frozen=True)
class Known:
    """One value of the target the user can give when asked: the words it recognises in
    a question's options, and what it says (the NLU's phrase for a genre, the name...)."""

    kind: str
    say: str
    matches: tuple[str, ...]


def _era(year: int | None) -> tuple[str, str] | None:
    """(key, label) of the era bucket of the bot's questions (crs.dialogue.policy.ERAS)."""
    from crs.dialogue.policy import ERAS, era_of

    key = era_of(year)
    return next(((k, label) for k, label, _, _ in ERAS if k == key), None)


def knowledge(movie: Movie, phrases: dict[str, str], genre_counts: Counter[str], mood_words: dict[str, tuple[str, ...]],
              order: tuple[str, ...] = REVEAL_ORDER) -> dict[str, list[Known]]:
    """What the user can answer, per attribute, from the target's metadata (never its
    title): genres the NLU can name (rarest first), the era of its year, moods whose words
    occur in its plot or keywords (as the bot finds candidates' moods), its keywords, and
    its director and two lead actors only when ``order`` reveals that kind of person (the
    no-people user knows no names)."""
    from crs.dialogue.policy import MOOD_LABELS

    untold = _untold(movie)
    genres = _nameable_genres(movie, phrases, genre_counts)
    out: dict[str, list[Known]] = {a: [] for a in ASKABLE}
    out["genre"] = [Known("genre", phrases[g], (g, phrases[g])) for g in genres]
    era = _era(movie.year)
    if era is not None:
        out["era"] = [Known("era", era[1], (era[1],))]
    text = f"{movie.plot} {' '.join(movie.keywords)}".lower()
    for tag, label in MOOD_LABELS.items():
        if mood_word_count(mood_pattern(mood_words.get(tag) or ()), text):
            out["mood"].append(Known("mood", label, (label,)))
    out["keyword"] = [Known("keyword", k, (k.lower(),)) for k in movie.keywords if untold(k)]
    if "director" in order:
        out["director"] = [Known("director", p, (p,)) for p in movie.directors[:1] if " " in p.strip() and untold(p)]
    if "actor" in order:
        out["actor"] = [Known("actor", p, (p,)) for p in movie.cast[:2] if " " in p.strip() and untold(p)]
    return out


_SAY_OWN = {**_SAY, "mood": "Something {}.", "era": "From {}."}


def answer(question: AskedQuestion, known: dict[str, list[Known]], rejecting: bool) -> tuple[str, Attribute] | None:
    """The user's answer to ``question``, and the fact it tells; None when it knows nothing
    about the attribute (it then says its next fact, as without questions).

    One of the target's values among the options is picked ("None of those. Gritty,
    please."); otherwise the user names its own value ("Something directed by Michael
    Mann."), the first it knows.
    """
    values = known.get(question.attribute) or []
    if not values:
        return None
    offered = question.options.lower()
    pick = next((v for v in values if any(re.search(rf"(?<!\w){re.escape(m.lower())}(?!\w)", offered) for m in v.matches)),
                None)
    if pick is not None:
        text = f"{pick.say[:1].upper()}{pick.say[1:]}, please."
    else:
        pick = values[0]
        text = _SAY_OWN[pick.kind].format(pick.say)
    return (f"None of those. {text}" if rejecting else text), Attribute(pick.kind, pick.say)
