"""One point of the ReDial learning curve: train the valid-held-out recommender (the two train
files, as `crs train retriever --holdout-valid`) without the last N reduced-QA training
dialogues, write it to OUT, then evaluate it with `crs evaluate --model OUT` on valid.

usage: .venv/bin/python scripts/learning_curve.py N OUT.npz [DATA_DIR]

Used for docs/results.md ("How much would more training data give?"): about 5 min and 2.3 GB.
N = 1000 simulates what adding valid's 1,000 dialogues gives the shipped model (which cannot
be measured on valid): the same model with 1,000 dialogues fewer, against the full one.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or not argv[0].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    from crs.settings import apply_offline_env

    apply_offline_env()
    from crs.datasets import load_redial_catalogue
    from crs.recommender.collaborative_training import build_model
    from crs.recommender.training_data import REDUCED_QA, TRAIN_ONLY_FILES, load_training_set

    drop, out = int(argv[0]), Path(argv[1])
    data_dir = Path(argv[2]) if len(argv) == 3 else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    training = load_training_set(data_dir, load_redial_catalogue(data_dir), TRAIN_ONLY_FILES, progress=True)
    record = next(f for f in training.files if f["name"] == REDUCED_QA)  # rest = the reduced-QA dialogues
    keep = max(len(training.rest) - drop, 0)
    record["dropped_learning_curve"] = len(training.rest) - keep
    training.rest, record["used"], record["content"] = training.rest[:keep], keep, record["content"][:keep]
    model = build_model(data_dir, progress=True, training=training)
    model.meta["learning_curve_dropped_reduced"] = drop
    print("wrote", model.save(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
