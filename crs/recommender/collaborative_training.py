"""Training of :class:`~crs.recommender.collaborative.CollaborativeModel` on ReDial train files.

Rows are training dialogues (``train_dialogues.jsonl`` + the dialogues of
``train_reduced_qa.json.zip`` that are not already in it + ``valid_dialogues.jsonl``, a slice of
the official train split, unless held out; which files, and the record of them the artefact
keeps: :mod:`crs.recommender.training_data`);
columns are mentioned movies (1.0, or the speaker weight) and the content words of the
dialogue; a metadata similarity block comes from :mod:`collaborative_content`.
Fusion weights (words, content, popularity prior, recency decay) are fitted
honestly: a model trained on the reduced QA dialogues alone scores the samples of the
1,270 official-format training dialogues, the grid point with the best R@10 + R@50
(dedup) wins, and the final model is then trained on everything. The pool ranker
(:mod:`crs.recommender.ltr`) is then fitted on cross-fitted pools of all training
dialogues (:mod:`crs.recommender.ltr_training`). No test file is read here, and valid only
as training data of the shipped model (valid chose the hyperparameters: lambdas, the fusion grid,
offline and documented in docs/results.md; training never reads it to choose anything).
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from crs.datasets import Catalogue, Dialogue, EvalSample, Role, Utterance, dialogue_samples
from crs.datasets import load_redial_catalogue
from crs.recommender.collaborative import CollaborativeModel, Fusion, fit_ease, strip_titles, tokenize
from crs.recommender.collaborative_content import DENSE_SHIFT, DENSE_WEIGHT, INFO_FILE, KEYWORD_FILES
from crs.recommender.collaborative_content import content_similarity, store_vectors
from crs.recommender.training_data import (  # noqa: F401  (drop_duplicates: re-exported)
    SHIPPED_FILES,
    TRAIN_ONLY_FILES,
    Exclusion,
    TrainingSet,
    drop_duplicates,
    file_sha256,
    load_training_set,
)

DEFAULT_LAMBDA = 200.0  # chosen on valid (EVALUATION.md reference; 50..500 within .005 R@10)
DEFAULT_WORD_LAMBDA = 200.0  # chosen on valid (50..1000 tried)
DEFAULT_MIN_DF = 10
#: The two train files (valid held out); ``build_model`` defaults to ``SHIPPED_FILES`` (+ valid).
TRAIN_FILES = TRAIN_ONLY_FILES
#: The fusion weights are learned on train (:func:`fit_fusion`) over this grid; the grid itself was
#: tuned on valid, like the lambdas. On train the metadata block's weights .05 and .1 tie (R@10 + R@50
#: .7888 against .7892, 2 of 4,540 samples), and on valid .1 gives fewer targets in the ranker's pool
#: (.665 against .673) and a lower stage-1 R@50 (.492 against .496), so the content axis stops at .05
#: (docs/experiments-pool.md, "Adopting the metadata block").
FUSION_GRID = {"words": (0.0, 0.15, 0.3, 0.5), "content": (0.0, 0.02, 0.05),
               "popularity": (0.0005, 0.001, 0.003), "decay": (0.7, 0.9, 1.0)}


def utterance_words(utterances: Iterable[Utterance], labels: Mapping[str, str]) -> list[str]:
    """Content words of ``utterances``, with the titles of their own mentions removed."""
    words: list[str] = []
    for u in utterances:
        words += tokenize(strip_titles(u.text, (labels.get(i, "") for i in u.item_ids)))
    return words


def mention_weights(sample: EvalSample, fusion: Fusion) -> dict[str, float]:
    """Context mentions -> weight: speaker weight x decay ** (messages since the mention)."""
    last = len(sample.context) - 1
    weights: dict[str, float] = {}
    for m in sample.mentions:
        role = fusion.seeker if m.role is Role.SEEKER else fusion.recommender
        weights[m.item_id] = weights.get(m.item_id, 0.0) + role * fusion.decay ** max(last - m.position, 0)
    return weights


def fingerprint(paths: Sequence[Path]) -> str:
    """sha256 of the training files (names + bytes): tells a stale artefact from a fresh one."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


def data_fingerprint(data_dir: Path, files: Sequence[str] = TRAIN_FILES) -> str:
    """The fingerprint of everything a model is trained on (``files`` + the movie metadata)."""
    return fingerprint([Path(data_dir) / f for f in (*files, INFO_FILE)])


def load_training_dialogues(data_dir: Path, catalogue: Catalogue, limit: int | None = None,
                            progress: bool = False, files: Sequence[str] = TRAIN_FILES
                            ) -> tuple[list[Dialogue], list[Dialogue]]:
    """(fusion-fit dialogues: the official-format train file, every other training dialogue),
    each file cut to ``limit``; see :func:`~crs.recommender.training_data.load_training_set`."""
    training = load_training_set(data_dir, catalogue, files, limit, progress)
    return training.fit, training.rest


