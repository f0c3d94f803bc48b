"""The catalogue sizes ``crs bench`` measures: 7k, 87k and 300k movies.

* ``87k`` is the full store (``settings.store_dir``, 88.7k movies) as is.
* ``7k`` is its ReDial part (the ~6.9k movies with a ReDial id), written as its own store
  with the *same* vectors: what ``crs corpus build`` gives for the ReDial catalogue, without
  re-embedding.
* ``300k`` is the full store plus ~211k synthetic movies (the RAR corpus size). Each one
  recombines real data: the genres, year (±3), plot and keywords of a real "source" movie,
  the director of a second one, a cast drawn from the source and a third one, and a title
  spliced from two real titles. Embedding 211k texts with MiniLM on 2 CPU cores would take
  hours, so each synthetic movie gets its source's stored vector plus Gaussian noise
  (``NOISE_SIGMA`` per dimension, cosine ~0.93 to the source) renormalised to unit length.
  Its vectors therefore cluster like real ones, which is what HNSW search cost depends on.

Derived stores are cached under ``data/bench/`` (git-ignored) and reused while the full
store's manifest, the size and the generator version are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from crs.catalog import store_files as files
from crs.catalog.models import Movie

#: Generator version: bump when the recipe changes (invalidates cached stores).
GENERATOR_VERSION = 1
NOISE_SIGMA = 0.02
SYNTHETIC_TOTAL = 300_000
SIZES = ("7k", "87k", "300k")


def parse_sizes(text: str) -> list[str]:
    """``"7k,87k"`` -> ``["7k", "87k"]``; raises ValueError naming the allowed sizes."""
    sizes = [s.strip().lower() for s in text.split(",") if s.strip()]
    bad = [s for s in sizes if s not in SIZES]
    if bad or not sizes:
        raise ValueError(f"--sizes takes a comma-separated subset of {','.join(SIZES)}; got {text!r}")
    return list(dict.fromkeys(sizes))


def _source_key(full_store: Path, size: str) -> str:
    manifest = files.read_manifest(full_store) or {}
    parts = {"full": {k: manifest.get(k) for k in ("fingerprint", "count", "built_at", "added", "format", "model")},
             "size": size, "generator": GENERATOR_VERSION, "sigma": NOISE_SIGMA, "total": SYNTHETIC_TOTAL}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def store_for_size(size: str, full_store: Path, cache_dir: Path, *, progress: bool = True,
                   echo=print) -> tuple[Path, dict[str, Any]]:
    """The store directory for ``size`` (building a derived one if its cache is stale).

    Returns:
        (store_dir, info) where info says how the store was made and how long that took.
    """
    full_store = Path(full_store)
    if files.read_manifest(full_store) is None:
        raise FileNotFoundError(f"no built movie store at {full_store}: run 'crs corpus build' first")
    if size == "87k":
        return full_store, {"kind": "full store", "built_s": 0.0, "cached": True}
    target = Path(cache_dir) / f"store-{size}"
    key = _source_key(full_store, size)
    manifest = files.read_manifest(target)
    if manifest is not None and manifest.get("bench_key") == key:
        return target, {"kind": manifest.get("bench_kind"), "built_s": manifest.get("bench_build_s"), "cached": True}
    echo(f"building the {size} benchmark store at {target} (cached for later runs)")
    start = time.perf_counter()
    movies, vectors, kind = _derive(size, full_store, progress)
    _write_store(target, full_store, movies, vectors, progress)
    seconds = round(time.perf_counter() - start, 1)
    manifest = dict(files.read_manifest(full_store) or {})
    manifest.update({"count": len(movies), "added": [], "bench_key": key, "bench_kind": kind, "bench_build_s": seconds,
                     "redial_count": sum(m.redial_id is not None for m in movies)})
    files.write_manifest(target, manifest)
    return target, {"kind": kind, "built_s": seconds, "cached": False}


def _full_vectors(full_store: Path) -> tuple[list[Movie], np.ndarray]:
    """The full store's movie table and its vectors (row i = movie i)."""
    from crs.catalog.store import MovieStore

    class _NoEmbedder:  # opening a store needs no embedding model; searching by text would
        model_id = (files.read_manifest(full_store) or {}).get("model")
        dim = 384

    store = MovieStore.open(full_store, _NoEmbedder())
    return list(store.index.movies), store.matrix()


