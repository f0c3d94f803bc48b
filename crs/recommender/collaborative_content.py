"""Movie -> movie similarity from metadata (genres, people, plot words).

Dialogues mention a few thousand movies often and the rest rarely; metadata reaches the
rare ones. Each movie becomes a TF-IDF vector of ``g:genre``, ``y:decade``, ``p:person``
(directors, stars, writers) and plot words; the cosine of two movies is kept for each movie's
``top_k`` nearest neighbours only (sparse: a few MB instead of a dense n x n block).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from crs.recommender.collaborative import tokenize

INFO_FILE = "movies/redial_id2info.json"


def metadata_tokens(info: dict) -> list[str]:
    """The tokens of one ``redial_id2info.json`` record."""
    tokens = [f"g:{g.lower()}" for g in info.get("genre") or []]
    year = re.search(r"\((\d{4})\)\s*$", info.get("name") or "")
    if year:
        tokens.append(f"y:{int(year.group(1)) // 10}0s")
    for key in ("director", "star", "writer"):
        tokens += [f"p:{p.lower()}" for p in info.get(key) or []]
    return tokens + tokenize(info.get("plot") or "")


def content_similarity(data_dir: Path, item_ids: Sequence[str], top_k: int = 200) -> sp.csr_matrix:
    """Sparse (n x n) float32 cosine similarity of metadata, ``top_k`` per row, zero diagonal.

    Movies without metadata get an empty row.
    """
    path = Path(data_dir) / INFO_FILE
    if not path.exists():
        raise FileNotFoundError(f"movie metadata not found: {path} (set --data-dir or CRS_DATA_DIR)")
    info = json.loads(path.read_text(encoding="utf-8"))
    vocab: dict[str, int] = {}
    rows, cols, vals = [], [], []
    for r, item in enumerate(item_ids):
        for token, count in Counter(metadata_tokens(info.get(item) or {})).items():
            rows.append(r)
            cols.append(vocab.setdefault(token, len(vocab)))
            vals.append(float(count))
    n = len(item_ids)
    x = sp.csr_matrix((vals, (rows, cols)), shape=(n, max(len(vocab), 1)), dtype=np.float32)
    df = np.asarray((x > 0).sum(axis=0)).ravel()
    x = x @ sp.diags(np.log(n / (1.0 + df)).astype(np.float32))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    x = sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ x
    sim = (x @ x.T).toarray().astype(np.float32)
    np.fill_diagonal(sim, 0.0)
    k = min(top_k, n - 1)
    keep = np.argpartition(-sim, k, axis=1)[:, :k] if k > 0 else np.zeros((n, 0), int)
    values = np.take_along_axis(sim, keep, axis=1)
    pruned = sp.csr_matrix((values.ravel(), (np.repeat(np.arange(n), keep.shape[1]), keep.ravel())), shape=(n, n))
    pruned.eliminate_zeros()
    return pruned.astype(np.float32)
