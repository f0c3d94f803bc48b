"""Offline evaluation of the recommender on ReDial and OpenDialKG (see EVALUATION.md)."""
