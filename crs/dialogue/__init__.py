"""The LangGraph dialogue: state, routers, one node per phase, and the graph."""
