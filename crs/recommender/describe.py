"""One line of metadata per catalogue item: what an LLM ranker is told about a candidate.

Only facts from the dataset's own metadata files are used (title, year, genres, director,
cast, plot), so a reason the LLM writes can be grounded in what it was shown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The metadata file of each dataset, under the shared data folder.
INFO_FILES = {"redial": "movies/redial_id2info.json", "opendialkg": "opendialkg/ievalm/id2info.json"}


def describe(name: str, year: object = None, genres: Sequence = (), directors: Sequence = (), cast: Sequence = (),
             plot: str = "") -> str:
    """"Title (Year) | genres: ... | director: ... | cast: ... | plot: ..." (empty parts left out)."""
    parts = [f"{name} ({year})" if year and f"({year})" not in name else name]
    if genres:
        parts.append("genres: " + ", ".join(list(dict.fromkeys(str(g) for g in genres))[:4]))
    if directors:
        parts.append("director: " + ", ".join(list(dict.fromkeys(str(d) for d in directors))[:2]))
    if cast:
        parts.append("cast: " + ", ".join(list(dict.fromkeys(str(c) for c in cast))[:3]))
    if plot:
        parts.append("plot: " + (plot if len(plot) <= 160 else plot[:157].rsplit(" ", 1)[0] + "..."))
    return " | ".join(parts)


def catalogue_descriptions(dataset: str, data_dir: Path, ids: Sequence[str], labels: Sequence[str]) -> dict[str, str]:
    """``{item id: description}`` for a ReDial or OpenDialKG catalogue (label alone when
    the item has no metadata record).

    Raises:
        ValueError: An unknown dataset name.
    """
    if dataset not in INFO_FILES:
        raise ValueError(f"no metadata file known for dataset {dataset!r} (choose from {', '.join(INFO_FILES)})")
    path = Path(data_dir) / INFO_FILES[dataset]
    info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    out: dict[str, str] = {}
    for item_id, label in zip(ids, labels):
        record = info.get(item_id)
        if not isinstance(record, dict):
            out[item_id] = label
        elif dataset == "redial":
            out[item_id] = describe(label, None, record.get("genre") or (), record.get("director") or (),
                                    record.get("star") or (), record.get("plot") or "")
        else:
            out[item_id] = describe(record.get("name") or label, record.get("year"), record.get("genre") or (),
                                    record.get("director") or (), record.get("actor") or ())
    return out
