"""Hard constraints: what may never be shown, whatever the scores say."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from crs.catalog.models import Movie, MovieIndex
from crs.catalog.normalize import ascii_fold, fix_article, norm_title

#: What follows a title in its sequels' titles: "Alien: Covenant", "Mission: Impossible - Fallout",
#: "Rocky II", "Toy Story 3", "Saw Part 2" (not "Heat Wave" or "Alien Nation").
_SEQUEL_REST = re.compile(r"^\s*(?:[:\-\u2013\u2014]|\d+\b|(?:ii|iii|iv|v|vi|vii|viii|ix|x)\b|part\b|chapter\b)")


@lru_cache(maxsize=1 << 19)  # larger than the 300k catalogue: checked per pool member and turn
def _series_key(title: str) -> str:
    """Lower-case ASCII display title: the prefix a series' titles share."""
    title = re.sub(r"[\u2010-\u2015]", "-", fix_article(title))
    return re.sub(r"\s+", " ", ascii_fold(title).lower()).strip()
from crs.recommender.types import RecQuery


@dataclass(frozen=True)
class Constraints:
    """The user's hard constraints, compiled for fast checks.

    A movie whose normalised title equals an excluded movie's is excluded too, so a
    year-less duplicate or a remake never slips back in under the same name; and the
    sequels of a movie the user turned down ("not the Mission Impossible ones") go with it.
    """

    exclude_ids: frozenset[str]
    exclude_titles: frozenset[str]
    disliked_genres: frozenset[str]
    disliked_people: frozenset[str]
    year_min: int | None
    year_max: int | None
    #: Lower-case titles of turned-down movies: their sequels are excluded too.
    disliked_series: frozenset[str] = frozenset()

    #: Genres and people of every movie sharing a normalised title (set by the retriever).
    title_facts: dict[str, tuple[frozenset[str], frozenset[str]]] | None = None

    @classmethod
    def from_query(cls, query: RecQuery, index: MovieIndex,
                   title_facts: dict[str, tuple[frozenset[str], frozenset[str]]] | None = None) -> "Constraints":
        prefs = query.preferences
        excluded = set(query.exclude) | set(prefs.liked_movies) | set(prefs.disliked_movies) | set(prefs.seen_movies)
        titles = {norm_title(m.title) for i in excluded if (m := index.get(i)) is not None}
        return cls(
            exclude_ids=frozenset(excluded),
            exclude_titles=frozenset(titles),
            disliked_genres=frozenset(g.lower() for g in prefs.disliked_genres),
            disliked_people=frozenset(p.lower() for p in prefs.disliked_people),
            year_min=prefs.year_min,
            year_max=prefs.year_max,
            disliked_series=frozenset(_series_key(m.title) for i in prefs.disliked_movies
                                      if (m := index.get(i)) is not None and len(norm_title(m.title)) >= 3),
            title_facts=title_facts,
        )

    def allows(self, movie: Movie, key: str | None = None) -> bool:
        """True if ``movie`` may be shown.

        Disliked genres and people are checked against every movie with the same title
        too: a user who said "no comedy" should not see a "Heat" that is the title of a
        comedy elsewhere in the catalogue, since people know movies by their titles.

        Args:
            movie: The movie.
            key: ``norm_title(movie.title)`` when the caller has it precomputed (the
                retriever keeps one per movie; computing it is most of this check's cost).
        """
        if key is None:
            key = norm_title(movie.title)
        if movie.id in self.exclude_ids or key in self.exclude_titles:
            return False
        if self.disliked_series and self._in_disliked_series(movie):
            return False
        if self.disliked_genres or self.disliked_people:  # the facts matter only to these checks
            if self.title_facts and key in self.title_facts:
                genres, people = self.title_facts[key]  # this movie's facts and its namesakes'
            else:
                genres = set(movie.genres)
                people = {p.lower() for p in (*movie.directors, *movie.cast, *movie.writers)}
            if self.disliked_genres and any(d in g for d in self.disliked_genres for g in genres):
                return False
            if self.disliked_people and people & self.disliked_people:
                return False
        if self.year_min is not None and (movie.year is None or movie.year < self.year_min):
            return False
        if self.year_max is not None and (movie.year is None or movie.year > self.year_max):
            return False
        return True


    def allows_rows(self, rows: np.ndarray, index: MovieIndex, titles: "TitleRows") -> np.ndarray:
        """``[allows(index.movies[r], titles.keys[r]) for r in rows]`` as a boolean array.

        The id, title and year checks run as array operations over the rows; only the
        movies that pass them and only when the user turned down a movie, a genre or a
        person does :meth:`allows` look at each movie.
        """
        ok = np.ones(len(rows), bool)
        if self.exclude_ids:
            ok &= ~np.isin(rows, [index.row[i] for i in self.exclude_ids if i in index.row])
        if self.exclude_titles:
            ok &= ~np.isin(titles.key_ids[rows], [titles.key_id[k] for k in self.exclude_titles if k in titles.key_id])
        if self.year_min is not None or self.year_max is not None:
            years = titles.years[rows]  # nan (unknown year) fails both comparisons, as in allows
            if self.year_min is not None:
                ok &= years >= self.year_min
            if self.year_max is not None:
                ok &= years <= self.year_max
        if self.disliked_series or self.disliked_genres or self.disliked_people:
            movies, keys = index.movies, titles.keys
            for j in np.flatnonzero(ok).tolist():
                row = int(rows[j])
                ok[j] = self.allows(movies[row], keys[row])
        return ok

    def _in_disliked_series(self, movie: Movie) -> bool:
        title = _series_key(movie.title)
        return any(title.startswith(p) and _SEQUEL_REST.match(title[len(p):]) for p in self.disliked_series)


@dataclass(frozen=True)
class TitleRows:
    """What :meth:`Constraints.allows_rows` reads per movie, row i = ``index.movies[i]``."""

    keys: list[str]  # norm_title of each movie's title
    key_ids: np.ndarray  # a number per distinct key
    key_id: dict[str, int]
    years: np.ndarray  # release year as a float, nan when unknown

    @classmethod
    def build(cls, movies: list[Movie], keys: list[str]) -> "TitleRows":
        key_id: dict[str, int] = {}
        key_ids = np.array([key_id.setdefault(k, len(key_id)) for k in keys], np.int64)
        years = np.array([np.nan if m.year is None else m.year for m in movies], np.float64)
        return cls(keys=keys, key_ids=key_ids, key_id=key_id, years=years)


def person_match(movie: Movie, people: list[str]) -> tuple[str, str] | None:
    """(person, role) of the first wanted person credited on ``movie``."""
    wanted = {p.lower(): p for p in people}
    for role, names in (("directed by", movie.directors), ("starring", movie.cast), ("written by", movie.writers)):
        for name in names:
            if name.lower() in wanted:
                return wanted[name.lower()], role
    return None
