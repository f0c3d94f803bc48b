"""What a user has told us: the shared vocabulary of NLU, dialogue, recommender and storage."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


#: The keyword topic "no sequels / prequels / remakes" is stored as (disliked); also a TMDB
#: keyword. The recommender then sinks the liked movies' franchises (crs.recommender.hybrid).
SEQUEL = "sequel"


class Polarity(StrEnum):
    LIKE = "like"
    DISLIKE = "dislike"
    SEEN = "seen"


class Slot(StrEnum):
    MOVIE = "movie"
    GENRE = "genre"
    PERSON = "person"
    MOOD = "mood"
    KEYWORD = "keyword"


class PreferenceItem(BaseModel):
    """One stated preference. ``value`` is a movie id, a genre, a person's name or a phrase."""

    slot: Slot
    value: str
    polarity: Polarity
    label: str = ""  # how to show it ("Heat (1995)")
    turn: int = 0  # the turn that stated it


class Preferences(BaseModel):
    """Everything a session has stated so far. Later statements override earlier ones."""

    items: list[PreferenceItem] = Field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None

    def add(self, item: PreferenceItem) -> None:
        """Add ``item``, replacing an earlier statement about the same thing."""
        self.items = [
            i for i in self.items
            if not (i.slot == item.slot and i.value.lower() == item.value.lower()
                    and (i.polarity == item.polarity or {i.polarity, item.polarity} <= {Polarity.LIKE, Polarity.DISLIKE}))
        ]
        self.items.append(item)

    def remove(self, slot: Slot, value: str) -> bool:
        """Forget a stated preference; True if something was removed."""
        before = len(self.items)
        self.items = [i for i in self.items if not (i.slot == slot and i.value.lower() == value.lower())]
        return len(self.items) != before

    def values(self, slot: Slot, polarity: Polarity) -> list[str]:
        return [i.value for i in self.items if i.slot == slot and i.polarity == polarity]

    def labels(self, slot: Slot, polarity: Polarity) -> list[str]:
        return [i.label or i.value for i in self.items if i.slot == slot and i.polarity == polarity]

    @property
    def liked_movies(self) -> list[str]:
        return self.values(Slot.MOVIE, Polarity.LIKE)

    @property
    def disliked_movies(self) -> list[str]:
        return self.values(Slot.MOVIE, Polarity.DISLIKE)

    @property
    def seen_movies(self) -> list[str]:
        return self.values(Slot.MOVIE, Polarity.SEEN)

    @property
    def liked_genres(self) -> list[str]:
        return self.values(Slot.GENRE, Polarity.LIKE)

    @property
    def disliked_genres(self) -> list[str]:
        return self.values(Slot.GENRE, Polarity.DISLIKE)

    @property
    def liked_people(self) -> list[str]:
        return self.values(Slot.PERSON, Polarity.LIKE)

    @property
    def disliked_people(self) -> list[str]:
        return self.values(Slot.PERSON, Polarity.DISLIKE)

    @property
    def moods(self) -> list[str]:
        return self.values(Slot.MOOD, Polarity.LIKE) + self.values(Slot.KEYWORD, Polarity.LIKE)

    def labels_liked_movies(self) -> list[str]:
        return self.labels(Slot.MOVIE, Polarity.LIKE)

    @property
    def disliked_moods(self) -> list[str]:
        return self.values(Slot.MOOD, Polarity.DISLIKE)

    @property
    def disliked_keywords(self) -> list[str]:
        """Unwanted plot topics ("no zombie movies")."""
        return self.values(Slot.KEYWORD, Polarity.DISLIKE)

    def has_positive(self) -> bool:
        """Something to recommend from: a liked movie, genre, person, mood or keyword."""
        return any(i.polarity == Polarity.LIKE for i in self.items)

    def is_empty(self) -> bool:
        return not self.items and self.year_min is None and self.year_max is None

    def summary(self) -> dict[str, Any]:
        """The JSON shape used in replay output, the API and the UI panel."""
        out: dict[str, Any] = {
            "liked_movies": self.labels(Slot.MOVIE, Polarity.LIKE),
            "disliked_movies": self.labels(Slot.MOVIE, Polarity.DISLIKE),
            "seen_movies": self.labels(Slot.MOVIE, Polarity.SEEN),
            "liked_genres": self.liked_genres,
            "disliked_genres": self.disliked_genres,
            "liked_people": self.liked_people,
            "disliked_people": self.disliked_people,
            "moods": self.values(Slot.MOOD, Polarity.LIKE),
            "disliked_moods": self.values(Slot.MOOD, Polarity.DISLIKE),
            "keywords": self.values(Slot.KEYWORD, Polarity.LIKE),
            "year_min": self.year_min,
            "year_max": self.year_max,
        }
        return out
