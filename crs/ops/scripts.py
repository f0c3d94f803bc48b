"""Scripted, realistic conversations for the load and crash tests.

Each session gets its own movies (popular ones whose title no other movie has, named
with their year so no clarification is needed), its own director and two genres; a few
turns react to the recommendations the session itself was shown ("I've already seen X").
Disjoint movie and people pools make cross-session leakage detectable: a preference of
session A that names a movie or person from session B's pool (and not A's own) leaked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crs.catalog.models import Movie
from crs.catalog.normalize import norm_title

GENRES = ("comedy", "horror", "sci-fi", "western", "animation", "documentary", "romance", "thriller", "drama",
          "action", "crime", "fantasy", "mystery", "war", "musical", "family", "adventure")
DECADES = (1970, 1980, 1990, 2000, 2010)

#: Turn templates; ``{rec}`` is a movie the session was just shown (else one of its own).
TEMPLATES = (
    "Hi! I really loved {m0}.",
    "I also enjoyed {m1}. I am in the mood for {g0}",
    "Anything directed by {p0}?",
    "I did not like {m2} at all",
    "I have already seen {rec}",
    "More like {m3} please",
    "Maybe something from the {decade}s",
    "Not for me: {rec}",
    "{m4} was fantastic too",
    "What about {g1} movies?",
    "thanks, any other ideas?",
    "I like {rec}",
)


@dataclass
class SessionScript:
    """What one simulated user says, and what it may legitimately end up with."""

    name: str
    movies: list[Movie]
    person: str
    genres: tuple[str, str]
    decade: int
    own_movie_labels: set[str] = field(default_factory=set)
    shown_labels: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.own_movie_labels = {norm_title(m.display) for m in self.movies}

    def message(self, turn: int, last_recs: list[dict[str, Any]]) -> str:
        """The message of turn ``turn`` (0-based), given the last recommendations shown."""
        template = TEMPLATES[turn % len(TEMPLATES)]
        cycle = turn // len(TEMPLATES)
        ms = self.movies
        pick = lambda i: ms[(i + 5 * cycle) % len(ms)].display  # noqa: E731
        rec = None
        if "{rec}" in template and last_recs:
            rec = last_recs[(turn + cycle) % len(last_recs)]
            label = f"{rec['title']} ({rec['year']})" if rec.get("year") else rec["title"]
            self.shown_labels.add(norm_title(label))
        rec_text = (f"{rec['title']} ({rec['year']})" if rec and rec.get("year") else rec["title"] if rec else pick(turn))
        return template.format(m0=pick(0), m1=pick(1), m2=pick(2), m3=pick(3), m4=pick(4), g0=self.genres[0],
                               g1=self.genres[1], p0=self.person, decade=self.decade, rec=rec_text)


def unique_popular(movies: list[Movie]) -> list[Movie]:
    """Movies with a year, a director and a title no other movie of the store has, most popular first."""
    counts = Counter(norm_title(m.title) for m in movies)
    keep = [m for m in movies if m.year and m.directors and counts[norm_title(m.title)] == 1
            and len(m.title) >= 4 and any(c.isalpha() for c in m.title)]
    return sorted(keep, key=lambda m: (-m.popularity, m.id))


def make_scripts(movies: list[Movie], sessions: int, per_session: int = 6) -> list[SessionScript]:
    """``sessions`` scripts with disjoint movies and directors (see the module docstring).

    Raises:
        ValueError: The store has too few suitable movies.
    """
    candidates = unique_popular(movies)
    people_used: set[str] = set()
    people_counts = Counter(p.lower() for m in movies for p in (*m.directors, *m.cast, *m.writers))
    pools: list[list[Movie]] = [[] for _ in range(sessions)]
    directors: list[str | None] = [None] * sessions
    slot = 0
    for movie in candidates:
        if all(len(p) >= per_session for p in pools) and all(directors):
            break
        people = {p.lower() for p in (*movie.directors, *movie.cast)}
        if people & people_used:
            continue
        while len(pools[slot]) >= per_session and directors[slot]:
            slot = (slot + 1) % sessions
        if directors[slot] is None and people_counts[movie.directors[0].lower()] >= 2 and len(movie.directors[0]) > 6:
            directors[slot] = movie.directors[0]
        if len(pools[slot]) < per_session:
            pools[slot].append(movie)
        people_used |= people
        slot = (slot + 1) % sessions
    if any(len(p) < per_session for p in pools) or not all(directors):
        raise ValueError(f"the store has too few distinct popular movies for {sessions} sessions x {per_session} movies")
    return [SessionScript(name=f"s{i:02d}", movies=pools[i], person=str(directors[i]),
                          genres=(GENRES[i % len(GENRES)], GENRES[(i + 7) % len(GENRES)]),
                          decade=DECADES[i % len(DECADES)]) for i in range(sessions)]


def preference_labels(summary: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(normalised movie labels, lower-case people) of a preferences summary."""
    movies = {norm_title(x) for key in ("liked_movies", "disliked_movies", "seen_movies") for x in summary.get(key) or []}
    people = {str(x).lower() for key in ("liked_people", "disliked_people") for x in summary.get(key) or []}
    return movies, people


def leaks(scripts: list[SessionScript], summaries: dict[str, dict[str, Any]]) -> list[str]:
    """Preferences of a session that belong to another session's pool and not its own."""
    out = []
    for script in scripts:
        summary = summaries.get(script.name)
        if summary is None:
            continue
        movies, people = preference_labels(summary)
        own_movies = script.own_movie_labels | script.shown_labels
        own_people = {script.person.lower()} | {p.lower() for m in script.movies for p in (*m.directors, *m.cast)}
        for other in scripts:
            if other is script:
                continue
            for label in movies & (other.own_movie_labels | other.shown_labels) - own_movies:
                out.append(f"{script.name} has movie {label!r} of {other.name}")
            for person in people & {other.person.lower()} - own_people:
                out.append(f"{script.name} has person {person!r} of {other.name}")
    return out
