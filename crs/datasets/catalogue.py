"""Evaluation catalogues: the items a system may recommend, in a fixed row order.

Row ``i`` of every score vector is ``Catalogue.ids[i]``; titles found in text files are
mapped back to ids with the shared normalisation rule (title + year ±1, or the title
alone when no year is written).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from crs.catalog.normalize import norm_title, split_title_year


class TitleMatcher:
    """Map free-written titles ("The Shining (1980)", "Shining, The") to catalogue ids."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        """Index ``(item_id, "Title (Year)")`` pairs; earlier entries win ties."""
        self._by_key: dict[str, list[tuple[int | None, str]]] = defaultdict(list)
        self._exact: dict[str, str] = {}
        for item_id, name in entries:
            self._exact.setdefault(" ".join(name.split()).casefold(), item_id)
            title, year = split_title_year(name)
            key = norm_title(title)
            if key:
                self._by_key[key].append((year, item_id))

    def match(self, name: str) -> str | None:
        """The id of ``name``, or None when no catalogue title matches.

        An exact (case-insensitive) name wins first, which also serves titles that ASCII
        folding would erase ("Ὀδύσσεια"). Otherwise:
        With a year, the closest year within ±1 wins; if none is that close but the
        title is unique in the catalogue, that one is taken. Without a year, the first
        indexed item with that title wins.
        """
        exact = self._exact.get(" ".join(name.split()).casefold())
        if exact is not None:
            return exact
        title, year = split_title_year(name)
        candidates = self._by_key.get(norm_title(title))
        if not candidates:
            return None
        if year is None:
            return candidates[0][1]
        best = min(candidates, key=lambda c: abs((c[0] if c[0] is not None else 10_000) - year))
        if best[0] is not None and abs(best[0] - year) <= 1:
            return best[1]
        undated = [c for c in candidates if c[0] is None]
        if undated:
            return undated[0][1]
        return candidates[0][1] if len(candidates) == 1 else None


@dataclass(frozen=True)
class Catalogue:
    """The rankable items of one dataset.

    Attributes:
        name: Dataset name ("redial", "opendialkg").
        ids: Item ids in row order.
        labels: Display names in the same order ("Heat (1995)").
    """

    name: str
    ids: tuple[str, ...]
    labels: tuple[str, ...]
    row: dict[str, int] = field(init=False, repr=False, compare=False)
    matcher: TitleMatcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.labels):
            raise ValueError("catalogue ids and labels differ in length")
        object.__setattr__(self, "row", {item: i for i, item in enumerate(self.ids)})
        object.__setattr__(self, "matcher", TitleMatcher(zip(self.ids, self.labels)))

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.row

    def match_title(self, name: str) -> str | None:
        """Catalogue id of a written title, or None."""
        return self.matcher.match(name)
