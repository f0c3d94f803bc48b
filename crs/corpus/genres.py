"""One lower-case genre vocabulary for all sources.

ReDial's ``redial_id2info.json`` already uses IMDb's genres in lower case ("sci-fi",
"film-noir", "family"), so that is the vocabulary; MovieLens and TMDB names are mapped
onto it by :data:`GENRE_ALIASES`. Names that are formats or markets rather than genres
("IMAX", "Foreign") and MovieLens' "(no genres listed)" map to nothing.

============================  ===============  ==========================================
source name (any case)        canonical        where it occurs
============================  ===============  ==========================================
Sci-Fi, Science Fiction       sci-fi           MovieLens, TMDB ("sci-fi" in ReDial)
Children, Children's          family           MovieLens 32M, MovieLens 1M
Family                        family           TMDB, ReDial
Film-Noir, Film Noir          film-noir        MovieLens, ReDial
TV Movie                      tv-movie         TMDB
Sports                        sport            user wording (ReDial: "sport")
IMAX, Foreign, (no genres…)   (dropped)        MovieLens, TMDB
everything else               itself, lower    Action, Drama, Western, …
============================  ===============  ==========================================
"""

from __future__ import annotations

import re
from typing import Iterable

#: The canonical genres (IMDb's set, as ReDial spells them) plus TMDB's "tv-movie".
GENRES: tuple[str, ...] = (
    "action", "adventure", "animation", "biography", "comedy", "crime", "documentary",
    "drama", "family", "fantasy", "film-noir", "game-show", "history", "horror", "music",
    "musical", "mystery", "news", "reality-tv", "romance", "sci-fi", "short", "sport",
    "talk-show", "thriller", "tv-movie", "war", "western",
)

#: Source spellings (lower case, after whitespace is collapsed) that differ from the
#: canonical name; None drops the name.
GENRE_ALIASES: dict[str, str | None] = {
    "science fiction": "sci-fi",
    "sci fi": "sci-fi",
    "scifi": "sci-fi",
    "children": "family",
    "children's": "family",
    "childrens": "family",
    "kids": "family",
    "film noir": "film-noir",
    "noir": "film-noir",
    "tv movie": "tv-movie",
    "sports": "sport",
    "biopic": "biography",
    "animated": "animation",
    "documentaries": "documentary",
    "imax": None,
    "foreign": None,
    "(no genres listed)": None,
    "": None,
}


def normalize_genre(name: str) -> str | None:
    """Map one source genre name to the canonical vocabulary.

    Returns:
        The canonical lower-case genre, or None for names that are not genres. Unknown
        names are kept (lower case, single-spaced, spaces as "-") so no information is lost.
    """
    key = re.sub(r"\s+", " ", (name or "").strip().lower())
    if key in GENRE_ALIASES:
        return GENRE_ALIASES[key]
    return key.replace(" ", "-")


def normalize_genres(names: Iterable[str]) -> tuple[str, ...]:
    """Normalise many names, dropping non-genres and duplicates, keeping source order."""
    out: list[str] = []
    for name in names:
        genre = normalize_genre(name)
        if genre and genre not in out:
            out.append(genre)
    return tuple(out)
