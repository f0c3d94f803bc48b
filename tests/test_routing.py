"""Table-driven tests of the dialogue routers (pure functions)."""

import pytest

from crs.dialogue.routing import route_after_feedback, route_turn

BASE = {"reset": False, "ambiguous": False, "feedback": None, "new_info": False, "more": False, "ask": False,
        "greet": False, "goodbye": False, "can_recommend": False, "conflict": False, "answered": False}
REC = [{"id": "1", "title": "Heat", "year": 1995}]


@pytest.mark.parametrize("flags, last_recs, expected", [
    ({"greet": True}, [], "greeting"),
    ({"reset": True, "new_info": True}, REC, "greeting"),
    ({"ambiguous": True, "new_info": True, "can_recommend": True}, [], "clarification"),
    ({"new_info": True, "can_recommend": True}, [], "recommendation"),
    ({"new_info": True, "can_recommend": False}, [], "elicitation"),
    ({"ask": True, "can_recommend": False}, [], "elicitation"),
    ({"more": True, "can_recommend": True}, REC, "recommendation"),
    ({"feedback": "seen", "can_recommend": True}, REC, "feedback"),
    ({"feedback": "seen", "can_recommend": True, "new_info": True}, [], "recommendation"),
    ({"feedback": "why"}, REC, "feedback"),
    ({"feedback": "why"}, [], "elicitation"),
    ({"goodbye": True}, REC, "greeting"),
    ({"greet": True, "new_info": True, "can_recommend": True}, [], "recommendation"),
    ({}, [], "elicitation"),
    # contradictory wishes are asked about before anything else is done with the message
    ({"conflict": True, "new_info": True, "can_recommend": True}, [], "clarification"),
    ({"conflict": True, "feedback": "reject"}, REC, "clarification"),
    ({"conflict": True, "reset": True}, REC, "greeting"),
    # an answer to the bot's attribute question (an option, or "any") is followed by a list
    ({"answered": True, "can_recommend": True}, [], "recommendation"),
    ({"answered": True, "can_recommend": True, "new_info": True}, REC, "recommendation"),
    ({"answered": True, "goodbye": True}, REC, "greeting"),
    ({"answered": True, "ambiguous": True}, [], "clarification"),
    # only a dislike, no ask: the bot elicits (with an attribute question when one splits the candidates)
    ({"new_info": True}, [], "elicitation"),
])
def test_route_turn(flags, last_recs, expected):
    assert route_turn({"act": {**BASE, **flags}, "last_recs": last_recs}) == expected


def test_route_turn_rejects_state_without_flags():
    with pytest.raises(ValueError):
        route_turn({"last_recs": []})


@pytest.mark.parametrize("kind, expected", [
    ("seen", "recommendation"), ("reject", "recommendation"), ("accept", "__end__"), ("why", "__end__"),
])
def test_route_after_feedback(kind, expected):
    assert route_after_feedback({"act": {**BASE, "feedback": kind}}) == expected
