"""Two-stage recommender: stage-1 retrievers propose, stage-2 rerankers refine."""