def fit_blocks(dialogues: Sequence[Dialogue], catalogue: Catalogue, lam: float = DEFAULT_LAMBDA,
               min_df: int = DEFAULT_MIN_DF, content: sp.csr_matrix | None = None,
               word_lam: float = DEFAULT_WORD_LAMBDA) -> CollaborativeModel:
    """Fit the two learned blocks on ``dialogues`` (fusion left at its defaults).

    ``item_item`` is EASE on the movie columns; ``word_item`` is a ridge regression of a
    dialogue's movies on its words, (Xw^T Xw + word_lam I)^-1 Xw^T Xi. On valid this pair
    beat a joint EASE over [movies | words] (R@50 .467 vs .447) and trains faster.
    """
    labels = dict(zip(catalogue.ids, catalogue.labels))
    docs = [set(utterance_words(d.utterances, labels)) for d in dialogues]
    df = Counter(w for doc in docs for w in doc)
    vocabulary = tuple(sorted(w for w, c in df.items() if c >= min_df))
    word_col = {w: j for j, w in enumerate(vocabulary)}
    item_rows: list[int] = []
    item_cols: list[int] = []
    word_rows: list[int] = []
    word_cols: list[int] = []
    for r, (dialogue, doc) in enumerate(zip(dialogues, docs)):
        items = {catalogue.row[i] for u in dialogue.utterances for i in u.item_ids if i in catalogue.row}
        words = {word_col[w] for w in doc if w in word_col}
        item_rows += [r] * len(items)
        item_cols += items
        word_rows += [r] * len(words)
        word_cols += words
    shape = (len(dialogues), len(catalogue))
    xi = sp.csr_matrix((np.ones(len(item_rows), np.float32), (item_rows, item_cols)), shape=shape)
    xw = sp.csr_matrix((np.ones(len(word_rows), np.float32), (word_rows, word_cols)),
                       shape=(len(dialogues), len(vocabulary)))
    item_item = fit_ease((xi.T @ xi).toarray(), lam, len(catalogue))
    gram_words = (xw.T @ xw).toarray().astype(np.float64)
    gram_words[np.diag_indices_from(gram_words)] += word_lam
    word_item = np.linalg.solve(gram_words, (xw.T @ xi).toarray()).astype(np.float32) if vocabulary else \
        np.zeros((0, len(catalogue)), np.float32)
    popularity = np.asarray(xi.sum(axis=0)).ravel().astype(np.float32)
    return CollaborativeModel(catalogue.ids, item_item, vocabulary, word_item, popularity, content,
                              meta={"lambda": lam, "word_lambda": word_lam, "min_df": min_df,
                                    "train_rows": len(dialogues)})


def dedup_ranks(model: CollaborativeModel, samples: Sequence[EvalSample], decay: float,
                mixes: Sequence[tuple[float, float, float]], labels: Mapping[str, str]) -> np.ndarray:
    """Ranks of each target under each ``(words, content, popularity)`` mix, dedup protocol.

    Returns:
        int array (len(mixes), len(samples)): 1-based rank, 0 for a target outside the
        catalogue (a miss). The parts are computed once per sample.
    """
    ranks = np.zeros((len(mixes), len(samples)), np.int64)
    fusion = Fusion(decay=decay)
    for s_index, sample in enumerate(samples):
        if sample.target is None or sample.target not in model.row:
            continue
        weights = mention_weights(sample, fusion)
        items, content = model.item_vector(weights), model.content_vector(weights)
        words = model.word_vector(utterance_words(sample.context, labels))
        banned = [model.row[i] for i in sample.mentioned_ids if i in model.row]
        t = model.row[sample.target]
        for m_index, (w, c, p) in enumerate(mixes):
            scores = items + w * words + c * content + p * model.log_popularity
            scores[banned] = -np.inf
            ranks[m_index, s_index] = 1 + np.count_nonzero(scores > scores[t]) + np.count_nonzero(scores[:t] == scores[t])
    return ranks


def fit_fusion(model: CollaborativeModel, samples: Sequence[EvalSample], labels: Mapping[str, str],
               progress: bool = False) -> tuple[Fusion, Fusion, dict[str, dict[str, float]]]:
    """Grid-search :data:`FUSION_GRID` for the best R@10 + R@50 on ``samples`` (dedup).

    Returns:
        (hybrid fusion, EASE-only fusion (words = content = 0), their recalls on ``samples``).
    """
    samples = [s for s in samples if not s.repeated]
    mixes = list(itertools.product(FUSION_GRID["words"], FUSION_GRID["content"], FUSION_GRID["popularity"]))
    best: dict[str, tuple[float, Fusion, dict[str, float]]] = {}
    for decay in tqdm(FUSION_GRID["decay"], desc="fitting fusion weights", disable=not progress, leave=False):
        ranks = dedup_ranks(model, samples, decay, mixes, labels)
        for (words, content, popularity), row in zip(mixes, ranks):
            hit = {k: float(np.mean((row > 0) & (row <= k))) for k in (1, 10, 50)}
            objective = hit[10] + hit[50]
            fusion = Fusion(words=words, content=content, popularity=popularity, decay=decay)
            report = {f"recall@{k}": round(v, 4) for k, v in hit.items()}
            kinds = ["hybrid", "ease"] if words == content == 0 else ["hybrid"]
            for kind in kinds:
                if kind not in best or objective > best[kind][0]:
                    best[kind] = (objective, fusion, report)
    return best["hybrid"][1], best["ease"][1], {kind: value[2] for kind, value in best.items()}


