"""The typed records every dataset reader produces and the evaluation consumes.

A reader turns a file into :class:`Dialogue` objects (official ReDial, reduced QA) or
straight into :class:`EvalSample` objects (pre-extracted recommendation turns). Keeping
one sample shape for every format is what lets one runner and one set of rankers serve
both datasets and all formats.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class Role(StrEnum):
    """Who said a message: the person asking for movies or the one recommending."""

    SEEKER = "seeker"
    RECOMMENDER = "recommender"


class DatasetFormatError(ValueError):
    """A malformed input line; the message always names ``file:line``."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True)
class Utterance:
    """One message of a dialogue.

    Attributes:
        role: Who said it.
        text: The text with ``@id`` tokens replaced by titles (what a system would see).
        item_ids: Catalogue ids of the items mentioned in it, in order (repeats kept).
    """

    role: Role
    text: str
    item_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mention:
    """An item mentioned in the context, with who mentioned it and where."""

    item_id: str
    role: Role
    position: int  # index of the utterance in the context


@dataclass(frozen=True)
class Dialogue:
    """A whole dialogue in one shape, whatever file it came from.

    Attributes:
        dialog_id: The conversation id of the source.
        utterances: Messages in order.
        titles: ``(item_id, title)`` pairs known for this dialogue (ReDial ``movieMentions``).
        source: ``file:line`` of the record, for error messages and traceability.
        interleaving_guessed: True when the original order of the two speakers was lost
            (the reduced QA format) and has been approximated by alternation.
    """

    dialog_id: str
    utterances: tuple[Utterance, ...]
    titles: tuple[tuple[str, str], ...] = ()
    source: str = ""
    interleaving_guessed: bool = False


@dataclass(frozen=True)
class EvalSample:
    """One (recommendation turn, ground-truth item) pair.

    Attributes:
        dialog_id / turn: Where it comes from (turn = index of the recommender message).
        context: Every utterance before the recommendation turn; nothing later.
        mentions: Items mentioned in ``context``, in order, with the speaker.
        entities: The named entities of the context as the file lists them (``entity[]``
            of rec-turn files: items, people, genres, ...), in order; empty for
            official dialogues.
        target: Catalogue id of the ground truth, or None when it is not in the catalogue
            (still a sample: it counts as a miss).
        target_label: The ground truth as written in the source (id or title).
        repeated: The target was already mentioned in the context (dropped by ``dedup``).
        source: ``file:line`` of the record.
    """

    dialog_id: str
    turn: int
    context: tuple[Utterance, ...]
    mentions: tuple[Mention, ...]
    target: str | None
    target_label: str
    repeated: bool
    entities: tuple[str, ...] = ()
    source: str = ""

    @property
    def mentioned_ids(self) -> tuple[str, ...]:
        """Distinct context item ids, in first-mention order."""
        return tuple(dict.fromkeys(m.item_id for m in self.mentions))


def read_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield ``(file:line, record)`` for each non-blank line of a JSONL file.

    Raises:
        DatasetFormatError: A line is not JSON or not a JSON object.
    """
    for source, line in read_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetFormatError(source, f"not valid JSON ({exc.msg} at column {exc.colno}); "
                                             "expected one JSON object per line") from None
        if not isinstance(record, dict):
            raise DatasetFormatError(source, f"expected one JSON object per line, got {type(record).__name__}")
        yield source, record


def read_lines(path: Path) -> Iterator[tuple[str, str]]:
    """Yield ``(file:line, text)`` for each line of a UTF-8 text file (a BOM is allowed).

    Raises:
        DatasetFormatError: A line is not valid UTF-8 (names the line and column).
    """
    with Path(path).open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            source = f"{path}:{number}"
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetFormatError(source, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column "
                                                 f"{exc.start + 1}); save the file as UTF-8") from None
            yield source, text


def require(record: dict[str, Any], key: str, kind: type | tuple[type, ...], source: str) -> Any:
    """Return ``record[key]`` if present and of ``kind``; otherwise a file:line error."""
    if key not in record:
        raise DatasetFormatError(source, f"missing field {key!r}")
    value = record[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise DatasetFormatError(source, f"field {key!r} should be {names}, got {type(value).__name__}")
    return value
