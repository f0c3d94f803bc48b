"""Named, pure routers: state in, next node name out. Table-tested in tests/test_routing.py."""

from __future__ import annotations

from typing import Any, Literal

TurnRoute = Literal["greeting", "elicitation", "recommendation", "feedback", "clarification"]
AfterFeedback = Literal["recommendation", "__end__"]


def route_turn(state: dict[str, Any]) -> TurnRoute:
    """Pick the phase that answers this message, from the flags ``understand`` set."""
    act = state.get("act")
    if act is None:
        raise ValueError("route_turn needs the 'act' flags set by the understand node")
    has_recs = bool(state.get("last_recs"))
    if act.get("reset"):
        return "greeting"
    if act.get("ambiguous") or act.get("conflict"):
        return "clarification"
    if act.get("feedback") == "about":  # a question about one movie, shown or named
        return "feedback"
    if has_recs and act.get("feedback") in {"seen", "reject", "accept", "why"}:
        return "feedback"
    if act.get("goodbye") and not act.get("new_info"):
        return "greeting"
    if act.get("answered"):  # the user answered the bot's question: show what it narrowed to
        return "recommendation"
    if act.get("new_info") or act.get("more") or act.get("ask"):
        return "recommendation" if act.get("can_recommend") else "elicitation"
    if act.get("greet"):
        return "greeting"
    return "elicitation"


def route_after_feedback(state: dict[str, Any]) -> AfterFeedback:
    """Seen and reject ask for a fresh list; accept ends the turn unless it asks for more
    ("the second one sounds good, anything like it?"); why and questions about a movie end the turn."""
    act = state.get("act") or {}
    kind = act.get("feedback")
    if kind == "accept" and act.get("more"):
        return "recommendation"
    return "recommendation" if kind in {"seen", "reject"} else "__end__"
