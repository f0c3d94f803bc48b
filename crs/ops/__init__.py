"""Operational tests of the running app: load (``crs loadtest``) and crash safety (``crs crashtest``)."""
