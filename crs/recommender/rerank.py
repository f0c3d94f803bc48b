"""Stage 2: refine stage-1 candidates — by metadata by default, by an LLM when one is set."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import OrderedDict

from crs import facets
from crs.catalog.normalize import norm_words
from crs.recommender.grounded import parse_ranking
from crs.recommender.explain import Explainer
from crs.recommender.franchise import franchise_of
from crs.recommender.types import Candidate, RecQuery

log = logging.getLogger(__name__)

#: Words in a row of the prompt or the user's message that an LLM reason may not repeat.
QUOTE_WORDS = 6
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")


def _windows(words: str, n: int = QUOTE_WORDS) -> set[str]:
    tokens = words.split()
    return {" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


#: The most recent liked movies whose franchises get one film per page.
LIKED_FRANCHISES = 5


class MetadataReranker:
    """The default stage 2: keeps stage 1's order, avoids near-duplicate franchise entries,
    and explains each pick from its metadata. Needs no LLM.

    Near duplicates are films whose titles start with the same two words ("Harry Potter
    and ...") and, per liked movie, the films of its own franchise: "movies like Star Wars"
    shows one Star Wars film, not three (the collaborative signal ranks a liked film's
    sequels first, and people know them). The others stay for the next page. Only when
    there are more than twice ``k`` candidates, so a short list is never cut.
    """

    def __init__(self, explainer: Explainer) -> None:
        self.explainer = explainer

    def rerank(self, query: RecQuery, candidates: list[Candidate], k: int) -> list[Candidate]:
        chosen: list[Candidate] = []
        stems: set[str] = set()
        spare = len(candidates) > 2 * k
        index = self.explainer.index
        liked = [m for i in query.preferences.liked_movies[-LIKED_FRANCHISES:] if (m := index.get(i)) is not None]
        franchises: set[str] = set()
        for cand in candidates:
            stem = " ".join(norm_words(cand.movie.title).split()[:2])
            if stem in stems and spare:
                continue
            origin = franchise_of(cand.movie, liked) if spare and liked else None
            if origin is not None:
                if origin.id in franchises:
                    continue
                franchises.add(origin.id)
            stems.add(stem)
            cand.reason = self.explainer.reason(cand, query)
            chosen.append(cand)
            if len(chosen) == k:
                break
        return chosen


def _facts(movie) -> str:
    """" | runtime: 88 min | language: French | studio: ..." for what the corpus knows
    (length, language and studio wishes are the user's to state; the LLM sees whether a
    candidate fits)."""
    out = f" | runtime: {movie.runtime} min" if movie.runtime else ""
    out += f" | language: {facets.language_name(movie.language)}" if movie.language else ""
    return out + (f" | studio: {', '.join(movie.companies[:2])}" if movie.companies else "")


def backend_identity(backend) -> str:
    """Which model answers through ``backend``: the names, servers and models of it and of
    the backends it wraps (:class:`crs.llm.turn.TurnBackend`, ``FallbackBackend``), e.g.
    ``"scripted|openai|base_url=http://127.0.0.1:11434/v1|model=llama3.2"``. Never the API key."""
    parts: list[str] = []
    seen = backend
    for _ in range(8):  # wrappers nest a few deep at most
        if seen is None:
            break
        parts.append(str(getattr(seen, "name", type(seen).__name__)))
        parts.extend(f"{attr}={getattr(seen, attr)}" for attr in ("base_url", "model", "model_path")
                     if getattr(seen, attr, None))
        seen = getattr(seen, "primary", None)
    return "|".join(parts)


class LLMReranker:
    """RAR's refinement stage: the LLM reorders the top candidates and gives reasons.

    Its answer is parsed against the candidate ids only; an unknown or invented id is
    dropped and counted in ``discarded``. On any failure (or with the template backend)
    the fallback reranker's order stands. Results are cached by (backend and model,
    context, candidates): two sessions on different servers or models never share one.
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
            if reason and self._grounded(reason, cand, query):
                cand.reason = reason.strip()[:300]
            out.append(cand)
        out.extend(c for c in base if c.movie.id in by_id)
        return out[:k]

    def _grounded(self, reason: str, cand: Candidate, query: RecQuery) -> bool:
        """Whether the LLM's reason may be shown: it must not quote the instructions or the
        user's words (a prompt injection's favourite output) nor name a year that is
        neither the movie's nor one the user mentioned (a sign of another movie)."""
        words = norm_words(reason).split()
        quoted = _windows(norm_words(self.prompts.text("rerank_system.txt"))) | _windows(norm_words(query.text))
        if any(" ".join(words[i:i + QUOTE_WORDS]) in quoted for i in range(len(words) - QUOTE_WORDS + 1)):
            log.warning("stage-2 LLM reason quotes its prompt or the user; the metadata reason stands")
            return False
        allowed_years = {str(cand.movie.year)} | set(_YEAR.findall(query.text)) | set(
            _YEAR.findall(json.dumps(query.preferences.summary())))
        if any(year not in allowed_years for year in _YEAR.findall(reason)):
            log.warning("stage-2 LLM reason names a year that is not the movie's; the metadata reason stands")
            return False
        return True

    def _ask(self, query: RecQuery, base: list[Candidate]) -> list[tuple[str, str]] | None:
        lines = [f"{c.movie.id}: {c.movie.display} | genres: {', '.join(c.movie.genres)} | director: "
                 f"{', '.join(c.movie.directors[:2])} | cast: {', '.join(c.movie.cast[:3])}" + _facts(c.movie)
                 for c in base]
        user = json.dumps({"preferences": query.preferences.summary(), "wishes": query.text[-1000:]}) + \
            "\nCandidates:\n" + "\n".join(lines)
        backend = getattr(self.backend, "current", self.backend)  # ConfiguredBackend: this turn's backend
        key = hashlib.sha1(f"{backend_identity(backend)}\n{user}".encode()).hexdigest()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        completion = backend.complete(self.prompts.text("rerank_system.txt"), user, json_mode=True, max_tokens=600)
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
