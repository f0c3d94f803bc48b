"""One module per dialogue phase; each exposes ``make_<phase>(deps)`` returning the node."""
