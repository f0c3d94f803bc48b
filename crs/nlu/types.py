"""What the NLU returns for one user message."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from crs.catalog.linker import Mention
from crs.preferences import Polarity, PreferenceItem


class Intent(StrEnum):
    GREET = "greet"
    PREFERENCE = "give_preference"
    ASK_REC = "ask_recommendation"
    MORE = "more"
    ACCEPT = "accept"
    REJECT = "reject"
    SEEN = "seen"
    ASK_WHY = "ask_why"
    ASK_ABOUT = "ask_about_movie"  # "is it funny?", "who stars in Heat?": a question, no taste
    RESET = "reset"
    CHANGE_MIND = "change_of_mind"
    GOODBYE = "goodbye"
    CHITCHAT = "chitchat"


@dataclass
class NLUResult:
    """Intents (strongest first), extracted preferences and unresolved mentions.

    Attributes:
        intents: Recognised intents; empty means "nothing understood".
        items: Preferences stated in this message.
        year_min / year_max: Year constraints stated in this message.
        ambiguous: Title mentions with several candidate movies (ask which one).
        refers_to_shown: Indexes (0-based) into the last shown list the message refers
            to ("the second one" -> [1]; "those" -> all, given as [-1]).
        years_mentioned: Bare years in the text (used to answer a clarification).
        mentioned: Ids of every movie named unambiguously, whatever was said about it.
        people_mentioned: Every person named, whatever was said about them.
        roles: Person (display name) -> "director", "actor" or "writer": the role the
            message speaks of ("films by X", "X as an actor"), else the person's main
            role in the corpus.
        audience: Who will watch: "kids", "family" or "couple" ("with my son", "date night").
        runtime: "short" or "long" when the message asks for a length.
        language: A language wish ("in French" -> "french", "foreign films" -> "foreign").
        studio: A studio wish ("Pixar movies" -> "pixar"; a key of ``crs.facets.STUDIOS``).
        other_people: The message wants films like the person's, by others ("by someone else").
        asks: What a question about a movie asks ("who directed it?" -> ["director"]; a
            ``crs.nlu.questions`` aspect, or "tone:scary").
        about_movies: Ids of the movies a question names ("who stars in Heat?"; an ambiguous
            title gives its best-known film).
        too_genres: Genres disliked only because a film was "too" much of them ("too scary":
            horror): the dialogue keeps a genre the user asked for and drops such a dislike.
        excluded: Ids of movies named only to be left out ("heist movies other than Ocean's
            Eleven", "besides Up"): never shown, and no dislike (their look-alikes are wanted).
    """

    intents: list[Intent] = field(default_factory=list)
    items: list[PreferenceItem] = field(default_factory=list)
    year_min: int | None = None
    year_max: int | None = None
    ambiguous: list[tuple[Mention, Polarity]] = field(default_factory=list)
    refers_to_shown: list[int] = field(default_factory=list)
    years_mentioned: list[int] = field(default_factory=list)
    mentioned: list[str] = field(default_factory=list)
    people_mentioned: list[str] = field(default_factory=list)
    roles: dict[str, str] = field(default_factory=dict)
    audience: str | None = None
    runtime: str | None = None
    language: str | None = None
    studio: str | None = None
    other_people: bool = False
    asks: list[str] = field(default_factory=list)
    about_movies: list[str] = field(default_factory=list)
    too_genres: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    def has(self, intent: Intent) -> bool:
        return intent in self.intents

    @property
    def primary(self) -> Intent | None:
        return self.intents[0] if self.intents else None
