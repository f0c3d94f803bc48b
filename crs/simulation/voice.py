"""The LLM-worded simulated user (``crs simulate --simulator llm``).

The template user (:mod:`crs.simulation.user`) decides *what* to say; a language model
through the configured backend (``CRS_LLM_BACKEND``: ``openai`` or ``local``) words it as
a person might. The wording is kept only when it still states every fact of the
template message, still rejects the list when the template did, names no movie title
and is one short message; on any failure, timeout or a template backend (no model) the
template message is said instead, so a run always completes. Counts of each outcome
are kept for the report.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crs.catalog.normalize import norm_title

log = logging.getLogger(__name__)

#: The longest message kept (characters); longer wordings are not a user's chat message.
MAX_CHARS = 300
_NEGATIVE = re.compile(r"\b(none|no|not|nothing|neither|nope|nah)\b|n't\b", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))


def check(text: str, draft: str, facts: Sequence[str], titles: Sequence[str]) -> str | None:
    """Why the model's wording of ``draft`` cannot be said (None: it can).

    It must be non-empty, at most :data:`MAX_CHARS`, contain every word of every fact,
    express a rejection when the draft starts with "None of those", and contain none of
    ``titles`` (the target's title: the user never says it).
    """
    if not text.strip():
        return "empty"
    if len(text) > MAX_CHARS:
        return "too long"
    said = set(_words(text))
    for fact in facts:
        if not all(w in said for w in _words(fact)):
            return "fact lost"
    if draft.lower().startswith("none of those") and not _NEGATIVE.search(text):
        return "rejection lost"
    if any(norm_title(t) and norm_title(t) in norm_title(text) for t in titles):  # strict, as the template user
        return "title said"
    return None


class LLMVoice:
    """Words simulated-user messages through ``backend`` (an :class:`crs.llm.LLMBackend`).

    Attributes:
        outcomes: Counter of "worded", "template" (the backend has no model), "failed"
            (error or timeout) and each :func:`check` reason.
    """

    def __init__(self, backend: Any, system: str, user_template: str, timeout_s: float | None = None,
                 max_tokens: int = 80) -> None:
        self.backend = backend
        self.system = system
        self.user_template = user_template
        self.timeout_s = timeout_s
        self.max_tokens = max_tokens
        self.outcomes: Counter[str] = Counter()

    @classmethod
    def from_prompts(cls, backend: Any, prompts_dir: Path, timeout_s: float | None = None) -> LLMVoice:
        path = prompts_dir / "simulator.toml"
        if not path.is_file():
            raise FileNotFoundError(f"simulated-user prompts not found: {path}")
        texts = tomllib.loads(path.read_text(encoding="utf-8"))
        return cls(backend, texts["system"].strip(), texts["user"], timeout_s)

    def say(self, draft: str, facts: Sequence[str], title: str, bot: str = "") -> str:
        """The model's wording of ``draft`` when it passes :func:`check`, else ``draft``."""
        failures = getattr(self.backend, "failures", 0)
        try:
            done = self.backend.complete(self.system, self.user_template.format(draft=draft, bot=bot or "(nothing yet)"),
                                         max_tokens=self.max_tokens, timeout_s=self.timeout_s)
        except Exception as exc:  # any backend failure: the template user speaks
            log.warning("simulated-user wording failed (%s); the template message is said", type(exc).__name__)
            self.outcomes["failed"] += 1
            return draft
        if done is None:  # no model, or a FallbackBackend whose model failed
            self.outcomes["failed" if getattr(self.backend, "failures", 0) > failures else "template"] += 1
            return draft
        text = " ".join(done.text.strip().strip('"').split())
        problem = check(text, draft, facts, [title])
        if problem is not None:
            self.outcomes[problem] += 1
            return draft
        self.outcomes["worded"] += 1
        return text
