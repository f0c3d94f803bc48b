"""Runtime and original language of every store row, checked against the length and
language wishes of :mod:`crs.facets` for a whole candidate list at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from crs.catalog.models import Movie
from crs.facets import Facet


@dataclass
class FacetRows:
    """Runtime and original language of every store row, for vectorised checks."""

    runtime: np.ndarray  # float32 minutes, nan when unknown
    language: np.ndarray  # object: ISO 639-1 code, "" when unknown

    @classmethod
    def build(cls, movies: Sequence[Movie]) -> "FacetRows":
        runtime = np.array([np.nan if not m.runtime else m.runtime for m in movies], np.float32)
        language = np.array([m.language or "" for m in movies], object)
        return cls(runtime=runtime, language=language)

    def fit(self, facet: Facet, rows: np.ndarray) -> np.ndarray:
        """Per row: 1 if the movie is known to fit, -1 if known not to, 0 if unknown."""
        if facet.kind == "runtime":
            minutes = self.runtime[rows]
            known = ~np.isnan(minutes)
            ok = known.copy()
            if facet.low is not None:
                ok &= minutes >= facet.low
            if facet.high is not None:
                ok &= minutes <= facet.high
        else:
            codes = self.language[rows]
            known = codes != ""
            ok = (codes == facet.code) if facet.code else known & (codes != "en")
        return np.where(ok, 1.0, np.where(known, -1.0, 0.0))

    def language_pool(self, facet: Facet, rows_by_popularity: np.ndarray, n: int) -> np.ndarray:
        """The ``n`` most popular rows (of ``rows_by_popularity``) in the wished language."""
        if facet.kind != "language":
            return rows_by_popularity[:0]
        keep = self.fit(facet, rows_by_popularity) > 0
        return rows_by_popularity[np.flatnonzero(keep)[:n]]
