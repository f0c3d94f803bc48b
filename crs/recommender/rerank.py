"""Stage 2: refine stage-1 candidates — by metadata by default, by an LLM when one is set."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict

from crs.catalog.normalize import norm_words
from crs.recommender.grounded import parse_ranking
from crs.recommender.explain import Explainer
from crs.recommender.types import Candidate, RecQuery

log = logging.getLogger(__name__)


class MetadataReranker:
    """The default stage 2: keeps stage 1's order, avoids near-duplicate franchise entries,
    and explains each pick from its metadata. Needs no LLM."""

    def __init__(self, explainer: Explainer) -> None:
        self.explainer = explainer

    def rerank(self, query: RecQuery, candidates: list[Candidate], k: int) -> list[Candidate]:
        chosen: list[Candidate] = []
        stems: set[str] = set()
        for cand in candidates:
            stem = " ".join(norm_words(cand.movie.title).split()[:2])
            if stem in stems and len(candidates) > 2 * k:
                continue
            stems.add(stem)
            cand.reason = self.explainer.reason(cand, query)
            chosen.append(cand)
            if len(chosen) == k:
                break
        return chosen


class LLMReranker:
    """RAR's refinement stage: the LLM reorders the top candidates and gives reasons.

    Its answer is parsed against the candidate ids only; an unknown or invented id is
    dropped and counted in ``discarded``. On any failure (or with the template backend)
    the fallback reranker's order stands. Results are cached by (context, candidates).
    """

    def __init__(self, backend, prompts, fallback: MetadataReranker, top: int = 15, cache_size: int = 512) -> None:
        self.backend = backend
        self.prompts = prompts
        self.fallback = fallback
        self.top = top
        self.discarded = 0
        self._cache: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
        self._cache_size = cache_size

    def rerank(self, query: RecQuery, candidates: list[Candidate], k: int) -> list[Candidate]:
        base = self.fallback.rerank(query, candidates, max(k, min(self.top, len(candidates))))
        if not base:
            return base
        ranking = self._ask(query, base)
        if not ranking:
            return base[:k]
        by_id = {c.movie.id: c for c in base}
        out: list[Candidate] = []
        for movie_id, reason in ranking:
            cand = by_id.pop(movie_id, None)
            if cand is None:
                continue
            if reason:
                cand.reason = reason.strip()[:300]
            out.append(cand)
        out.extend(c for c in base if c.movie.id in by_id)
        return out[:k]

    def _ask(self, query: RecQuery, base: list[Candidate]) -> list[tuple[str, str]] | None:
        lines = [f"{c.movie.id}: {c.movie.display} | genres: {', '.join(c.movie.genres)} | director: "
                 f"{', '.join(c.movie.directors[:2])} | cast: {', '.join(c.movie.cast[:3])}" for c in base]
        user = json.dumps({"preferences": query.preferences.summary(), "wishes": query.text[-1000:]}) + \
            "\nCandidates:\n" + "\n".join(lines)
        key = hashlib.sha1(user.encode()).hexdigest()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        completion = self.backend.complete(self.prompts.text("rerank_system.txt"), user, json_mode=True, max_tokens=600)
        if completion is None:
            return None
        ranking = self._parse(completion.text, {c.movie.id for c in base})
        if ranking:
            self._cache[key] = ranking
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return ranking

    def _parse(self, text: str, allowed: set[str]) -> list[tuple[str, str]] | None:
        """(id, reason) pairs of the answer, grounded in ``allowed`` (see crs.recommender.grounded)."""
        outcome = parse_ranking(text, allowed)
        self.discarded += outcome.discarded
        if not outcome.order:
            log.warning("stage-2 LLM answer had no usable ranking; keeping stage-1 order")
            return None
        reasons = dict(outcome.reasons)
        return [(movie_id, reasons.get(movie_id, "")) for movie_id in outcome.order]
