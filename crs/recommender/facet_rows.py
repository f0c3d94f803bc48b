"""Runtime, original language and production companies of every store row, checked against
the length, language and studio wishes of :mod:`crs.facets` for a whole candidate list at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from crs.catalog.models import Movie
from crs.facets import Facet


@dataclass
class FacetRows:
    """Runtime, original language and companies of every store row, for vectorised checks."""

    runtime: np.ndarray  # float32 minutes, nan when unknown
    language: np.ndarray  # object: ISO 639-1 code, "" when unknown
    companies: list[tuple[str, ...]]  # production companies, () when unknown
    _studio_fit: dict[str, np.ndarray] = field(default_factory=dict)  # studio -> fit of every row
    _pools: dict[tuple[Facet, int], np.ndarray] = field(default_factory=dict)  # (facet, n) -> pool rows

    @classmethod
    def build(cls, movies: Sequence[Movie]) -> "FacetRows":
        runtime = np.array([np.nan if not m.runtime else m.runtime for m in movies], np.float32)
        language = np.array([m.language or "" for m in movies], object)
        return cls(runtime=runtime, language=language, companies=[m.companies for m in movies])

    def fit(self, facet: Facet, rows: np.ndarray) -> np.ndarray:
        """Per row: 1 if the movie is known to fit, -1 if known not to, 0 if unknown."""
        if facet.kind == "studio":
            return self._studio(facet)[rows]
        if facet.kind == "runtime":
            minutes = self.runtime[rows]
            known = ~np.isnan(minutes)
            ok = known & facet.fits_runtime(minutes)
        else:
            codes = self.language[rows]
            known = codes != ""
            ok = known & facet.fits_language(codes)
        return np.where(ok, 1.0, np.where(known, -1.0, 0.0))

    def _studio(self, facet: Facet) -> np.ndarray:
        """The fit of every row to a studio wish (computed once per studio: a name check)."""
        found = self._studio_fit.get(facet.code)
        if found is None:
            found = self._studio_fit[facet.code] = np.array(
                [(1.0 if facet.fits_companies(c) else -1.0) if c else 0.0 for c in self.companies], np.float64)
        return found

    def pool(self, facet: Facet, rows_by_popularity: np.ndarray, n: int) -> np.ndarray:
        """The ``n`` most popular rows (of ``rows_by_popularity``, the same order on every call:
        the answer is kept per wish) in the wished language or from the wished studio (none for
        a length wish: every pool has films of any length)."""
        if facet.kind == "runtime":
            return rows_by_popularity[:0]
        found = self._pools.get((facet, n))
        if found is None:  # once per wish: a check over the whole catalogue, the same every turn
            keep = self.fit(facet, rows_by_popularity) > 0
            found = self._pools[(facet, n)] = rows_by_popularity[np.flatnonzero(keep)[:n]]
        return found
