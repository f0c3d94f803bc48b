"""How well Chroma's HNSW graph finds a movie's (or a text's) nearest neighbours, against
the exact answer over the movies with content (what the store now searches exactly, see
crs/catalog/exact_search.py).

    .venv/bin/python scripts/semantic_recall.py [STORE_DIR] [N]

Prints, per probe, the share of the exact top N that Chroma's top N holds and the cosine of
the best movie each one found. Reads the store only.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402

from crs.catalog.exact_search import ExactIndex  # noqa: E402
from crs.catalog.store import MovieStore  # noqa: E402
from crs.embedding import Embedder  # noqa: E402

TITLES = ("The Matrix", "Amélie", "Toy Story", "The Notebook", "Inception", "Titanic", "Get Out", "Superbad")
TEXTS = ("something about high school", "time travel", "a tense heist movie", "a road trip with friends")


def main(store_dir: str = "data/store", n: str = "60") -> None:
    k = int(n)
    embedder = Embedder()
    store = MovieStore.open(store_dir, embedder, "movies")
    matrix = store.matrix()
    exact = ExactIndex.build(store.index.movies, matrix, max_rows=len(store.index))
    movies = store.index.movies
    probes = []
    for title in TITLES:
        movie = next((m for m in movies if m.title == title and m.redial_id), None)
        if movie is not None:
            probes.append((title, matrix[store.index.row[movie.id]], movie.id))
    probes += [(f'"{t}"', embedder.embed_one(t), None) for t in TEXTS]
    shares = []
    for name, vector, own in probes:
        query = (vector / np.linalg.norm(vector)).astype(np.float32)
        chroma = store.chroma.query(query_embeddings=[query.tolist()], n_results=k + 1, include=[])["ids"][0]
        chroma = [i for i in chroma if i != own][:k]
        truth = [movies[r].id for r in exact.top(query[None, :], k + 1)[0].tolist() if movies[r].id != own][:k]
        share = len(set(chroma) & set(truth)) / k
        shares.append(share)
        best = lambda ids: max((float(matrix[store.index.row[i]] @ query) for i in ids), default=0.0)  # noqa: E731
        print(f"{name:32s} Chroma holds {share:5.1%} of the exact top {k}; best cosine Chroma {best(chroma):.3f}, "
              f"exact {best(truth):.3f}")
    print(f"mean share {np.mean(shares):.1%} over {len(probes)} probes; {len(exact.rows)} of {len(movies)} movies "
          f"have content")


if __name__ == "__main__":
    main(*sys.argv[1:3])
