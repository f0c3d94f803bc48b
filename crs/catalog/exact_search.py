"""Exact nearest neighbours over the movies that have more than genres to embed.

Chroma's HNSW graph answers badly on the default 87k corpus: about 78k MovieLens movies are
known by title and genres only, so they embed one of a few thousand genre texts ("Drama
film"), and the graph, crowded with identical vectors, leads a query into those clusters.
*The Matrix*'s 10 "nearest" came back at cosine .576 (genre-only films) while *The Matrix
Reloaded* is at .84; for "something about high school" none of the true 150 best came back.
A genre-only movie has nothing for a semantic match to find beyond its genres (the genre
pools cover them), so the store searches the ~10k movies with a plot, people or keywords
exactly, one matrix product per query (about 9 ms at 87k on the loaded 2-core machine, against
13 ms for a Chroma query), when there are at most
:data:`MAX_ROWS` of them; above that (the 300k benchmark catalogue) Chroma answers as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from crs.catalog.models import Movie

#: Exact search over at most this many movies (time grows with them: 10k took ~9 ms a query).
MAX_ROWS = 50_000


def searchable(movie: Movie) -> bool:
    """The movie embeds more than its genres (see :meth:`Movie.embedding_text`)."""
    return bool(movie.plot or movie.directors or movie.cast or movie.keywords)


@dataclass(frozen=True)
class ExactIndex:
    """The unit vectors of the movies with content, and their store rows."""

    rows: np.ndarray  # store rows (``index.movies`` positions) of the searchable movies
    matrix: np.ndarray  # their vectors, row i = rows[i], contiguous float32

    @classmethod
    def build(cls, movies: Sequence[Movie], matrix: np.ndarray, max_rows: int = MAX_ROWS) -> "ExactIndex | None":
        """The index, or None when more than ``max_rows`` movies have content."""
        rows = np.fromiter((i for i, m in enumerate(movies) if searchable(m)), np.intp)
        if len(rows) > max_rows:
            return None
        return cls(rows=rows, matrix=np.ascontiguousarray(matrix[rows], dtype=np.float32))

    def top(self, queries: np.ndarray, n: int) -> list[np.ndarray]:
        """Per unit query vector, the store rows of its ``n`` most similar movies, best
        first (ties by store row)."""
        if len(self.rows) == 0:
            return [self.rows[:0] for _ in range(len(queries))]
        scores = queries @ self.matrix.T  # (queries, searchable movies)
        k = min(n, len(self.rows))
        out = []
        for row_scores in scores:
            best = np.argpartition(-row_scores, k - 1)[:k] if k < len(self.rows) else np.arange(len(self.rows))
            best = best[np.lexsort((best, -row_scores[best]))]
            out.append(self.rows[best])
        return out
