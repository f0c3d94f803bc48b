"""The on-disk layout of a movie store, shared by the builder and :class:`MovieStore`.

A store directory holds:

* ``chroma/``        a persistent Chroma database; collection = one vector per movie,
                     metadata = title, year (-1 if unknown), popularity, ``redial``,
                     one ``g_<genre>`` flag per genre of the movie (for where-filters)
                     and ``th``, a hash of the embedded text (lets rebuilds reuse vectors);
* ``movies.jsonl``   the movie table, one :meth:`Movie.to_dict` a line;
* ``manifest.json``  format version, embedding model, movie count, source fingerprint.

With a Chroma server (``CRS_CHROMA_URL``) the collection lives on the server instead
(``crs corpus push`` copies it there) and the store directory only needs the last two.

The manifest is written last (and removed first when a rebuild starts writing), so a
store without one, or whose counts disagree with it, is an interrupted build.
"""

from __future__ import annotations

import hashlib
import json
import gc
import mmap
import os
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import orjson
from tqdm import tqdm

from crs.catalog.models import LIST_FIELDS, Movie

#: Bumped whenever the layout or the metadata keys change (forces a rebuild).
FORMAT_VERSION = 5  # 2: embedding text without the title; 3: genre-only text when that is all we know;
#                    4: runtime, original language and production companies (TMDB);
#                    5: ReDial records holding another film's metadata lose it (corpus.merge)
MANIFEST = "manifest.json"
TABLE = "movies.jsonl"
CHROMA_DIR = "chroma"
#: HNSW settings: a high search ef because recall at the top 100 matters more than
#: a millisecond per query.
HNSW_CONFIG = {"space": "cosine", "ef_search": 256, "ef_construction": 128}
#: Rows per Chroma write (Chroma's own limit is ~5,000 on SQLite).
WRITE_BATCH = 2000
#: The vector cache: every stored vector in movie-table order, ``vectors-<key>.npy`` (see
#: :func:`vector_cache_key`), memory-mapped by :meth:`MovieStore.warm_vectors` so that stage 1
#: never waits on a first-time read from Chroma. A derived file: deleting it costs one re-read.
VECTOR_CACHE_PREFIX = "vectors-"


def genre_key(genre: str) -> str:
    """The metadata key that flags a genre: "sci-fi" -> "g_sci_fi"."""
    return "g_" + re.sub(r"[^a-z0-9]+", "_", genre.lower()).strip("_")


def text_hash(text: str) -> str:
    """A short hash of an embedded text: a rebuild reuses vectors whose text is unchanged."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def movie_metadata(movie: Movie) -> dict[str, Any]:
    """Chroma metadata of one movie (only scalar values; genres as True flags)."""
    meta: dict[str, Any] = {
        "th": text_hash(movie.embedding_text()),
        "title": movie.title,
        "year": int(movie.year) if movie.year is not None else -1,
        "popularity": float(movie.popularity),
        "redial": movie.redial_id is not None,
    }
    for genre in movie.genres:
        meta[genre_key(genre)] = True
    return meta


def chroma_client(store_dir: Path) -> Any:
    """A persistent Chroma client for ``store_dir/chroma`` with telemetry off.

    Always created with the same settings: Chroma shares one system per path in a process
    and refuses a second client of the same path with different settings.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path = Path(store_dir) / CHROMA_DIR
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path),
                                     settings=ChromaSettings(anonymized_telemetry=False))


