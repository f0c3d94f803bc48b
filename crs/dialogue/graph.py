"""Assemble the LangGraph StateGraph: understand -> one of five phases (-> recommendation)."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from crs.dialogue.deps import DialogueDeps
from crs.dialogue.nodes.clarification import make_clarification
from crs.dialogue.nodes.elicitation import make_elicitation
from crs.dialogue.nodes.feedback import make_feedback
from crs.dialogue.nodes.greeting import make_greeting
from crs.dialogue.nodes.recommendation import make_recommendation
from crs.dialogue.nodes.understand import make_understand
from crs.dialogue.routing import route_after_feedback, route_turn
from crs.dialogue.state import DialogueState, TurnInput


def build_graph(deps: DialogueDeps, checkpointer=None):
    """Compile the dialogue graph; pass a checkpointer to persist state per thread (session)."""
    builder = StateGraph(DialogueState, input_schema=TurnInput)
    builder.add_node("understand", make_understand(deps))
    builder.add_node("greeting", make_greeting(deps))
    builder.add_node("elicitation", make_elicitation(deps))
    builder.add_node("recommendation", make_recommendation(deps))
    builder.add_node("feedback", make_feedback(deps))
    builder.add_node("clarification", make_clarification(deps))
    builder.add_edge(START, "understand")
    builder.add_conditional_edges("understand", route_turn)
    builder.add_conditional_edges("feedback", route_after_feedback, {"recommendation": "recommendation", "__end__": END})
    for node in ("greeting", "elicitation", "recommendation", "clarification"):
        builder.add_edge(node, END)
    return builder.compile(checkpointer=checkpointer)
