"""Load the NLU lexicon (crs/nlu/lexicon.toml) once per process, on first use."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Lexicon:
    genres: dict[str, tuple[str, ...]]
    moods: dict[str, str]
    mood_words: dict[str, tuple[str, ...]]
    mood_genres: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    data = tomllib.loads(resources.files("crs.nlu").joinpath("lexicon.toml").read_text(encoding="utf-8"))
    return Lexicon(
        genres={k: tuple(v) for k, v in data["genres"].items()},
        moods=dict(data["moods"]),
        mood_words={k: tuple(v) for k, v in data["mood_words"].items()},
        mood_genres={k: tuple(v) for k, v in data.get("mood_genres", {}).items()},
    )
