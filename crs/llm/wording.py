"""The reply-wording step: an LLM rewrites the template reply, and the result is checked.

The dialogue graph decides everything a turn says (which movies, why, which question)
and words it with templates. When the session's backend has a model, this step asks it
to reword that draft, streaming, and then validates the whole answer against the draft:

* every recommended title is still there, and no other corpus title appears;
* every year (every number: "runs 109 minutes") in the answer is one of the draft;
* it is not empty, not far longer than the draft, and does not quote the instructions.

If any check fails (or the model fails) the template draft is the reply. The prompts
are ``prompts/reply_system.txt`` and the ``wording_user`` entry of ``prompts/llm.toml``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crs.catalog.normalize import norm_title, norm_words

_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_NUMBER = re.compile(r"\d+")
#: Runs of capitalised words (with the small words titles contain), candidates for titles.
_CAPS_RUN = re.compile(r"(?:[A-Z0-9][\w'’:\-]*)(?:\s+(?:(?:of|the|a|an|and|in|on|to|for|at|by|with|from|&)\s+)*"
                       r"[A-Z0-9][\w'’:\-]*)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\n]\s*|\d+\.\s+)$")


def load_llm_texts(prompts_dir: Path) -> dict[str, str]:
    """``prompts/llm.toml``: the user-facing notices and prompts of the LLM features."""
    return tomllib.loads((prompts_dir / "llm.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


class ReplyWording:
    """Streams a reworded reply from a backend and validates it.

    Args:
        system_prompt: The fixed system prompt (kept first and unchanged, so servers that
            cache the prompt prefix answer fast).
        user_template: Format string with ``{draft}``.
        corpus_titles: Every title of the corpus (to catch a movie the model made up or
            borrowed from elsewhere); empty disables that check.
        max_tokens: Bound on the reworded reply.
    """

    def __init__(self, system_prompt: str, user_template: str, corpus_titles: Iterable[str] = (),
                 max_tokens: int = 320) -> None:
        self.system_prompt = system_prompt
        self.user_template = user_template
        self.max_tokens = max_tokens
        self._corpus_titles = corpus_titles
        self._title_keys: set[str] | None = None  # built on the first validation, not at start-up
        self._prompt_windows = _windows(norm_words(system_prompt), 6)

    @property
    def _titles(self) -> set[str]:
        if self._title_keys is None:
            self._title_keys = {key for key in map(norm_title, self._corpus_titles) if len(key) >= 3}
        return self._title_keys

    @classmethod
    def from_prompts(cls, prompts_dir: Path, corpus_titles: Iterable[str] = ()) -> ReplyWording:
        texts = load_llm_texts(prompts_dir)
        system = (prompts_dir / "reply_system.txt").read_text(encoding="utf-8").strip()
        return cls(system, texts["wording_user"], corpus_titles)

    def stream(self, backend: Any, draft: str, timeout_s: float | None = None) -> Iterator[str]:
        """The backend's rewording of ``draft``, piece by piece (nothing for no model)."""
        yield from backend.stream(self.system_prompt, self.user_template.format(draft=draft),
                                  max_tokens=self.max_tokens, timeout_s=timeout_s)

    def validate(self, text: str, draft: str, recommendations: list[dict[str, Any]]) -> Verdict:
        """Whether ``text`` may replace ``draft`` as the reply (see the module docstring)."""
        answer = text.strip()
        if not answer:
            return Verdict(False, "empty")
        if len(answer) > 2 * len(draft) + 200:
            return Verdict(False, "too long")
        folded = norm_words(answer)
        for rec in recommendations:
            if norm_words(str(rec.get("title") or "")) not in folded:
                return Verdict(False, f"dropped a recommended title (#{recommendations.index(rec) + 1})")
        draft_years = set(_YEAR.findall(draft))
        if any(year not in draft_years for year in _YEAR.findall(answer)):
            return Verdict(False, "a year that is not in the draft")
        draft_numbers = set(_NUMBER.findall(draft))
        if any(number not in draft_numbers for number in _NUMBER.findall(answer)):
            return Verdict(False, "a number that is not in the draft")  # "runs 109 minutes" must stay 109
        if any(w in folded for w in self._prompt_windows):
            return Verdict(False, "quotes the instructions")
        draft_folded = norm_words(draft)
        for span in self._title_spans(answer):
            if norm_title(span) in self._titles and norm_words(span) not in draft_folded:
                return Verdict(False, "names a movie that is not in the draft")
        return Verdict(True)

    def _title_spans(self, text: str) -> Iterator[str]:
        """Capitalised word runs and their sub-runs (a lone capitalised word only when it
        does not start a sentence: "Great picks" is not the movie "Great")."""
        if not self._titles:
            return
        for match in _CAPS_RUN.finditer(text):
            words = match.group(0).split()
            at_start = bool(_SENTENCE_START.search(text[:match.start()]))
            for i in range(len(words)):
                for j in range(i + 1, min(len(words), i + 8) + 1):
                    if j - i == 1 and (i == 0 and at_start):
                        continue
                    yield " ".join(words[i:j])


def _windows(words: str, n: int) -> set[str]:
    tokens = words.split()
    return {" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}
