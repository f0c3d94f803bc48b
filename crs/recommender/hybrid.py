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
        self._popular_years = np.zeros(0, np.float32)  # release year per _popular entry (nan: unknown)
        self._max_pop = 1.0
        self._index_lock = threading.Lock()
        self._mood_text: dict[str, str] = {}  # movie id -> lower-cased plot + keywords

    # ------------------------------------------------------------------ indexes
    def warm(self) -> None:
        """Build the per-genre, per-person and title-facts indexes now (at app start), not
        on the first user's turn (5 s at 87k movies, 23 s at 300k), and make every stored
        vector readable without Chroma (:meth:`MovieStore.warm_vectors`)."""
        warm_vectors = getattr(self.store, "warm_vectors", None)
        if warm_vectors is not None:
            warm_vectors()
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
        self._popular_years = np.array([np.nan if m.year is None else m.year for m in movies], np.float32)
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
        if not (liked_genres or asks[0] or asks[1]):  # with a genre or person asked, their own pools rule
            pool.update(dict.fromkeys(self._popular_in_years(rules.year_min, rules.year_max)))
        max_collab = max(collab.values(), default=0.0) or 1.0
        taste = {g for i, w in recency.items() if w == 1.0 for g in index.by_id[i].genres}
        allowed = [m for i in pool if (m := index.get(i)) is not None and (m.genres or m.plot) and rules.allows(m)]
        sims = self._similarities(allowed, recency, list(prefs.disliked_movies), query.text, semantic)
        context = _QueryContext(liked_genres=set(liked_genres), moods=prefs.moods, disliked_moods=prefs.disliked_moods,
                                taste_genres=taste, ask_genres=asks[0], ask_people=asks[1])
        scored = self._score_all(allowed, sims, [collab.get(m.id, 0.0) / max_collab for m in allowed], context)
        feedback = self._feedback(allowed, signal, set(prefs.liked_genres) | asks[0], sims.matrix) if signal else None
        if feedback is not None:
            scored.score = scored.score + feedback
        # Full evidence only for the n candidates returned (the order is that of sorting them all).
        score, meets = scored.score.tolist(), scored.meets
        order = sorted(range(len(allowed)), key=lambda row: (-meets[row], -score[row], allowed[row].id))[:n]
        return [scored.candidate(row, None if feedback is None else float(feedback[row])) for row in order]

    def _popular_in_years(self, year_min: int | None, year_max: int | None) -> list[str]:
        """The ``pool_size`` most popular movies inside a year bound (none without one).

        Used when no genre or person is asked for. With only a year bound ("old classics
        before 1960") the other pools barely reach
        into the range: the overall most popular movies are mostly recent, so the list
        would run dry after a page or two and the bound would be relaxed.
        """
        if year_min is None and year_max is None:
            return []
        years = self._popular_years
        inside = ~np.isnan(years)
        if year_min is not None:
            inside &= years >= year_min
        if year_max is not None:
            inside &= years <= year_max
        return [self._popular[i] for i in np.flatnonzero(inside)[: self.pool_size]]

    def _semantic(self, query: RecQuery, liked: list[str], rewarded: list[str] = ()) -> dict[str, dict[str, float]]:
        """Chroma neighbours of each liked movie (recent first), of movies the session's
        feedback rewarded, and of the user's words."""
        found: dict[str, dict[str, float]] = defaultdict(dict)
        recent = liked[-5:]
        if recent:  # one Chroma call for all of them
            for movie_id, hits in zip(recent, self.store.search_each(self.store.vectors(recent), n=60, exclude=set(liked))):
                for movie, sim in hits:
                    found[movie.id][f"like:{movie_id}"] = sim
        others = [m for m in rewarded if m not in liked and m in self.store.index]
        if others:
            for hits in self.store.search_each(self.store.vectors(others), n=30, exclude=set(liked)):
                for movie, _ in hits:
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
        matrix = out.matrix = self.store.vectors([m.id for m in movies])
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

    def _feedback(self, movies: list[Movie], signal, exempt_genres: set[str],
                  matrix: np.ndarray | None = None) -> np.ndarray | None:
        """This session's implicit feedback per candidate, added to its score (see
        crs.recommender.feedback); None without candidates. ``matrix``: the candidates'
        vectors when :meth:`_similarities` already read them."""
        from crs.recommender.feedback import collab_scores, similarity_scores

        if not movies:
            return None
        w = self.weights
        # Only likes and explicit per-movie dislikes spread to neighbours; a blanket or
        # glancing rejection stays on the shown movies (which are excluded anyway).
        spreading = signal.spreading(signal.rewards)
        rewarded = [m for m in spreading if m in self.store.index]
        ids = [m.id for m in movies]
        if rewarded:
            values = np.array([spreading[m] for m in rewarded], np.float32)
            item = similarity_scores(self.store.vectors(ids) if matrix is None else matrix,
                                     self.store.vectors(rewarded), values)
        else:
            item = np.zeros(len(ids), np.float32)
        neighbours = collab_scores(self.collab, spreading, ids)
        attr = np.zeros(len(ids))
        if signal.genres or signal.directors:  # else every attribute score is 0.0
            seen: dict[tuple, float] = {}  # the score depends on the genres and first two directors only
            for row, m in enumerate(movies):
                key = (tuple(m.genres), tuple(m.directors[:2]))
                if key not in seen:
                    seen[key] = signal.attribute_score(m, exempt_genres)
                attr[row] = seen[key]
        # The same float64 sum per candidate as w_i * sim + w_c * nb + w_a * attr in Python.
        return (w.feedback_item * item.astype(np.float64) + w.feedback_collab * neighbours.astype(np.float64)
                + w.feedback_attr * attr)

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
                   q: "_QueryContext") -> "_Scored":
        """One weighted sum of the signals per candidate, computed for all of them at once
        (the query-level values come precomputed in ``q``); the evidence of a candidate is
        built only when it is returned (:meth:`_Scored.candidate`)."""
        w = self.weights
        n = len(movies)
        genre_hits = [[g for g in m.genres if g in q.liked_genres] for m in movies] if q.liked_genres else None
        genre = np.array([len(h) / len(q.liked_genres) for h in genre_hits]) if genre_hits else np.zeros(n)
        people = [person_match(m, q.ask_people) for m in movies] if q.ask_people else [None] * n
        log_max = math.log1p(self._max_pop)
        popularity = np.array([math.log1p(m.popularity) / log_max for m in movies]) if n else np.zeros(0)
        mood = (np.array([self._mood(m, q.moods, q.disliked_moods) for m in movies])
                if (q.moods or q.disliked_moods) and n else np.zeros(n))
        taste = np.zeros(n)
        if q.taste_genres:
            for row, m in enumerate(movies):
                genres = set(m.genres)
                taste[row] = len(q.taste_genres & genres) / len(q.taste_genres | genres)
        collab_a = np.array(collab, np.float64)
        person_a = np.array([1.0 if p else 0.0 for p in people])
        disliked = np.maximum(0.0, sims.disliked - 0.5)
        bias = np.array([self.item_bias.get(m.id, 0.0) for m in movies]) if self.item_bias and n else np.zeros(n)
        # The same sum, in the same order, as one float64 expression per candidate would give.
        score = (w.collab * collab_a + w.semantic * sims.semantic + w.text * sims.text + w.genre * genre
                 + w.taste * taste + w.person * person_a + w.popularity * popularity + w.mood * mood
                 - w.disliked * disliked + w.feedback_bias * bias)
        meets = []
        for m, person in zip(movies, people):
            meets_person = not q.ask_people or person is not None
            meets_genre = not q.ask_genres or not q.ask_genres.isdisjoint(m.genres)
            meets.append(int(meets_person) + int(meets_genre))
        return _Scored(movies=movies, score=score, meets=meets, collab=collab, sims=sims, genre_hits=genre_hits,
                       people=people, taste=taste, popularity=popularity, mood=mood)

    def _mood(self, movie: Movie, wanted: list[str], unwanted: list[str]) -> float:
        if not wanted and not unwanted:
            return 0.0
        text = self._mood_text.get(movie.id)
        if text is None:  # lower-cased once per movie, not once per turn
            text = self._mood_text[movie.id] = f"{movie.plot} {' '.join(movie.keywords)}".lower()
        value = 0.0
        for mood in wanted:
            value += 0.5 * sum(w in text for w in self.lexicon.mood_words.get(mood, ()))
            value += sum(g in movie.genres for g in self.lexicon.mood_genres.get(mood, ()))
        for mood in unwanted:
            value -= 1.5 * sum(w in text for w in self.lexicon.mood_words.get(mood, ()))
            value -= 4.0 * sum(g in movie.genres for g in self.lexicon.mood_genres.get(mood, ()))
        return value


