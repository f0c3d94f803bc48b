"""Movie -> movie similarity from metadata (genres, people, plot words).

Dialogues mention a few thousand movies often and the rest rarely; metadata reaches the
rare ones. Each movie becomes a TF-IDF vector of ``g:genre``, ``y:decade``, ``p:person``
(directors, stars, writers), plot words and ``k:keyword`` (TMDB keywords, for the ~3,400 movies
that TMDB 5000 or MovieLens-1M-TMDB cover through ``imdb_id``); the cosine of two movies is kept for each movie's
``top_k`` nearest neighbours only (sparse: a few MB instead of a dense n x n block).

Optionally (:func:`dense_similarity`) the cosine of the movies' sentence embeddings, as the
built movie store holds them (MiniLM over genres, people, plot and keywords), is added:
``max(cos - shift, 0)`` for each movie's ``top_k`` nearest neighbours, times ``weight``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from crs.recommender.collaborative import tokenize

INFO_FILE = "movies/redial_id2info.json"
#: TMDB keyword sources, joined through ``imdb_id`` -> MovieLens links -> TMDB id.
KEYWORD_FILES = ("movies/movielens_links.csv", "movies/tmdb_5000_movies.csv.zip", "movies/movielens_movies_tmdb.csv")


def tmdb_keywords(data_dir: Path, info: dict[str, dict]) -> dict[str, tuple[str, ...]]:
    """ReDial movie id -> its TMDB keywords (movies without an ``imdb_id`` link are absent).

    Missing keyword files give an empty map (the block then falls back to ``redial_id2info``).
    """
    from crs.corpus.sources import read_links, read_movielens_tmdb, read_tmdb_5000

    paths = [Path(data_dir) / f for f in KEYWORD_FILES]
    if not all(p.exists() for p in paths):
        return {}
    imdb_to_tmdb = {imdb: tmdb for imdb, tmdb in read_links(paths[0]).values() if imdb and tmdb}
    keywords: dict[str, tuple[str, ...]] = {}
    for record in [*read_tmdb_5000(paths[1]), *read_movielens_tmdb(paths[2])]:
        if record.tmdb_id and record.keywords and record.tmdb_id not in keywords:
            keywords[record.tmdb_id] = tuple(record.keywords)
    out = {}
    for item, record in info.items():
        tmdb = imdb_to_tmdb.get(record.get("imdb_id") or "")
        if tmdb in keywords:
            out[item] = keywords[tmdb]
    return out


def metadata_tokens(info: dict, keywords: Sequence[str] = ()) -> list[str]:
    """The tokens of one ``redial_id2info.json`` record (plus its TMDB ``keywords``)."""
    tokens = [f"g:{g.lower()}" for g in info.get("genre") or []]
    year = re.search(r"\((\d{4})\)\s*$", info.get("name") or "")
    if year:
        tokens.append(f"y:{int(year.group(1)) // 10}0s")
    for key in ("director", "star", "writer"):
        tokens += [f"p:{p.lower()}" for p in info.get(key) or []]
    return tokens + tokenize(info.get("plot") or "") + [f"k:{k.lower()}" for k in keywords]


#: Dense-embedding neighbours: cosine minus ``DENSE_SHIFT`` (so only close neighbours count), times
#: ``DENSE_WEIGHT`` relative to the metadata cosine. Chosen on ReDial valid among shift .4 / .5 / .6
#: and weight .2 / .4 (docs/experiments-pool.md); the block's overall weight is fitted on train.
DENSE_SHIFT = 0.5
DENSE_WEIGHT = 0.2


def top_k_rows(sim: np.ndarray, top_k: int) -> sp.csr_matrix:
    """Keep each row's ``top_k`` largest entries of a dense (n x n) matrix (zeros dropped)."""
    n = sim.shape[0]
    k = min(top_k, n - 1)
    keep = np.argpartition(-sim, k, axis=1)[:, :k] if k > 0 else np.zeros((n, 0), int)
    values = np.take_along_axis(sim, keep, axis=1)
    pruned = sp.csr_matrix((values.ravel(), (np.repeat(np.arange(n), keep.shape[1]), keep.ravel())), shape=(n, n))
    pruned.eliminate_zeros()
    return pruned.astype(np.float32)


def dense_similarity(vectors: np.ndarray, top_k: int = 200, shift: float = DENSE_SHIFT) -> sp.csr_matrix:
    """Sparse ``max(cosine - shift, 0)`` of the rows of ``vectors`` (n x d), ``top_k`` per row,
    zero diagonal; an all-zero row (a movie without a vector) stays empty."""
    x = np.asarray(vectors, np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms > 0, norms, 1.0)
    sim = x @ x.T
    np.fill_diagonal(sim, 0.0)
    return top_k_rows(np.maximum(sim - shift, 0.0), top_k)


def store_vectors(store_dir: Path, item_ids: Sequence[str]) -> np.ndarray:
    """The built movie store's embedding of each of ``item_ids`` (zeros for a movie it lacks).

    Raises:
        CorpusMissingError: no usable store at ``store_dir`` (the message says how to build one).
    """
    from crs.catalog.store import MovieStore

    store = MovieStore.open(Path(store_dir), embedder=None)
    known = [i for i in item_ids if i in store.index]
    # matrix() loads the vector cache at once, so vectors() below reads nothing from Chroma
    out = np.zeros((len(item_ids), store.matrix().shape[1]), np.float32)
    if known:
        rows = {item: r for r, item in enumerate(item_ids)}
        out[[rows[i] for i in known]] = store.vectors(known)
    return out


def content_similarity(data_dir: Path, item_ids: Sequence[str], top_k: int = 200,
                       vectors: np.ndarray | None = None) -> sp.csr_matrix:
    """Sparse (n x n) float32 cosine similarity of metadata, ``top_k`` per row, zero diagonal.

    Movies without metadata get an empty row. With ``vectors`` (one row per item, e.g.
    :func:`store_vectors`), :data:`DENSE_WEIGHT` x :func:`dense_similarity` is added.
    """
    path = Path(data_dir) / INFO_FILE
    if not path.exists():
        raise FileNotFoundError(f"movie metadata not found: {path} (set --data-dir or CRS_DATA_DIR)")
    info = json.loads(path.read_text(encoding="utf-8"))
    keywords = tmdb_keywords(data_dir, info)
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for r, item in enumerate(item_ids):
        for token, count in Counter(metadata_tokens(info.get(item) or {}, keywords.get(item, ()))).items():
            rows.append(r)
            cols.append(vocab.setdefault(token, len(vocab)))
            vals.append(float(count))
    n = len(item_ids)
    x = sp.csr_matrix((vals, (rows, cols)), shape=(n, max(len(vocab), 1)), dtype=np.float32)
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    x = x @ sp.diags(np.log(n / (1.0 + df)).astype(np.float32))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ x
    sim = (x @ x.T).toarray().astype(np.float32)
    np.fill_diagonal(sim, 0.0)
    pruned = top_k_rows(sim, top_k)
    if vectors is not None:
        pruned = sp.csr_matrix(pruned + DENSE_WEIGHT * dense_similarity(vectors, top_k), dtype=np.float32)
    return pruned
