"""Never score a model on what it was trained on.

``crs evaluate`` describes the file it is given by content (conversation ids, a hash of
each dialogue's messages, the file's sha256; for recommendation-turn files, a hash of each
turn) and compares that with what the model was trained on:

* ReDial: the artefact's JSON records its training files with their sha256, conversation
  ids and content keys (:mod:`crs.recommender.training_data`). Dialogue files are also
  checked against the training files' dialogues with the duplicate test used to
  deduplicate the training files (same mentions, a message word for word), which catches
  a copy in another format. A renamed copy is caught either way.
* OpenDialKG: the model trains at evaluation time; every training turn that the
  evaluated file also holds is left out (:func:`select_opendialkg_training`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crs.datasets import Catalogue, Dialogue, EvalSample, read_dialogues, read_rec_turns, read_reduced_qa
from crs.datasets.formats import FileFormat, detect_format
from crs.datasets.samples import read_jsonl
from crs.recommender.collaborative_content import INFO_FILE
from crs.recommender.training_data import (
    TRAIN_ONLY_FILES,
    Exclusion,
    content_key,
    conversation_id,
    drop_duplicates,
    file_sha256,
    load_training_set,
)


@dataclass
class EvaluatedFile:
    """What an evaluated file holds, by content.

    Attributes:
        ids: Conversation ids (official ``conversationId``, rec-turn ``dialog_id``).
        content: :func:`~crs.recommender.training_data.content_key` of each dialogue.
        dialogues: The dialogues themselves (dialogue formats; empty for rec-turn files).
        size: Dialogues (or, for rec-turn files, distinct dialog ids) in the file.
    """

    path: Path
    sha256: str
    ids: frozenset[str] = frozenset()
    content: frozenset[str] = frozenset()
    dialogues: Sequence[Dialogue] = ()
    size: int = 0

    def exclusion(self) -> Exclusion:
        return Exclusion(self.ids, self.content, tuple(self.dialogues), str(self.path))


def describe_file(path: Path, catalogue: Catalogue, file_format: FileFormat | None = None) -> EvaluatedFile:
    """Read ``path`` (any supported format) into an :class:`EvaluatedFile`."""
    path = Path(path)
    file_format = file_format or detect_format(path)
    sha = file_sha256(path)
    if file_format is FileFormat.REC_TURNS:
        ids = {str(record["dialog_id"]) for _, record in read_jsonl(path) if record.get("dialog_id") is not None}
        return EvaluatedFile(path, sha, frozenset(ids), size=len(ids))
    if file_format is FileFormat.REDIAL_DIALOGUES:
        dialogues = list(read_dialogues(path))
    else:
        dialogues = list(read_reduced_qa(path, dict(zip(catalogue.ids, catalogue.labels))))
    ids = {i for d in dialogues if (i := conversation_id(d)) is not None}
    return EvaluatedFile(path, sha, frozenset(ids), frozenset(content_key(d) for d in dialogues), dialogues,
                         len(dialogues))


@dataclass
class Overlap:
    """Which training files share dialogues with the evaluated file, and how many."""

    per_file: dict[str, int] = field(default_factory=dict)
    size: int = 0

    @property
    def total(self) -> int:
        return sum(self.per_file.values())

    def __bool__(self) -> bool:
        return self.total > 0

    def describe(self, file: Path | str) -> str:
        """"20 of the 20 dialogues of FILE (20 in redial/valid_dialogues.jsonl)"."""
        parts = ", ".join(f"{n:,} in {name}" for name, n in self.per_file.items() if n)
        return f"{min(self.total, self.size) if self.size else self.total:,} of the {self.size:,} dialogues of {file} ({parts})"


def training_files(meta: dict[str, Any], data_dir: Path, catalogue: Catalogue) -> list[dict[str, Any]] | None:
    """The training-file records of an artefact's meta; for an artefact written before they
    were recorded (trained on the two train files, same fingerprint), rebuilt from the files.
    None when unknown."""
    training = meta.get("training")
    if isinstance(training, dict) and isinstance(training.get("files"), list):
        return training["files"]
    from crs.recommender.collaborative_training import data_fingerprint

    if meta.get("limit") is None and meta.get("fingerprint") == data_fingerprint(data_dir, TRAIN_ONLY_FILES):
        return load_training_set(data_dir, catalogue, TRAIN_ONLY_FILES).files
    return None


def is_current(meta: dict[str, Any], data_dir: Path) -> tuple[bool, str]:
    """Whether an artefact was trained on the full training files as they are now (not a
    ``--limit`` run). Returns (current, why not)."""
    from crs.recommender.collaborative_training import data_fingerprint

    if meta.get("limit") is not None:
        return False, f"trained on the first {meta['limit']} dialogues of each file only"
    files = meta.get("training", {}).get("files") if isinstance(meta.get("training"), dict) else None
    if files is None:
        current = data_fingerprint(data_dir, TRAIN_ONLY_FILES)
        ok = meta.get("fingerprint") == current
        return ok, "" if ok else f"trained on other data (fingerprint {meta.get('fingerprint')} != {current})"
    for record in files:
        path = Path(data_dir) / record["name"]
        if not path.exists() or file_sha256(path) != record.get("sha256"):
            return False, f"trained on another version of {record['name']}"
    if meta.get("info_sha256") and file_sha256(Path(data_dir) / INFO_FILE) != meta["info_sha256"]:
        return False, f"trained on another version of {INFO_FILE}"
    return True, ""


def redial_overlap(files: list[dict[str, Any]], evaluated: EvaluatedFile, data_dir: Path,
                   catalogue: Catalogue) -> Overlap:
    """How many dialogues of ``evaluated`` each training file (records of ``files``) holds."""
    found: dict[str, int] = {}
    labels = dict(zip(catalogue.ids, catalogue.labels))
    for record in files:
        if record.get("sha256") == evaluated.sha256:
            found[record["name"]] = evaluated.size
            continue
        ids, content = set(record.get("ids", ())), set(record.get("content", ()))
        matched = {i for i in evaluated.ids if i in ids}
        count = len(matched)
        rest = [d for d in evaluated.dialogues if conversation_id(d) not in matched]
        count += sum(content_key(d) in content for d in rest)
        rest = [d for d in rest if content_key(d) not in content]
        path = Path(data_dir) / record["name"]
        if rest and path.exists() and content:  # a copy in another shape: same mentions and a shared message
            trained = [d for d in _file_dialogues(path, labels) if content_key(d) in content]
            count += len(rest) - len(drop_duplicates(trained, rest))
        found[record["name"]] = count
    return Overlap(found, evaluated.size)


_READ: dict[tuple[str, int, int], list[Dialogue]] = {}


def _file_dialogues(path: Path, labels: dict[str, str]) -> list[Dialogue]:
    """The dialogues of a training file (kept for the process: a check reads each file once)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _READ:
        if len(_READ) >= 4:
            _READ.clear()
        _READ[key] = list(read_reduced_qa(path, labels) if path.name.endswith(".zip") else read_dialogues(path))
    return _READ[key]


