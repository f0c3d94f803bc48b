"""LLM refinement of the rule NLU: adds what the rules missed, never overrides them.

When the session's backend has a model, it reads the message once more
(``prompts/nlu_system.txt``) and answers one JSON object. The answer is validated
(:class:`NLUAnswer`; any error rejects all of it) and grounded: titles through the title
linker to corpus ids (unknown or ambiguous titles dropped), genres and moods only from the
lexicon, people only when the corpus credits them. The merge keeps every rule item as it
is, adds only items the rules did not find about the same thing, sets year bounds only when
the rules set none, and takes the LLM's intent only when the rules' intent was the weak
fallback (chit-chat or nothing). Any failure or timeout keeps the rules' result.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crs.catalog.normalize import norm_words
from crs.nlu.types import Intent, NLUResult
from crs.preferences import Polarity, PreferenceItem, Slot

log = logging.getLogger(__name__)

PROMPT = "nlu_system.txt"
#: Rule intents weak enough for the LLM's intent to replace.
WEAK_INTENTS = frozenset({Intent.CHITCHAT})
_MAX_ITEMS = 20


class _Side(BaseModel):
    model_config = ConfigDict(extra="forbid")
    movies: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)
    genres: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)
    people: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)


class NLUAnswer(BaseModel):
    """The JSON object the LLM must answer (extra keys are an error)."""

    model_config = ConfigDict(extra="forbid")
    likes: _Side = Field(default_factory=_Side)
    dislikes: _Side = Field(default_factory=_Side)
    year_min: int | None = Field(None, ge=1870, le=2100)
    year_max: int | None = Field(None, ge=1870, le=2100)
    moods: list[str] = Field(default_factory=list, max_length=_MAX_ITEMS)
    intent: Intent


class LLMRefiner:
    """Refine a :class:`crs.nlu.rules.RuleNLU` result with a backend's structured answer.

    Args:
        linker: The rule NLU's :class:`crs.catalog.linker.TitleLinker`.
        people: Its :class:`crs.nlu.people.PeopleIndex`.
        lexicon: Its :class:`crs.nlu.lexicon.Lexicon`.
        prompts: The :class:`crs.prompts.PromptLibrary` holding ``nlu_system.txt``.
        timeout_s: Per-call limit (None: the backend's own, i.e. ``CRS_LLM_TIMEOUT_S``);
            an answer arriving later than this is discarded.
    """

    def __init__(self, linker: Any, people: Any, lexicon: Any, prompts: Any, timeout_s: float | None = None,
                 max_tokens: int = 300) -> None:
        self.linker = linker
        self.people = people
        self.lexicon = lexicon
        self.prompts = prompts
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self._genres = {v for values in lexicon.genres.values() for v in values}
        self._moods = set(lexicon.moods.values())
        #: Since start-up: answers used, rejected (invalid), failed (error/timeout), items added.
        self.stats = {"refined": 0, "rejected": 0, "failed": 0, "added": 0}

    @classmethod
    def from_rule_nlu(cls, nlu: Any, prompts: Any, timeout_s: float | None = None) -> LLMRefiner:
        return cls(nlu.linker, nlu.people, nlu.lexicon, prompts, timeout_s)

    def refine(self, text: str, result: NLUResult, backend: Any, turn: int = 0) -> int:
        """Merge the backend's reading of ``text`` into ``result`` (in place); the number
        of items added. Does nothing for the template backend or on any failure."""
        if backend is None or not getattr(backend, "has_model", getattr(backend, "name", "template") != "template"):
            return 0
        system = self.prompts.text(PROMPT).replace("{intents}", ", ".join(i.value for i in Intent))
        started = time.perf_counter()
        try:
            completion = backend.complete(system, text[-2000:], json_mode=True, max_tokens=self.max_tokens,
                                          timeout_s=self.timeout_s)
        except Exception as exc:  # a broken model never breaks the turn
            self.stats["failed"] += 1
            log.debug("NLU refinement failed (%s); the rules' result stands", type(exc).__name__)
            return 0
        if completion is None:
            return 0
        if self.timeout_s is not None and time.perf_counter() - started > self.timeout_s:
            self.stats["failed"] += 1
            log.debug("NLU refinement answered after %.1fs; the rules' result stands", self.timeout_s)
            return 0
        try:
            answer = NLUAnswer.model_validate(json.loads(completion.text))
        except (ValueError, ValidationError, TypeError) as exc:
            self.stats["rejected"] += 1
            log.debug("NLU refinement answer rejected (%s); the rules' result stands", type(exc).__name__)
            return 0
        added = self.merge(result, answer, turn)
        self.stats["refined"] += 1
        self.stats["added"] += added
        return added

    # ------------------------------------------------------------------ grounding
    def _movie(self, title: str):
        mention = self.linker.resolve_title(title.strip()[:200]) if title.strip() else None
        return mention.chosen if mention is not None else None  # unknown or ambiguous: dropped

    def _genre(self, word: str) -> str | None:
        key = " ".join(word.lower().split())
        if key in self._genres:
            return key
        values = self.lexicon.genres.get(key)
        return values[0] if values and len(values) == 1 else None

    def _mood(self, word: str) -> str | None:
        key = " ".join(word.lower().split())
        return key if key in self._moods else self.lexicon.moods.get(key)

    def _person(self, name: str) -> str | None:
        key = norm_words(name)
        return self.people.names.get(key) or (self.people.surnames.get(key) if " " not in key else None)

    def _grounded(self, answer: NLUAnswer) -> list[tuple[Slot, str, str, Polarity]]:
        """(slot, value, label, polarity) of every answer item the corpus and lexicon know."""
        out: list[tuple[Slot, str, str, Polarity]] = []
        for side, polarity in ((answer.likes, Polarity.LIKE), (answer.dislikes, Polarity.DISLIKE)):
            for title in side.movies:
                if (movie := self._movie(title)) is not None:
                    out.append((Slot.MOVIE, movie.id, movie.display, polarity))
            for word in side.genres:
                if (genre := self._genre(word)) is not None:
                    out.append((Slot.GENRE, genre, genre, polarity))
            for name in side.people:
                if (person := self._person(name)) is not None:
                    out.append((Slot.PERSON, person, person, polarity))
        for word in answer.moods:
            if (mood := self._mood(word)) is not None:
                out.append((Slot.MOOD, mood, mood, Polarity.LIKE))
        return out

    # ------------------------------------------------------------------ merge
    def merge(self, result: NLUResult, answer: NLUAnswer, turn: int = 0) -> int:
        """Add the grounded answer to ``result`` without removing or flipping anything."""
        known = {(i.slot, i.value.lower()) for i in result.items}
        known |= {(Slot.MOVIE, m.id.lower()) for mention, _ in result.ambiguous for m in mention.candidates}
        added = 0
        for slot, value, label, polarity in self._grounded(answer):
            if (slot, value.lower()) in known:
                continue  # the rules spoke about it (or an earlier LLM item did): theirs stands
            known.add((slot, value.lower()))
            result.items.append(PreferenceItem(slot=slot, value=value, polarity=polarity, label=label, turn=turn))
            if slot == Slot.MOVIE and value not in result.mentioned:
                result.mentioned.append(value)
            if slot == Slot.PERSON and value not in result.people_mentioned:
                result.people_mentioned.append(value)
                role = getattr(self.people, "main_role", {}).get(value)
                if role:
                    result.roles.setdefault(value, role)
            added += 1
        if result.year_min is None and result.year_max is None and (answer.year_min or answer.year_max):
            lo, hi = answer.year_min, answer.year_max
            if lo is None or hi is None or lo <= hi:
                result.year_min, result.year_max = lo, hi
                added += 1
        if result.primary is None or result.primary in WEAK_INTENTS:
            if answer.intent not in WEAK_INTENTS and answer.intent is not Intent.RESET:
                result.intents = [answer.intent, *[i for i in result.intents if i != answer.intent]]
        if added and Intent.PREFERENCE not in result.intents:
            result.intents.append(Intent.PREFERENCE)
        return added
