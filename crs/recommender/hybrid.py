"""Stage 1: a hybrid retriever over the Chroma corpus.

Candidates come from four pools — semantic neighbours in Chroma (liked movies' vectors
and the user's own words), the collaborative model (movies co-mentioned with the liked
ones in ReDial), movies of the wanted people and genres, and a popularity backstop —
then every candidate is scored by one weighted sum of the same signals. Hard
constraints are applied before scoring; the user's explicit asks (a person, a genre) are
*requirements*, so a candidate that meets them outranks one that does not.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from crs.catalog.models import Movie
from crs.catalog.normalize import norm_title
from crs.nlu.lexicon import Lexicon, load_lexicon
from crs.recommender.constraints import Constraints, person_match
from crs.recommender.types import Candidate, RecQuery


class CollabScorer(Protocol):
    """The collaborative model (crs.recommender.collaborative): liked ids -> scores."""

    def score(self, weights: Mapping[str, float], text: str = "", k: int | None = None) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class HybridWeights:
    """Fusion weights of the stage-1 score (issue #3 learns these; v0 sets them by hand)."""

    collab: float = 1.0
    semantic: float = 0.8
    text: float = 0.6
    genre: float = 0.6
    person: float = 0.9
    taste: float = 0.5
    disliked: float = 0.6
    popularity: float = 0.25
    mood: float = 0.15
    #: Implicit feedback of this session (crs.recommender.feedback): closeness to rewarded
    #: movies (embeddings), their collaborative neighbours, rejected genres/directors.
    feedback_item: float = 0.6
    feedback_collab: float = 0.3
    feedback_attr: float = 0.5
    #: The per-movie bias learned by `crs train feedback` (0 when no artefact is loaded).
    feedback_bias: float = 0.3


class HybridRetriever:
    """Stage-1 retriever; see the module docstring."""

    def __init__(self, store, collab: CollabScorer | None = None, weights: HybridWeights | None = None,
                 lexicon: Lexicon | None = None, pool_size: int = 300,
                 item_bias: Mapping[str, float] | None = None) -> None:
        """Args:
            store: An open :class:`crs.catalog.store.MovieStore` (Chroma + movie table).
            collab: Optional trained collaborative model.
            weights: Fusion weights.
            lexicon: NLU lexicon (mood words).
            pool_size: How many candidates each pool contributes.
            item_bias: Per-movie bias learned from stored feedback (``crs train feedback``).
        """
        self.store = store
        self.collab = collab
        self.weights = weights or HybridWeights()
        self.lexicon = lexicon or load_lexicon()
        self.pool_size = pool_size
        self.item_bias = dict(item_bias or {})
        self._by_genre: dict[str, list[str]] | None = None
        self._by_person: dict[str, list[str]] | None = None
        self._popular: list[str] | None = None
        self._max_pop = 1.0
        self._index_lock = threading.Lock()

    # ------------------------------------------------------------------ indexes
    def warm(self) -> None:
        """Build the per-genre, per-person and title-facts indexes now (at app start), not
        on the first user's turn (5 s at 87k movies, 23 s at 300k)."""
        self._ensure_indexes()

    def _ensure_indexes(self) -> None:
        if self._by_genre is not None and len(self._popular or []) == len(self.store.index):
            return
        with self._index_lock:  # parallel first turns wait for one build instead of each building
            if self._by_genre is not None and len(self._popular or []) == len(self.store.index):
                return
            self._build_indexes()

    def _build_indexes(self) -> None:
        movies = sorted(self.store.index.movies, key=lambda m: -m.popularity)
        by_genre: dict[str, list[str]] = defaultdict(list)
        by_person: dict[str, list[str]] = defaultdict(list)
        for m in movies:
            for g in m.genres:
                by_genre[g].append(m.id)
            for p in {*m.directors, *m.cast, *m.writers}:
                by_person[p.lower()].append(m.id)
        self._by_genre, self._by_person = dict(by_genre), dict(by_person)
        facts: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
        for m in movies:
            genres, people = facts[norm_title(m.title)]
            genres.update(m.genres)
            people.update(p.lower() for p in (*m.directors, *m.cast, *m.writers))
        self._title_facts = {k: (frozenset(g), frozenset(p)) for k, (g, p) in facts.items()}
        self._max_pop = max((m.popularity for m in movies), default=1.0) or 1.0
        self._popular = [m.id for m in movies]  # set last: _ensure_indexes checks it

    # ------------------------------------------------------------------ retrieval
    def retrieve(self, query: RecQuery, n: int) -> list[Candidate]:
        """Up to ``n`` allowed candidates, requirement-meeting ones first, best first."""
        self._ensure_indexes()
        index = self.store.index
        prefs = query.preferences
        rules = Constraints.from_query(query, index, self._title_facts)
        liked = [i for i in prefs.liked_movies if i in index]
        recency = liked_recency(prefs, liked)
        signal = query.feedback
        semantic = self._semantic(query, liked, signal.positives()[:3] if signal else [])
        collab = self._collab(query, recency)
        asks = current_asks(prefs)
        liked_genres = prefs.liked_genres
        pool: dict[str, None] = dict.fromkeys(semantic)
        pool.update(dict.fromkeys(sorted(collab, key=collab.get, reverse=True)[: self.pool_size]))
        for person in asks[1]:
            pool.update(dict.fromkeys(self._by_person.get(person.lower(), [])[: self.pool_size]))
        for genre in liked_genres:
            pool.update(dict.fromkeys(self._by_genre.get(genre, [])[: self.pool_size]))
        pool.update(dict.fromkeys(self._popular[: self.pool_size]))
        max_collab = max(collab.values(), default=0.0) or 1.0
        taste = {g for i, w in recency.items() if w == 1.0 for g in index.by_id[i].genres}
        allowed = [m for i in pool if (m := index.get(i)) is not None and (m.genres or m.plot) and rules.allows(m)]
        sims = self._similarities(allowed, recency, list(prefs.disliked_movies), query.text, semantic)
        context = _QueryContext(liked_genres=set(liked_genres), moods=prefs.moods, disliked_moods=prefs.disliked_moods,
                                taste_genres=taste, ask_genres=asks[0], ask_people=asks[1])
        out = self._score_all(allowed, sims, [collab.get(m.id, 0.0) / max_collab for m in allowed], context)
        if signal:
            self._apply_feedback(out, signal, set(prefs.liked_genres) | asks[0])
        out.sort(key=lambda c: (-c.evidence["meets"], -c.score, c.movie.id))
        return out[:n]

    def _semantic(self, query: RecQuery, liked: list[str], rewarded: list[str] = ()) -> dict[str, dict[str, float]]:
        """Chroma neighbours of each liked movie (recent first), of movies the session's
        feedback rewarded, and of the user's words."""
        found: dict[str, dict[str, float]] = defaultdict(dict)
        for movie_id in liked[-5:]:
            vec = self.store.vectors([movie_id])
            for movie, sim in self.store.search(vec, n=60, exclude=set(liked)):
                found[movie.id][f"like:{movie_id}"] = sim
        for movie_id in [m for m in rewarded if m not in liked and m in self.store.index]:
            for movie, _ in self.store.search(self.store.vectors([movie_id]), n=30, exclude=set(liked)):
                found.setdefault(movie.id, {})
        if query.text.strip():
            for movie, sim in self.store.search_text(query.text, n=self.pool_size // 2):
                found[movie.id]["text"] = sim
        return found

    def _similarities(self, movies: list[Movie], recency: dict[str, float], disliked: list[str], text: str,
                      found: dict[str, dict[str, float]]) -> "_Similarities":
        """Cosine similarity of every candidate to each recent liked movie (weighted by
        recency; the best one and which movie it is), to the closest disliked movie, and to
        the user's words (vectors come from the store; Chroma proposed only some of them)."""
        recent = sorted(recency, key=recency.get)[-5:]
        disliked = [i for i in disliked[-5:] if i in self.store.index]
        n = len(movies)
        out = _Similarities(semantic=np.zeros(n), similar_to=[None] * n, disliked=np.zeros(n), text=np.zeros(n))
        if not movies or not (recent or disliked or text.strip()):
            return out
        matrix = self.store.vectors([m.id for m in movies])
        if recent:
            sims = (matrix @ self.store.vectors(recent).T) * [recency[i] for i in recent]
            best = sims.argmax(axis=1)  # the first of equal maxima, as max() over a dict gives
            out.semantic = sims[np.arange(n), best].astype(np.float64)
            out.similar_to = [recent[j] for j in best.tolist()]
        if disliked:
            # Implicit negative feedback: movies close to what the user turned down sink.
            out.disliked = (matrix @ self.store.vectors(disliked).T).max(axis=1).astype(np.float64)
        if text.strip():
            out.text = np.array([found.get(m.id, {}).get("text", 0.0) for m in movies], np.float64)
        return out

    def _apply_feedback(self, candidates: list[Candidate], signal, exempt_genres: set[str]) -> None:
        """Add this session's implicit feedback to each score (see crs.recommender.feedback)."""
        from crs.recommender.feedback import collab_scores, similarity_scores

        if not candidates:
            return
        w = self.weights
        # Only likes and explicit per-movie dislikes spread to neighbours; a blanket or
        # glancing rejection stays on the shown movies (which are excluded anyway).
        spreading = signal.spreading(signal.rewards)
        rewarded = [m for m in spreading if m in self.store.index]
        ids = [c.movie.id for c in candidates]
        if rewarded:
            values = np.array([spreading[m] for m in rewarded], np.float32)
            item = similarity_scores(self.store.vectors(ids), self.store.vectors(rewarded), values)
        else:
            item = np.zeros(len(ids), np.float32)
        neighbours = collab_scores(self.collab, spreading, ids)
        for c, sim, nb in zip(candidates, item, neighbours):
            attr = signal.attribute_score(c.movie, exempt_genres)
            delta = w.feedback_item * float(sim) + w.feedback_collab * float(nb) + w.feedback_attr * attr
            c.score += delta
            c.evidence["feedback"] = delta

    def _collab(self, query: RecQuery, recency: dict[str, float]) -> dict[str, float]:
        prefs = query.preferences
        words = " ".join(prefs.liked_genres + prefs.moods)
        if self.collab is None or not (recency or words):
            return {}
        weights = dict(recency)
        for movie_id in prefs.disliked_movies:
            weights[movie_id] = -0.5
        scores = self.collab.score(weights, text=words, k=self.pool_size)
        return {k: float(v) for k, v in scores.items() if v > 0}

    def _score_all(self, movies: list[Movie], sims: "_Similarities", collab: list[float],
                   q: "_QueryContext") -> list[Candidate]:
        """One weighted sum of the signals per candidate, computed for all of them at once
        (the query-level values come precomputed in ``q``)."""
        if not movies:
            return []
        w = self.weights
        n = len(movies)
        genre_hits = [[g for g in m.genres if g in q.liked_genres] for m in movies]
        genre = np.array([len(h) / len(q.liked_genres) for h in genre_hits] if q.liked_genres else np.zeros(n))
        people = [person_match(m, q.ask_people) for m in movies] if q.ask_people else [None] * n
        log_max = math.log1p(self._max_pop)
        popularity = np.array([math.log1p(m.popularity) / log_max for m in movies])
        mood = (np.array([self._mood(m, q.moods, q.disliked_moods) for m in movies])
                if q.moods or q.disliked_moods else np.zeros(n))
        taste = np.zeros(n)
        if q.taste_genres:
            for row, m in enumerate(movies):
                genres = set(m.genres)
                taste[row] = len(q.taste_genres & genres) / len(q.taste_genres | genres)
        collab_a = np.array(collab, np.float64)
        person_a = np.array([1.0 if p else 0.0 for p in people])
        disliked = np.maximum(0.0, sims.disliked - 0.5)
        bias = np.array([self.item_bias.get(m.id, 0.0) for m in movies]) if self.item_bias else np.zeros(n)
        # The same sum, in the same order, as one float64 expression per candidate would give.
        score = (w.collab * collab_a + w.semantic * sims.semantic + w.text * sims.text + w.genre * genre
                 + w.taste * taste + w.person * person_a + w.popularity * popularity + w.mood * mood
                 - w.disliked * disliked + w.feedback_bias * bias)
        out = []
        for row, m in enumerate(movies):
            person = people[row]
            meets_person = not q.ask_people or person is not None
            meets_genre = not q.ask_genres or not q.ask_genres.isdisjoint(m.genres)
            evidence = {
                "collab": collab[row], "semantic": float(sims.semantic[row]), "similar_to": sims.similar_to[row],
                "text": float(sims.text[row]), "taste": float(taste[row]), "genres": genre_hits[row], "person": person,
                "popularity": float(popularity[row]), "mood": float(mood[row]),
                "meets": int(meets_person) + int(meets_genre), "meets_all": meets_person and meets_genre,
            }
            out.append(Candidate(movie=m, score=float(score[row]), evidence=evidence))
        return out

    def _mood(self, movie: Movie, wanted: list[str], unwanted: list[str]) -> float:
        if not wanted and not unwanted:
            return 0.0
        text = f"{movie.plot} {' '.join(movie.keywords)}".lower()
        value = 0.0
        for mood in wanted:
            value += 0.5 * sum(w in text for w in self.lexicon.mood_words.get(mood, ()))
            value += sum(g in movie.genres for g in self.lexicon.mood_genres.get(mood, ()))
        for mood in unwanted:
            value -= 1.5 * sum(w in text for w in self.lexicon.mood_words.get(mood, ()))
            value -= 4.0 * sum(g in movie.genres for g in self.lexicon.mood_genres.get(mood, ()))
        return value


@dataclass
class _Similarities:
    """Per-candidate similarities of one ``retrieve`` (rows follow its candidate list)."""

    semantic: np.ndarray  # best recency-weighted cosine to a recent liked movie
    similar_to: list[str | None]  # which liked movie that was
    disliked: np.ndarray  # best cosine to a recently disliked movie
    text: np.ndarray  # Chroma's similarity to the user's words (0 if it did not propose the movie)


@dataclass(frozen=True)
class _QueryContext:
    """Query-level values of one ``retrieve``, computed once instead of per candidate."""

    liked_genres: set[str]
    moods: list[str]
    disliked_moods: list[str]
    taste_genres: set[str]
    ask_genres: set[str]
    ask_people: list[str]


def liked_recency(prefs, liked: list[str]) -> dict[str, float]:
    """Weight of each liked movie: 1.0 for the latest ones, x0.4 per later turn that named
    other liked movies, so a change of topic moves the recommendations with it."""
    from crs.preferences import Polarity, Slot

    turns = {i.value: i.turn for i in prefs.items if i.slot == Slot.MOVIE and i.polarity == Polarity.LIKE}
    order = sorted({turns[m] for m in liked}, reverse=True)
    return {m: 0.4 ** order.index(turns[m]) for m in liked}


def current_asks(prefs) -> tuple[set[str], list[str]]:
    """The genres and people of the user's latest request for them.

    "A western" stays the ask until the user asks for other genres or people ("more
    action", "anything by Nolan?"), which then replace it as the requirement; older likes
    still count as soft evidence.
    """
    from crs.preferences import Polarity, Slot

    asks = [i for i in prefs.items if i.slot in (Slot.GENRE, Slot.PERSON) and i.polarity == Polarity.LIKE]
    if not asks:
        return set(), []
    last = max(i.turn for i in asks)
    newest_movie = max((i.turn for i in prefs.items if i.slot == Slot.MOVIE and i.polarity == Polarity.LIKE), default=-1)
    if newest_movie > last:  # "my daughter loved Up and Coco" after "anything by Nolan?": a new topic
        return set(), []
    genres = {i.value for i in asks if i.turn == last and i.slot == Slot.GENRE}
    return genres, [i.value for i in asks if i.turn == last and i.slot == Slot.PERSON]

