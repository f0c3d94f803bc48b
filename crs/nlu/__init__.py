"""Deterministic natural-language understanding: intents, slots, negation, years."""