def http_client(url: str) -> Any:
    """A client of a Chroma server (``chroma run``) at ``url``, e.g. ``http://127.0.0.1:8000``.

    Raises:
        ValueError: ``url`` is not ``http(s)://host[:port]`` (the port defaults to 8000).
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    scheme, host, port = parse_chroma_url(url)
    return chromadb.HttpClient(host=host, port=port, ssl=scheme == "https",
                               settings=ChromaSettings(anonymized_telemetry=False))


def parse_chroma_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a Chroma server URL; ValueError with the expected form."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(str(url).strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"invalid Chroma server URL {url!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"invalid Chroma server URL {url!r}: expected http(s)://host[:port], "
                         "e.g. http://127.0.0.1:8000")
    return parts.scheme, parts.hostname, port or 8000


def create_collection(client: Any, name: str, model_id: str) -> Any:
    """(Re)create an empty collection with cosine space and no embedding function.

    ``embedding_function=None`` matters: Chroma's default would download a model the
    first time it is asked to embed; vectors are always passed explicitly here. The
    collection records ``model_id`` so its vectors are only ever reused for that model.
    """
    try:
        client.delete_collection(name)
    except Exception:  # noqa: BLE001 - "does not exist" has no stable exception type
        pass
    return client.create_collection(name, embedding_function=None, metadata={"embedding_model": model_id},
                                    configuration={"hnsw": dict(HNSW_CONFIG)})


def remove_orphan_segments(store_dir: Path) -> int:
    """Delete HNSW folders of deleted collections; returns how many were removed.

    Chroma 1.x drops a deleted collection from its database but leaves its index folder
    on disk (chroma-core/chroma#5259), so every rebuild would add ~150 MB. A folder is
    removed only if it is named like a segment id and no segment of the database has it.
    """
    chroma_dir = Path(store_dir) / CHROMA_DIR
    try:
        with closing(sqlite3.connect(f"file:{chroma_dir / 'chroma.sqlite3'}?mode=ro", uri=True)) as db:
            live = {row[0] for row in db.execute("SELECT id FROM segments")}
    except sqlite3.Error:
        return 0
    removed = 0
    for child in chroma_dir.iterdir():
        if child.is_dir() and _UUID.match(child.name) and child.name not in live:
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    return removed


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def get_collection(client: Any, name: str) -> Any:
    """An existing collection, without an embedding function."""
    return client.get_collection(name, embedding_function=None)


def upsert_movies(collection: Any, movies: list[Movie], vectors: np.ndarray,
                  progress: bool = False) -> None:
    """Write movies and their vectors to Chroma in batches."""
    with tqdm(total=len(movies), desc="Writing to Chroma", unit="movie",
              disable=not progress) as bar:
        for start in range(0, len(movies), WRITE_BATCH):
            chunk = movies[start:start + WRITE_BATCH]
            collection.upsert(ids=[m.id for m in chunk],
                              embeddings=np.asarray(vectors[start:start + len(chunk)], dtype=np.float32),
                              metadatas=[movie_metadata(m) for m in chunk])
            bar.update(len(chunk))


def copy_collection(source: Any, target_client: Any, name: str, model_id: str,
                    progress: bool = False) -> Any:
    """Copy every vector and metadata of ``source`` into a fresh collection ``name`` of
    ``target_client`` (replacing one of that name), without re-embedding anything.

    Returns:
        The new collection.
    """
    target = create_collection(target_client, name, model_id)
    total = source.count()
    with tqdm(total=total, desc="Copying vectors", unit="movie", disable=not progress) as bar:
        for offset in range(0, total, WRITE_BATCH):
            got = source.get(include=["embeddings", "metadatas"], limit=WRITE_BATCH, offset=offset)
            if not got["ids"]:
                break
            target.upsert(ids=got["ids"], embeddings=np.asarray(got["embeddings"], dtype=np.float32),
                          metadatas=got["metadatas"])
            bar.update(len(got["ids"]))
    return target


def _write_atomic(path: Path, lines: Iterable[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for line in lines:
            handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_table(store_dir: Path, movies: Iterable[Movie]) -> None:
    """Write ``movies.jsonl`` atomically (temp file + rename)."""
    _write_atomic(Path(store_dir) / TABLE,
                  (json.dumps(m.to_dict(), ensure_ascii=False) + "\n" for m in movies))


def read_table(store_dir: Path) -> list[Movie]:
    """Read ``movies.jsonl``.

    Raises:
        ValueError: A line is not a movie (message says ``file:line: problem``).
    """
    path = Path(store_dir) / TABLE
    movies = []
    collecting = gc.isenabled()
    gc.disable()  # 88k new objects would trigger many useless collections
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    movies.append(_movie_from_row(orjson.loads(line)))
                except (ValueError, TypeError) as exc:
                    raise ValueError(f"{path}:{number}: {exc}") from exc
    finally:
        if collecting:
            gc.enable()
    return movies


_FIELDS = frozenset(Movie.__dataclass_fields__)


def _movie_from_row(row: Any) -> Movie:
    """A Movie from a table row, fast: rows written by :func:`write_table` skip the
    dataclass ``__init__`` (88k frozen inits cost seconds); anything else is validated."""
    if not isinstance(row, dict) or row.keys() != _FIELDS or not isinstance(row["id"], str):
        return Movie.from_dict(row) if isinstance(row, dict) else Movie.from_dict({})
    for key in LIST_FIELDS:
        row[key] = tuple(row[key])
    movie = object.__new__(Movie)
    movie.__dict__.update(row)
    return movie


def vector_cache_key(manifest: dict[str, Any], ids: Iterable[str]) -> str:
    """The key of a vector cache: the manifest (any write to the store changes it) and the
    movie ids in table order, so a cache is only ever read for the build it was made from."""
    digest = hashlib.sha1(json.dumps(manifest, sort_keys=True).encode("utf-8"))
    digest.update("\n".join(ids).encode("utf-8"))
    return digest.hexdigest()[:20]


def read_vector_cache(store_dir: Path, key: str, shape: tuple[int, int]) -> np.ndarray | None:
    """The cached vector matrix of ``key`` memory-mapped read-only, or None when there is
    no such cache (or it is unreadable or of another shape)."""
    path = Path(store_dir) / f"{VECTOR_CACHE_PREFIX}{key}.npy"
    try:
        matrix = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    if matrix.shape != tuple(shape) or matrix.dtype != np.float32:
        return None
    return matrix


def touch_pages(matrix: np.ndarray) -> None:
    """Read one value of every memory page of ``matrix`` (a memory-mapped cache) now.

    A page of a mapping is only mapped into the process on its first read (a page fault
    each), so a turn reading 600 candidates' vectors from a cold 300k-movie mapping paid
    ~8 ms in faults for ~0.3 ms of copying. Touching every page once at start (~0.3 s for
    461 MB when the file is in the page cache) moves that cost to startup. The pages stay
    file-backed: shared by every app process on the store, and reclaimable by the kernel.
    """
    flat = matrix.reshape(-1)
    step = max(1, mmap.PAGESIZE // matrix.itemsize)
    for start in range(0, flat.shape[0], 1 << 24):  # in slices: no big temporary array
        float(flat[start:start + (1 << 24):step].sum(dtype=np.float64))


def write_vector_cache(store_dir: Path, key: str, matrix: np.ndarray) -> bool:
    """Write the vector cache of ``key`` atomically and remove caches of other keys.

    Returns:
        False when the store directory is not writable (the caller keeps its matrix in memory).
    """
    store_dir = Path(store_dir)
    path = store_dir / f"{VECTOR_CACHE_PREFIX}{key}.npy"
    tmp = store_dir / f".{path.name}.{os.getpid()}.tmp"
    try:
        with tmp.open("wb") as handle:
            np.save(handle, np.ascontiguousarray(matrix, dtype=np.float32))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    for old in store_dir.glob(f"{VECTOR_CACHE_PREFIX}*.npy"):
        if old.name != path.name:
            old.unlink(missing_ok=True)
    return True


def write_manifest(store_dir: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically; the last step of any write to the store."""
    _write_atomic(Path(store_dir) / MANIFEST, [json.dumps(manifest, indent=2, sort_keys=True) + "\n"])


def read_manifest(store_dir: Path) -> dict[str, Any] | None:
    """The manifest, or None when it is missing or unreadable (an unfinished build)."""
    try:
        data = json.loads((Path(store_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove_manifest(store_dir: Path) -> None:
    """Mark the store as being rewritten (readers will refuse it until the end)."""
    (Path(store_dir) / MANIFEST).unlink(missing_ok=True)
