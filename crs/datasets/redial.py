"""ReDial readers: the movie catalogue, official dialogue JSONL and the reduced QA zip.

Only the fields every official ReDial file has are read (``movieMentions``,
``messages[].text``/``senderWorkerId``, ``initiatorWorkerId``, ``conversationId``), so a
held-out test file without the extra annotation fields of ``valid`` reads the same.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from crs.catalog.normalize import split_title_year
from crs.datasets.catalogue import Catalogue
from crs.datasets.samples import (
    DatasetFormatError,
    Dialogue,
    EvalSample,
    Mention,
    Role,
    Utterance,
    read_jsonl,
    require,
)

MENTION_RE = re.compile(r"@(\d+)")


def clean_name(name: str) -> str:
    """"The Shining  (1980)" -> "The Shining (1980)" (ReDial names carry double spaces)."""
    title, year = split_title_year(name)
    return f"{title} ({year})" if year else title


def load_redial_catalogue(data_dir: Path) -> Catalogue:
    """The 6,924 movies of ``redial/movies_with_mentions.csv``; ids are ReDial movieIds."""
    path = Path(data_dir) / "redial" / "movies_with_mentions.csv"
    if not path.exists():
        raise FileNotFoundError(f"ReDial movie list not found: {path} (set --data-dir or CRS_DATA_DIR)")
    ids: list[str] = []
    labels: list[str] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for number, row in enumerate(csv.DictReader(fh), start=2):
            if not row.get("movieId") or row.get("movieName") is None:
                raise DatasetFormatError(f"{path}:{number}", "expected movieId,movieName,nbMentions")
            ids.append(row["movieId"].strip())
            labels.append(clean_name(row["movieName"]))
    return Catalogue("redial", tuple(ids), tuple(labels))


def _resolve(text: str, titles: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """Replace ``@id`` by its title (when known) and list the ids in order."""
    ids = tuple(MENTION_RE.findall(text))
    resolved = MENTION_RE.sub(lambda m: titles.get(m.group(1), m.group(0)), text)
    return resolved, ids


def parse_dialogue(record: dict, source: str) -> Dialogue:
    """One official ReDial dialogue record -> :class:`Dialogue`."""
    messages = require(record, "messages", list, source)
    initiator = require(record, "initiatorWorkerId", (int, str), source)
    mentions = record.get("movieMentions") or {}
    if not isinstance(mentions, dict):
        raise DatasetFormatError(source, "field 'movieMentions' should be an object {movieId: title}")
    titles = {str(k): clean_name(str(v)) for k, v in mentions.items() if v}
    utterances = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("text"), str) or "senderWorkerId" not in message:
            raise DatasetFormatError(source, f"messages[{index}] needs 'text' (string) and 'senderWorkerId'")
        role = Role.SEEKER if str(message["senderWorkerId"]) == str(initiator) else Role.RECOMMENDER
        text, ids = _resolve(message["text"], titles)
        utterances.append(Utterance(role, text, ids))
    dialog_id = str(record.get("conversationId", source))
    return Dialogue(dialog_id, tuple(utterances), tuple(sorted(titles.items())), source)


def read_dialogues(path: Path) -> Iterator[Dialogue]:
    """Official ReDial JSONL (one dialogue a line) -> dialogues.

    Raises:
        DatasetFormatError: naming ``file:line`` for a malformed record.
    """
    for source, record in read_jsonl(path):
        yield parse_dialogue(record, source)


def read_reduced_qa(path: Path, titles: Mapping[str, str] | None = None) -> Iterator[Dialogue]:
    """``train_reduced_qa.json.zip`` (a JSON list of ``{context, questions, answers}``).

    The seeker's ``questions`` and the recommender's ``answers`` lost their interleaving;
    they are re-interleaved one-for-one (seeker first), which is exact for the mentions
    of each side and approximate for their order. ``titles`` (movieId -> title) resolves
    ``@id`` tokens in the text.
    """
    path = Path(path)
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(".json")]
        if not names:
            raise DatasetFormatError(str(path), "the zip holds no .json file")
        try:
            records = json.loads(archive.read(names[0]))
        except json.JSONDecodeError as exc:
            raise DatasetFormatError(f"{path}:{names[0]}", f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(records, list):
        raise DatasetFormatError(f"{path}:{names[0]}", "expected a JSON list of dialogues")
    titles = titles or {}
    for index, record in enumerate(records):
        source = f"{path}:{names[0]}[{index}]"
        if not isinstance(record, dict):
            raise DatasetFormatError(source, "expected an object {context, questions, answers}")
        questions = require(record, "questions", list, source)
        answers = require(record, "answers", list, source)
        utterances: list[Utterance] = []
        for turn in range(max(len(questions), len(answers))):
            for role, side in ((Role.SEEKER, questions), (Role.RECOMMENDER, answers)):
                if turn < len(side):
                    text, ids = _resolve(str(side[turn]), titles)
                    utterances.append(Utterance(role, text, ids))
        yield Dialogue(f"qa-{index}", tuple(utterances), (), source, interleaving_guessed=True)


def dialogue_samples(dialogue: Dialogue, catalogue: Catalogue) -> Iterator[EvalSample]:
    """The evaluation samples of one dialogue (EVALUATION.md, ReDial).

    One sample per movie token of each recommender message (repeats in one message
    kept, as in the reference counts); the context is every earlier message; a target
    is ``repeated`` when an earlier message mentioned it.
    """
    mentions: list[Mention] = []
    seen: set[str] = set()
    for turn, utterance in enumerate(dialogue.utterances):
        if utterance.role is Role.RECOMMENDER and utterance.item_ids:
            context = dialogue.utterances[:turn]
            frozen_mentions = tuple(mentions)
            for item_id in utterance.item_ids:
                yield EvalSample(
                    dialog_id=dialogue.dialog_id, turn=turn, context=context, mentions=frozen_mentions,
                    target=item_id if item_id in catalogue else None, target_label=item_id,
                    repeated=item_id in seen, source=dialogue.source,
                )
        for item_id in utterance.item_ids:
            mentions.append(Mention(item_id, utterance.role, turn))
            seen.add(item_id)
