"""Small hand-written dataset files shared by the dataset and evaluation tests."""

from __future__ import annotations

import functools
import json
import tempfile
import zipfile
from pathlib import Path

from crs.datasets import Catalogue
from crs.settings import load_settings

SEEKER, RECOMMENDER = 1, 2

#: A four-movie catalogue ("999" is deliberately absent).
TINY_CATALOGUE = Catalogue(
    "redial",
    ("100", "200", "300", "400"),
    ("The Shining (1980)", "It Follows (2014)", "The Others (2001)", "Heat (1995)"),
)


def tiny_dialogue() -> dict:
    """Seeker likes @100; recommender suggests @200 and @300; later repeats @100 and names @999."""
    return {
        "movieMentions": {"100": "The Shining  (1980)", "200": "It Follows (2014)", "300": "The Others  (2001)",
                          "999": "Unknown Movie (1999)"},
        "initiatorWorkerId": SEEKER, "respondentWorkerId": RECOMMENDER, "conversationId": "c1",
        "messages": [
            {"senderWorkerId": RECOMMENDER, "text": "Hi! What do you like?"},
            {"senderWorkerId": SEEKER, "text": "Scary ones like @100"},
            {"senderWorkerId": RECOMMENDER, "text": "Try @200 or @300"},
            {"senderWorkerId": SEEKER, "text": "Seen @200, loved it"},
            {"senderWorkerId": RECOMMENDER, "text": "Then rewatch @100 or see @999"},
        ],
    }


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_reduced_qa(path: Path, records: list) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train_reduced_qa.json", json.dumps(records))
    return path


def data_dir() -> Path:
    """The shared research data, as the product finds it (settings / CRS_DATA_DIR)."""
    return Path(load_settings().data_dir)


@functools.cache
def small_model_path() -> Path:
    """A collaborative model trained on the first 400 dialogues of each ReDial train file
    (valid held out, so the valid slices of the tests may be scored with it).

    Cached per test process (training takes a few seconds); fusion weights are fixed so
    the fusion grid search is skipped.
    """
    from crs.recommender.collaborative import Fusion
    from crs.recommender.collaborative_training import TRAIN_ONLY_FILES, build_model

    model = build_model(data_dir(), limit=400, fusion=Fusion(), progress=False, files=TRAIN_ONLY_FILES)
    return model.save(Path(tempfile.mkdtemp(prefix="crs-collab-")) / "collab-v1.npz")
