"""Second stage of the collaborative recommender: learning to rank over a candidate pool.

The hybrid score (:meth:`CollaborativeModel.score_vector`) proposes its best
``pool_size`` movies (context movies excluded). Each (context, candidate) pair gets the
features of :data:`FEATURES`: every block's score and its rank in the pool, popularity,
the strongest single link to a context movie, genre / people / decade overlap with the
context movies, release year and year distance, and a few context-level counts that let
the trees weigh the blocks differently for a cold start ("no movie mentioned yet") and a
long chat. A LightGBM lambdarank model orders the pool.

Only the weights of the context movies (recency- and speaker-weighted, negative for a
disliked movie) and the context words are used, so the app and ``crs evaluate`` compute
the same features from the same inputs.

Training (:mod:`crs.recommender.ltr_training`) is cross-fitted: the blocks are refitted on
K-1 folds of the training dialogues and make the features of the held-out fold, so the
features at training time look like the features at test time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from crs.recommender.collaborative import CollaborativeModel

FEATURES = (
    "hybrid", "item", "content", "words", "log_popularity",
    "rank_hybrid", "rank_item", "rank_content", "rank_words", "gap_to_top",
    "max_link", "recent_link", "max_content", "negative_item",
    "genre_overlap", "people_overlap", "decade_overlap", "year", "year_distance", "n_genres",
    "n_context_movies", "n_words", "top_weight", "words_share",
)

_YEAR = re.compile(r"\((\d{4})\)\s*$")


@dataclass
class MovieFacts:
    """Per-movie metadata as sparse indicator rows aligned with the model's ``item_ids``.

    Attributes:
        genres / people / decades: (n_items, n_values) row-normalised 0/1 float32 CSR.
        year: float32 release year (nan when unknown).
    """

    genres: sp.csr_matrix
    people: sp.csr_matrix
    decades: sp.csr_matrix
    year: np.ndarray

    def __post_init__(self) -> None:
        self._transposed = {name: sp.csr_matrix(getattr(self, name).T) for name in ("genres", "people", "decades")}

    def overlap(self, name: str, context: np.ndarray) -> np.ndarray:
        """Cosine-style overlap of every movie with the weighted context profile.

        ``context`` is a dense weight per movie (zero outside the context), summing to 1.
        """
        profile = self._transposed[name] @ context
        return getattr(self, name) @ profile

    @classmethod
    def from_info(cls, info: Mapping[str, dict], item_ids: Sequence[str]) -> "MovieFacts":
        """Build from ``movies/redial_id2info.json`` records (``genre``, ``director``, ``star``, ``name``)."""
        def indicator(values_of) -> sp.csr_matrix:
            vocab: dict[str, int] = {}
            rows, cols = [], []
            for r, item in enumerate(item_ids):
                for v in sorted(set(values_of(info.get(item) or {}))):  # sorted: the same columns in every process
                    rows.append(r)
                    cols.append(vocab.setdefault(v, len(vocab)))
            m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                              shape=(len(item_ids), max(len(vocab), 1)))
            norms = np.sqrt(np.asarray(m.sum(axis=1)).ravel())
            return sp.csr_matrix(sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ m, dtype=np.float32)

        def year_of(record: dict) -> float:
            match = _YEAR.search(record.get("name") or "")
            return float(match.group(1)) if match else np.nan

        years = np.array([year_of(info.get(i) or {}) for i in item_ids], np.float32)
        return cls(
            genres=indicator(lambda r: [g.lower() for g in r.get("genre") or []]),
            people=indicator(lambda r: [p.lower() for k in ("director", "star") for p in r.get(k) or []]),
            decades=indicator(lambda r: [str(int(y) // 10)] if not np.isnan(y := year_of(r)) else []),
            year=years,
        )

    @classmethod
    def load(cls, data_dir: Path, item_ids: Sequence[str]) -> "MovieFacts":
        from crs.recommender.collaborative_content import INFO_FILE

        path = Path(data_dir) / INFO_FILE
        if not path.exists():
            raise FileNotFoundError(f"movie metadata not found: {path} (set --data-dir or CRS_DATA_DIR)")
        return cls.from_info(json.loads(path.read_text(encoding="utf-8")), item_ids)

    def arrays(self) -> dict[str, np.ndarray]:
        """Flat arrays for ``np.savez`` (see :meth:`from_arrays`)."""
        out: dict[str, np.ndarray] = {"facts_year": self.year}
        for name in ("genres", "people", "decades"):
            m: sp.csr_matrix = getattr(self, name)
            out |= {f"facts_{name}_indices": m.indices.astype(np.int32), f"facts_{name}_indptr": m.indptr.astype(np.int64),
                    f"facts_{name}_data": m.data.astype(np.float32),
                    f"facts_{name}_shape": np.array(m.shape, np.int64)}
        return out

    @classmethod
    def from_arrays(cls, data: Mapping[str, np.ndarray]) -> "MovieFacts":
        def matrix(name: str) -> sp.csr_matrix:
            return sp.csr_matrix((data[f"facts_{name}_data"], data[f"facts_{name}_indices"], data[f"facts_{name}_indptr"]),
                                 shape=tuple(int(x) for x in data[f"facts_{name}_shape"]))

        return cls(matrix("genres"), matrix("people"), matrix("decades"), np.asarray(data["facts_year"], np.float32))


def _rank_in_pool(values: np.ndarray) -> np.ndarray:
    """1-based rank of each value within ``values`` (higher value = rank 1), as log."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), np.float32)
    ranks[order] = np.arange(1, len(values) + 1, dtype=np.float32)
    return np.log(ranks)


