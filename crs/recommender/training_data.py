"""Which ReDial dialogues the collaborative model is trained on, and the record of them.

The official ReDial train split reaches us as three files (data README):
``train_dialogues.jsonl`` (official format), ``train_reduced_qa.json.zip`` (the rest, in a
reduced form) and ``valid_dialogues.jsonl`` (a validation slice carved from the same split).
Published systems train on the whole split, so the shipped model uses all three
(:data:`SHIPPED_FILES`); ``crs train retriever --holdout-valid`` leaves valid out
(:data:`TRAIN_ONLY_FILES`), and every valid figure comes from that model.

Each file after the first is deduplicated against the files before it (the reduced QA file
repeats almost all official-format train dialogues). Dialogues of an :class:`Exclusion`
(the file being evaluated) are dropped too. The artefact records, per file, its name,
sha256, and the conversation ids and content hashes of the dialogues used, so
``crs evaluate`` can tell whether a file it is given was trained on (by content, not name).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from crs.datasets import Catalogue, Dialogue, read_dialogues, read_reduced_qa
from crs.recommender.collaborative import tokenize

TRAIN_DIALOGUES = "redial/train_dialogues.jsonl"
REDUCED_QA = "redial/train_reduced_qa.json.zip"
VALID_DIALOGUES = "redial/valid_dialogues.jsonl"
#: The official train split as far as we have it: what the shipped model is trained on.
SHIPPED_FILES = (TRAIN_DIALOGUES, REDUCED_QA, VALID_DIALOGUES)
#: Without the valid slice: the model every valid figure comes from.
TRAIN_ONLY_FILES = (TRAIN_DIALOGUES, REDUCED_QA)
_WORD = re.compile(r"[a-z0-9]+")
#: Name suffix of the valid-held-out artefact written beside the shipped one.
HOLDOUT_SUFFIX = "-trainonly"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_key(dialogue: Dialogue) -> str:
    """A hash of the dialogue's messages (normalised words, order-free): the same for a copy
    whose conversation id, file name or message order (reduced QA) changed."""
    texts = sorted(" ".join(_WORD.findall(u.text.lower())) for u in dialogue.utterances)
    return hashlib.sha256("\n".join(t for t in texts if t).encode()).hexdigest()[:16]


def conversation_id(dialogue: Dialogue) -> str | None:
    """The official conversation id; None for reduced-QA dialogues and records without one."""
    if dialogue.interleaving_guessed or not dialogue.dialog_id or dialogue.dialog_id == dialogue.source:
        return None
    return dialogue.dialog_id


def _signature(dialogue: Dialogue) -> tuple[tuple[str, ...], frozenset[tuple[str, ...]]]:
    mentions = tuple(sorted(i for u in dialogue.utterances for i in u.item_ids))
    return mentions, frozenset(t for u in dialogue.utterances if len(t := tuple(tokenize(u.text))) > 2)


def drop_duplicates(full: Sequence[Dialogue], reduced: Sequence[Dialogue]) -> list[Dialogue]:
    """``reduced`` minus the dialogues that are also in ``full``.

    The reduced QA file turns out to contain (almost) all 1,270 official-format train
    dialogues again: counting them twice would overweight them and would leak into the
    fusion fit. A duplicate has the same movie mentions (as a multiset) and shares a
    message word for word (speakers are sometimes swapped between the files).
    """
    seen: dict[tuple[str, ...], list[frozenset[tuple[str, ...]]]] = {}
    for d in full:
        mentions, texts = _signature(d)
        if mentions:
            seen.setdefault(mentions, []).append(texts)
    kept = []
    for d in reduced:
        mentions, texts = _signature(d)
        if not any(texts & other for other in seen.get(mentions, ())):
            kept.append(d)
    return kept


@dataclass
class Exclusion:
    """Dialogues that must not be trained on (those of an evaluated file).

    A training dialogue is dropped when its conversation id is in ``ids``, its
    :func:`content_key` in ``content``, or it duplicates one of ``dialogues`` in the sense
    of :func:`drop_duplicates` (same mentions, a shared message).
    """

    ids: frozenset[str] = frozenset()
    content: frozenset[str] = frozenset()
    dialogues: Sequence[Dialogue] = ()
    label: str = ""

    @classmethod
    def of(cls, dialogues: Sequence[Dialogue], ids: Iterable[str] = (), label: str = "") -> "Exclusion":
        own = {i for d in dialogues if (i := conversation_id(d)) is not None}
        return cls(frozenset(own | set(ids)), frozenset(content_key(d) for d in dialogues), tuple(dialogues), label)

    def apply(self, dialogues: Sequence[Dialogue]) -> list[Dialogue]:
        kept = [d for d in dialogues if conversation_id(d) not in self.ids and content_key(d) not in self.content]
        return drop_duplicates(self.dialogues, kept) if self.dialogues else kept


@dataclass
class TrainingSet:
    """The dialogues a model is trained on.

    Attributes:
        fit: Official-format dialogues whose samples fit the fusion weights (those of
            ``train_dialogues.jsonl``; of the next official-format file if it is excluded).
        rest: Every other training dialogue (the fusion fit's held-out model is trained on these).
        files: Per file: name, sha256, dialogues read / used / dropped, ids and content keys.
    """

    fit: list[Dialogue]
    rest: list[Dialogue]
    files: list[dict[str, Any]] = field(default_factory=list)
    excluded: str = ""
    fusion_rest: list[Dialogue] | None = None

    @property
    def fusion_model_dialogues(self) -> list[Dialogue]:
        """What the fusion fit's held-out model is trained on: the ``rest`` dialogues of the two
        train files (so adding valid adds data, and leaves the fitted weights as they were)."""
        return self.rest if self.fusion_rest is None else self.fusion_rest

    @property
    def dialogues(self) -> list[Dialogue]:
        return self.fit + self.rest

    def record(self) -> dict[str, Any]:
        """What the artefact's JSON keeps under ``training``."""
        return {"files": self.files, "dialogues": len(self.fit) + len(self.rest),
                "fusion_fit_dialogues": len(self.fit), "excluded": self.excluded or None}


def _read(data_dir: Path, name: str, labels: dict[str, str], limit: int | None, progress: bool) -> list[Dialogue]:
    path = Path(data_dir) / name
    if not path.exists():
        raise FileNotFoundError(f"training file not found: {path} (set --data-dir or CRS_DATA_DIR)")
    reader = read_reduced_qa(path, labels) if name.endswith(".zip") else read_dialogues(path)
    return list(tqdm(itertools.islice(reader, limit), desc=f"reading {Path(name).name}", disable=not progress,
                     leave=False))


def load_training_set(data_dir: Path, catalogue: Catalogue, files: Sequence[str] = SHIPPED_FILES,
                      limit: int | None = None, progress: bool = False,
                      exclude: Exclusion | None = None) -> TrainingSet:
    """Read ``files`` (each cut to ``limit`` dialogues), deduplicate each against the files
    before it, drop what ``exclude`` names, and split off the fusion-fit dialogues."""
    labels = dict(zip(catalogue.ids, catalogue.labels))
    taken: list[Dialogue] = []
    per_file: list[tuple[str, list[Dialogue]]] = []
    records: list[dict[str, Any]] = []
    for name in files:
        read = _read(data_dir, name, labels, limit, progress)
        kept = exclude.apply(read) if exclude is not None else read
        excluded = len(read) - len(kept)
        unique = drop_duplicates(taken, kept) if taken else kept
        taken += unique
        per_file.append((name, unique))
        records.append({"name": name, "sha256": file_sha256(Path(data_dir) / name), "read": len(read),
                        "used": len(unique), "dropped_duplicates": len(kept) - len(unique),
                        "dropped_excluded": excluded,
                        "ids": [i for d in unique if (i := conversation_id(d)) is not None],
                        "content": [content_key(d) for d in unique]})
    fit_index = next((i for i, (_, ds) in enumerate(per_file) if ds and not ds[0].interleaving_guessed), None)
    if fit_index is None:
        raise ValueError("no official-format training dialogues left to fit the fusion weights on "
                         f"(files: {', '.join(files)}; excluded: {exclude.label if exclude else 'none'})")
    fit = per_file[fit_index][1]
    rest = [d for i, (_, ds) in enumerate(per_file) if i != fit_index for d in ds]
    others = [i for i, (_, ds) in enumerate(per_file) if i != fit_index and ds]
    held_out = [i for i in others if per_file[i][0] in TRAIN_ONLY_FILES] or others
    fusion_rest = [d for i in held_out for d in per_file[i][1]]
    for i, record in enumerate(records):
        record["role"] = "fusion fit + model" if i == fit_index else (
            "fusion held-out model + model" if i in held_out else "model")
    return TrainingSet(fit, rest, records, exclude.label if exclude else "", fusion_rest)


def recorded_files(meta: dict[str, Any]) -> list[str] | None:
    """The training file names an artefact's meta records (None when it records none)."""
    training = meta.get("training")
    if isinstance(training, dict) and isinstance(training.get("files"), list):
        return [f["name"] for f in training["files"]]
    return None


def holdout_name(name: str) -> str:
    """``collab-v2.npz`` -> ``collab-v2-trainonly.npz``."""
    path = Path(name)
    return path.with_name(path.stem + HOLDOUT_SUFFIX + path.suffix).name
