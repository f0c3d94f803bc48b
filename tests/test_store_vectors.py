"""The store's memory-mapped vector cache and batched searches (stage-1 speed, docs/benchmarks.md)."""

from __future__ import annotations

import numpy as np

from crs.catalog import store_files as files
from crs.catalog.exact_search import searchable
from crs.catalog.models import Movie
from crs.catalog.store import MovieStore


def _cache_files(store_dir) -> list[str]:
    return sorted(p.name for p in store_dir.glob(f"{files.VECTOR_CACHE_PREFIX}*.npy"))


def test_vector_cache_is_written_once_and_read_memory_mapped(writable_store, embedder):
    store = MovieStore.open(writable_store.store_dir, embedder, writable_store.collection)
    ids = [m.id for m in store.index.movies]
    from_chroma = store._read_all_vectors()
    store.warm_vectors()
    assert len(_cache_files(writable_store.store_dir)) == 1
    assert np.array_equal(store.vectors(ids[:50]), from_chroma[:50])

    reopened = MovieStore.open(writable_store.store_dir, embedder, writable_store.collection)
    reopened._read_all_vectors = lambda: (_ for _ in ()).throw(AssertionError("read Chroma despite the cache"))
    reopened.warm_vectors()
    assert not reopened.matrix().flags.owndata and not reopened.matrix().flags.writeable  # the file, mapped
    assert np.array_equal(reopened.vectors(ids[::7]), from_chroma[::7])
    # no first-time reads from Chroma once warm
    reopened._collection.get = lambda *a, **k: (_ for _ in ()).throw(AssertionError("Chroma get in a turn"))
    assert reopened.vectors(ids[-3:]).shape == (3, from_chroma.shape[1])


def test_adding_movies_invalidates_the_cache(writable_store, embedder):
    store = MovieStore.open(writable_store.store_dir, embedder, writable_store.collection)
    store.warm_vectors()
    before = _cache_files(writable_store.store_dir)
    movie = Movie(id="x-new-1", title="A Brand New Film", year=2030, genres=("drama",),
                  plot="A lighthouse keeper finds a map.")
    store.add_movies([movie], source="test")
    reopened = MovieStore.open(writable_store.store_dir, embedder, writable_store.collection)
    reopened.warm_vectors()
    after = _cache_files(writable_store.store_dir)
    assert len(after) == 1 and after != before  # a new key; the stale file is gone
    assert np.allclose(reopened.vectors(["x-new-1"])[0], embedder.embed([movie.embedding_text()])[0], atol=1e-5)
    assert np.allclose(reopened.vectors(["x-new-1"]), store.vectors(["x-new-1"]), atol=1e-6)


def test_search_each_equals_one_search_per_vector_with_or_without_the_cache(writable_store, embedder):
    """Batched and single searches agree, without the vector matrix (Chroma) and with it (the
    exact search over the movies with content, crs.catalog.exact_search), whose answers are
    the brute-force best among those movies."""
    cold = MovieStore.open(writable_store.store_dir, embedder, writable_store.collection)
    warm = MovieStore.open(writable_store.store_dir, embedder, writable_store.collection)
    warm.warm_vectors()
    ids = [m.id for m in cold.index.movies[:40:9]]
    queries = cold.vectors(ids)
    exclude = set(ids[:2])
    answers = {}
    for name, store in (("cold", cold), ("warm", warm)):
        single = [store.search(q, n=25, exclude=exclude) for q in queries]
        batched = store.search_each(queries, n=25, exclude=exclude)
        assert [[(m.id, s) for m, s in hits] for hits in batched] == [[(m.id, s) for m, s in hits] for hits in single]
        assert all(m.id not in exclude for hits in single for m, _ in hits)
        answers[name] = single
    matrix = warm.matrix()
    rows = [i for i, m in enumerate(warm.index.movies) if searchable(m) and m.id not in exclude]
    for query, found in zip(queries, answers["warm"]):
        scores = matrix[rows] @ (query / np.linalg.norm(query))
        best = {warm.index.movies[rows[i]].id for i in np.argsort(-scores)[:25]}
        assert {m.id for m, _ in found} == best