def _derive(size: str, full_store: Path, progress: bool) -> tuple[list[Movie], np.ndarray, str]:
    movies, matrix = _full_vectors(full_store)
    if size == "7k":
        rows = [i for i, m in enumerate(movies) if m.redial_id is not None]
        return [movies[i] for i in rows], matrix[rows], "ReDial movies of the full store, their stored vectors"
    return (*synthesize(movies, matrix, SYNTHETIC_TOTAL, progress=progress),
            f"full store + synthetic movies up to {SYNTHETIC_TOTAL:,} (source vector + N(0,{NOISE_SIGMA}) noise, renormalised)")


def synthesize(movies: list[Movie], matrix: np.ndarray, total: int, *, seed: int = 0,
               progress: bool = False) -> tuple[list[Movie], np.ndarray]:
    """The real ``movies`` plus synthetic ones up to ``total`` (see the module docstring).

    Deterministic for a given seed. Returns (movies, unit-length float32 vectors).
    """
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    extra = max(0, total - len(movies))
    # sources: movies with some text, so the synthetic ones carry realistic text
    rich = [i for i, m in enumerate(movies) if m.plot or m.cast or m.directors] or list(range(len(movies)))
    with_director = [i for i in rich if movies[i].directors] or rich
    with_cast = [i for i in rich if movies[i].cast] or rich
    out = list(movies)
    sources = np.empty(extra, dtype=np.int64)
    for n in tqdm(range(extra), desc="synthetic movies", unit="movie", disable=not progress, mininterval=1.0):
        sources[n] = rich[rng.randrange(len(rich))]
        src = movies[sources[n]]
        a, b = movies[rng.randrange(len(movies))].title.split(), movies[rng.randrange(len(movies))].title.split()
        title = " ".join(a[: max(1, (len(a) + 1) // 2)] + b[len(b) // 2:]) or src.title
        director = movies[with_director[rng.randrange(len(with_director))]].directors[:1]
        other_cast = movies[with_cast[rng.randrange(len(with_cast))]].cast
        cast = tuple(dict.fromkeys(src.cast[:2] + other_cast[:2]))
        year = src.year + rng.randint(-3, 3) if src.year else None
        out.append(replace(src, id=f"syn{n:06d}", title=title, year=year, directors=director or src.directors,
                           cast=cast, writers=(), redial_id=None, movielens_id=None, imdb_id=None, tmdb_id=None,
                           popularity=round(src.popularity * rng.random(), 1)))
    vectors = np.empty((len(out), matrix.shape[1]), dtype=np.float32)
    vectors[: len(movies)] = matrix
    for start in range(0, extra, 50_000):
        chunk = sources[start:start + 50_000]
        noisy = matrix[chunk] + nrng.normal(0.0, NOISE_SIGMA, size=(len(chunk), matrix.shape[1])).astype(np.float32)
        noisy /= np.clip(np.linalg.norm(noisy, axis=1, keepdims=True), 1e-12, None)
        vectors[len(movies) + start: len(movies) + start + len(chunk)] = noisy
    return out, vectors


def _write_store(target: Path, full_store: Path, movies: list[Movie], vectors: np.ndarray, progress: bool) -> None:
    manifest = files.read_manifest(full_store) or {}
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    client = files.chroma_client(target)
    collection = files.create_collection(client, manifest.get("collection", "movies"), manifest.get("model", ""))
    files.upsert_movies(collection, movies, vectors, progress=progress)
    files.write_table(target, movies)
