"""The dialogue state LangGraph checkpoints, and the per-turn input.

Everything in the state is plain JSON (dicts, lists, strings) so any checkpointer can
store it; typed objects (Preferences) are rebuilt from it inside nodes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypedDict


class Phase(StrEnum):
    GREETING = "greeting"
    ELICITATION = "elicitation"
    RECOMMENDATION = "recommendation"
    FEEDBACK = "feedback"
    CLARIFICATION = "clarification"


class TurnInput(TypedDict):
    """What the service hands the graph each turn."""

    session_id: str
    turn: int
    text: str


class DialogueState(TypedDict, total=False):
    """One session's dialogue state.

    Attributes:
        session_id / turn / text: The current turn's input.
        preferences: ``Preferences.model_dump(mode="json")`` — everything stated so far.
        shown: Ids of every movie shown this session, in order.
        last_recs: The last shown list (turn-object recommendation dicts).
        pending: An open clarification: {"mention", "candidates": [ids], "polarity"}.
        excluded: Ids never to show although not a preference (unresolved mentions).
        act: What ``understand`` made of the message (flags read by the routers).
        refs: Positions in ``last_recs`` the message points at ("the second one"; -1 = all).
        mentioned: Movie ids named in the message (feedback about one shown movie).
        preface: Text that goes before the reply (acknowledgements, notices).
        phase / reply / recommendations / intent: The turn's output.
        feedback_events: [{"movie_id", "kind"}] produced this turn, for storage.
        question: An open attribute question (``policy.Question.to_state()``): {"attribute",
            "options": [{"value", "label", "share"}], "gain"}; cleared by the next message.
        asked: Attributes asked about so far (never asked twice).
        conflict: An open contradiction (``policy.Conflict.to_state()``): {"kind", "first",
            "second"}, each side {"label", "item" | "year_min"/"year_max"}.
        focus: The movie of the last question about one movie and what was asked
            ({"movie", "aspects", "turn"}), so "who's in it?" and "and the second?" follow.
        options: Per-session options set from the web UI ({"n_recommendations": int,
            "include_seen": bool}); missing keys mean the product defaults.
    """

    session_id: str
    turn: int
    text: str
    preferences: dict[str, Any]
    shown: list[str]
    last_recs: list[dict[str, Any]]
    pending: dict[str, Any] | None
    excluded: list[str]
    act: dict[str, Any]
    refs: list[int]
    mentioned: list[str]
    preface: str
    phase: str
    reply: str
    recommendations: list[dict[str, Any]]
    intent: str
    feedback_events: list[dict[str, Any]]
    options: dict[str, Any]
    question: dict[str, Any] | None
    asked: list[str]
    conflict: dict[str, Any] | None
    focus: dict[str, Any] | None
