"""Reader of the pre-extracted recommendation-turn JSONL (ReDial and OpenDialKG).

Each line is ``{dialog_id, turn_id, context[], entity[], rec[], resp}`` with titles in
place of ids. The files do not say who wrote each context message; the last one is the
seeker's (a recommendation answers it), so roles are assigned by alternating backwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from crs.catalog.normalize import norm_words, split_title_year
from crs.datasets.catalogue import Catalogue
from crs.datasets.samples import DatasetFormatError, EvalSample, Mention, Role, Utterance, read_jsonl, require


def _contains(haystack: str, needle: str) -> bool:
    """Whole-word containment on normalised words ("the shining" in "... the shining 1980")."""
    return bool(needle) and re.search(rf"(?:^| ){re.escape(needle)}(?: |$)", haystack) is not None


def _title_words(title: str) -> str:
    return norm_words(split_title_year(title)[0])


def parse_rec_turn(record: dict, source: str, catalogue: Catalogue) -> list[EvalSample]:
    """One rec-turn record -> one sample per title of ``rec[]``."""
    context_texts = require(record, "context", list, source)
    recs = require(record, "rec", list, source)
    entities = record.get("entity", [])
    if not isinstance(entities, list):
        raise DatasetFormatError(source, "field 'entity' should be a list of names")
    if not all(isinstance(x, str) for x in [*context_texts, *recs, *entities]):
        raise DatasetFormatError(source, "'context', 'rec' and 'entity' must hold strings")
    n = len(context_texts)
    roles = [Role.SEEKER if (n - 1 - i) % 2 == 0 else Role.RECOMMENDER for i in range(n)]
    words = [norm_words(text) for text in context_texts]
    mentions: list[Mention] = []
    per_utterance: list[list[str]] = [[] for _ in range(n)]
    for name in entities:
        item_id = catalogue.match_title(name)
        if item_id is None:
            continue
        key = _title_words(name)
        position = next((i for i, w in enumerate(words) if _contains(w, key)), max(n - 1, 0))
        if n:
            per_utterance[position].append(item_id)
        mentions.append(Mention(item_id, roles[position] if n else Role.SEEKER, position))
    mentions.sort(key=lambda m: m.position)  # stable: entity order within one message
    context = tuple(Utterance(roles[i], context_texts[i], tuple(per_utterance[i])) for i in range(n))
    joined = " ".join(context_texts).casefold()
    mentioned = {m.item_id for m in mentions}
    entity_keys = {e.casefold() for e in entities}
    dialog_id = str(record.get("dialog_id", source))
    turn = int(record["turn_id"]) if isinstance(record.get("turn_id"), int) else n
    samples = []
    for title in recs:
        target = catalogue.match_title(title)
        key = title.casefold()
        repeated = (target is not None and target in mentioned) or key in entity_keys or (bool(key) and key in joined)
        samples.append(EvalSample(
            dialog_id=dialog_id, turn=turn, context=context, mentions=tuple(mentions), target=target,
            target_label=title, repeated=repeated, entities=tuple(entities), source=source,
        ))
    return samples


def read_rec_turns(path: Path, catalogue: Catalogue) -> Iterator[EvalSample]:
    """All samples of a ``*_rec_turns.jsonl`` file, titles mapped to ``catalogue`` ids.

    Raises:
        DatasetFormatError: naming ``file:line`` for a malformed record.
    """
    for source, record in read_jsonl(path):
        yield from parse_rec_turn(record, source, catalogue)
