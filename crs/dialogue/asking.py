"""Asking about an attribute: stage-1 candidates -> :func:`crs.dialogue.policy.choose_question`
-> the question's text. The choice itself is pure (policy.py); this module feeds it."""

from __future__ import annotations

import re
from typing import Any

from crs.dialogue.deps import DialogueDeps
from crs.dialogue.policy import Facts, Question, choose_question, open_attributes
from crs.nlu.lexicon import mood_pattern
from crs.preferences import Preferences
from crs.recommender.types import RecQuery

#: How many stage-1 candidates the question is computed over.
N_CANDIDATES = 50


def candidate_facts(deps: DialogueDeps, prefs: Preferences, exclude: set[str], n: int = N_CANDIDATES) -> list[Facts]:
    """The stage-1 candidates for ``prefs`` as the policy sees them (score and metadata;
    moods are the lexicon's mood tags whose words occur in the plot or keywords)."""
    query = RecQuery(preferences=prefs, text=" ".join(prefs.moods), exclude=frozenset(exclude),
                     mentioned=tuple(prefs.liked_movies), k=deps.n_recommendations)
    candidates = deps.recommender.retriever.retrieve(query, n)
    if any(c.evidence.get("meets_all", True) for c in candidates):
        candidates = [c for c in candidates if c.evidence.get("meets_all", True)]
    mood_words = _mood_patterns(deps)
    out = []
    for c in candidates:
        m = c.movie
        text = f"{m.plot} {' '.join(m.keywords)}".lower()
        moods = tuple(tag for tag, pattern in mood_words.items() if pattern.search(text))
        out.append(Facts(score=float(c.score), year=m.year, genres=tuple(m.genres), directors=tuple(m.directors),
                         cast=tuple(m.cast), moods=moods, keywords=tuple(m.keywords)))
    return out


def _mood_patterns(deps: DialogueDeps) -> dict[str, re.Pattern[str]]:
    lexicon = getattr(deps.nlu, "lexicon", None)
    if lexicon is None:
        return {}
    return {tag: pattern for tag, words in lexicon.mood_words.items() if (pattern := mood_pattern(words)) is not None}


def pick_question(deps: DialogueDeps, state: dict[str, Any], prefs: Preferences,
                  extra_exclude: set[str] | None = None) -> Question | None:
    """The most informative attribute question for this state, or None."""
    attributes = open_attributes(prefs, state.get("asked") or [])
    if not attributes:
        return None
    exclude = set(state.get("shown") or []) | set(state.get("excluded") or []) | (extra_exclude or set())
    facts = candidate_facts(deps, prefs, exclude)
    skip = frozenset(v.lower() for v in prefs.disliked_genres + prefs.liked_genres)
    return choose_question(facts, attributes, skip_values=skip)


def question_text(deps: DialogueDeps, question: Question, seed: str, follow_up: bool = False) -> str:
    """"More comedy, drama or thriller?" (as a follow-up to a list: "Or, to narrow it down: ...")."""
    labels = [o.label for o in question.options]
    options = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]
    text = deps.prompts.reply(f"ask_{question.attribute}", seed, options=options)
    return deps.prompts.reply("ask_follow_up", seed, question=text) if follow_up else text
