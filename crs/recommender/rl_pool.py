"""Training contexts for the RAR feedback loop (:mod:`crs.recommender.rl`).

A context is one recommendation turn of a *training* dialogue, scored by a model that
did not see that dialogue: the blocks are refitted on the reduced-QA dialogues only and
score the 1,270 official-format training dialogues (the split the fusion fit uses, see
:mod:`crs.recommender.collaborative_training`). Scoring a dialogue with blocks fitted on
it would reward trusting the co-mention block far too much. No valid or test file is read.

Each context keeps a candidate pool (the retriever's best ``pool_size`` movies under the
starting weights, context movies excluded as in the dedup protocol) and, for every pool
movie, the six parts of the hybrid score that the fusion weights mix:

``score = seeker * (I_s + content * C_s) + recommender * (I_r + content * C_r)
+ words * W + popularity * log(1 + mentions)``

where ``I_s``/``I_r`` are the EASE votes of the seeker's / recommender's mentions
(recency-decayed), ``C_s``/``C_r`` the metadata-neighbour votes of the same mentions and
``W`` the word block. This is exactly :class:`crs.evaluation.rankers.HybridRanker`'s score
written so that every fusion weight can be differentiated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from crs.datasets import Catalogue, EvalSample, Role, dialogue_samples, load_redial_catalogue
from crs.recommender.collaborative import CollaborativeModel, Fusion
from crs.recommender.collaborative_training import fit_blocks, utterance_words
from crs.recommender.grounded import conversation_text

#: Columns of :attr:`PoolContext.parts`.
PARTS = ("item_seeker", "item_recommender", "content_seeker", "content_recommender", "words", "popularity")


@dataclass(frozen=True)
class PoolContext:
    """One training recommendation turn and its candidate pool.

    Attributes:
        key: ``dialog_id:turn:target`` (for logs and the LLM cache).
        pool: Catalogue rows of the candidates, best first under the starting weights.
        parts: float32 (len(pool), 6): the score parts of each candidate (see :data:`PARTS`).
        target: Position of the ground-truth movie in ``pool``; -1 when it is not in it.
        text: The conversation before the turn, for an LLM ranker.
    """

    key: str
    pool: np.ndarray
    parts: np.ndarray
    target: int
    text: str


def role_weights(sample: EvalSample, decay: float) -> tuple[dict[str, float], dict[str, float]]:
    """(seeker, recommender) mention weights: ``decay ** messages since the mention``, summed."""
    last = len(sample.context) - 1
    seeker: dict[str, float] = {}
    recommender: dict[str, float] = {}
    for m in sample.mentions:
        side = seeker if m.role is Role.SEEKER else recommender
        side[m.item_id] = side.get(m.item_id, 0.0) + decay ** max(last - m.position, 0)
    return seeker, recommender


def score_parts(model: CollaborativeModel, sample: EvalSample, decay: float, labels: Mapping[str, str]) -> np.ndarray:
    """float32 (n_items, 6): the :data:`PARTS` of every catalogue movie for ``sample``."""
    seeker, recommender = role_weights(sample, decay)
    return np.stack([model.item_vector(seeker), model.item_vector(recommender),
                     model.content_vector(seeker), model.content_vector(recommender),
                     model.word_vector(utterance_words(sample.context, labels)), model.log_popularity], axis=1)


def fused(parts: np.ndarray, fusion: Fusion) -> np.ndarray:
    """The hybrid score of each row of ``parts`` (last axis = :data:`PARTS`) under ``fusion``."""
    return (fusion.seeker * (parts[..., 0] + fusion.content * parts[..., 2])
            + fusion.recommender * (parts[..., 1] + fusion.content * parts[..., 3])
            + fusion.words * parts[..., 4] + fusion.popularity * parts[..., 5])


def build_context(model: CollaborativeModel, sample: EvalSample, fusion: Fusion, labels: Mapping[str, str],
                  pool_size: int) -> PoolContext:
    """Score ``sample`` and keep its best ``pool_size`` candidates (context movies excluded)."""
    parts = score_parts(model, sample, fusion.decay, labels)
    scores = fused(parts, fusion).astype(np.float64)
    banned = [model.row[i] for i in sample.mentioned_ids if i in model.row]
    scores[banned] = -np.inf
    n = min(pool_size, len(scores) - len(banned))
    pool = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
    pool = pool[np.argsort(-scores[pool], kind="stable")]
    target = -1
    if sample.target is not None and sample.target in model.row:
        hit = np.flatnonzero(pool == model.row[sample.target])
        target = int(hit[0]) if len(hit) else -1
    return PoolContext(f"{sample.dialog_id}:{sample.turn}:{sample.target}", pool.astype(np.int32),
                       parts[pool].astype(np.float32), target, conversation_text(sample.context))


def held_out_model(data_dir: Path, base: CollaborativeModel, catalogue: Catalogue, limit: int | None = None,
                   progress: bool = False) -> tuple[CollaborativeModel, list[EvalSample]]:
    """Blocks fitted on the reduced-QA dialogues only (the fusion fit's held-out model), and the
    samples of the official-format training dialogues they score (new targets only, as in the
    dedup protocol). The files are those ``base`` records."""
    from crs.recommender.training_data import TRAIN_ONLY_FILES, load_training_set, recorded_files

    files = recorded_files(base.meta) or TRAIN_ONLY_FILES
    training = load_training_set(data_dir, catalogue, files, limit, progress)
    full, reduced = training.fit, training.fusion_model_dialogues
    model = fit_blocks(reduced, catalogue, float(base.meta.get("lambda", 200.0)), int(base.meta.get("min_df", 10)),
                       base.content_item, float(base.meta.get("word_lambda", 200.0)))
    samples = [s for d in full for s in dialogue_samples(d, catalogue) if not s.repeated and s.target is not None]
    return model, samples


def build_contexts(data_dir: Path, base: CollaborativeModel, fusion: Fusion, pool_size: int = 200,
                   samples: int | None = None, limit: int | None = None, seed: int = 0,
                   progress: bool = True) -> list[PoolContext]:
    """The training contexts of the RL loop (see the module docstring).

    Args:
        data_dir: The shared data folder.
        base: The trained model (its hyper-parameters and metadata block are reused).
        fusion: The starting weights (they choose each pool).
        pool_size: Candidates kept per context.
        samples: Keep this many contexts (a seeded random subset); None keeps all.
        limit: Read only the first ``limit`` dialogues of each training file (tests).
        seed: Seed of the subset.
        progress: Show progress bars.
    """
    catalogue = load_redial_catalogue(data_dir)
    if catalogue.ids != base.item_ids:
        raise ValueError("the base model was trained on another ReDial catalogue; retrain with `crs train retriever`")
    labels = dict(zip(catalogue.ids, catalogue.labels))
    steps = tqdm(total=2, desc="fitting held-out blocks", disable=not progress, leave=False)
    model, chosen = held_out_model(data_dir, base, catalogue, limit, progress)
    steps.update(2)
    steps.close()
    if samples is not None and samples < len(chosen):
        keep = sorted(np.random.default_rng(seed).choice(len(chosen), samples, replace=False))
        chosen = [chosen[i] for i in keep]
    return [build_context(model, s, fusion, labels, pool_size)
            for s in tqdm(chosen, desc="scoring training contexts", disable=not progress, unit="ctx")]


def pool_recall(contexts: Sequence[PoolContext], fusion: Fusion, ks: Sequence[int] = (1, 10, 50)) -> dict[str, float]:
    """Recall@k of the ground truth when each pool is ranked by ``fusion`` (a target
    outside the pool is a miss): how the weights do on the training contexts."""
    hits = dict.fromkeys(ks, 0)
    for c in contexts:
        if c.target < 0:
            continue
        scores = fused(c.parts.astype(np.float64), fusion)
        t = c.target
        rank = 1 + np.count_nonzero(scores > scores[t]) + np.count_nonzero(scores[:t] == scores[t])
        for k in ks:
            hits[k] += rank <= k
    n = max(len(contexts), 1)
    return {f"recall@{k}": round(hits[k] / n, 4) for k in ks}