def pool_features(model: "CollaborativeModel", facts: MovieFacts, weights: Mapping[str, float],
                  words: Sequence[str], pool_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pool and its features for one context.

    Args:
        model: The collaborative model (its fusion makes the hybrid score).
        facts: Movie metadata aligned with ``model.item_ids``.
        weights: Context movie -> weight (positive = liked / mentioned, negative = disliked).
        words: The context's content words (:func:`~crs.recommender.collaborative.tokenize`).
        pool_size: How many candidates to keep.

    Returns:
        (pool rows (best hybrid first), float32 features (len(pool), len(FEATURES)),
        the full hybrid score vector over ``item_ids``).
    """
    f = model.fusion
    known = [(model.row[k], float(w)) for k, w in weights.items() if k in model.row and w]
    pos = [(r, w) for r, w in known if w > 0]
    neg = [(r, -w) for r, w in known if w < 0]
    item = model.item_vector(weights)
    content = model.content_vector(weights)
    word_rows = sorted({model.word_row[w] for w in words if w in model.word_row})
    word = np.asarray(model.word_item[word_rows], np.float32).sum(axis=0) if word_rows else np.zeros(len(item), np.float32)
    hybrid = item + f.content * content + f.words * word + f.popularity * model.log_popularity
    masked = hybrid.copy()
    if known:
        masked[[r for r, _ in known]] = -np.inf
    k = min(pool_size, int(np.isfinite(masked).sum()))
    pool = np.argpartition(-masked, k - 1)[:k] if k else np.zeros(0, np.int64)
    pool = pool[np.argsort(-masked[pool], kind="stable")]
    n = len(pool)
    x = np.zeros((n, len(FEATURES)), np.float32)
    if not n:
        return pool, x, hybrid
    h, it, co, wo = hybrid[pool], item[pool], content[pool], word[pool]
    x[:, 0], x[:, 1], x[:, 2], x[:, 3], x[:, 4] = h, it, co, wo, model.log_popularity[pool]
    x[:, 5] = np.log(np.arange(1, n + 1, dtype=np.float32))
    x[:, 6], x[:, 7], x[:, 8] = _rank_in_pool(it), _rank_in_pool(co), _rank_in_pool(wo)
    x[:, 9] = h - h[0]
    if pos:
        rows = [r for r, _ in pos]
        w = np.array([w for _, w in pos], np.float32)
        links = np.asarray(model.item_item[np.ix_(rows, pool)], np.float32)  # (m, n)
        x[:, 10] = links.max(axis=0)
        x[:, 11] = links[int(np.argmax(w))]
        if model.content_item is not None:
            x[:, 12] = model.content_item[rows].toarray()[:, pool].max(axis=0)
        context = np.zeros(len(item), np.float32)
        np.add.at(context, rows, w / w.sum())
        for col, name in ((14, "genres"), (15, "people"), (16, "decades")):
            x[:, col] = facts.overlap(name, context)[pool]
        years = facts.year[rows]
        ok = ~np.isnan(years)
        if ok.any():
            mean_year = float(np.average(years[ok], weights=w[ok]))
            x[:, 18] = np.abs(facts.year[pool] - mean_year)
        else:
            x[:, 18] = np.nan
        x[:, 22] = float(w.max())
    else:
        x[:, 18] = np.nan
    if neg:
        x[:, 13] = np.asarray(model.item_item[np.ix_([r for r, _ in neg], pool)], np.float32).T @ \
            np.array([w for _, w in neg], np.float32)
    x[:, 17] = facts.year[pool]
    x[:, 19] = np.diff(facts.genres.indptr)[pool]
    x[:, 20] = len(pos)
    x[:, 21] = len(word_rows)
    total = np.abs(it) + np.abs(f.words * wo) + 1e-6
    x[:, 23] = f.words * wo / total
    return pool, x, hybrid


class PoolRanker:
    """A trained lambdarank model over :data:`FEATURES`: one LightGBM booster or the mean of
    several (a seed ensemble), each kept as text."""

    def __init__(self, model_text: str | Sequence[str], pool_size: int, meta: Mapping | None = None) -> None:
        import lightgbm as lgb

        self.model_texts = [model_text] if isinstance(model_text, str) else [str(t) for t in model_text]
        if not self.model_texts:
            raise ValueError("a pool ranker needs at least one LightGBM model")
        self.pool_size = int(pool_size)
        self.meta = dict(meta or {})
        self.boosters = [lgb.Booster(model_str=text) for text in self.model_texts]

    def predict(self, features: np.ndarray) -> np.ndarray:
        """The mean score of the boosters (one booster: its score)."""
        if not len(features):
            return np.zeros(0, np.float64)
        return np.mean([booster.predict(features, num_threads=1) for booster in self.boosters], axis=0)

    def rerank(self, model: "CollaborativeModel", facts: MovieFacts, weights: Mapping[str, float],
               words: Sequence[str]) -> np.ndarray:
        """The hybrid score vector with the pool reordered by the ranker.

        The pool's own hybrid scores are handed back in the ranker's order (the best
        pool score goes to the ranker's first movie, and so on), so the vector keeps the
        hybrid score's scale for callers that mix it with other signals; movies outside
        the pool keep their hybrid score.
        """
        pool, x, hybrid = pool_features(model, facts, weights, words, self.pool_size)
        if len(pool) < 2:
            return hybrid
        order = np.argsort(-self.predict(x), kind="stable")
        values = hybrid[pool].astype(np.float64)  # sorted best first
        # strictly decreasing, so that no tie (equal hybrid scores) can undo the ranker's order
        step = 1e-7 * max(abs(values[0]), 1e-12)
        values = np.minimum.accumulate(values - step * np.arange(len(values)))
        out = hybrid.astype(np.float64)
        out[pool[order]] = values
        return out
