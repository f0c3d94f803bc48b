"""The attribute-only simulated user: what it knows and what it says.

It knows the target movie's genres, people, year and keywords, never its title, and
follows a fixed, deterministic script (SimpleUserSim, arXiv 2403.16416): open with a
genre and a decade, then, each turn the target is not shown, reject the list and reveal
one more attribute, most telling first (director, lead actor, another genre, a second
actor, keywords).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from crs.catalog.models import Movie
from crs.catalog.normalize import norm_title
from crs.nlu.lexicon import Lexicon

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


def plan(movie: Movie, phrases: dict[str, str], genre_counts: Counter[str],
         order: tuple[str, ...] = REVEAL_ORDER) -> tuple[list[Attribute], list[Attribute]]:
    """(opening attributes, attributes to reveal later, in ``order``) for ``movie``.

    Genres the NLU can name come rarest first (the most telling); people need a first and
    last name (how the NLU finds them); keywords are used as written in the metadata.
    """
    genres = sorted((g for g in movie.genres if g in phrases), key=lambda g: (genre_counts[g], g))
    opening = [Attribute("genre", phrases[genres[0]])] if genres else []
    if movie.year:
        opening.append(Attribute("decade", f"{movie.year // 10 * 10}s"))
    title = norm_title(movie.title)

    def untold(value: str) -> bool:  # a fact that would give the title away is never said
        return bool(value.strip()) and title not in norm_title(value) and norm_title(value) not in title

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
