"""The learned collaborative signal: which movies go with the movies and words of a chat.

Two closed-form blocks learned from the ReDial *training* dialogues (one row per
dialogue: its mentioned movies and the content words of its messages):

* ``item_item`` (n x n): movie -> movie EASE weights (Steck 2019, B = I - P/diag(P)).
* ``word_item`` (V x n): word -> movie ridge weights, so a wish such as "scary" or
  "animated" points at the movies people talked about after saying it.

plus ``content_item`` (sparse, top 200 per movie): TF-IDF cosine of the movies'
genres, people and plot words, which reaches movies the dialogues rarely mention.

A call is a sparse weighted sum of rows, so scoring the whole catalogue costs well
under a millisecond. Matrices are stored as float16 on disk (half the size) and held as
float32 in memory (no conversion per call).

A second stage (:mod:`crs.recommender.ltr`, optional) reorders the hybrid score's best
few hundred movies with a learned ranker over per-candidate features (block scores and
ranks, strongest link to a context movie, genre / people / decade overlap, year), using
the movie metadata stored in ``facts``. :meth:`CollaborativeModel.score` (the app) and
:meth:`CollaborativeModel.rank_vector` (``crs evaluate``) both apply it.

The artefact is ``collab-v2.npz`` plus ``collab-v2.json`` (version, lambda, fusion
weights, ranker settings, training-data fingerprint, date).

Use :func:`train` (or ``crs train retriever``) to build it and
:meth:`CollaborativeModel.load` to read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from crs.recommender.ltr import MovieFacts, PoolRanker
    from crs.settings import Settings

ARTEFACT_VERSION = 2
#: Version 1 is version 2 without the pool ranker; it still loads (stage 1 only).
READABLE_VERSIONS = (1, 2)
ARTEFACT_NAME = f"collab-v{ARTEFACT_VERSION}.npz"

_TOKEN = re.compile(r"[a-z][a-z'\-]*[a-z]")
STOPWORDS = frozenset("""
a an the and or but if of to in on at for with about from by as is are was were be been being am
i me my you your he she it its we they them this that these those do does did have has had not no yes
so very just really like love liked loved movie movies film films good great one ones some any what
which who how hi hello hey thanks thank bye ok okay oh well too also there their then than can could
would will should watch watched watching seen see think know maybe more most much all lot lots get got
kind type sure want looking look something anything recommend recommendation recommendations suggest
suggestions other another into out up down over again still even ever never only such here when where
why because im ive dont didnt youre thats cant wont isnt havent doesnt ill youve theyre
""".split())


def tokenize(text: str) -> list[str]:
    """Lower-case content words (3+ letters, no stopwords), in order.

    The same function reads training dialogues and live messages, so learned word
    weights mean the same thing in both places.
    """
    words = (w.replace("'", "") for w in _TOKEN.findall(text.lower()))
    return [w for w in words if len(w) > 2 and w not in STOPWORDS]


def strip_titles(text: str, titles: Iterable[str]) -> str:
    """Remove movie titles (with and without "(Year)") so words carry wishes, not names."""
    for title in titles:
        if title:
            text = text.replace(title, " ")
            bare = re.sub(r"\s*\(\d{4}\)\s*$", "", title)
            if len(bare) > 3:
                text = text.replace(bare, " ")
    return text


def fit_ease(gram: np.ndarray, lam: float, n_targets: int) -> np.ndarray:
    """Closed-form EASE on a Gram matrix ``X^T X``.

    Args:
        gram: (m, m) co-occurrence matrix; columns with no occurrence are skipped
            (their rows stay zero), which also keeps the inversion small.
        lam: L2 strength (larger = smoother, more popularity-like).
        n_targets: Only the first ``n_targets`` columns (the items) are returned.

    Returns:
        float32 (m, n_targets): row j = how feature j votes for each item.
    """
    m = gram.shape[0]
    active = np.flatnonzero(np.diag(gram) > 0)
    g = gram[np.ix_(active, active)].astype(np.float64)
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)
    b[np.diag_indices_from(b)] = 0.0
    targets = active < n_targets
    out = np.zeros((m, n_targets), np.float32)
    out[np.ix_(active, active[targets])] = b[:, targets]
    return out


@dataclass(frozen=True)
class Fusion:
    """How the hybrid score mixes its parts (fitted on training data, stored in the meta).

    Attributes:
        words: Weight of the word -> movie block.
        content: Weight of the metadata (genres, people, plot words) movie -> movie block.
        popularity: Weight of log(1 + training mentions).
        decay: Per-message recency decay of a mention (1.0 = no decay).
        seeker / recommender: Weight of a mention by each speaker.
    """

    words: float = 0.4
    content: float = 0.0
    popularity: float = 0.001
    decay: float = 0.9
    seeker: float = 1.0
    recommender: float = 1.0


@dataclass
class CollaborativeModel:
    """Learned movie -> movie and word -> movie weights over ``item_ids``.

    Score vectors are numpy float32 arrays aligned with ``item_ids`` (row i = item_ids[i]).
    """

    item_ids: tuple[str, ...]
    item_item: np.ndarray
    vocabulary: tuple[str, ...]
    word_item: np.ndarray
    popularity: np.ndarray
    content_item: sp.csr_matrix | None = None
    fusion: Fusion = field(default_factory=Fusion)
    ease_fusion: Fusion = field(default_factory=lambda: Fusion(words=0.0))
    meta: dict[str, Any] = field(default_factory=dict)
    facts: "MovieFacts | None" = None
    ranker: "PoolRanker | None" = None

    def __post_init__(self) -> None:
        self.row = {item: i for i, item in enumerate(self.item_ids)}
        self.word_row = {w: i for i, w in enumerate(self.vocabulary)}
        self.log_popularity = np.log1p(self.popularity).astype(np.float32)

    def item_vector(self, weights: Mapping[str, float]) -> np.ndarray:
        """Sum of ``weight * item_item[movie]`` over known movie ids (unknown ids ignored).

        The app passes liked movies with weight ~1.0 (recent ones higher) and disliked
        ones negative; returns a float32 vector over ``item_ids``.
        """
        rows = [(self.row[k], float(w)) for k, w in weights.items() if k in self.row and w]
        if not rows:
            return np.zeros(len(self.item_ids), np.float32)
        idx, w = zip(*rows)
        return np.asarray(w, np.float32) @ np.asarray(self.item_item[list(idx)], np.float32)

    def content_vector(self, weights: Mapping[str, float]) -> np.ndarray:
        """Like :meth:`item_vector` on the metadata-similarity block (zeros when absent)."""
        rows = [(self.row[k], float(w)) for k, w in weights.items() if k in self.row and w]
        if not rows or self.content_item is None:
            return np.zeros(len(self.item_ids), np.float32)
        idx, w = zip(*rows)
        return np.asarray(self.content_item[list(idx)].T @ np.asarray(w, np.float32), np.float32).ravel()

    def word_vector(self, words: Iterable[str]) -> np.ndarray:
        """Sum of ``word_item`` rows of the distinct known ``words`` (see :func:`tokenize`)."""
        idx = sorted({self.word_row[w] for w in words if w in self.word_row})
        if not idx:
            return np.zeros(len(self.item_ids), np.float32)
        return np.asarray(self.word_item[idx], np.float32).sum(axis=0)

    def score_vector(self, weights: Mapping[str, float], text: str = "", prior: bool = True) -> np.ndarray:
        """The hybrid score over ``item_ids``: movies + ``fusion.content`` x metadata
        neighbours + ``fusion.words`` x words of ``text`` + ``fusion.popularity`` x
        log-popularity (when ``prior``)."""
        scores = self.item_vector(weights)
        if self.fusion.content:
            scores = scores + self.fusion.content * self.content_vector(weights)
        if text:
            scores = scores + self.fusion.words * self.word_vector(tokenize(text))
        if prior:
            scores = scores + self.fusion.popularity * self.log_popularity
        return scores

    def rank_vector(self, weights: Mapping[str, float], words: Iterable[str]) -> np.ndarray:
        """The final score over ``item_ids``: the hybrid score, with its best
        ``ranker.pool_size`` movies (context movies excluded) reordered by the pool ranker
        when the model has one. ``words`` are the context's content words
        (:func:`tokenize`, titles removed)."""
        words = list(words)
        if self.ranker is not None and self.facts is not None:
            return self.ranker.rerank(self, self.facts, weights, words)
        scores = self.item_vector(weights) + self.fusion.popularity * self.log_popularity
        if self.fusion.content:
            scores = scores + self.fusion.content * self.content_vector(weights)
        if words and self.fusion.words:
            scores = scores + self.fusion.words * self.word_vector(words)
        return scores

    def score(self, weights: Mapping[str, float], text: str = "", k: int | None = None) -> dict[str, float]:
        """``{movie id: score}`` for the best ``k`` (all when None), best first: the
        score of :meth:`rank_vector` on the words of ``text``."""
        scores = self.rank_vector(weights, tokenize(text) if text else ())
        order = np.argsort(-scores, kind="stable")
        if k is not None:
            order = order[:k]
        return {self.item_ids[i]: float(scores[i]) for i in order}

    def save(self, path: Path) -> Path:
        """Write ``path`` (.npz) and its meta ``path.with_suffix('.json')``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {**self.meta, "version": ARTEFACT_VERSION, "fusion": asdict(self.fusion),
                "ease_fusion": asdict(self.ease_fusion), "n_items": len(self.item_ids),
                "n_words": len(self.vocabulary)}
        content = self.content_item if self.content_item is not None else sp.csr_matrix((len(self.item_ids),) * 2)
        content = sp.csr_matrix(content, dtype=np.float32)
        extra: dict[str, np.ndarray] = self.facts.arrays() if self.facts is not None else {}
        meta.pop("ranker", None)
        if self.ranker is not None:
            meta["ranker"] = {**self.ranker.meta, "pool_size": self.ranker.pool_size}
            extra["ranker_model"] = np.array(self.ranker.model_texts)  # one string per booster
        with path.open("wb") as fh:
            np.savez(fh, item_ids=np.array(self.item_ids), vocabulary=np.array(self.vocabulary),
                     item_item=self.item_item.astype(np.float16), word_item=self.word_item.astype(np.float16),
                     popularity=self.popularity.astype(np.float32), content_data=content.data,
                     content_indices=content.indices, content_indptr=content.indptr, **extra)
        path.with_suffix(".json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        self.meta = meta
        return path

    @classmethod
    def load(cls, path: Path) -> "CollaborativeModel":
        """Read an artefact written by :meth:`save`.

        Raises:
            FileNotFoundError: no artefact (run ``crs train retriever``).
            ValueError: written by another artefact version.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no collaborative model at {path}; run `crs train retriever`")
        meta_path = path.with_suffix(".json")
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        if meta.get("version") not in READABLE_VERSIONS:
            raise ValueError(f"{path}: artefact version {meta.get('version')!r}, expected {ARTEFACT_VERSION}; "
                             "retrain with `crs train retriever`")
        with np.load(path, allow_pickle=False) as data:
            n = len(data["item_ids"])
            content = sp.csr_matrix((data["content_data"], data["content_indices"], data["content_indptr"]),
                                    shape=(n, n))
            facts = ranker = None
            if "facts_year" in data.files:
                from crs.recommender.ltr import MovieFacts

                facts = MovieFacts.from_arrays(data)
            if "ranker_model" in data.files:
                from crs.recommender.ltr import PoolRanker

                info = meta.get("ranker", {})
                # one string per booster; older artefacts hold one booster as a 0-d array
                texts = [str(t) for t in np.atleast_1d(data["ranker_model"])]
                ranker = PoolRanker(texts, int(info.get("pool_size", 300)), info)
            # float16 on disk, float32 in memory: rows are then summed without a conversion per call
            return cls(tuple(str(x) for x in data["item_ids"]), np.asarray(data["item_item"], np.float32),
                       tuple(str(x) for x in data["vocabulary"]), np.asarray(data["word_item"], np.float32),
                       data["popularity"],
                       content, Fusion(**meta.get("fusion", {})), Fusion(**meta.get("ease_fusion", {"words": 0.0})),
                       meta, facts, ranker)


def artefact_path(settings: "Settings") -> Path:
    """The artefact the settings name (``retriever_model``): a path, or a file name under
    ``artifacts_dir``. The app and ``crs evaluate`` load this one, so switching to a
    retrained or RL-tuned artefact is a setting (``CRS_RETRIEVER_MODEL``), not a code change."""
    name = Path(getattr(settings, "retriever_model", None) or ARTEFACT_NAME)
    return name if name.is_absolute() or len(name.parts) > 1 else Path(settings.artifacts_dir) / name


def train(settings: "Settings", progress: bool = True, out: Path | None = None) -> Path:
    """Train on the ReDial training files under ``settings.data_dir`` and save the artefact.

    Returns:
        The path of the written artefact (default ``ARTIFACTS_DIR/collab-v2.npz``).
    """
    from crs.recommender.collaborative_training import build_model, built_store

    model = build_model(settings.data_dir, progress=progress, store_dir=built_store(settings.store_dir))
    return model.save(Path(out) if out else Path(settings.artifacts_dir) / ARTEFACT_NAME)
