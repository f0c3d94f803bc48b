"""Train the retriever with a fixed fusion (skips the train-side fusion grid), e.g. to keep
collab-v2's fitted weights while the metadata block changes.

Usage: python scripts/pool_probe/train_fixed_fusion.py OUT.npz WORDS CONTENT [STORE_DIR]
"""
import sys
from pathlib import Path

from crs.recommender.collaborative import Fusion
from crs.recommender.collaborative_training import build_model

out, words, content = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
store = Path(sys.argv[4]) if len(sys.argv) > 4 else None
model = build_model(Path("/work/shared/data"), fusion=Fusion(words=words, content=content, popularity=0.0005, decay=0.9),
                    progress=False, store_dir=store)
model.meta["fusion_fit"] = {"fixed": True}
print(model.save(Path(out)))
