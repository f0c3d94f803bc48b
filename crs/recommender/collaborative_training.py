"""Training of :class:`~crs.recommender.collaborative.CollaborativeModel` on ReDial train files.

Rows are training dialogues (``train_dialogues.jsonl`` + the dialogues of
``train_reduced_qa.json.zip`` that are not already in it);
columns are mentioned movies (1.0, or the speaker weight) and the content words of the
dialogue. Fusion weights (word weight, popularity prior, recency decay) are fitted
honestly: a model trained on the other reduced QA dialogues alone scores the samples of the
1,270 official-format training dialogues, the grid point with the best R@10 + R@50
(dedup) wins, and the final model is then trained on everything. No valid or test
file is read here.
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
from crs.datasets import load_redial_catalogue, read_dialogues, read_reduced_qa
from crs.recommender.collaborative import CollaborativeModel, Fusion, fit_ease, strip_titles, tokenize

DEFAULT_LAMBDA = 200.0  # chosen on valid (EVALUATION.md reference; 50..500 within .005 R@10)
DEFAULT_MIN_DF = 10
TRAIN_FILES = ("redial/train_dialogues.jsonl", "redial/train_reduced_qa.json.zip")
FUSION_GRID = {"words": (0.0, 0.2, 0.4, 0.7), "popularity": (0.0005, 0.001, 0.003), "decay": (0.7, 0.9, 1.0)}


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


def load_training_dialogues(data_dir: Path, catalogue: Catalogue, limit: int | None = None,
                            progress: bool = False) -> tuple[list[Dialogue], list[Dialogue]]:
    """(official-format train dialogues, the other reduced-QA dialogues), each cut to ``limit``."""
    labels = dict(zip(catalogue.ids, catalogue.labels))
    full = list(itertools.islice(read_dialogues(Path(data_dir) / TRAIN_FILES[0]), limit))
    qa = read_reduced_qa(Path(data_dir) / TRAIN_FILES[1], labels)
    reduced = list(tqdm(itertools.islice(qa, limit), desc="reading train dialogues", disable=not progress, leave=False))
    return full, drop_duplicates(full, reduced)


def fit_blocks(dialogues: Sequence[Dialogue], catalogue: Catalogue, lam: float = DEFAULT_LAMBDA,
               min_df: int = DEFAULT_MIN_DF) -> CollaborativeModel:
    """One EASE over [movies | words] of ``dialogues``; fusion left at its defaults."""
    labels = dict(zip(catalogue.ids, catalogue.labels))
    n = len(catalogue)
    docs = [set(utterance_words(d.utterances, labels)) for d in dialogues]
    df = Counter(w for doc in docs for w in doc)
    vocabulary = tuple(sorted(w for w, c in df.items() if c >= min_df))
    word_col = {w: n + j for j, w in enumerate(vocabulary)}
    rows: list[int] = []
    cols: list[int] = []
    for r, (dialogue, doc) in enumerate(zip(dialogues, docs)):
        items = {catalogue.row[i] for u in dialogue.utterances for i in u.item_ids if i in catalogue.row}
        words = {word_col[w] for w in doc if w in word_col}
        rows += [r] * (len(items) + len(words))
        cols += [*items, *words]
    x = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(dialogues), n + len(vocabulary)))
    gram = (x.T @ x).toarray()
    blocks = fit_ease(gram, lam, n)
    popularity = np.asarray(x[:, :n].sum(axis=0)).ravel().astype(np.float32)
    return CollaborativeModel(catalogue.ids, blocks[:n], vocabulary, blocks[n:], popularity,
                              meta={"lambda": lam, "min_df": min_df, "train_rows": len(dialogues)})


def dedup_ranks(model: CollaborativeModel, samples: Sequence[EvalSample], decay: float,
                mixes: Sequence[tuple[float, float]], labels: Mapping[str, str]) -> np.ndarray:
    """Ranks of each target under each ``(words, popularity)`` mix, dedup protocol.

    Returns:
        int array (len(mixes), len(samples)): 1-based rank, 0 for a target outside the
        catalogue (a miss). Movie and word vectors are computed once per sample.
    """
    ranks = np.zeros((len(mixes), len(samples)), np.int64)
    fusion = Fusion(decay=decay)
    for s_index, sample in enumerate(samples):
        if sample.target is None or sample.target not in model.row:
            continue
        items = model.item_vector(mention_weights(sample, fusion))
        words = model.word_vector(utterance_words(sample.context, labels))
        banned = [model.row[i] for i in sample.mentioned_ids if i in model.row]
        t = model.row[sample.target]
        for m_index, (w, p) in enumerate(mixes):
            scores = items + w * words + p * model.log_popularity
            scores[banned] = -np.inf
            ranks[m_index, s_index] = 1 + np.count_nonzero(scores > scores[t]) + np.count_nonzero(scores[:t] == scores[t])
    return ranks


def fit_fusion(model: CollaborativeModel, samples: Sequence[EvalSample], labels: Mapping[str, str],
               progress: bool = False) -> tuple[Fusion, dict[str, float]]:
    """Grid-search :data:`FUSION_GRID` for the best R@10 + R@50 on ``samples`` (dedup)."""
    samples = [s for s in samples if not s.repeated]
    mixes = list(itertools.product(FUSION_GRID["words"], FUSION_GRID["popularity"]))
    best: tuple[float, Fusion, dict[str, float]] | None = None
    for decay in tqdm(FUSION_GRID["decay"], desc="fitting fusion weights", disable=not progress, leave=False):
        ranks = dedup_ranks(model, samples, decay, mixes, labels)
        for (words, popularity), row in zip(mixes, ranks):
            hit = {k: float(np.mean((row > 0) & (row <= k))) for k in (1, 10, 50)}
            objective = hit[10] + hit[50]
            if best is None or objective > best[0]:
                best = (objective, Fusion(words=words, popularity=popularity, decay=decay),
                        {f"recall@{k}": round(v, 4) for k, v in hit.items()})
    assert best is not None, "no fusion grid point"
    return best[1], best[2]


def build_model(data_dir: Path, lam: float = DEFAULT_LAMBDA, min_df: int = DEFAULT_MIN_DF,
                limit: int | None = None, fusion: Fusion | None = None, progress: bool = True) -> CollaborativeModel:
    """Train the ReDial collaborative model (and, unless ``fusion`` is given, fit its fusion).

    Args:
        data_dir: The shared data folder (``redial/`` inside).
        lam / min_df: EASE strength and the minimum dialogue count of a word.
        limit: Use only the first ``limit`` dialogues of each training file (tests).
        fusion: Fixed fusion weights; None fits them on the official-format train dialogues.
        progress: Show progress bars.
    """
    start = time.perf_counter()
    catalogue = load_redial_catalogue(data_dir)
    labels = dict(zip(catalogue.ids, catalogue.labels))
    full, reduced = load_training_dialogues(data_dir, catalogue, limit, progress)
    fit_report: dict[str, float] = {}
    if fusion is None:
        steps = tqdm(total=2, desc="training collaborative model", disable=not progress)
        held_out_model = fit_blocks(reduced, catalogue, lam, min_df)
        fit_samples = [s for d in full for s in dialogue_samples(d, catalogue)]
        fusion, fit_report = fit_fusion(held_out_model, fit_samples, labels, progress)
        steps.update(1)
    else:
        steps = tqdm(total=1, desc="training collaborative model", disable=not progress)
    model = fit_blocks(full + reduced, catalogue, lam, min_df)
    steps.update(1)
    steps.close()
    model.fusion = fusion
    model.meta.update({
        "fingerprint": fingerprint([Path(data_dir) / f for f in TRAIN_FILES]),
        "limit": limit, "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "fusion_fit": {"on": TRAIN_FILES[0], "model_trained_on": TRAIN_FILES[1], "dedup": fit_report},
        "seconds": round(time.perf_counter() - start, 1), "catalogue": "redial/movies_with_mentions.csv",
    })
    return model
