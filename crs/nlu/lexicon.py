"""Load the NLU lexicon (crs/nlu/lexicon.toml) once per process, on first use."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Lexicon:
    """``genres`` holds the English genre phrases first, then those of other languages
    (``other_languages`` names the latter: understood, never used to name a genre)."""

    genres: dict[str, tuple[str, ...]]
    moods: dict[str, str]
    mood_words: dict[str, tuple[str, ...]]
    mood_genres: dict[str, tuple[str, ...]]
    other_languages: frozenset[str] = field(default_factory=frozenset)
    #: Everyday name -> corpus keyword ("marvel" -> "marvel comic").
    topic_aliases: dict[str, str] = field(default_factory=dict)
    #: Phrase said anywhere -> corpus keyword ("based on a true story" -> "based on true story").
    topic_phrases: dict[str, str] = field(default_factory=dict)
    #: Genre phrases that name a kind within the genre ("zombie"): negated, no genre dislike.
    subgenres: frozenset[str] = field(default_factory=frozenset)
    #: Genres that only a wanted mood lifts ("something sad": dramas), never sunk by an unwanted one.
    mood_genres_wanted: dict[str, tuple[str, ...]] = field(default_factory=dict)


#: Endings a mood word may take in a plot ("kill": kills, killed, killing, killer).
_ENDINGS = r"(?:s|es|d|ed|ing|er|ers)?"


def mood_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """A whole-word pattern of a mood's words (``group(1)`` = the word found), so that "war"
    finds "wars" but not "award" or "toward"; None for no words. Longer words first, so
    "serial killer" is one word, not "killer"."""
    if not words:
        return None
    ordered = sorted(set(words), key=lambda w: (-len(w), w))
    return re.compile(r"\b(" + "|".join(map(re.escape, ordered)) + r")" + _ENDINGS + r"\b")


def mood_word_count(pattern: re.Pattern[str] | None, text: str) -> int:
    """How many different words of a mood ``text`` (lower case) holds."""
    return 0 if pattern is None else len({m.group(1) for m in pattern.finditer(text)})


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    data = tomllib.loads(resources.files("crs.nlu").joinpath("lexicon.toml").read_text(encoding="utf-8"))
    genres = {k: tuple(v) for k, v in data["genres"].items()}
    other = {k: tuple(v) for k, v in data.get("genres_other_languages", {}).items() if k not in genres}
    return Lexicon(
        genres={**genres, **other},
        moods=dict(data["moods"]),
        mood_words={k: tuple(v) for k, v in data["mood_words"].items()},
        mood_genres={k: tuple(v) for k, v in data.get("mood_genres", {}).items()},
        other_languages=frozenset(other),
        topic_aliases=dict(data.get("topic_aliases", {})),
        topic_phrases=dict(data.get("topic_phrases", {})),
        subgenres=frozenset(data.get("subgenres", {}).get("words", ())),
        mood_genres_wanted={k: tuple(v) for k, v in data.get("mood_genres_wanted", {}).items()},
    )
