"""Reasons for a recommendation, built only from metadata and stated preferences."""

from __future__ import annotations

from crs import facets
from crs.catalog.models import MovieIndex
from crs.preferences import Polarity, Slot
from crs.prompts import PromptLibrary
from crs.recommender.types import Candidate, RecQuery


class Explainer:
    """Turns a candidate's evidence into one truthful sentence."""

    def __init__(self, prompts: PromptLibrary, index: MovieIndex) -> None:
        self.prompts = prompts
        self.index = index

    def reason(self, cand: Candidate, query: RecQuery) -> str:
        ev, movie, p = cand.evidence, cand.movie, self.prompts
        parts: list[str] = []
        if ev.get("person"):
            person, role = ev["person"]
            key = {"directed by": "person_directed", "starring": "person_starring"}.get(role, "person_written")
            parts.append(p.reason(key, person=person))
        liked = self._liked(ev.get("similar_to"))
        if liked is not None:
            shared = [d for d in movie.directors if d in liked.directors]
            costars = [c for c in movie.cast[:4] if c in liked.cast[:4]]
            common = [g for g in movie.genres if g in liked.genres]
            if shared and not ev.get("person"):
                parts.append(p.reason("same_director", person=shared[0], liked=liked.display))
            elif costars and not ev.get("person"):
                parts.append(p.reason("same_cast", person=costars[0], liked=liked.display))
            elif ev.get("collab", 0) > 0.2:
                parts.append(p.reason("collab", liked=liked.display))
            elif len(common) >= 2:
                parts.append(p.reason("shared_genres", genres=" and ".join(common[:2]), liked=liked.display))
            elif ev.get("semantic", 0) > 0:
                parts.append(p.reason("similar", liked=liked.display))
        elif ev.get("collab", 0) > 0.2 and query.preferences.liked_movies:
            first = self._liked(query.preferences.liked_movies[-1])
            if first is not None:
                parts.append(p.reason("collab", liked=first.display))
        topics = [t for t in query.preferences.values(Slot.KEYWORD, Polarity.LIKE) if t in movie.keywords]
        if topics and len(parts) < 2:  # "based on a true story": the corpus keyword it carries
            parts.append(p.reason("topic", topic=topics[-1]))
        genres = ev.get("genres") or []
        if genres and len(parts) < 2:
            parts.append(p.reason("genre", genres=" and ".join(genres)))
        if ev.get("text", 0) > 0.3 and len(parts) < 2 and not topics:
            parts.append(p.reason("text"))
        if not parts:
            label = ", ".join(movie.genres[:2]) or "all genres"
            key = "popular" if ev.get("popularity", 0) > 0.5 else "fallback"
            parts.append(p.reason(key, genres=label))
        sentence = "; ".join(parts[:2] + self._facet_parts(movie, query))
        return sentence[0].upper() + sentence[1:] + "."

    def _facet_parts(self, movie, query: RecQuery) -> list[str]:
        """"88 minutes long", "in French", "from Pixar": said when the user asked for a
        length, a language or a studio and the corpus knows the film fits it."""
        out = []
        for facet in facets.facets_of(query.preferences.moods):
            if facet.kind == "runtime" and movie.runtime and facet.fits_runtime(movie.runtime):
                out.append(self.prompts.reason("runtime", minutes=movie.runtime))
            elif facet.kind == "language" and movie.language and facet.fits_language(movie.language):
                out.append(self.prompts.reason("language", language=facets.language_name(movie.language)))
            elif facet.kind == "studio" and facet.fits_companies(movie.companies):
                out.append(self.prompts.reason("studio", studio=facets.STUDIOS[facet.code][0]))
        return out[:1]

    def _liked(self, movie_id: str | None):
        return self.index.get(movie_id) if movie_id else None
