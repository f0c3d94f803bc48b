"""Simulated users: an attribute-only user (the SimpleUserSim idea, arXiv 2403.16416) who
knows a target movie's genres, people, years and keywords but never its title, talks to
the real dialogue graph through :class:`crs.service.ChatService`, and succeeds when the
target is shown. ``crs simulate`` runs it over held-out ReDial/OpenDialKG targets."""
