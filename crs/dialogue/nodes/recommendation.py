"""Recommendation: run the two-stage recommender and present the list with reasons."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from crs.dialogue.asking import pick_question, question_text
from crs.dialogue.deps import DialogueDeps
from crs.dialogue.policy import cumulative, follow_up_wanted, relaxations
from crs.dialogue.render import NOTHING_STATED, rec_dict, summarize
from crs.dialogue.state import Phase
from crs.preferences import Polarity, Preferences
from crs.recommender.pipeline import RecResult
from crs.recommender.types import RecQuery


def make_recommendation(deps: DialogueDeps):
    def recommendation(state: dict[str, Any]) -> dict[str, Any]:
        seed = f"{state['session_id']}|{state['turn']}"
        prefs = Preferences.model_validate(state.get("preferences") or {})
        shown = list(state.get("shown") or [])
        options = state.get("options") or {}
        query = RecQuery(
            preferences=_without_seen(prefs) if options.get("include_seen") else prefs,
            text=" ".join(prefs.moods),
            exclude=frozenset(shown) | frozenset(state.get("excluded") or []),
            mentioned=tuple(prefs.liked_movies),
            k=int(options.get("n_recommendations") or deps.n_recommendations),
            session_id=state["session_id"],
            message=state.get("text", ""),
        )
        result = deps.recommender.recommend(query)
        dropped, used = "", prefs
        if not result.items:
            result, dropped, used = _relax(deps, query)
        summary = summarize(used)
        if not result.items:
            reply = deps.prompts.reply("recommend_none", seed, summary=summary)
            recs: list[dict[str, Any]] = []
        else:
            recs = [rec_dict(c) for c in result.items]
            key = "recommend_more" if shown else "recommend_intro"
            if summary == NOTHING_STATED:
                key = "recommend_open_more" if shown else "recommend_open"  # "surprise me": nothing to summarise
            lines = [deps.prompts.reply(key, seed, summary=summary)]
            if dropped:
                lines.insert(0, deps.prompts.reply("recommend_relaxed_empty", seed, dropped=dropped))
            elif result.relaxed:
                lines.insert(0, deps.prompts.reply("recommend_relaxed", seed, missing=" / ".join(result.relaxed)))
            for rank, rec in enumerate(recs, 1):
                template = "recommend_item" if rec["year"] else "recommend_item_noyear"
                lines.append(deps.prompts.reply(template, seed, rank=rank, title=rec["title"], year=rec["year"],
                                                reason=rec["reason"]))
            reply = "\n".join(lines)
        follow: dict[str, Any] = {}
        asked = list(state.get("asked") or [])
        rejected = {e["movie_id"] for e in state.get("feedback_events") or [] if e.get("kind") == "reject"}
        act = {**(state.get("act") or {}), "rejected_all": rejected >= {r["id"] for r in state.get("last_recs") or []}}
        if recs and follow_up_wanted(act, prefs, asked, bool(state.get("pending") or state.get("conflict"))):
            question = pick_question(deps, state, prefs, extra_exclude={r["id"] for r in recs})
            if question is not None:
                reply = f"{reply}\n{question_text(deps, question, seed, follow_up=True)}"
                follow = {"question": question.to_state(), "asked": [*asked, question.attribute]}
        if state.get("preface"):
            reply = f"{state['preface']}\n{reply}"
        return {
            "phase": Phase.RECOMMENDATION.value,
            "reply": reply,
            "recommendations": recs,
            "last_recs": recs or state.get("last_recs") or [],
            "shown": shown + [r["id"] for r in recs if r["id"] not in shown],
            **follow,
        }

    return recommendation


def _relax(deps: DialogueDeps, query: RecQuery) -> tuple[RecResult, str, Preferences]:
    """Nothing meets every hard constraint: loosen the softest one that brings results
    back (policy.RELAX_ORDER), else pile them up. Returns the result, what was loosened
    (for the reply to say plainly) and the preferences used. The stored preferences are
    not changed, and shown, seen and turned-down movies stay excluded."""
    for relaxation in [*relaxations(query.preferences), *cumulative(query.preferences)[1:]]:
        result = deps.recommender.recommend(replace(query, preferences=relaxation.preferences))
        if result.items:
            return result, relaxation.describe(), relaxation.preferences
    return RecResult(), "", query.preferences


def _without_seen(prefs: Preferences) -> Preferences:
    """The preferences minus "already seen" movies, so those may be picked again (the
    per-session include-seen option); a movie shown in this session still never repeats."""
    return prefs.model_copy(update={"items": [i for i in prefs.items if i.polarity != Polarity.SEEN]})
