"""Build the movie store from the shared data, and add movies to it later.

A build reads and embeds everything first, and only then starts replacing the store
(manifest removed first, written last): an interrupted embedding leaves the old store
usable, an interrupted write leaves a store that :meth:`MovieStore.open` rejects and the
next build redoes. Re-running with unchanged sources and options does nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crs.catalog import store_files as files
from crs.catalog.models import LIST_FIELDS, Movie
from crs.catalog.store import CorpusMissingError, MovieStore
from crs.corpus import sources
from crs.corpus.genres import normalize_genres
from crs.corpus.merge import load_movies
from crs.embedding import MODEL_ID, Embedder
from crs.settings import Settings


#: Longest movie id: the session database keeps shown and rated ids in VARCHAR(64),
#: which PostgreSQL enforces (SQLite does not).
MOVIE_ID_MAX = 64


class AddFileError(ValueError):
    """A movie file for ``crs corpus add`` has bad lines (nothing was added)."""


@dataclass(frozen=True)
class BuildResult:
    """What a build did.

    Attributes:
        store_dir: Where the store is.
        count: Movies in the store.
        redial_count: Of which ReDial movies (ids of ``movies_with_mentions.csv``).
        skipped: True when the store was already up to date and nothing was written.
        seconds: Wall time of the call.
        embedded: Texts embedded anew (the others reused the previous store's vectors).
    """

    store_dir: Path
    count: int
    redial_count: int
    skipped: bool
    seconds: float
    embedded: int = 0

    @property
    def message(self) -> str:
        if self.skipped:
            return (f"Movie corpus at {self.store_dir} is up to date ({self.count} movies); "
                    "nothing to do (use --force to rebuild).")
        return (f"Built movie corpus at {self.store_dir}: {self.count} movies "
                f"({self.redial_count} from ReDial; {self.embedded} embedded, "
                f"{self.count - self.embedded} reused) in {self.seconds:.0f} s.")


def fingerprint(data_dir: Path, options: dict[str, Any]) -> str:
    """A hash of the source files (size and mtime), the options, format and model."""
    parts: dict[str, Any] = {"format": files.FORMAT_VERSION, "model": MODEL_ID, "options": options}
    for key, path in sorted(sources.source_paths(data_dir).items()):
        stat = path.stat()
        parts[key] = [stat.st_size, int(stat.st_mtime)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _up_to_date(settings: Settings, embedder: Any, print_: str) -> MovieStore | None:
    manifest = files.read_manifest(settings.store_dir)
    if not manifest or manifest.get("fingerprint") != print_:
        return None
    try:
        return MovieStore.open(settings.store_dir, embedder, settings.collection)
    except CorpusMissingError:
        return None


def _open_chroma(store_dir: Path) -> Any:
    """A client for the store's Chroma folder, wiping it if it is unreadable."""
    try:
        return files.chroma_client(store_dir)
    except Exception:  # noqa: BLE001 - a corrupt Chroma folder raises assorted errors
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
        shutil.rmtree(Path(store_dir) / files.CHROMA_DIR, ignore_errors=True)
        return files.chroma_client(store_dir)


def build_corpus(settings: Settings, *, limit: int | None = None, include_movielens: bool = True,
                 force: bool = False, progress: bool = True, embedder: Any | None = None) -> BuildResult:
    """Build (or confirm) the movie store at ``settings.store_dir``.

    Args:
        settings: Gives ``data_dir``, ``store_dir`` and the collection name.
        limit: Keep only the ``limit`` most mentioned ReDial movies (quick builds).
        include_movielens: Add the MovieLens-only long tail (~82k movies).
        force: Rebuild even when the store is up to date.
        progress: Show progress bars.
        embedder: Reuse an :class:`Embedder` (a new one is made otherwise).

    Raises:
        crs.corpus.sources.SourceMissingError: A source file is missing.
    """
    started = time.monotonic()
    store_dir = Path(settings.store_dir)
    options = {"limit": limit, "include_movielens": include_movielens}
    print_ = fingerprint(settings.data_dir, options)
    embedder = embedder or Embedder()
    if not force:
        current = _up_to_date(settings, embedder, print_)
        if current is not None:
            return BuildResult(store_dir, len(current), _redial_count(current.index.movies),
                               True, time.monotonic() - started)
    movies = load_movies(settings.data_dir, limit=limit, include_movielens=include_movielens,
                         progress=progress)
    vectors, embedded = _embed_reusing(movies, embedder, _previous_vectors(store_dir, settings.collection),
                                       progress)
    store_dir.mkdir(parents=True, exist_ok=True)
    files.remove_manifest(store_dir)
    collection = files.create_collection(_open_chroma(store_dir), settings.collection, MODEL_ID)
    files.upsert_movies(collection, movies, vectors, progress=progress)
    files.remove_orphan_segments(store_dir)
    files.write_table(store_dir, movies)
    redial_count = _redial_count(movies)
    files.write_manifest(store_dir, {
        "format": files.FORMAT_VERSION,
        "model": MODEL_ID,
        "collection": settings.collection,
        "count": len(movies),
        "redial_count": redial_count,
        "fingerprint": print_,
        "options": options,
        "sources": {key: str(path) for key, path in sources.source_paths(settings.data_dir).items()},
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": round(time.monotonic() - started, 1),
        "added": [],
    })
    return BuildResult(store_dir, len(movies), redial_count, False, time.monotonic() - started, embedded)


def _previous_vectors(store_dir: Path, collection: str) -> dict[str, np.ndarray]:
    """Vectors of the store being replaced, by text hash (empty if there is none usable)."""
    if not (store_dir / files.CHROMA_DIR).is_dir():
        return {}
    try:
        chroma = files.get_collection(files.chroma_client(store_dir), collection)
        model = (chroma.metadata or {}).get("embedding_model") or (files.read_manifest(store_dir) or {}).get("model")
        if model != MODEL_ID:
            return {}
        found: dict[str, np.ndarray] = {}
        for offset in range(0, chroma.count(), 10_000):
            got = chroma.get(include=["embeddings", "metadatas"], limit=10_000, offset=offset)
            for vector, meta in zip(got["embeddings"], got["metadatas"]):
                if meta and meta.get("th"):
                    found[str(meta["th"])] = np.asarray(vector, dtype=np.float32)
        return found
    except Exception:  # noqa: BLE001 - an unreadable old store just means no reuse
        return {}


def _embed_reusing(movies: list[Movie], embedder: Any, previous: dict[str, np.ndarray],
                   progress: bool) -> tuple[np.ndarray, int]:
    """Embed the movies' texts, taking unchanged texts' vectors from the previous store."""
    texts = [m.embedding_text() for m in movies]
    hashes = [files.text_hash(t) for t in texts]
    todo = [i for i, h in enumerate(hashes) if h not in previous]
    vectors = np.zeros((len(movies), embedder.dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in previous:
            vectors[i] = previous[h]
    if todo:
        vectors[todo] = embedder.embed([texts[i] for i in todo], progress=progress)
    return vectors, len(todo)


def _redial_count(movies: list[Movie]) -> int:
    return sum(1 for m in movies if m.redial_id is not None)


#: Bad lines listed in an AddFileError before "... and N more".
MAX_PROBLEMS_LISTED = 50


def read_movie_file(path: Path, max_bytes: int | None = None) -> list[Movie]:
    """Read a ``.jsonl`` file of movies (one :meth:`Movie.to_dict`-style object a line).

    Every line is checked before anything is returned, so a bad file adds nothing.

    Raises:
        AddFileError: Lists each bad line as ``file:line: problem`` (also: a file larger
            than ``max_bytes``).
        OSError: The file cannot be read.
    """
    path = Path(path)
    if max_bytes is not None and path.stat().st_size > max_bytes:
        raise AddFileError(f"{path}: the file is {path.stat().st_size / 2**20:.1f} MiB, more than the "
                           f"{max_bytes / 2**20:.1f} MiB allowed (CRS_MAX_FILE_MB); split it into smaller files")
    movies: list[Movie] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                problems.append(f"{path}:{number}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column "
                                f"{exc.start + 1}); save the file as UTF-8")
                continue
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object")
                movie = _checked_movie(data)
            except (ValueError, TypeError) as exc:
                problems.append(f"{path}:{number}: {exc}")
                continue
            if movie.id in seen:
                problems.append(f"{path}:{number}: duplicate id {movie.id!r} (first on line {seen[movie.id]})")
                continue
            seen[movie.id] = number
            movies.append(movie)
    if problems:
        more = len(problems) - MAX_PROBLEMS_LISTED
        raise AddFileError("\n".join(problems[:MAX_PROBLEMS_LISTED] + ([f"{path}: ... and {more} more bad lines"] if more > 0 else [])))
    if not movies:
        raise AddFileError(f"{path}: no movies in the file")
    return movies


def _checked_movie(data: dict[str, Any]) -> Movie:
    """A Movie from a dict, rejecting empty ids/titles and wrongly typed fields."""
    for key, kinds in (("id", (str, int)), ("title", (str,))):
        if isinstance(data.get(key), bool) or not isinstance(data.get(key), kinds) or not str(data[key]).strip():
            raise ValueError(f"'{key}' is required and must be a non-empty string")
    if len(str(data["id"])) > MOVIE_ID_MAX:  # shown/rated ids are VARCHAR(64) in the session database
        raise ValueError(f"'id' must be at most {MOVIE_ID_MAX} characters, got {len(str(data['id']))}")
    for key in LIST_FIELDS:
        if data.get(key) is not None and not (isinstance(data[key], list) and all(isinstance(x, str) for x in data[key])):
            raise ValueError(f"'{key}' must be a list of strings")
    for key in ("plot", "language", "redial_id", "movielens_id", "imdb_id", "tmdb_id"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ValueError(f"'{key}' must be a string")
    runtime = data.get("runtime")
    if runtime is not None and (isinstance(runtime, bool) or not isinstance(runtime, int) or not 0 < runtime <= 1000):
        raise ValueError(f"'runtime' must be a whole number of minutes (1 to 1000), got {runtime!r:.40}")
    year = data.get("year")
    if year is not None and (isinstance(year, bool) or not str(year).lstrip("-").isascii()
                             or not str(year).lstrip("-").isdigit() or len(str(year)) > 5):
        raise ValueError(f"'year' must be an integer, got {year!r:.40}")
    popularity = data.get("popularity")
    if popularity is not None and (isinstance(popularity, bool) or not isinstance(popularity, (int, float))
                                   or popularity != popularity or abs(popularity) == float("inf")):
        raise ValueError(f"'popularity' must be a number, got {popularity!r:.40}")
    # null means "not given": the defaults apply (an empty plot, no genres, ...)
    data = {k: v for k, v in data.items() if v is not None or k in ("year", "runtime", "language", "redial_id",
                                                                         "movielens_id", "imdb_id", "tmdb_id")}
    movie = Movie.from_dict(data)
    return dataclasses.replace(movie, title=movie.title.strip(), genres=normalize_genres(movie.genres),
                               popularity=float(movie.popularity or 0.0))


def add_movies(settings: Settings, path: Path, embedder: Any | None = None) -> int:
    """Add the movies of a ``.jsonl`` file to the store (replacing same-id movies).

    Raises:
        AddFileError: The file has bad lines (nothing was added).
        CorpusMissingError: There is no store to add to.
    """
    movies = read_movie_file(path, max_bytes=int(settings.max_file_mb * 2**20))
    store = MovieStore.open(settings.store_dir, embedder or Embedder(), settings.collection,
                            chroma_url=settings.chroma_url)
    return store.add_movies(movies, source=str(path))
