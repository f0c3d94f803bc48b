"""Resolve a title several movies share by the company it is named in.

"I loved Heat and Collateral": of the films called "Heat", one shares its director with
Collateral, so that is the one meant, and asking "which Heat?" would only slow the user
down. A candidate is chosen only when it is the *only* one that shares a director, or two
cast members, with a movie named in the same message or liked earlier; otherwise the
dialogue still asks. "Korean thrillers like Oldboy" settles the same way by the language
the message asks for: only Park Chan-wook's *Oldboy* is known to be in Korean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crs.catalog.linker import Mention
from crs import facets
from crs.catalog.models import Movie
from crs.preferences import Polarity


@dataclass(frozen=True)
class Inferred:
    """An ambiguous mention settled by a related movie."""

    mention: Mention
    polarity: Polarity
    movie: Movie
    person: str  # the shared director or first shared cast member
    role: str  # "director" or "cast"
    anchor: Movie  # the related movie the user named


def shared_person(candidate: Movie, anchor: Movie) -> tuple[str, str] | None:
    """(person, "director") for a director both share, else (the first of at least two shared
    cast members, "cast")."""
    directors = [p for p in candidate.directors if p in anchor.directors]
    if directors:
        return directors[0], "director"
    cast = [p for p in candidate.cast if p in anchor.cast]
    return (cast[0], "cast") if len(cast) >= 2 else None


def resolve_by_company(ambiguous: Sequence[tuple[Mention, Polarity]], anchors: Sequence[Movie]
                       ) -> tuple[list[Inferred], list[tuple[Mention, Polarity]]]:
    """(the ambiguous mentions settled by ``anchors``, the ones still ambiguous)."""
    settled, left = [], []
    for mention, polarity in ambiguous:
        links = []
        for candidate in mention.candidates:
            link = next(((p, a) for a in anchors if a.id != candidate.id and (p := shared_person(candidate, a))), None)
            if link:
                links.append((candidate, *link))
        if len(links) == 1:
            movie, (person, role), anchor = links[0]
            settled.append(Inferred(mention, polarity, movie, person, role, anchor))
        else:
            left.append((mention, polarity))
    return settled, left


def resolve_by_language(ambiguous: Sequence[tuple[Mention, Polarity]], wish: str | None
                        ) -> tuple[list[tuple[Mention, Polarity, Movie]], list[tuple[Mention, Polarity]]]:
    """(the ambiguous mentions of which exactly one candidate is known to be in the wished
    language (``wish``: a language facet word such as "korean"), the ones still ambiguous)."""
    facet = facets.parse(wish or "")
    if facet is None or facet.kind != "language":
        return [], list(ambiguous)
    settled, left = [], []
    for mention, polarity in ambiguous:
        fitting = [c for c in mention.candidates if c.language and facet.fits_language(c.language)]
        if len(fitting) == 1:
            settled.append((mention, polarity, fitting[0]))
        else:
            left.append((mention, polarity))
    return settled, left