def read_meta(path: Path) -> dict[str, Any] | None:
    """An artefact's JSON meta without loading its arrays (None when absent or unreadable)."""
    meta_path = Path(path).with_suffix(".json")
    if not Path(path).exists() or not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


# --------------------------------------------------------------------------- OpenDialKG

def turn_key(sample: EvalSample) -> str:
    """A hash of one rec-turn sample's context and ground truth (file and ids left out)."""
    text = "\x1f".join(u.text for u in sample.context) + "\x1e" + (sample.target_label or "")
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class OpenDialKGTraining:
    """The training samples chosen for an evaluated file, and a line per file for the report."""

    samples: list[EvalSample]
    files: list[dict[str, Any]]

    def describe(self) -> str:
        used = [f"{f['name']} ({f['used']:,} samples)" for f in self.files if f["used"]]
        out = [f"{f['name']} ({f['dropped']:,} samples in the evaluated file)" for f in self.files if f["dropped"]]
        return "trained on " + ", ".join(used) + ("; left out: " + ", ".join(out) if out else "")


def select_opendialkg_training(data_dir: Path, catalogue: Catalogue, files: Sequence[str],
                               evaluated: Path | None = None) -> OpenDialKGTraining:
    """Every sample of ``files`` that is not also in ``evaluated`` (by content)."""
    banned: set[str] = set()
    if evaluated is not None and detect_format(evaluated) is FileFormat.REC_TURNS:
        banned = {turn_key(s) for s in read_rec_turns(evaluated, catalogue)}
    samples: list[EvalSample] = []
    records = []
    for name in files:
        path = Path(data_dir) / name
        if not path.exists():
            raise FileNotFoundError(f"OpenDialKG training file not found: {path} (set --data-dir or CRS_DATA_DIR)")
        read = list(read_rec_turns(path, catalogue))
        kept = [s for s in read if turn_key(s) not in banned]
        samples += kept
        records.append({"name": name, "sha256": file_sha256(path), "read": len(read), "used": len(kept),
                        "dropped": len(read) - len(kept)})
    if not samples:
        raise ValueError(f"every OpenDialKG training sample is in {evaluated}: nothing left to train on")
    return OpenDialKGTraining(samples, records)


# --------------------------------------------------------------------------- the app's model

def app_settings_for_file(settings: Any, file: Path, echo: Any) -> Any:
    """``settings`` whose ``retriever_model`` (the app's collaborative artefact) was not trained
    on the ReDial dialogues of ``file``: the configured one, else its valid-held-out sibling
    (``collab-v2-trainonly.npz``). For tools that run the whole app on a dialogue file
    (``crs simulate``).

    Raises:
        ValueError: both were trained on dialogues of ``file``.
    """
    from crs.datasets import load_redial_catalogue
    from crs.recommender.collaborative import artefact_path
    from crs.recommender.training_data import holdout_name

    main = artefact_path(settings)
    if read_meta(main) is None:
        return settings  # the app runs without a collaborative model: nothing to check
    catalogue = load_redial_catalogue(settings.data_dir)
    described = describe_file(file, catalogue)
    reasons = []
    for path in (main, main.with_name(holdout_name(main.name))):
        meta = read_meta(path)
        if meta is None:
            reasons.append(f"no artefact at {path}")
            continue
        files = training_files(meta, settings.data_dir, catalogue)
        found = redial_overlap(files, described, settings.data_dir, catalogue) if files is not None else Overlap()
        if found:
            reasons.append(f"{path} was trained on {found.describe(file)}")
            continue
        if path != main:
            echo("; ".join(reasons) + f": the app runs with {path} (not trained on it)")
        return settings.model_copy(update={"retriever_model": str(path)})
    raise ValueError("; ".join(reasons) + ": train one without them (`crs train retriever --holdout-valid`)")
