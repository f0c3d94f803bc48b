"""Grounded LLM ranking: the LLM orders a list of candidate ids and may add nothing else.

One component serves the evaluation's ``hybrid+llm`` variant and the RAR feedback loop
(``crs train rl``): both hand the LLM a conversation and candidates with metadata, and
both must never trust an id the LLM made up. The answer is parsed against the candidate
ids only; anything else (an invented title, an id that was not offered) is discarded and
counted. Answers are cached by (prompt, backend, model) in memory and, when a path is
given, in a SQLite file, so a re-run of an evaluation costs no LLM calls. When the
backend has no model (``template``) or fails, the outcome says so and the caller keeps
its own order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

log = logging.getLogger(__name__)

#: Messages of a conversation shown to the LLM (the most recent ones) and their size cap.
MAX_MESSAGES = 10
MAX_CONTEXT_CHARS = 3000


def conversation_text(utterances: Iterable, max_messages: int = MAX_MESSAGES,
                      max_chars: int = MAX_CONTEXT_CHARS) -> str:
    """The last ``max_messages`` messages as "Seeker: ..." / "Recommender: ..." lines.

    ``utterances`` are :class:`crs.datasets.Utterance` records (anything with ``role``
    and ``text``); the end of the conversation is kept when it is too long.
    """
    lines = [f"{'Seeker' if str(u.role) == 'seeker' else 'Recommender'}: {u.text.strip()}"
             for u in list(utterances)[-max_messages:] if u.text.strip()]
    return ("\n".join(lines) or "(no messages yet)")[-max_chars:]


class Status(StrEnum):
    """What happened to one ranking request."""

    OK = "ok"                  # the LLM answered and at least one candidate id was usable
    CACHED = "cached"          # answered from the cache (no call)
    NO_MODEL = "no_model"      # the backend has no model (template): keep the given order
    FAILED = "failed"          # the backend raised or timed out: keep the given order
    UNPARSEABLE = "unparseable"  # an answer without a usable ranking: keep the given order


@dataclass(frozen=True)
class Outcome:
    """The parsed answer to one request.

    Attributes:
        order: Candidate ids in the LLM's order (only offered ids, no repeats); empty
            unless ``status`` is OK or CACHED.
        reasons: ``(id, reason)`` pairs for ids the LLM explained.
        discarded: Entries of this answer that were not offered candidates.
        status: See :class:`Status`.
    """

    order: tuple[str, ...] = ()
    reasons: tuple[tuple[str, str], ...] = ()
    discarded: int = 0
    status: Status = Status.NO_MODEL

    @property
    def usable(self) -> bool:
        return self.status in (Status.OK, Status.CACHED) and bool(self.order)


@dataclass
class RankingStats:
    """Counters over many requests (reported by ``crs evaluate`` and ``crs train rl``)."""

    requests: int = 0
    llm_calls: int = 0
    answered: int = 0
    cache_hits: int = 0
    no_model: int = 0
    failed: int = 0
    unparseable: int = 0
    discarded: int = 0
    reordered: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class RankingCache:
    """Answers by key, in memory (LRU) and optionally in a SQLite file that survives runs."""

    def __init__(self, path: Path | None = None, memory_size: int = 4096) -> None:
        self.path = Path(path) if path else None
        self._memory: OrderedDict[str, str] = OrderedDict()
        self._size = memory_size
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.commit()

    def get(self, key: str) -> str | None:
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
            if self._db is None:
                return None
            row = self._db.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self._remember(key, row[0])
            return row[0]
        return None

    def put(self, key: str, value: str) -> None:
        self._remember(key, value)
        if self._db is not None:
            with self._lock:
                self._db.execute("INSERT OR REPLACE INTO answers (key, value) VALUES (?, ?)", (key, value))
                self._db.commit()

    def _remember(self, key: str, value: str) -> None:
        with self._lock:
            self._memory[key] = value
            self._memory.move_to_end(key)
            while len(self._memory) > self._size:
                self._memory.popitem(last=False)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


@dataclass
class GroundedRanker:
    """Ask ``backend`` to order candidates for a conversation; see the module docstring.

    Args:
        backend: A :class:`crs.llm.LLMBackend` (usually the :class:`~crs.llm.FallbackBackend`
            of :func:`crs.llm.make_backend`).
        system_prompt: The instructions (``prompts/rerank_system.txt``).
        cache: Where answers are kept; a fresh in-memory cache when None.
        model_name: Part of the cache key, so answers of two models never mix.
        max_tokens: Upper bound of the answer.
    """

    backend: object
    system_prompt: str
    cache: RankingCache | None = None
    model_name: str = ""
    max_tokens: int = 700
    stats: RankingStats = field(default_factory=RankingStats)

    def __post_init__(self) -> None:
        if self.cache is None:
            self.cache = RankingCache()

    @staticmethod
    def user_prompt(context: str, candidates: Sequence[tuple[str, str]]) -> str:
        """The user message: the conversation, then one ``id: description`` line per candidate."""
        lines = "\n".join(f"{item_id}: {description}" for item_id, description in candidates)
        return f"Conversation:\n{context.strip()}\n\nCandidates:\n{lines}"

    def rank(self, context: str, candidates: Sequence[tuple[str, str]]) -> Outcome:
        """Order ``candidates`` (``(id, description)`` pairs) for ``context``."""
        self.stats.requests += 1
        if not candidates:
            return Outcome(status=Status.UNPARSEABLE)
        user = self.user_prompt(context, candidates)
        backend_name = getattr(self.backend, "name", type(self.backend).__name__)
        key = hashlib.sha256("\x00".join((backend_name, self.model_name, self.system_prompt, user)).encode()).hexdigest()
        allowed = {item_id for item_id, _ in candidates}
        cached = self.cache.get(key)
        if cached is not None:
            self.stats.cache_hits += 1
            outcome = parse_ranking(cached, allowed)
            return Outcome(outcome.order, outcome.reasons, 0, Status.CACHED) if outcome.order else outcome
        failures = getattr(self.backend, "failures", 0)
        self.stats.llm_calls += 1
        try:
            completion = self.backend.complete(self.system_prompt, user, json_mode=True, max_tokens=self.max_tokens)
        except Exception as exc:  # a bare backend (no FallbackBackend) may raise anything
            log.warning("grounded ranking: backend failed (%s: %s); keeping the given order", type(exc).__name__, exc)
            self.stats.failed += 1
            return Outcome(status=Status.FAILED)
        if getattr(self.backend, "failures", 0) > failures:
            self.stats.failed += 1
            return Outcome(status=Status.FAILED)
        if completion is None:
            self.stats.no_model += 1
            return Outcome(status=Status.NO_MODEL)
        self.stats.answered += 1
        outcome = parse_ranking(completion.text, allowed)
        self.stats.discarded += outcome.discarded
        if outcome.status is Status.UNPARSEABLE:
            self.stats.unparseable += 1
        else:
            self.cache.put(key, completion.text)
        return outcome


def parse_ranking(text: str, allowed: set[str]) -> Outcome:
    """Parse ``{"ranking": [{"id": ..., "reason": ...}, ...]}`` against ``allowed`` ids.

    Entries whose id is not in ``allowed`` (invented titles, ids that were not offered)
    are discarded and counted; a repeated id is ignored (not counted). Text around the
    JSON object is tolerated, since small models often add some.
    """
    try:
        data = json.loads(text[text.index("{"): text.rindex("}") + 1])
        items = data["ranking"]
    except (ValueError, KeyError, TypeError):
        return Outcome(status=Status.UNPARSEABLE)
    if not isinstance(items, list):
        return Outcome(status=Status.UNPARSEABLE)
    order: list[str] = []
    reasons: list[tuple[str, str]] = []
    discarded = 0
    for item in items:
        item_id = str(item.get("id", "")).strip() if isinstance(item, dict) else str(item).strip()
        if item_id not in allowed:
            discarded += 1
            continue
        if item_id in order:
            continue
        order.append(item_id)
        reason = str(item.get("reason", "")).strip() if isinstance(item, dict) else ""
        if reason:
            reasons.append((item_id, reason[:300]))
    if not order:
        return Outcome(discarded=discarded, status=Status.UNPARSEABLE)
    return Outcome(tuple(order), tuple(reasons), discarded, Status.OK)


def apply_order(given: Sequence[str], outcome: Outcome) -> list[str]:
    """``given`` reordered: the LLM's picks first (in its order), then the rest as given.

    With an unusable outcome the given order stands unchanged.
    """
    if not outcome.usable:
        return list(given)
    offered = set(given)
    picked = [i for i in outcome.order if i in offered]
    chosen = set(picked)
    return picked + [i for i in given if i not in chosen]
