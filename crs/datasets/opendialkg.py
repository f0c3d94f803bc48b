"""OpenDialKG item vocabulary and KG (the iEvaLM files under ``opendialkg/ievalm``).

The catalogue is ``id2info.json`` (movies and books, keyed by its own ids); the KG files
(``entity2id.json``, ``kg.json``, ``relation2id.json``) use a separate entity numbering,
so everything here is joined on entity *names*, which is also what the rec-turn files hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from crs.datasets.catalogue import Catalogue
from crs.datasets.samples import DatasetFormatError

ATTRIBUTES = ("actor", "director", "genre", "language", "writer")


@dataclass(frozen=True)
class ItemInfo:
    """One item of ``id2info.json``."""

    id: str
    name: str
    year: str | None = None
    actor: tuple[str, ...] = ()
    director: tuple[str, ...] = ()
    genre: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    writer: tuple[str, ...] = ()

    def attributes(self) -> tuple[str, ...]:
        """Distinct attribute values (people, genres, languages, year) of the item."""
        values = [v for key in ATTRIBUTES for v in getattr(self, key)]
        if self.year:
            values.append(self.year)
        return tuple(dict.fromkeys(values))


@dataclass(frozen=True)
class OpenDialKGVocab:
    """Items plus the KG as name -> ((relation, neighbour name), ...)."""

    items: tuple[ItemInfo, ...]
    kg: dict[str, tuple[tuple[str, str], ...]]

    def catalogue(self) -> Catalogue:
        return Catalogue("opendialkg", tuple(i.id for i in self.items), tuple(i.name for i in self.items))


def _load_json(path: Path) -> object:
    if not path.exists():
        raise FileNotFoundError(f"OpenDialKG file not found: {path} (set --data-dir or CRS_DATA_DIR)")
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise DatasetFormatError(str(path), f"not valid UTF-8 (byte offset {exc.start}); save the file as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(f"{path}:{exc.lineno}", f"not valid JSON ({exc.msg})") from None


def _int_id(value: object, where: str) -> int:
    """An entity/relation number as the KG files write it (an int, or digits in a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise DatasetFormatError(where, f"expected an integer id, got {value!r:.40}")
    try:
        return int(value)
    except ValueError:
        raise DatasetFormatError(where, f"expected an integer id, got {value!r:.40}") from None


def _strings(value: object) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(v) for v in value)) if isinstance(value, list) else ()


def load_opendialkg_vocab(data_dir: Path, with_kg: bool = True) -> OpenDialKGVocab:
    """Read ``id2info.json`` and (optionally) the KG, undirected, by entity name."""
    base = Path(data_dir) / "opendialkg" / "ievalm"
    raw = _load_json(base / "id2info.json")
    if not isinstance(raw, dict):
        raise DatasetFormatError(str(base / "id2info.json"), "expected an object {id: info}")
    items = []
    for key, info in raw.items():
        if not isinstance(info, dict) or not isinstance(info.get("name"), str):
            raise DatasetFormatError(f"{base / 'id2info.json'}[{key}]", "each item needs a 'name'")
        year = info.get("year")
        items.append(ItemInfo(str(key), info["name"], str(year) if year else None,
                              *(_strings(info.get(a)) for a in ATTRIBUTES)))
    kg: dict[str, tuple[tuple[str, str], ...]] = {}
    if with_kg:
        entity2id = _load_json(base / "entity2id.json")
        relation2id = _load_json(base / "relation2id.json")
        edges = _load_json(base / "kg.json")
        if not (isinstance(entity2id, dict) and isinstance(relation2id, dict) and isinstance(edges, dict)):
            raise DatasetFormatError(str(base), "entity2id/relation2id/kg must be JSON objects")
        names = {_int_id(v, f"{base / 'entity2id.json'}[{k}]"): k for k, v in entity2id.items()}
        relations = {_int_id(v, f"{base / 'relation2id.json'}[{k}]"): k for k, v in relation2id.items()}
        adjacency: dict[str, dict[tuple[str, str], None]] = {}
        for head, pairs in edges.items():
            where = f"{base / 'kg.json'}[{head}]"
            head_name = names.get(_int_id(head, where))
            if head_name is None:
                continue
            if not isinstance(pairs, list):
                raise DatasetFormatError(where, "expected a list of [relation, tail] pairs")
            for pair in pairs:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise DatasetFormatError(where, f"expected a [relation, tail] pair, got {pair!r:.40}")
                relation, tail = _int_id(pair[0], where), _int_id(pair[1], where)
                tail_name = names.get(tail)
                rel = relations.get(relation, str(relation))
                if tail_name is None:
                    continue
                adjacency.setdefault(head_name, {})[(rel, tail_name)] = None
                adjacency.setdefault(tail_name, {})[(rel, head_name)] = None
        kg = {k: tuple(v) for k, v in adjacency.items()}
    return OpenDialKGVocab(tuple(items), kg)


def load_opendialkg_catalogue(data_dir: Path) -> Catalogue:
    """The OpenDialKG catalogue: every item of ``ievalm/id2info.json``."""
    return load_opendialkg_vocab(data_dir, with_kg=False).catalogue()
