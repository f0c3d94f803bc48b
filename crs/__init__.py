"""CineCRS: a conversational movie recommender."""

__version__ = "0.1.0"
