"""Readers that turn the raw files of ``data_dir`` into records.

Each reader handles one file and knows nothing about the others; matching and merging
happen in :mod:`crs.corpus.merge`. The data is read-only research data, so readers
assume the documented formats and fail with the file name when one is missing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from crs.catalog.models import Movie
from crs.catalog.normalize import fix_article, split_title_year
from crs.corpus.genres import normalize_genres

#: The files the corpus is built from, relative to ``data_dir``.
SOURCE_FILES: dict[str, str] = {
    "redial_info": "movies/redial_id2info.json",
    "redial_mentions": "redial/movies_with_mentions.csv",
    "movielens": "movies/movielens_movies.csv",
    "movielens_links": "movies/movielens_links.csv",
    "movielens_tmdb": "movies/movielens_movies_tmdb.csv",
    "tmdb5000": "movies/tmdb_5000_movies.csv.zip",
}

#: Corpus ids of MovieLens-only films: this prefix + MovieLens's movieId ("ml6370").
ML_ID_PREFIX = "ml"

_PAREN_TAIL = re.compile(r"^(.*?\S)\s*\(([^()]*)\)\s*$")


class SourceMissingError(FileNotFoundError):
    """A source file of the corpus is not where ``data_dir`` says."""


def source_paths(data_dir: Path) -> dict[str, Path]:
    """The source files under ``data_dir``, checked to exist.

    Raises:
        SourceMissingError: A file is missing (names it and hints at ``--data-dir``).
    """
    paths = {key: Path(data_dir) / rel for key, rel in SOURCE_FILES.items()}
    for path in paths.values():
        if not path.is_file():
            raise SourceMissingError(
                f"Source file missing: {path} (is --data-dir / CRS_DATA_DIR the shared data folder?)"
            )
    return paths


@dataclass(frozen=True)
class Mention:
    """One row of ``movies_with_mentions.csv``."""

    id: str
    title: str
    year: int | None
    mentions: int


@dataclass(frozen=True)
class TmdbInfo:
    """What a TMDB-derived file knows about one movie (used to fill gaps)."""

    title: str
    year: int | None
    overview: str = ""
    cast: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    genres: tuple[str, ...] = ()
    runtime: int | None = None
    language: str | None = None
    companies: tuple[str, ...] = ()
    tmdb_id: str | None = None
    movielens_id: str | None = None


def _split_list(text: str, sep: str = ",") -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(sep) if part.strip())


def _year_of_date(text: str) -> int | None:
    match = re.match(r"^(\d{4})", (text or "").strip())
    return int(match.group(1)) if match else None


def _minutes(text: str) -> int | None:
    """A runtime in minutes ("81", "81.0"); None when empty or 0 (TMDB's "unknown")."""
    try:
        minutes = round(float(text))
    except (TypeError, ValueError):
        return None
    return minutes if 0 < minutes <= 1000 else None


def _language(original: str, spoken: str = "") -> str | None:
    """The original language as an ISO 639-1 code. TMDB's ``original_language`` is at times
    the producer's ("What Happens in Vegas": "da", spoken only in English): when English is
    among the film's spoken languages and the original one is not, English is taken. (The
    spoken languages are wrong at times too, "Shrek the Third": French only, so they never
    replace an English original.) "cn" (Cantonese) is folded into "zh", "nb" (Bokmål) into
    "no"; "xx" (no language) is None."""
    code = (original or "").strip().lower()
    spoken_codes = [c.lower() for c in _json_names(spoken, "iso_639_1")]
    if spoken_codes and code not in spoken_codes and "en" in spoken_codes:
        code = "en"
    return {"cn": "zh", "nb": "no", "xx": None, "": None}.get(code, code)


def _rows(path: Path, desc: str, progress: bool) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        yield from tqdm(csv.DictReader(handle), desc=desc, unit="row", disable=not progress,
                        leave=False)


def split_movielens_title(raw: str) -> tuple[str, int | None, tuple[str, ...]]:
    """Split a MovieLens title into display title, year and alternative titles.

    "City of Lost Children, The (Cité des enfants perdus, La) (1995)" ->
    ("The City of Lost Children", 1995, ("La Cité des enfants perdus",)). The
    alternatives (foreign titles, "a.k.a." names) help matching but are not displayed.
    """
    title, year = split_title_year(raw)
    alternatives: list[str] = []
    while True:
        match = _PAREN_TAIL.match(title)
        if not match:
            break
        title, alt = match.group(1), match.group(2)
        alt = re.sub(r"^(a\.k\.a\.|aka)\s+", "", alt.strip(), flags=re.I)
        if alt:
            alternatives.append(fix_article(alt))
    return fix_article(title), year, tuple(alternatives)


def read_redial_info(path: Path) -> dict[str, Movie]:
    """``redial_id2info.json`` -> ReDial movies by id (id = ReDial movieId)."""
    with path.open(encoding="utf-8") as handle:
        raw = json.load(handle)
    movies: dict[str, Movie] = {}
    for movie_id, info in raw.items():
        title, year = split_title_year(info.get("name") or "")
        movies[str(movie_id)] = Movie(
            id=str(movie_id),
            title=fix_article(title),
            year=year,
            genres=normalize_genres(info.get("genre") or ()),
            directors=tuple(info.get("director") or ()),
            cast=tuple(info.get("star") or ()),
            writers=tuple(info.get("writer") or ()),
            plot=(info.get("plot") or "").strip(),
            redial_id=str(movie_id),
            imdb_id=(info.get("imdb_id") or None),
        )
    return movies


def read_mentions(path: Path) -> list[Mention]:
    """``movies_with_mentions.csv`` -> every ReDial movie with its mention count."""
    out = []
    for row in _rows(path, "ReDial mentions", progress=False):
        title, year = split_title_year(row["movieName"])
        out.append(Mention(id=row["movieId"].strip(), title=fix_article(title), year=year,
                           mentions=int(row.get("nbMentions") or 0)))
    return out


def read_links(path: Path) -> dict[str, tuple[str | None, str | None]]:
    """``movielens_links.csv`` -> MovieLens id -> (imdb id "tt…", tmdb id)."""
    links = {}
    for row in _rows(path, "MovieLens links", progress=False):
        imdb = (row.get("imdbId") or "").strip()
        tmdb = (row.get("tmdbId") or "").strip()
        links[row["movieId"].strip()] = (f"tt{imdb}" if imdb else None, tmdb or None)
    return links


def read_movielens(path: Path, links: dict[str, tuple[str | None, str | None]],
                   progress: bool = False) -> list[tuple[Movie, tuple[str, ...]]]:
    """``movielens_movies.csv`` -> (movie with id "ml<movieId>", alternative titles)."""
    out = []
    for row in _rows(path, "MovieLens movies", progress):
        ml_id = row["movieId"].strip()
        title, year, alternatives = split_movielens_title(row["title"])
        imdb, tmdb = links.get(ml_id, (None, None))
        movie = Movie(id=f"{ML_ID_PREFIX}{ml_id}", title=title, year=year,
                      genres=normalize_genres(row["genres"].split("|")),
                      movielens_id=ml_id, imdb_id=imdb, tmdb_id=tmdb)
        out.append((movie, alternatives))
    return out


def read_movielens_tmdb(path: Path) -> list[TmdbInfo]:
    """``movielens_movies_tmdb.csv`` (MovieLens 1M + TMDB) -> overview, cast, keywords, runtime."""
    out = []
    for row in _rows(path, "MovieLens TMDB", progress=False):
        title, year, _ = split_movielens_title(row["title"])
        out.append(TmdbInfo(
            title=title,
            year=int(row["year"]) if (row.get("year") or "").strip().isdigit() else year,
            overview=(row.get("tmdb_overview") or "").strip(),
            cast=_split_list(row.get("tmdb_top_cast", "")),
            keywords=_split_list(row.get("tmdb_keywords", "")),
            genres=normalize_genres(_split_list(row.get("tmdb_genres", ""))),
            runtime=_minutes(row.get("tmdb_runtime", "")),
            tmdb_id=(row.get("tmdb_id") or "").strip() or None,
            movielens_id=row["movieId"].strip(),
        ))
    return out


def _json_names(text: str, key: str = "name") -> tuple[str, ...]:
    """The ``key`` of each item of a TMDB JSON list ("[{"id": 28, "name": "Action"}, ...]")."""
    try:
        return tuple(item[key] for item in json.loads(text or "[]") if item.get(key))
    except (ValueError, TypeError, KeyError, AttributeError):
        return ()


def read_tmdb_5000(path: Path) -> list[TmdbInfo]:
    """``tmdb_5000_movies.csv.zip`` -> overview, keywords, genres, runtime, original language and
    production companies (no cast in this file)."""
    out = []
    with zipfile.ZipFile(path) as archive:
        name = next(n for n in archive.namelist()
                    if n.endswith(".csv") and not n.startswith("__MACOSX"))
        with archive.open(name) as raw:
            for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")):
                out.append(TmdbInfo(
                    title=(row.get("title") or "").strip(),
                    year=_year_of_date(row.get("release_date", "")),
                    overview=(row.get("overview") or "").strip(),
                    keywords=_json_names(row.get("keywords", "")),
                    genres=normalize_genres(_json_names(row.get("genres", ""))),
                    runtime=_minutes(row.get("runtime", "")),
                    language=_language(row.get("original_language", ""), row.get("spoken_languages", "")),
                    companies=_json_names(row.get("production_companies", "")),
                    tmdb_id=(row.get("id") or "").strip() or None,
                ))
    return out
