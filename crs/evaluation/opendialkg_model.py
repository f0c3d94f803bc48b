"""OpenDialKG rankers: entity -> item co-occurrence, improved with the KG and a prior.

* ``cooccurrence`` (the EVALUATION.md baseline): on the training turns, count how often
  each context entity is followed by each recommended item; score = sum over the
  context entities of count(entity, item) / turns(entity).
* ``hybrid``: the same, plus a KG term and a log-popularity prior. The KG term lets an
  entity never seen in training still vote: a person, genre or writer votes for the
  items it is attached to (IDF-weighted); an item votes for the items that share its
  attributes (IDF-weighted overlap). The two weights are fitted on the training turns
  (counts from one half of the dialogues, weights chosen on the other half); the final
  counts use all training turns. Training takes seconds, so no artefact is kept.

The training turns are those of every rec-turn file of the official train split we have
(:data:`TRAIN_FILES`: train, and valid, which iEvaLM carved from it) minus the turns of the
file being evaluated (:func:`crs.evaluation.overlap.select_opendialkg_training`): evaluating
valid trains on train only, evaluating a test file on train + valid.
"""

from __future__ import annotations

import itertools
import zlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from crs.datasets import Catalogue, EvalSample, OpenDialKGVocab, load_opendialkg_vocab, read_rec_turns
from crs.evaluation.rankers import ScoringRanker

TRAIN_FILE = "opendialkg/train_rec_turns.jsonl"
VALID_FILE = "opendialkg/valid_rec_turns.jsonl"
#: The rec-turn files of the official train split (each used unless it is the evaluated file).
TRAIN_FILES = (TRAIN_FILE, VALID_FILE)
WEIGHT_GRID = {"kg": (0.1, 0.2, 0.5, 1.0), "popularity": (0.003, 0.01, 0.03)}
DECAY_GRID = (1.0, 0.8, 0.6, 0.4)


def entity_weights(entities: Sequence[str], decay: float = 1.0) -> dict[str, float]:
    """Distinct entities, the most recently mentioned weighing 1, the one before ``decay``, ..."""
    recent_first = dict.fromkeys(reversed(entities))
    return {e: decay ** i for i, e in enumerate(recent_first)}


@dataclass
class Cooccurrence:
    """count(entity, item) / turns(entity) as a sparse (entities x items) matrix."""

    entities: dict[str, int]
    conditional: sp.csr_matrix
    popularity: np.ndarray

    @classmethod
    def fit(cls, samples: Sequence[EvalSample], catalogue: Catalogue) -> "Cooccurrence":
        turns: dict[str, list[EvalSample]] = defaultdict(list)
        for s in samples:
            turns[s.source].append(s)
        counts: Counter[tuple[str, int]] = Counter()
        entity_turns: Counter[str] = Counter()
        popularity = np.zeros(len(catalogue), np.float32)
        for group in turns.values():
            targets = [catalogue.row[s.target] for s in group if s.target is not None]
            for t in targets:
                popularity[t] += 1
            for entity in set(group[0].entities):
                entity_turns[entity] += 1
                for t in targets:
                    counts[(entity, t)] += 1
        entities = {e: i for i, e in enumerate(sorted(entity_turns))}
        rows = [entities[e] for e, _ in counts]
        cols = [t for _, t in counts]
        vals = [c / entity_turns[e] for (e, _), c in counts.items()]
        matrix = sp.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(len(entities), len(catalogue)))
        return cls(entities, matrix, popularity)

    def vector(self, weights: dict[str, float]) -> np.ndarray:
        """Weighted sum of the conditional frequencies of the known entities."""
        known = [(self.entities[e], w) for e, w in weights.items() if e in self.entities]
        if not known:
            return np.zeros(self.conditional.shape[1], np.float32)
        rows, w = zip(*known)
        return np.asarray(self.conditional[list(rows)].T @ np.asarray(w, np.float32), np.float32).ravel()


class KnowledgeGraph:
    """Items x attributes (people, genres, ... from kg.json), IDF-weighted."""

    def __init__(self, vocab: OpenDialKGVocab, catalogue: Catalogue) -> None:
        self.items = {name: i for i, name in enumerate(catalogue.labels)}
        self.attributes: dict[str, int] = {}
        rows, cols = [], []
        for name, i in self.items.items():
            for _relation, other in vocab.kg.get(name, ()):
                rows.append(i)
                cols.append(self.attributes.setdefault(other, len(self.attributes)))
        a = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(catalogue), len(self.attributes)))
        a.data[:] = 1.0  # repeated edges count once
        df = np.asarray(a.sum(axis=0)).ravel()
        self.idf = np.log(len(catalogue) / (1.0 + df)).astype(np.float32)
        self.idf_max = float(self.idf.max()) if len(self.idf) else 1.0
        self.a = a
        self.by_attribute = a.T.tocsr()
        self._weighted_t = (a @ sp.diags(self.idf)).T.tocsr()

    def vector(self, weights: dict[str, float]) -> np.ndarray:
        """KG votes of the weighted entities (items: attribute overlap; others: their items)."""
        out = np.zeros(self.a.shape[0], np.float32)
        for entity, weight in weights.items():
            if entity in self.items:
                sim = np.asarray((self.a @ self._weighted_t[:, self.items[entity]]).todense(), np.float32).ravel()
                top = sim.max()
                if top > 0:
                    out += weight * sim / top
            elif entity in self.attributes:
                j = self.attributes[entity]
                row = self.by_attribute[j]
                out[row.indices] += weight * self.idf[j] / self.idf_max
        return out