def built_store(store_dir: Path | None) -> Path | None:
    """``store_dir`` when a movie store has been built there (``crs corpus build``), else None."""
    return Path(store_dir) if store_dir is not None and (Path(store_dir) / "manifest.json").exists() else None


def content_record(data_dir: Path, store_dir: Path | None, vectors: np.ndarray | None) -> dict:
    """What the metadata block was built from: keyword files (sha256) and the dense part (None: not used)."""
    keywords = {f: file_sha256(Path(data_dir) / f) for f in KEYWORD_FILES if (Path(data_dir) / f).exists()}
    dense = None
    if store_dir is not None and vectors is not None:
        from crs.catalog.store_files import read_manifest

        manifest = read_manifest(store_dir) or {}
        dense = {"store": str(store_dir), "store_fingerprint": manifest.get("fingerprint"),
                 "model": manifest.get("model"), "shift": DENSE_SHIFT, "weight": DENSE_WEIGHT,
                 "movies_with_vector": int(np.count_nonzero(np.abs(vectors).sum(axis=1)))}
    return {"keywords": keywords, "dense": dense}


def build_model(data_dir: Path, lam: float = DEFAULT_LAMBDA, min_df: int = DEFAULT_MIN_DF,
                limit: int | None = None, fusion: Fusion | None = None, progress: bool = True,
                content_top_k: int = 200, ranker: bool = True, files: Sequence[str] = SHIPPED_FILES,
                exclude: Exclusion | None = None, training: TrainingSet | None = None,
                store_dir: Path | None = None) -> CollaborativeModel:
    """Train the ReDial collaborative model (and, unless ``fusion`` is given, fit its fusion).

    Args:
        data_dir: The shared data folder (``redial/`` inside).
        lam / min_df: EASE strength and the minimum dialogue count of a word.
        limit: Use only the first ``limit`` dialogues of each training file (tests).
        fusion: Fixed fusion weights; None fits them on the official-format train dialogues.
        progress: Show progress bars.
        content_top_k: Metadata neighbours kept per movie.
        ranker: Also fit the second-stage pool ranker (cross-fitted; the longest step).
        files: The training files (default: the whole official train split we have, valid
            included; ``TRAIN_ONLY_FILES`` holds valid out).
        exclude: Dialogues never to train on (an evaluated file's).
        training: Dialogues already selected (overrides files / limit / exclude).
        store_dir: A built movie store (:func:`built_store`) whose sentence embeddings add dense
            neighbours to the metadata block; None for metadata alone (the artefact's
            ``content.dense`` says which).
    """
    start = time.perf_counter()
    catalogue = load_redial_catalogue(data_dir)
    labels = dict(zip(catalogue.ids, catalogue.labels))
    training = training or load_training_set(data_dir, catalogue, files, limit, progress, exclude)
    full, reduced = training.fit, training.rest
    vectors = store_vectors(store_dir, catalogue.ids) if store_dir is not None else None
    content = content_similarity(data_dir, catalogue.ids, content_top_k, vectors)
    fit_report: dict[str, dict[str, float]] = {}
    ease_fusion = Fusion(words=0.0, popularity=fusion.popularity, decay=fusion.decay) if fusion else None
    steps = tqdm(total=1 if fusion else 2, desc="training collaborative model", disable=not progress)
    if fusion is None:
        held_out_model = fit_blocks(training.fusion_model_dialogues, catalogue, lam, min_df, content)
        fit_samples = [s for d in full for s in dialogue_samples(d, catalogue)]
        fusion, ease_fusion, fit_report = fit_fusion(held_out_model, fit_samples, labels, progress)
        steps.update(1)
    model = fit_blocks(full + reduced, catalogue, lam, min_df, content)
    steps.update(1)
    steps.close()
    model.fusion = fusion
    model.ease_fusion = ease_fusion
    if ranker:
        from crs.recommender.ltr import MovieFacts
        from crs.recommender.ltr_training import fit_ranker, held_out_pools

        model.facts = MovieFacts.load(data_dir, catalogue.ids)
        pools = held_out_pools(full + reduced, catalogue, fusion, model.facts,
                               lambda rows: fit_blocks(rows, catalogue, lam, min_df, content), progress=progress)
        model.ranker = fit_ranker(pools, progress=progress)
    model.meta.update({
        "fingerprint": data_fingerprint(data_dir, [f["name"] for f in training.files]),
        "info_sha256": file_sha256(Path(data_dir) / INFO_FILE), "training": training.record(),
        "limit": limit, "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "fusion_fit": {"on": next(f["name"] for f in training.files if f["role"].startswith("fusion")),
                       "model_trained_on": [f["name"] for f in training.files if f["role"].startswith("fusion held-out")],
                       "dedup": fit_report},
        "seconds": round(time.perf_counter() - start, 1), "catalogue": "redial/movies_with_mentions.csv",
        "content": content_record(data_dir, store_dir, vectors),
    })
    return model
