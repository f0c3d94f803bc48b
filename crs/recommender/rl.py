"""The RAR feedback loop (``crs train rl``): the ranker's preferences train the retriever.

RAR's third step: stage 1 (the retriever) proposes candidates, stage 2 (an LLM) judges
them, and the retriever is moved towards what the judge prefers. Here:

1. **Policy.** On each training context (:mod:`crs.recommender.rl_pool`) the retriever's
   distribution is a Plackett-Luce model over its candidate pool with logits
   ``score / temperature``, the score being the hybrid fusion of the six parts. The
   trainable weights are the :class:`~crs.recommender.collaborative.Fusion` fields
   ``words``, ``content``, ``popularity`` and ``recommender``. ``seeker`` stays 1, the
   unit of the score: otherwise the cheapest way to raise the expected reward is to
   scale every weight up (a sharper softmax), which changes no ranking. ``decay`` stays
   at its fitted value.
2. **Sampling.** Several ordered candidate sets are drawn per context (Gumbel top-k,
   i.e. sampling without replacement from the retriever's softmax).
3. **Judging.** A ranker orders the candidates. With the ``template`` backend there is no
   language model, so the judge is the **ground truth of the training dialogue** (the
   movie the recommender actually suggested ranks first): a supervised signal, and
   labelled as such in the artefact. With an ``openai`` backend the LLM ranks the most
   sampled candidates through :class:`~crs.recommender.grounded.GroundedRanker` (ids
   only; invented ones are discarded and counted), optionally plus the ground truth.
4. **Update.** Each set's reward is the DCG of the judge's relevance along the set's
   order; REINFORCE with a per-context leave-one-out baseline moves the weights towards
   the sets the judge ranked higher, and an L2 pull towards the starting weights (the
   role of RLHF's KL term) keeps the step small. Adam, in units of each weight's scale.

The result is saved as a new artefact (default ``collab-v2-rl.npz``: the base model's
blocks with the learned fusion and an ``rl`` record in its JSON); the base artefact is
kept, and ``settings.retriever_model`` chooses which one the app and ``crs evaluate`` load.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from crs.recommender.collaborative import CollaborativeModel, Fusion
from crs.recommender.rl_judges import Judge, LLMJudge, TruthJudge, make_judge
from crs.recommender.rl_pool import PoolContext, build_contexts, fused, pool_recall

__all__ = ["RLConfig", "LLMJudge", "TruthJudge", "make_judge", "train_policy", "train_rl"]

RL_ARTEFACT_NAME = "collab-v2-rl.npz"
#: Trainable fusion fields and the scale each one moves in (Adam steps are ~lr x scale).
PARAMS = ("words", "content", "popularity", "recommender")
SCALE_FLOOR = {"words": 0.1, "content": 0.02, "popularity": 0.0005, "recommender": 0.25}


@dataclass(frozen=True)
class RLConfig:
    """Settings of one ``crs train rl`` run.

    Attributes:
        samples: Training contexts to use (a seeded subset); None = all (~4,500).
        epochs: Passes over the contexts.
        set_size: Movies per sampled candidate set (stage 2's window).
        sets_per_context: Sets drawn per context per step (REINFORCE's group).
        pool_size: Candidates per context the policy samples from.
        temperature: Softmax temperature, relative to the spread (std) of each pool's
            starting scores.
        learning_rate: Adam step, in units of each weight's scale.
        l2: Pull towards the starting weights.
        batch_size: Contexts per update.
        llm_top: Candidates the LLM judge sees per context.
        signal: ``truth`` (ground truth only), ``llm`` (the LLM's order only), ``both``,
            or ``auto`` (truth for the template backend, both otherwise).
        seed: Seed of sampling and subsetting.
    """

    samples: int | None = None
    epochs: int = 3
    set_size: int = 20
    sets_per_context: int = 8
    pool_size: int = 200
    temperature: float = 0.5
    learning_rate: float = 0.05
    l2: float = 0.01
    batch_size: int = 64
    llm_top: int = 20
    signal: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.signal not in ("auto", "truth", "llm", "both"):
            raise ValueError(f"--signal must be auto, truth, llm or both, got {self.signal!r}")
        if self.set_size < 1 or self.set_size >= self.pool_size:
            raise ValueError(f"--set-size must be between 1 and pool_size - 1 ({self.pool_size - 1}), got {self.set_size}")
        if self.epochs < 1 or self.sets_per_context < 2 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1 and sets_per_context >= 2")
        if self.samples is not None and self.samples < 1:
            raise ValueError(f"--samples must be >= 1, got {self.samples}")


def sample_sets(logits: np.ndarray, set_size: int, n_sets: int, rng: np.random.Generator) -> np.ndarray:
    """Ordered sets drawn without replacement from softmax(logits): int (B, G, K) positions."""
    keys = logits[:, None, :] + rng.gumbel(size=(logits.shape[0], n_sets, logits.shape[1]))
    top = np.argpartition(-keys, set_size - 1, axis=2)[:, :, :set_size]
    order = np.argsort(-np.take_along_axis(keys, top, axis=2), axis=2)
    return np.take_along_axis(top, order, axis=2)


def log_prob_grad(logits: np.ndarray, jac: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """Gradient of log P(ordered set) under Plackett-Luce: float (B, G, P).

    Args:
        logits: (B, N) logits of the pool.
        jac: (B, N, P) derivative of each logit with respect to each parameter.
        sets: (B, G, K) sampled positions, in order.
    """
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    b_index = np.arange(logits.shape[0])[:, None, None]
    rest = np.ones((*sets.shape[:2], logits.shape[1]), bool)
    np.put_along_axis(rest, sets, False, axis=2)
    z_rest = np.einsum("bgn,bn->bg", rest, e)
    f_rest = np.einsum("bgn,bn,bnp->bgp", rest, e, jac)
    e_sel = e[b_index, sets]                                  # (B, G, K)
    j_sel = jac[b_index, sets]                                # (B, G, K, P)
    z = z_rest[..., None] + np.cumsum(e_sel[..., ::-1], axis=2)[..., ::-1]
    f = f_rest[:, :, None, :] + np.cumsum((e_sel[..., None] * j_sel)[:, :, ::-1], axis=2)[:, :, ::-1]
    return (j_sel - f / z[..., None]).sum(axis=2)


@dataclass
class FusionPolicy:
    """The trainable fusion: ``theta = start + scale * u`` over :data:`PARAMS`."""

    start: Fusion
    u: np.ndarray = field(default_factory=lambda: np.zeros(len(PARAMS)))

    def __post_init__(self) -> None:
        self.scale = np.array([max(abs(getattr(self.start, p)), SCALE_FLOOR[p]) for p in PARAMS])
        self.theta0 = np.array([getattr(self.start, p) for p in PARAMS], float)

    @property
    def theta(self) -> np.ndarray:
        return self.theta0 + self.scale * self.u

    def fusion(self) -> Fusion:
        return replace(self.start, **{p: round(float(v), 6) for p, v in zip(PARAMS, self.theta)})

    def scores_and_jacobian(self, parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores (B, N) and d score / d theta (B, N, 4) for parts (B, N, 6)."""
        words, content, popularity, recommender = self.theta
        seeker = self.start.seeker
        i_s, i_r, c_s, c_r, w, lp = (parts[..., j] for j in range(6))
        scores = seeker * (i_s + content * c_s) + recommender * (i_r + content * c_r) + words * w + popularity * lp
        jac = np.stack([w, seeker * c_s + recommender * c_r, lp, i_r + content * c_r], axis=-1)
        return scores, jac


@dataclass
class RLOutcome:
    """What a run learned and how it went (stored in the artefact's ``rl`` record)."""

    start: Fusion
    learned: Fusion
    judge: str
    contexts: int
    contexts_with_target_in_pool: int
    reward_per_epoch: list[float]
    train_recall_before: dict[str, float]
    train_recall_after: dict[str, float]
    llm: dict[str, int] | None
    seconds: float
    config: RLConfig


def train_policy(contexts: Sequence[PoolContext], start: Fusion, judge: Judge, config: RLConfig,
                 progress: bool = True) -> tuple[Fusion, list[float]]:
    """REINFORCE over ``contexts``; returns (learned fusion, mean reward per epoch)."""
    rng = np.random.default_rng(config.seed)
    policy = FusionPolicy(start)
    parts = np.stack([c.parts for c in contexts]).astype(np.float64)           # (C, N, 6)
    spread = fused(parts, start).std(axis=1)
    temperature = config.temperature * np.where(spread > 0, spread, 1.0)        # (C,)
    m = np.zeros(len(PARAMS))
    v = np.zeros(len(PARAMS))
    step = 0
    history: list[float] = []
    n_batches = -(-len(contexts) // config.batch_size)
    bar = tqdm(total=config.epochs * n_batches, desc="RL: sampling, judging, updating", disable=not progress, unit="batch")
    for _ in range(config.epochs):
        rewards_seen: list[float] = []
        for batch in np.array_split(rng.permutation(len(contexts)), n_batches):
            scores, jac = policy.scores_and_jacobian(parts[batch])
            tau = temperature[batch][:, None]
            logits = scores / tau
            sets = sample_sets(logits, config.set_size, config.sets_per_context, rng)
            rewards = _rewards([contexts[i] for i in batch], sets, logits, judge, config.llm_top)
            rewards_seen.append(float(rewards.mean()))
            g = config.sets_per_context
            advantage = (rewards - rewards.mean(axis=1, keepdims=True)) * g / (g - 1)
            grad_theta = np.einsum("bg,bgp->p", advantage, log_prob_grad(logits, jac / tau[..., None], sets)) / (len(batch) * g)
            grad_u = grad_theta * policy.scale - config.l2 * policy.u
            step += 1
            m = 0.9 * m + 0.1 * grad_u
            v = 0.999 * v + 0.001 * grad_u ** 2
            policy.u = policy.u + config.learning_rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
            bar.update(1)
            bar.set_postfix(reward=f"{np.mean(rewards_seen):.3f}")
        history.append(round(float(np.mean(rewards_seen)), 4))
    bar.close()
    return policy.fusion(), history


def _rewards(contexts: Sequence[PoolContext], sets: np.ndarray, logits: np.ndarray, judge: Judge,
             llm_top: int) -> np.ndarray:
    """DCG of the judge's relevance along each sampled set: float (B, G)."""
    discount = 1.0 / np.log2(np.arange(sets.shape[2]) + 2)
    out = np.zeros(sets.shape[:2])
    for b, context in enumerate(contexts):
        counts = np.bincount(sets[b].ravel(), minlength=logits.shape[1])
        shown = sorted(np.flatnonzero(counts), key=lambda p: (-counts[p], -logits[b, p]))[:llm_top]
        gains = judge.relevance(context, [int(p) for p in shown])
        if not gains:
            continue
        relevance = np.zeros(logits.shape[1])
        for position, gain in gains.items():
            relevance[position] = gain
        out[b] = (relevance[sets[b]] * discount).sum(axis=1)
    return out


def train_rl(data_dir: Path, base: CollaborativeModel, judge_factory, config: RLConfig, out: Path,
             base_path: Path | None = None, limit: int | None = None, progress: bool = True) -> tuple[Path, RLOutcome]:
    """Run the loop on the training dialogues and save the tuned artefact at ``out``.

    Args:
        data_dir: The shared data folder (training files only are read).
        base: The trained collaborative model (``crs train retriever``); its fusion is the start.
        judge_factory: ``(item_ids, descriptions) -> (judge, stats)`` (see :func:`make_judge`).
        config: Loop settings.
        out: Where the new artefact goes (the base artefact is never overwritten).
        base_path: The base artefact's path, recorded in the new one.
        limit: Read only the first ``limit`` dialogues of each training file (tests).
        progress: Show progress bars.
    """
    start_time = time.perf_counter()
    if base_path is not None and Path(out).resolve() == Path(base_path).resolve():
        raise ValueError(f"--out {out} is the base artefact; choose another file so the base is kept")
    start = base.fusion
    contexts = build_contexts(data_dir, base, start, config.pool_size, config.samples, limit, config.seed, progress)
    if not contexts:
        raise ValueError("no training context found (is redial/train_dialogues.jsonl empty?)")
    descriptions = _descriptions(data_dir, base)
    judge, stats = judge_factory(base.item_ids, descriptions)
    before = pool_recall(contexts, start)
    learned, history = train_policy(contexts, start, judge, config, progress)
    outcome = RLOutcome(start, learned, judge.label, len(contexts), sum(c.target >= 0 for c in contexts), history,
                        before, pool_recall(contexts, learned), stats.to_dict() if stats else None,
                        round(time.perf_counter() - start_time, 1), config)
    tuned = replace(base, fusion=learned, meta={**base.meta, "rl": _record(outcome, base_path)})
    return tuned.save(Path(out)), outcome


def _descriptions(data_dir: Path, model: CollaborativeModel) -> list[str]:
    from crs.datasets import load_redial_catalogue
    from crs.recommender.describe import catalogue_descriptions

    catalogue = load_redial_catalogue(data_dir)
    by_id = catalogue_descriptions("redial", data_dir, catalogue.ids, catalogue.labels)
    return [by_id.get(i, i) for i in model.item_ids]


def _record(outcome: RLOutcome, base_path: Path | None) -> dict[str, Any]:
    return {
        "method": "REINFORCE over Plackett-Luce candidate sets, DCG reward from the judge, L2 to the start",
        "judge": outcome.judge, "base_artefact": str(base_path) if base_path else None,
        "start_fusion": asdict(outcome.start), "learned_fusion": asdict(outcome.learned),
        "contexts": outcome.contexts, "contexts_with_target_in_pool": outcome.contexts_with_target_in_pool,
        "reward_per_epoch": outcome.reward_per_epoch,
        "train_contexts_recall_before": outcome.train_recall_before,
        "train_contexts_recall_after": outcome.train_recall_after,
        "llm": outcome.llm, "seconds": outcome.seconds, "config": asdict(outcome.config),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
