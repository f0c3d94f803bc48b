"""Match the sources against each other and merge them into one list of movies.

ReDial movies come first and keep their ReDial ids (the evaluation's ground truth).
A MovieLens movie that is a ReDial movie (same IMDb id, or same normalised title and a
year within ±1) is merged into the ReDial record instead of being added twice; the rest
become "ml<movieId>" movies. A ReDial record holding another film's metadata loses it
first (:func:`drop_borrowed_metadata`). TMDB overviews, cast, keywords, runtimes, original languages
and production companies only fill fields that are still empty: ReDial's own plots and people win.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from rapidfuzz import fuzz
from tqdm import tqdm

from crs.catalog.models import Movie
from crs.catalog.normalize import norm_title, norm_words
from crs.corpus import sources


class TitleIndex:
    """Find movie ids by normalised title and year (±1); title alone when a year is unknown."""

    def __init__(self) -> None:
        self._by_title: dict[str, list[tuple[int | None, str]]] = defaultdict(list)

    def add(self, movie_id: str, titles: Iterable[str], year: int | None) -> None:
        for title in titles:
            key = norm_title(title)
            if key and (year, movie_id) not in self._by_title[key]:
                self._by_title[key].append((year, movie_id))

    def find(self, titles: Iterable[str], year: int | None) -> list[str]:
        """Ids whose title matches one of ``titles`` and whose year is compatible."""
        found: list[str] = []
        for title in titles:
            for other_year, movie_id in self._by_title.get(norm_title(title), ()):
                compatible = year is None or other_year is None or abs(year - other_year) <= 1
                if compatible and movie_id not in found:
                    found.append(movie_id)
        return found


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return first + tuple(g for g in second if g not in first)


def redial_movies(paths: dict[str, Path]) -> list[Movie]:
    """Every ReDial movie of ``movies_with_mentions.csv``, most mentioned first.

    ``redial_id2info.json`` gives the metadata; movies it lacks get the title and year of
    the mentions file. Popularity is the mention count.
    """
    info = sources.read_redial_info(paths["redial_info"])
    movies = []
    for mention in sources.read_mentions(paths["redial_mentions"]):
        base = info.get(mention.id) or Movie(id=mention.id, title=mention.title, year=mention.year,
                                             redial_id=mention.id)
        if base.year is None and mention.year is not None:
            base = dataclasses.replace(base, year=mention.year)
        movies.append(dataclasses.replace(base, popularity=float(mention.mentions)))
    movies.sort(key=lambda m: (-m.popularity, int(m.id) if m.id.isdigit() else 0, m.id))
    return movies


_ARTICLES = frozenset({"the", "a", "an"})
#: rapidfuzz ratio (0-100) of two titles' sorted words from which they are one title spelt twice.
SAME_TITLE_RATIO = 85


def _same_title(a: str, b: str) -> bool:
    """Two titles of one film: one's words inside the other's ("Harry Potter" / "Harry Potter
    and the Philosopher's Stone", "Bourne" / "The Bourne Identity"), articles aside, or close
    spellings ("The Prisoner" / "Prisoners")."""
    x, y = _words(a), _words(b)
    if not (x and y):
        return False
    return x <= y or y <= x or fuzz.ratio(" ".join(sorted(x)), " ".join(sorted(y))) >= SAME_TITLE_RATIO


def drop_borrowed_metadata(redial: list[Movie], movielens: list[tuple[Movie, tuple[str, ...]]]) -> list[Movie]:
    """ReDial records that carry another film's metadata lose it.

    ``redial_id2info.json`` gives some ReDial ids the metadata of another film: "It (1990)" (the
    Stephen King mini-series, 191 mentions) holds Goodfellas' plot, cast and IMDb id, "It (2004)"
    Mean Girls', "Ex Machina (2015)" another film's. A dated record whose title is none of the
    titles MovieLens gives its IMDb id (nor their words' sub- or superset) keeps only its title,
    year and mentions when either MovieLens has another film of that title and year (then
    matched to it by title), or another ReDial record with that IMDb id has the right title and
    theirs share no word or lie more than a year apart. "Fast 8" (no year), "Annabelle 2" (2017,
    as "Annabelle: Creation") and translated titles keep their metadata.
    """
    names: dict[str, list[str]] = defaultdict(list)
    years: dict[str, int | None] = {}
    titles = TitleIndex()
    imdb_of: dict[str, str | None] = {}
    for ml_movie, alternatives in movielens:
        if ml_movie.imdb_id:
            names[ml_movie.imdb_id].extend([ml_movie.title, *alternatives])
            years.setdefault(ml_movie.imdb_id, ml_movie.year)
        titles.add(ml_movie.id, [ml_movie.title, *alternatives], ml_movie.year)
        imdb_of[ml_movie.id] = ml_movie.imdb_id
    fitting: dict[str, list[Movie]] = defaultdict(list)  # IMDb id -> ReDial records with a title of it
    for movie in redial:
        if movie.imdb_id and any(_same_title(movie.title, n) for n in names.get(movie.imdb_id, ())):
            fitting[movie.imdb_id].append(movie)
    out = []
    for movie in redial:
        known = names.get(movie.imdb_id or "")
        if known and movie.year is not None and not any(_same_title(movie.title, n) for n in known):
            other_film = any(imdb_of[i] not in (None, movie.imdb_id) for i in titles.find([movie.title], movie.year))
            ml_year = years.get(movie.imdb_id or "")
            twin = any(m.id != movie.id and (not _shared_word(movie.title, m.title)
                                            or (ml_year is not None and abs(ml_year - movie.year) > 1))
                       for m in fitting.get(movie.imdb_id or "", ()))
            if other_film or twin:
                movie = Movie(id=movie.id, title=movie.title, year=movie.year, redial_id=movie.redial_id,
                              popularity=movie.popularity)
        out.append(movie)
    return out


def _words(title: str) -> set[str]:
    """A title's words, articles aside."""
    return set(norm_words(title).split()) - _ARTICLES


def _shared_word(a: str, b: str) -> bool:
    return bool(_words(a) & _words(b))


def merge_movielens(redial: list[Movie], movielens: list[tuple[Movie, tuple[str, ...]]],
                    progress: bool = False) -> tuple[list[Movie], list[Movie]]:
    """Fold MovieLens into the ReDial movies; return (ReDial movies, MovieLens-only movies).

    A ReDial movie takes the MovieLens id, tmdb/imdb ids it lacks, the year if it has none,
    the genres it misses, and MovieLens's titles that differ from its own as aliases (the
    US title, the original title, "a.k.a." names); a MovieLens-only movie keeps its
    alternative titles as aliases. IMDb ids decide when both sides have one (so "Alice in
    Wonderland" 1951 never merges into the 2010 film); titles decide otherwise.
    """
    by_id = {m.id: m for m in redial}
    by_imdb: dict[str, str] = {}
    titles = TitleIndex()
    for movie in redial:
        if movie.imdb_id:
            by_imdb.setdefault(movie.imdb_id, movie.id)
        titles.add(movie.id, [movie.title], movie.year)
    taken: set[str] = set()
    rest: list[Movie] = []
    for ml_movie, alternatives in tqdm(movielens, desc="Matching MovieLens", unit="movie",
                                       disable=not progress, leave=False):
        target = by_imdb.get(ml_movie.imdb_id) if ml_movie.imdb_id else None
        if target is None:
            for candidate in titles.find([ml_movie.title, *alternatives], ml_movie.year):
                other = by_id[candidate]
                if ml_movie.imdb_id and other.imdb_id:
                    continue  # both have IMDb ids and they differ: different films
                target = candidate
                break
        if target is None or target in taken:
            rest.append(dataclasses.replace(ml_movie, aliases=_other_titles(ml_movie.title, alternatives)))
            continue
        taken.add(target)
        old = by_id[target]
        by_id[target] = dataclasses.replace(
            old,
            year=old.year if old.year is not None else ml_movie.year,
            genres=_union(old.genres, ml_movie.genres),
            movielens_id=ml_movie.movielens_id,
            imdb_id=old.imdb_id or ml_movie.imdb_id,
            tmdb_id=old.tmdb_id or ml_movie.tmdb_id,
            aliases=_other_titles(old.title, (*old.aliases, ml_movie.title, *alternatives)),
        )
    return _fill_years_from_twins([by_id[m.id] for m in redial]), rest


def _other_titles(title: str, titles: Iterable[str]) -> tuple[str, ...]:
    """``titles`` whose normalised form differs from ``title``'s and from each other's."""
    seen = {norm_title(title)}
    out = []
    for other in titles:
        key = norm_title(other)
        if key and key not in seen:
            seen.add(key)
            out.append(other)
    return tuple(out)


def _fill_years_from_twins(movies: list[Movie]) -> list[Movie]:
    """ReDial lists some films twice (one entry without a year): share the known year."""
    years: dict[str, int] = {}
    for movie in movies:
        if movie.imdb_id and movie.year is not None:
            years.setdefault(movie.imdb_id, movie.year)
    return [dataclasses.replace(m, year=years[m.imdb_id])
            if m.year is None and m.imdb_id in years else m for m in movies]


def _fill(movie: Movie, info: sources.TmdbInfo) -> Movie:
    return dataclasses.replace(
        movie,
        year=movie.year if movie.year is not None else info.year,
        genres=movie.genres or info.genres,
        plot=movie.plot or info.overview,
        cast=movie.cast or info.cast,
        keywords=movie.keywords or info.keywords,
        runtime=movie.runtime or info.runtime,
        language=movie.language or info.language,
        companies=movie.companies or info.companies,
        tmdb_id=movie.tmdb_id or info.tmdb_id,
    )


def enrich_tmdb(movies: list[Movie], infos: Iterable[sources.TmdbInfo]) -> list[Movie]:
    """Fill empty plot/cast/keywords/runtime/language/companies from TMDB-derived records.

    A record matches by MovieLens id, else by TMDB id, else by title and year (±1; both
    years must be known so remakes are not confused).
    """
    out = list(movies)
    by_ml = {m.movielens_id: i for i, m in enumerate(out) if m.movielens_id}
    by_tmdb = {m.tmdb_id: i for i, m in enumerate(out) if m.tmdb_id}
    titles = TitleIndex()
    for i, movie in enumerate(out):
        if movie.year is not None:
            titles.add(str(i), [movie.title], movie.year)
    for info in infos:
        row = by_ml.get(info.movielens_id) if info.movielens_id else None
        if row is None and info.tmdb_id:
            row = by_tmdb.get(info.tmdb_id)
        if row is None and info.year is not None:
            found = titles.find([info.title], info.year)
            row = int(found[0]) if found else None
        if row is not None:
            out[row] = _fill(out[row], info)
    return out


def load_movies(data_dir: Path, *, limit: int | None = None, include_movielens: bool = True,
                progress: bool = False) -> list[Movie]:
    """Read, match and merge every source into the corpus movie list.

    Args:
        data_dir: The shared data folder (holds ``movies/`` and ``redial/``).
        limit: Keep only the ``limit`` most mentioned ReDial movies (fast test builds).
        include_movielens: Add the MovieLens-only long tail ("ml<id>" movies). MovieLens
            still enriches the ReDial movies when False.
        progress: Show progress bars.

    Returns:
        ReDial movies (most mentioned first), then MovieLens-only movies in MovieLens order.
    """
    paths = sources.source_paths(data_dir)
    steps = tqdm(total=5, desc="Reading sources", unit="file", disable=not progress)
    redial = redial_movies(paths)
    if limit is not None:
        redial = redial[:max(0, limit)]
    steps.update(1)
    links = sources.read_links(paths["movielens_links"])
    movielens = sources.read_movielens(paths["movielens"], links, progress=progress)
    steps.update(2)
    redial, rest = merge_movielens(drop_borrowed_metadata(redial, movielens), movielens, progress=progress)
    movies = redial + (rest if include_movielens else [])
    movies = enrich_tmdb(movies, sources.read_movielens_tmdb(paths["movielens_tmdb"]))
    steps.update(1)
    movies = enrich_tmdb(movies, sources.read_tmdb_5000(paths["tmdb5000"]))
    steps.update(1)
    steps.close()
    return movies
