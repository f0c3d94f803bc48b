"""An index of people's names from the corpus, for finding them in free text."""

from __future__ import annotations

import re
from collections import Counter

from crs.catalog.models import MovieIndex
from crs.catalog.normalize import norm_words


#: "Nolan's films" -> "Nolan films"; dropping the possessive keeps the word count unchanged.
_POSSESSIVE = re.compile(r"(?<=\w)['\u2019]s\b")


#: Surnames that are also language names: "in English" asks for a language, not Jonathan English.
_LANGUAGES = frozenset({"english", "french", "german", "spanish", "italian", "japanese", "chinese", "korean",
                        "russian", "hindi", "portuguese", "dutch", "swedish", "polish", "turkish", "arabic"})


class PeopleIndex:
    """Maps normalised full names ("christopher nolan") to display names.

    A surname alone ("Nolan", "Tarantino") also maps to a director when exactly one
    corpus director with at least three films has it and it is not one of the most frequent chat words.
    """

    def __init__(self, index: MovieIndex, stop_words: frozenset[str] = frozenset()) -> None:
        self.names: dict[str, str] = {}
        films: Counter[str] = Counter()
        credits: dict[str, Counter[str]] = {}
        for movie in index.movies:
            for person in (*movie.directors, *movie.cast, *movie.writers):
                key = norm_words(person)
                if " " in key and len(key) > 4:
                    self.names.setdefault(key, person)
                    films[key] += 1
            for role, people in (("director", movie.directors), ("actor", movie.cast), ("writer", movie.writers)):
                for person in people:
                    credits.setdefault(person, Counter())[role] += 1
        #: Display name -> the role most of their corpus credits are in (directing wins ties).
        self.main_role = {person: max(("director", "actor", "writer"), key=lambda r: (c[r], r == "director"))
                          for person, c in credits.items()}
        by_surname: dict[str, list[str]] = {}
        for movie in index.movies:
            for person in movie.directors:
                key = norm_words(person)
                if films[key] >= 3 and " " in key:
                    by_surname.setdefault(key.split()[-1], [])
                    if key not in by_surname[key.split()[-1]]:
                        by_surname[key.split()[-1]].append(key)
        self.surnames = {s: self.names[k[0]] for s, k in by_surname.items()
                         if len(k) == 1 and len(s) > 3 and s not in stop_words and s not in _LANGUAGES}
        self.max_words = 4

    def find(self, text: str) -> list[tuple[str, int, int]]:
        """(display name, start word, end word) for each person mentioned, longest first."""
        words = norm_words(_POSSESSIVE.sub("", text)).split()
        out: list[tuple[str, int, int]] = []
        used: set[int] = set()
        for n in range(self.max_words, 0, -1):
            for i in range(len(words) - n + 1):
                if any(j in used for j in range(i, i + n)):
                    continue
                key = " ".join(words[i:i + n])
                name = self.names.get(key) if n > 1 else self.surnames.get(key)
                if name:
                    out.append((name, i, i + n))
                    used.update(range(i, i + n))
        return out
