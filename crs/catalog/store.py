"""The movie store: the movie table plus a Chroma collection of their vectors.

Similarity is cosine (vectors are L2-normalised). With several query vectors (say, the
embeddings of several liked movies) a movie scores the **max** of its cosines to them:
a movie very close to one liked movie is a good suggestion even when it is far from the
others, which the mean would bury. Scores are recomputed exactly from the stored
vectors, so they do not depend on HNSW's approximations.

Year filters: a movie whose year is unknown (stored as -1) fails every year filter,
since a user who asks for "after 2000" should not get movies of unknown date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from crs.catalog import store_files as files
from crs.catalog.exact_search import ExactIndex
from crs.catalog.models import Movie, MovieIndex
from crs.corpus.genres import normalize_genre


class CorpusMissingError(RuntimeError):
    """There is no complete movie store where one was expected."""

    def __init__(self, store_dir: Path, reason: str = "") -> None:
        self.store_dir = Path(store_dir)
        self.reason = reason
        detail = f" ({reason})" if reason else ""
        super().__init__(f'No movie corpus at {store_dir}: run "crs corpus build"{detail}')


class CollectionMismatchError(CorpusMissingError):
    """The Chroma server does not hold the collection that the store directory describes."""

    def __init__(self, store_dir: Path, chroma_url: str, reason: str) -> None:
        RuntimeError.__init__(self, f"Chroma server {chroma_url}: {reason}")
        self.store_dir = Path(store_dir)
        self.reason = reason


def server_collection(chroma_url: str, name: str, store_dir: Path, manifest: dict[str, Any]) -> Any:
    """The collection on a Chroma server, checked against the local manifest.

    The movie table stays a file of the store directory (every worker reads it at start),
    the vectors live on the server; both must be the same build, so the server's count
    and embedding model must equal the manifest's.
    """
    option = "" if name == "movies" else f" --collection {name}"
    push = f'run "crs corpus push --chroma-url {chroma_url}{option}" with this store directory ({store_dir})'
    try:
        files.parse_chroma_url(chroma_url)
    except ValueError as exc:
        raise CollectionMismatchError(store_dir, chroma_url, str(exc)) from None
    try:
        client = files.http_client(chroma_url)
        client.heartbeat()
    except Exception as exc:  # noqa: BLE001 - connection errors come in many types
        raise CollectionMismatchError(store_dir, chroma_url, f"not reachable ({exc}); is `chroma run` up?") from exc
    try:
        chroma = files.get_collection(client, name)
        stored = chroma.count()
    except Exception as exc:  # noqa: BLE001 - "does not exist" has no stable exception type
        raise CollectionMismatchError(store_dir, chroma_url, f"no collection {name!r}: {push}") from exc
    model = (chroma.metadata or {}).get("embedding_model")
    if model != manifest.get("model"):
        raise CollectionMismatchError(store_dir, chroma_url, f"collection {name!r} was built with {model}, "
                                      f"the store with {manifest.get('model')}: {push}")
    if stored != manifest.get("count"):
        raise CollectionMismatchError(store_dir, chroma_url, f"collection {name!r} holds {stored} vectors, "
                                      f"the store's movie table {manifest.get('count')}: copy the store "
                                      "directory of the last `crs corpus add`/`push` here, or " + push)
    return chroma


def build_where(year_min: int | None = None, year_max: int | None = None,
                exclude_genres: Iterable[str] = (), require_genres: Iterable[str] = (),
                *, any_genres: Iterable[str] = (), redial_only: bool = False) -> dict[str, Any] | None:
    """Chroma ``where`` filter from hard constraints.

    Args:
        year_min / year_max: Inclusive bounds; movies of unknown year fail either.
        exclude_genres: No movie with any of these genres.
        require_genres: Every one of these genres must be present.
        any_genres: At least one of these genres must be present.
        redial_only: Only ReDial movies (the evaluation catalogue).

    Returns:
        A filter for ``MovieStore.search(where=...)``, or None when nothing constrains.
        Genre names are normalised ("Science Fiction" -> "sci-fi").
    """
    conditions: list[dict[str, Any]] = []
    if year_min is not None:
        conditions.append({"year": {"$gte": int(year_min)}})
    elif year_max is not None:
        conditions.append({"year": {"$gte": 0}})
    if year_max is not None:
        conditions.append({"year": {"$lte": int(year_max)}})
    for genre in _genres(exclude_genres):
        conditions.append({files.genre_key(genre): {"$ne": True}})
    for genre in _genres(require_genres):
        conditions.append({files.genre_key(genre): {"$eq": True}})
    alternatives = [{files.genre_key(g): {"$eq": True}} for g in _genres(any_genres)]
    if len(alternatives) == 1:
        conditions.append(alternatives[0])
    elif alternatives:
        conditions.append({"$or": alternatives})
    if redial_only:
        conditions.append({"redial": {"$eq": True}})
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else {"$and": conditions}


def _genres(names: Iterable[str]) -> list[str]:
    out = []
    for name in names:
        genre = normalize_genre(name)
        if genre and genre not in out:
            out.append(genre)
    return out


class MovieStore:
    """Movies by id (``index``) and nearest-neighbour search over their vectors.

    Create with :meth:`open`; ``crs.corpus.build.build_corpus`` writes the store.
    """

    def __init__(self, store_dir: Path, index: MovieIndex, embedder: Any, collection: Any,
                 manifest: dict[str, Any], collection_name: str = "movies") -> None:
        self.store_dir = Path(store_dir)
        self.index = index
        self.embedder = embedder
        self.manifest = manifest
        self.collection_name = collection_name
        self._collection = collection
        self._vectors: dict[str, np.ndarray] = {}
        self._matrix: np.ndarray | None = None
        #: Chroma's neighbour ids of a stored movie's vector, by (movie id, how many fetched):
        #: a conversation asks for the same liked movies' neighbours turn after turn.
        self._neighbours: dict[tuple[tuple[str, str], int], list[str]] = {}
        #: Exact search over the movies with content (None: too many of them; see
        #: crs.catalog.exact_search), built on first use for a catalogue of ``_exact_for`` movies.
        self._exact: ExactIndex | None = None
        self._exact_for = -1

    @classmethod
    def open(cls, store_dir: Path, embedder: Any, collection: str = "movies",
             chroma_url: str | None = None) -> "MovieStore":
        """Open a built store.

        Args:
            store_dir: The store directory (manifest and movie table; with no
                ``chroma_url`` also the Chroma folder).
            embedder: Embeds query texts; must be the model the store was built with.
            collection: The Chroma collection name.
            chroma_url: A Chroma server (``http://host:port``) holding the collection,
                put there by ``crs corpus push``; None for the local Chroma folder.

        Raises:
            CorpusMissingError: The store is missing, unfinished, corrupt or was built
                with another embedding model; the message says to run "crs corpus build".
            CollectionMismatchError: The Chroma server is unreachable, lacks the
                collection, or holds another version of it; the message says what to do.
        """
        store_dir = Path(store_dir)
        manifest = files.read_manifest(store_dir)
        if manifest is None:
            raise CorpusMissingError(store_dir, "no readable manifest.json" if store_dir.is_dir() else "")
        if manifest.get("format") != files.FORMAT_VERSION:
            raise CorpusMissingError(store_dir, f"store format {manifest.get('format')} is outdated")
        model = getattr(embedder, "model_id", manifest.get("model"))
        if manifest.get("model") != model:
            raise CorpusMissingError(store_dir, f"built with {manifest.get('model')}, not {model}")
        try:
            movies = files.read_table(store_dir)
        except (OSError, ValueError) as exc:
            raise CorpusMissingError(store_dir, f"unreadable movie table: {exc}") from exc
        count = manifest.get("count")
        if len(movies) != count:
            raise CorpusMissingError(store_dir, f"movie table has {len(movies)} movies, manifest {count}")
        if chroma_url:
            chroma = server_collection(chroma_url, collection, store_dir, manifest)
        else:
            try:
                chroma = files.get_collection(files.chroma_client(store_dir), collection)
                stored = chroma.count()
            except Exception as exc:  # noqa: BLE001 - Chroma raises many types for a bad store
                raise CorpusMissingError(store_dir, f"Chroma collection {collection!r}: {exc}") from exc
            if stored != count:
                raise CorpusMissingError(store_dir, f"Chroma holds {stored} vectors, manifest {count}")
        return cls(store_dir, MovieIndex(movies), embedder, chroma, manifest, collection)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def chroma(self) -> Any:
        """The Chroma collection behind the store (local, or on a Chroma server)."""
        return self._collection

    # -- search -------------------------------------------------------------------------

    def search(self, query_vectors: np.ndarray, n: int, where: dict[str, Any] | None = None,
               exclude: Iterable[str] = frozenset()) -> list[tuple[Movie, float]]:
        """The ``n`` movies most similar to the query vector(s), best first.

        Args:
            query_vectors: One vector (384,) or several (m, 384); several merge by max.
            n: How many movies to return (fewer if fewer pass the filter).
            where: A Chroma filter, e.g. from :func:`build_where`.
            exclude: Ids never to return; the search over-fetches to make up for them.

        Returns:
            (movie, cosine similarity) pairs, highest similarity first.
        """
        queries = self._unit_queries(query_vectors)
        if n <= 0 or queries.shape[0] == 0 or len(self.index) == 0:
            return []
        exclude = set(exclude)
        result = self._query(queries, n, where, exclude)
        best: dict[str, float] = {}
        for ids, vectors in zip(*result):
            best.update(self._scored(ids, vectors, queries, exclude))
        return self._ranked(best, n)

    def search_each(self, query_vectors: np.ndarray, n: int,
                    exclude: Iterable[str] = frozenset()) -> list[list[tuple[Movie, float]]]:
        """:meth:`search` of each query vector on its own (no merging), in one Chroma call.

        ``search_each(np.stack([a, b]), n)`` equals ``[search(a, n), search(b, n)]``: the
        same neighbours, the same exactly recomputed scores, the same order.
        """
        queries = self._unit_queries(query_vectors)
        if n <= 0 or queries.shape[0] == 0 or len(self.index) == 0:
            return [[] for _ in range(queries.shape[0])]
        exclude = set(exclude)
        out = []
        for row, (ids, vectors) in enumerate(zip(*self._query(queries, n, None, exclude))):
            out.append(self._ranked(self._scored(ids, vectors, queries[row:row + 1], exclude), n))
        return out

    #: At most this many neighbour lists (~3 KB each) are kept.
    NEIGHBOUR_CACHE = 4096

    def search_each_movie(self, movie_ids: list[str], n: int,
                          exclude: Iterable[str] = frozenset()) -> list[list[tuple[Movie, float]]]:
        """``search_each(self.vectors(movie_ids), n, exclude)``: each stored movie's own
        neighbours, the same answer, with Chroma asked only for movies whose neighbour ids
        (for this fetch size) are not cached yet (a conversation asks for the same liked
        movies' neighbours turn after turn)."""
        movie_ids = list(movie_ids)
        vectors = self.vectors(movie_ids)
        if not self._cacheable(n) or not movie_ids:
            return self.search_each(vectors, n, exclude)
        return self._search_cached([("movie", i) for i in movie_ids], self._unit_queries(vectors), n, set(exclude))

    def _cacheable(self, n: int) -> bool:
        return n > 0 and len(self.index) > 0 and self._matrix is not None and self._matrix.shape[0] == len(self.index)

    def _search_cached(self, keys: list[tuple[str, str]], queries: np.ndarray, n: int,
                       exclude: set[str]) -> list[list[tuple[Movie, float]]]:
        """:meth:`search_each` of unit ``queries`` named by ``keys``, the neighbour ids
        (:meth:`_neighbour_ids`) cached per (key, fetch size). The answer for a query does not
        change until the collection does (:meth:`add_movies` empties the cache); the excluded
        ids are dropped and the scores recomputed from the vectors as in :meth:`search_each`."""
        fetch = min(len(self.index), n + sum(1 for i in exclude if i in self.index))
        cache = self._neighbours
        found = [cache.get((key, fetch)) for key in keys]  # read once: a parallel turn may empty the cache
        missing = [row for row, ids in enumerate(found) if ids is None]
        if missing:
            answers = self._neighbour_ids(queries[missing], fetch)
            if len(cache) + len(missing) > self.NEIGHBOUR_CACHE:
                cache.clear()
            for row, ids in zip(missing, answers):
                found[row] = cache[(keys[row], fetch)] = ids
        row_of = self.index.row
        out = []
        for row, ids in enumerate(found):
            vectors = self._matrix[[row_of.get(i, 0) for i in ids]]
            out.append(self._ranked(self._scored(ids, vectors, queries[row:row + 1], exclude), n))
        return out

    def _neighbour_ids(self, queries: np.ndarray, fetch: int) -> list[list[str]]:
        """Ids of each unit query's ``fetch`` nearest movies, with the vector matrix loaded:
        exact among the movies with content (crs.catalog.exact_search) when there are not too
        many of them, else Chroma's answer."""
        exact = self._exact_index()
        if exact is None:
            return self._collection.query(query_embeddings=queries, n_results=fetch, include=[])["ids"]
        movies = self.index.movies
        return [[movies[r].id for r in rows.tolist()] for rows in exact.top(queries, fetch)]

    def _exact_index(self) -> ExactIndex | None:
        """The exact index of the loaded matrix (built on first use; None above its size)."""
        if self._exact_for != len(self.index):
            self._exact = ExactIndex.build(self.index.movies, self._matrix)
            self._exact_for = len(self.index)
        return self._exact

    @staticmethod
    def _unit_queries(query_vectors: np.ndarray) -> np.ndarray:
        queries = np.atleast_2d(np.asarray(query_vectors, dtype=np.float32))
        if queries.shape[0] == 0:
            return queries
        return queries / np.clip(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12, None)

    def _query(self, queries: np.ndarray, n: int, where: dict[str, Any] | None,
               exclude: set[str]) -> tuple[list[list[str]], list[Any]]:
        """The neighbour ids per query (see :meth:`_neighbour_ids`; Chroma's with a ``where``
        filter or without a vector matrix) and their vectors."""
        fetch = min(len(self.index), n + sum(1 for i in exclude if i in self.index))
        with_matrix = self._matrix is not None and self._matrix.shape[0] == len(self.index)
        if with_matrix and not where:
            ids = self._neighbour_ids(queries, fetch)
            return ids, [self._matrix[[self.index.row.get(i, 0) for i in row]] for row in ids]
        result = self._collection.query(query_embeddings=queries, n_results=fetch, where=where or None,
                                        include=[] if with_matrix else ["embeddings"])
        ids = result["ids"]
        if with_matrix:  # the same float32 values as Chroma's, read from the memory-mapped cache
            return ids, [self._matrix[[self.index.row.get(i, 0) for i in row]] for row in ids]
        return ids, result["embeddings"]

    def _scored(self, ids: list[str], vectors: Any, queries: np.ndarray, exclude: set[str]) -> dict[str, float]:
        if not ids:
            return {}
        scores = (np.asarray(vectors, dtype=np.float32) @ queries.T).max(axis=1)
        best: dict[str, float] = {}
        for movie_id, vector, score in zip(ids, vectors, scores):
            if movie_id in exclude or movie_id not in self.index:
                continue
            if self._matrix is None:
                self._vectors.setdefault(movie_id, np.asarray(vector, dtype=np.float32))
            best[movie_id] = float(score)
        return best

    def _ranked(self, best: dict[str, float], n: int) -> list[tuple[Movie, float]]:
        ranked = sorted(best.items(), key=lambda item: (-item[1], self.index.row[item[0]]))
        return [(self.index.by_id[movie_id], score) for movie_id, score in ranked[:n]]

    def search_text(self, text: str, n: int, where: dict[str, Any] | None = None,
                    exclude: Iterable[str] = frozenset()) -> list[tuple[Movie, float]]:
        """Semantic search with a free-text query ("a tense heist movie in LA").

        Chroma's answer is kept per text (the retriever's text is the user's moods, the
        same turn after turn; the embedder keeps the text's vector); the answer is the same.
        """
        vector = self.embedder.embed_one(text)
        if where is None and self._cacheable(n):
            return self._search_cached([("text", text)], self._unit_queries(vector), n, set(exclude))[0]
        return self.search(vector, n, where=where, exclude=exclude)

    # -- vectors ------------------------------------------------------------------------

    def vectors(self, ids: Iterable[str]) -> np.ndarray:
        """The stored vectors of ``ids`` (rows in the given order), cached in memory.

        Raises:
            KeyError: Some ids are not in the store.
        """
        ids = list(ids)
        unknown = [i for i in ids if i not in self.index]
        if unknown:
            raise KeyError(f"not in the movie store: {unknown[:5]}{'…' if len(unknown) > 5 else ''}")
        if self._matrix is not None and self._matrix.shape[0] == len(self.index):
            return np.asarray(self._matrix[[self.index.row[i] for i in ids]])
        missing = list(dict.fromkeys(i for i in ids if i not in self._vectors))
        for start in range(0, len(missing), files.WRITE_BATCH):
            got = self._collection.get(ids=missing[start:start + files.WRITE_BATCH], include=["embeddings"])
            for movie_id, vector in zip(got["ids"], got["embeddings"]):
                self._vectors[movie_id] = np.asarray(vector, dtype=np.float32)
        if not ids:
            return np.zeros((0, self._dim()), dtype=np.float32)
        return np.stack([self._vectors[i] for i in ids])

    def vectors_at(self, rows: np.ndarray) -> np.ndarray | None:
        """The vectors of the movies at ``rows`` of ``index.movies`` (what :meth:`vectors`
        gives for their ids), or None when the vector matrix is not loaded."""
        if self._matrix is None or self._matrix.shape[0] != len(self.index):
            return None
        return np.asarray(self._matrix[rows])

    def matrix(self) -> np.ndarray:
        """All vectors, row i = ``index.movies[i]`` (for whole-catalogue scoring).

        The first call reads the vector cache (:meth:`warm_vectors`) or every vector from
        Chroma (~8 s for 88k movies); later calls are free until :meth:`add_movies` grows
        the catalogue.
        """
        if self._matrix is None or self._matrix.shape[0] != len(self.index):
            self.warm_vectors()
        return self._matrix

    def warm_vectors(self) -> None:
        """Make every vector available without Chroma: memory-map the store's vector cache
        (``vectors-<key>.npy``, written here on first use: 8 s at 88k movies, once per
        build), so no turn waits on a first-time read of a candidate's vector. When the
        store directory is read-only the matrix stays in memory instead."""
        if self._matrix is not None and self._matrix.shape[0] == len(self.index):
            return
        ids = [m.id for m in self.index.movies]
        key = files.vector_cache_key(self.manifest, ids)
        shape = (len(ids), self._dim())
        matrix = files.read_vector_cache(self.store_dir, key, shape)
        if matrix is None:
            matrix = self._read_all_vectors()
            if files.write_vector_cache(self.store_dir, key, matrix):
                matrix = files.read_vector_cache(self.store_dir, key, shape)
        if isinstance(matrix, np.memmap):
            files.touch_pages(matrix)  # map every page now, not one fault at a time in the turns
        self._matrix = np.asarray(matrix)  # a plain view of the mapping: np.memmap's indexing is slow
        self._vectors.clear()
        self._exact_index()  # the exact search's matrix too (0.3 s at 88k movies), not on turn one

    def _dim(self) -> int:
        return int(getattr(self.embedder, "dim", 384))

    def _read_all_vectors(self) -> np.ndarray:
        """Read every vector from Chroma in index order (used by :meth:`matrix`)."""
        out = np.zeros((len(self.index), self._dim()), dtype=np.float32)
        total = len(self.index)
        for offset in range(0, total, 10_000):
            got = self._collection.get(include=["embeddings"], limit=10_000, offset=offset)
            for movie_id, vector in zip(got["ids"], got["embeddings"]):
                row = self.index.row.get(movie_id)
                if row is not None:
                    out[row] = vector
        return out

    # -- writing ------------------------------------------------------------------------

    def add_movies(self, movies: Iterable[Movie], source: str = "") -> int:
        """Embed and add (or replace) movies; they are searchable at once and persist.

        Writes Chroma, then the movie table, then the manifest, so an interrupted add
        leaves a store that :meth:`open` rejects rather than a silently partial one.

        Returns:
            How many movies were written.
        """
        movies = list({m.id: m for m in movies}.values())
        if not movies:
            return 0
        vectors = self.embedder.embed([m.embedding_text() for m in movies])
        files.upsert_movies(self._collection, movies, vectors)
        for movie, vector in zip(movies, vectors):
            self.index.add(movie)
            self._vectors[movie.id] = vector
        self._matrix = None
        self._exact, self._exact_for = None, -1
        self._neighbours.clear()
        files.write_table(self.store_dir, self.index.movies)
        manifest = dict(self.manifest)
        manifest["count"] = len(self.index)
        manifest["added"] = list(manifest.get("added", [])) + [{
            "source": source, "count": len(movies),
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}]
        files.write_manifest(self.store_dir, manifest)
        self.manifest = manifest
        return len(movies)