class CooccurrenceRanker(ScoringRanker):
    """The EVALUATION.md baseline (plus a tiny popularity tie-break)."""

    name = "cooccurrence"

    def __init__(self, catalogue: Catalogue, counts: Cooccurrence) -> None:
        super().__init__(catalogue)
        self.counts = counts
        self._prior = 1e-6 * counts.popularity

    def scores(self, sample: EvalSample) -> np.ndarray:
        return self.counts.vector(entity_weights(sample.entities)) + self._prior


class OpenDialKGHybridRanker(ScoringRanker):
    """Co-occurrence + ``kg`` x KG neighbours + ``popularity`` x normalised log-popularity,
    with entities weighted by recency (``decay`` per older entity)."""

    name = "hybrid"

    def __init__(self, catalogue: Catalogue, counts: Cooccurrence, graph: KnowledgeGraph,
                 kg: float, popularity: float, decay: float = 1.0) -> None:
        super().__init__(catalogue)
        self.counts, self.graph, self.kg, self.popularity, self.decay = counts, graph, kg, popularity, decay
        log_pop = np.log1p(counts.popularity)
        self.prior = (log_pop / max(float(log_pop.max()), 1.0)).astype(np.float32)

    def scores(self, sample: EvalSample) -> np.ndarray:
        weights = entity_weights(sample.entities, self.decay)
        return self.counts.vector(weights) + self.kg * self.graph.vector(weights) + self.popularity * self.prior


def _half(sample: EvalSample) -> int:
    return zlib.crc32(sample.dialog_id.encode()) % 2


def _rank(scores: np.ndarray, target: int) -> int:
    """1-based rank with ties broken by catalogue order (as :meth:`ScoringRanker.rank`)."""
    value = scores[target]
    return 1 + int(np.count_nonzero(scores > value)) + int(np.count_nonzero(scores[:target] == value))


def fit_weights(samples: Sequence[EvalSample], catalogue: Catalogue, graph: KnowledgeGraph) -> dict[str, float]:
    """Pick (kg, popularity, decay) by R@10 + R@50 over both protocols on a held-out half of train."""
    counts = Cooccurrence.fit([s for s in samples if _half(s) == 0], catalogue)
    prior = OpenDialKGHybridRanker(catalogue, counts, graph, 0.0, 0.0).prior
    check = [s for s in samples if _half(s) == 1 and s.target is not None]
    mixes = list(itertools.product(*WEIGHT_GRID.values()))
    best: tuple[float, dict[str, float]] | None = None
    for decay in DECAY_GRID:
        objective = np.zeros(len(mixes))
        for s in check:
            weights = entity_weights(s.entities, decay)
            base, kg_vector = counts.vector(weights), graph.vector(weights)
            target = catalogue.row[s.target]
            banned = [catalogue.row[i] for i in s.mentioned_ids]
            for g, (kg, pop) in enumerate(mixes):
                scores = base + kg * kg_vector + pop * prior
                rank = _rank(scores, target)
                objective[g] += (rank <= 10) + (rank <= 50)
                if not s.repeated:
                    scores[banned] = -np.inf
                    rank = _rank(scores, target)
                    objective[g] += (rank <= 10) + (rank <= 50)
        g = int(np.argmax(objective))
        if best is None or objective[g] > best[0]:
            best = (float(objective[g]), {"kg": mixes[g][0], "popularity": mixes[g][1], "decay": decay})
    assert best is not None
    return best[1]


def build_opendialkg_rankers(data_dir: Path, catalogue: Catalogue, fit: bool = True,
                             train: Sequence[EvalSample] | None = None) -> dict[str, ScoringRanker]:
    """Train the OpenDialKG rankers on ``train`` (default: ``train_rec_turns.jsonl``); the
    caller leaves out the evaluated file's turns (:func:`~crs.evaluation.overlap.select_opendialkg_training`)."""
    vocab = load_opendialkg_vocab(data_dir)
    train = list(train) if train is not None else list(read_rec_turns(Path(data_dir) / TRAIN_FILE, catalogue))
    graph = KnowledgeGraph(vocab, catalogue)
    weights = fit_weights(train, catalogue, graph) if fit else {"kg": 0.5, "popularity": 0.01, "decay": 0.6}
    counts = Cooccurrence.fit(train, catalogue)
    hybrid = OpenDialKGHybridRanker(catalogue, counts, graph, **weights)
    return {"cooccurrence": CooccurrenceRanker(catalogue, counts), "hybrid": hybrid}
