"""The titles ``crs replay`` writes: each recommendation's title as the data files write it.

The app shows MovieLens-only films under a cleaned title: "Umbrellas of Cherbourg, The
(Parapluies de Cherbourg, Les) (1964)" is shown as "The Umbrellas of Cherbourg" (article
moved, the original title kept as an alias). Replay output is a record that is checked
against the source data (``../shared/tools/check_scenarios.py`` looks every shown title up
there), so each such recommendation carries the source's own title in ``title`` and the
shown one in ``display_title``; ReDial films and films added with ``crs corpus add`` keep
their title.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

from crs.corpus.sources import ML_ID_PREFIX, SOURCE_FILES

_YEAR = re.compile(r"^(.*?)\s*\((\d{4})\)\s*$")


def movielens_titles(data_dir: Path) -> dict[str, str]:
    """Corpus id ("ml<movieId>") -> MovieLens's title without the year; empty if the file is missing."""
    path = Path(data_dir) / SOURCE_FILES["movielens"]
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            raw = (row.get("title") or "").strip()
            match = _YEAR.match(raw)
            out[ML_ID_PREFIX + (row.get("movieId") or "").strip()] = match.group(1) if match else raw
    return out


def with_source_titles(result: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    """``result`` (a turn's JSON) with each MovieLens-only recommendation's source title in
    ``title`` and the shown title in ``display_title`` (only where the two differ)."""
    for rec in result.get("recommendations") or []:
        source = titles.get(str(rec.get("id", "")))
        if source and source != rec.get("title"):
            rec["display_title"] = rec.get("title")
            rec["title"] = source
    return result
