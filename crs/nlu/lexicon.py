"""Load the NLU lexicon (crs/nlu/lexicon.toml) once per process, on first use."""

from __future__ import annotations

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
    #: Genre phrases that name a kind within the genre ("zombie"): negated, no genre dislike.
    subgenres: frozenset[str] = field(default_factory=frozenset)


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
        subgenres=frozenset(data.get("subgenres", {}).get("words", ())),
    )