@dataclass
class _Scored:
    """The scores of one ``retrieve``'s candidates and what their evidence is built from."""

    movies: list[Movie]
    score: np.ndarray
    meets: list[int]  # how many of the current asks (genre, person) each candidate meets
    collab: list[float]
    sims: "_Similarities"
    genre_hits: list[list[str]] | None
    people: list[tuple[str, str] | None]
    taste: np.ndarray
    popularity: np.ndarray
    mood: np.ndarray

    def candidate(self, row: int, feedback: float | None) -> Candidate:
        """Candidate ``row`` with its evidence (``feedback``: this session's implicit feedback)."""
        m, person, sims = self.movies[row], self.people[row], self.sims
        meets_all = self.meets[row] == 2
        evidence = {
            "collab": self.collab[row], "semantic": float(sims.semantic[row]), "similar_to": sims.similar_to[row],
            "text": float(sims.text[row]), "taste": float(self.taste[row]),
            "genres": self.genre_hits[row] if self.genre_hits is not None else [], "person": person,
            "popularity": float(self.popularity[row]), "mood": float(self.mood[row]),
            "meets": self.meets[row], "meets_all": meets_all,
        }
        if feedback is not None:
            evidence["feedback"] = feedback
        return Candidate(movie=m, score=float(self.score[row]), evidence=evidence)


@dataclass
class _Similarities:
    """Per-candidate similarities of one ``retrieve`` (rows follow its candidate list)."""

    semantic: np.ndarray  # best recency-weighted cosine to a recent liked movie
    similar_to: list[str | None]  # which liked movie that was
    disliked: np.ndarray  # best cosine to a recently disliked movie
    text: np.ndarray  # Chroma's similarity to the user's words (0 if it did not propose the movie)
    matrix: np.ndarray | None = None  # the candidates' vectors, when they were read


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

