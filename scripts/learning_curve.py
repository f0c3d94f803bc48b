"""One point of the ReDial learning curve: train the default recommender without the last N
reduced-QA training dialogues, write it to OUT, then evaluate it with ``crs evaluate --model OUT``.

usage: .venv/bin/python scripts/learning_curve.py N OUT.npz [DATA_DIR]

Used for docs/results.md ("How much would more training data give?"): about 5 min and 2.3 GB.
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
    import crs.recommender.collaborative_training as training

    drop, out = int(argv[0]), Path(argv[1])
    data_dir = Path(argv[2]) if len(argv) == 3 else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    load = training.load_training_dialogues

    def fewer(*args, **kwargs):
        full, reduced = load(*args, **kwargs)
        return full, reduced[: max(len(reduced) - drop, 0)]

    training.load_training_dialogues = fewer
    model = training.build_model(data_dir, progress=True)
    model.meta["learning_curve_dropped_reduced"] = drop
    print("wrote", model.save(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
