"""The normalised movie record every part of the product shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


#: The fields of :class:`Movie` that hold a tuple of strings (lists in JSON).
LIST_FIELDS = ("genres", "directors", "cast", "writers", "keywords", "companies", "aliases")


@dataclass(frozen=True)
class Movie:
    """One movie of the corpus.

    Attributes:
        id: Stable corpus id. ReDial movies keep their ReDial movieId ("12345") so the
            ReDial evaluation and the app share ids; MovieLens-only movies are "ml<id>";
            movies added with ``crs corpus add`` keep the id given in their file.
        title: Display title without the year ("The Matrix").
        year: Release year, if known.
        genres: Lower-case genre names ("action", "science fiction").
        directors / cast / writers: People, in source order.
        plot: One or a few sentences (ReDial plot or TMDB overview).
        keywords: TMDB keywords, if any.
        runtime: Length in minutes (TMDB), if known.
        language: Original language as an ISO 639-1 code ("en", "fr"; TMDB), if known.
        companies: Production companies (TMDB: "Pixar Animation Studios"), if known.
        aliases: Other titles the film is known by (MovieLens: "Harry Potter and the
            Sorcerer's Stone" for ReDial's "... Philosopher's Stone", original foreign
            titles, "a.k.a." names); linkable, never displayed.
        redial_id / movielens_id / imdb_id / tmdb_id: Source ids, where known.
        popularity: Mentions in the ReDial training data (0 when unknown); a prior.
    """

    id: str
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    plot: str = ""
    keywords: tuple[str, ...] = ()
    runtime: int | None = None
    language: str | None = None
    companies: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    redial_id: str | None = None
    movielens_id: str | None = None
    imdb_id: str | None = None
    tmdb_id: str | None = None
    popularity: float = 0.0

    @property
    def display(self) -> str:
        """"Title (Year)" as people write it."""
        return f"{self.title} ({self.year})" if self.year else self.title

    def embedding_text(self) -> str:
        """The text embedded for semantic search: genres, people, plot and keywords.

        The title is left out on purpose: with it, "Die Hard" sits next to "Get Hard" and
        "Heat" next to "The Heat". Titles are found by the linker, not by vectors. A
        movie known only by title and genres (most of the MovieLens long tail) embeds its
        genres alone, so the ~80k such movies share a few thousand distinct texts.
        """
        parts = []
        if self.genres:
            parts.append(", ".join(self.genres).capitalize() + " film")
        if self.directors:
            parts.append("Directed by " + ", ".join(self.directors[:2]))
        if self.cast:
            parts.append("Starring " + ", ".join(self.cast[:3]))
        if self.plot:
            parts.append(self.plot)
        if self.keywords:
            parts.append(", ".join(self.keywords[:8]))
        return ". ".join(parts) or "Film"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Movie":
        """Inverse of :meth:`to_dict`; unknown keys are rejected with a clear error."""
        known = set(cls.__dataclass_fields__)
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown movie fields: {sorted(extra)}")
        if "id" not in data or "title" not in data:
            raise ValueError("a movie needs at least 'id' and 'title'")
        values = dict(data)
        for key in LIST_FIELDS:
            if key in values and values[key] is not None:
                values[key] = tuple(str(x) for x in values[key])
        for key in ("year", "runtime"):
            if values.get(key) is not None:
                values[key] = int(values[key])
        values["id"] = str(values["id"])
        return cls(**values)


@dataclass
class MovieIndex:
    """Movies by id, with the insertion order kept (row i of any matrix = movies[i])."""

    movies: list[Movie] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id: dict[str, Movie] = {m.id: m for m in self.movies}
        self.row: dict[str, int] = {m.id: i for i, m in enumerate(self.movies)}

    def __len__(self) -> int:
        return len(self.movies)

    def __contains__(self, movie_id: object) -> bool:
        return movie_id in self.by_id

    def get(self, movie_id: str) -> Movie | None:
        return self.by_id.get(movie_id)

    def add(self, movie: Movie) -> None:
        """Add or replace one movie."""
        if movie.id in self.row:
            self.movies[self.row[movie.id]] = movie
        else:
            self.row[movie.id] = len(self.movies)
            self.movies.append(movie)
        self.by_id[movie.id] = movie
