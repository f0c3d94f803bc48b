"""Which films belong to the franchise of a film the user liked: used to keep sequels out
after "no sequels" (crs.recommender.hybrid) and to show at most one of them per page after
"movies like Star Wars" (crs.recommender.rerank)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from crs.catalog.models import Movie
from crs.catalog.normalize import norm_words

_SEQUEL_TAIL = re.compile(r"(?:\s+(?:part\s+)?(?:\d+|ii|iii|iv|v|vi|vii|viii|ix|x))+$")


@lru_cache(maxsize=8192)
def _franchise_key(title: str) -> str:
    """"Star Wars: Episode I – The Phantom Menace" -> "star wars"; "Toy Story 2" -> "toy story"."""
    head = norm_words(re.split(r"\s*:\s*|\s+[\u2013\u2014-]\s+", title)[0])
    return re.sub(r"^(?:the|a|an) ", "", _SEQUEL_TAIL.sub("", head))


def franchise_of(movie: Movie, liked: Iterable[Movie]) -> Movie | None:
    """The liked movie of which ``movie`` looks like a sequel, prequel or spin-off: the same
    title head ("Toy Story 3", "Rogue One: A Star Wars Story") or two of the same three leads
    ("The Empire Strikes Back" after "Star Wars"); None if there is none."""
    key, words = _franchise_key(movie.title), f" {norm_words(movie.title)} "
    for other in liked:
        if other.id == movie.id:
            continue
        head = _franchise_key(other.title)
        if len(head) >= 3 and (key == head or f" {head} " in words):
            return other
        if len(set(movie.cast[:3]) & set(other.cast[:3])) >= 2:
            return other
    return None


def same_franchise(movie: Movie, liked: Iterable[Movie]) -> bool:
    """Whether ``movie`` belongs to a liked movie's franchise (see :func:`franchise_of`)."""
    return franchise_of(movie, liked) is not None
