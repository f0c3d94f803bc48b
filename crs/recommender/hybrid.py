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
import re
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from crs.catalog.models import Movie
from crs.catalog.normalize import norm_title
from crs.nlu.lexicon import Lexicon, load_lexicon, mood_pattern, mood_word_count
from crs import facets
from crs.preferences import SEQUEL, Polarity, Slot
from crs.recommender.constraints import Constraints, TitleRows, person_match
from crs.recommender.facet_rows import FacetRows
from crs.recommender.franchise import same_franchise
from crs.recommender.types import Candidate, RecQuery


class CollabScorer(Protocol):
    """The collaborative model (crs.recommender.collaborative): liked ids -> scores."""

    def score(self, weights: Mapping[str, float], text: str = "", k: int | None = None) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class HybridWeights:
    """Fusion weights of the stage-1 score (issue #3 learns these; v0 sets them by hand)."""

    collab: float = 1.0
    #: The collaborative signal when no movie is liked yet: the model then ranks from genre and
    #: topic words alone, which the genre, mood and topic signals match directly; at full weight
    #: attribute-only simulated users found their film less often (docs/conversations.md).
    collab_words: float = 0.3
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

    #: At most this many answers of the collaborative model are kept (~20 KB each).
    COLLAB_CACHE = 256

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
        self._by_genre_years: dict[str, np.ndarray] = {}  # release year per _by_genre entry
        self._max_pop = 1.0
        self._index_lock = threading.Lock()
        self._indexed_manifest: object = None  # the store manifest the indexes were built for
        self._mood_hits: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # mood -> per row hits, -1: not yet
        self._rows: _RowFacts | None = None
        self._facets: FacetRows | None = None  # runtime, language and companies per store row
        self._popular_rows = np.zeros(0, np.intp)  # store rows in popularity order (= _popular)
        self._collab_cache: dict[tuple, dict[str, float]] = {}  # the collaborative model's recent answers
        self._by_keyword: dict[str, list[str]] = {}  # corpus keyword -> its movies, most popular first

    # ------------------------------------------------------------------ indexes
    def warm(self) -> None:
        """Build the per-genre, per-person and title-facts indexes now (at app start), not
        on the first user's turn (5 s at 87k movies, 23 s at 300k), and make every stored
        vector readable without Chroma (:meth:`MovieStore.warm_vectors`)."""
        warm_vectors = getattr(self.store, "warm_vectors", None)
        if warm_vectors is not None:
            warm_vectors()
        self._ensure_indexes()

    def _indexes_fresh(self) -> bool:
        # A `crs corpus add` replaces the manifest (a movie replaced under its id keeps the count).
        return (self._by_genre is not None and len(self._popular or []) == len(self.store.index)
                and self._indexed_manifest is getattr(self.store, "manifest", None))

    def _ensure_indexes(self) -> None:
        if self._indexes_fresh():
            return
        with self._index_lock:  # parallel first turns wait for one build instead of each building
            if self._indexes_fresh():
                return
            self._build_indexes()

    def _build_indexes(self) -> None:
        manifest = getattr(self.store, "manifest", None)
        movies = sorted(self.store.index.movies, key=lambda m: -m.popularity)
        by_genre: dict[str, list[str]] = defaultdict(list)
        genre_rows: dict[str, list[int]] = defaultdict(list)  # positions in `movies` (popularity order)
        by_person: dict[str, list[str]] = defaultdict(list)
        by_keyword: dict[str, list[str]] = defaultdict(list)
        for row, m in enumerate(movies):
            for g in m.genres:
                by_genre[g].append(m.id)
                genre_rows[g].append(row)
            for p in {*m.directors, *m.cast, *m.writers}:
                by_person[p.lower()].append(m.id)
            for k in m.keywords:
                keyword_ids = by_keyword[k]
                if len(keyword_ids) < self.pool_size:  # only a keyword's pool is ever read
                    keyword_ids.append(m.id)
        self._by_genre, self._by_person = dict(by_genre), dict(by_person)
        self._by_keyword = dict(by_keyword)
        facts: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
        title_keys = {m.id: norm_title(m.title) for m in movies}
        for m in movies:
            genres, people = facts[title_keys[m.id]]
            genres.update(m.genres)
            people.update(p.lower() for p in (*m.directors, *m.cast, *m.writers))
        self._title_facts = {k: (frozenset(g), frozenset(p)) for k, (g, p) in facts.items()}
        self._max_pop = max((m.popularity for m in movies), default=1.0) or 1.0
        self._popular_years = np.array([np.nan if m.year is None else m.year for m in movies], np.float32)
        self._by_genre_years = {g: self._popular_years[np.array(rows, np.intp)] for g, rows in genre_rows.items()}
        self._rows = _RowFacts.build(self.store.index.movies, title_keys, self._max_pop)
        self._facets = FacetRows.build(self.store.index.movies)
        self._popular_rows = np.array([self.store.index.row[m.id] for m in movies], np.intp)
        self._mood_hits = {}
        self._indexed_manifest = manifest
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
        genres_asked, people_asked, carried = asks_with_carry(prefs)
        asks = (genres_asked, people_asked)
        liked_genres = prefs.liked_genres
        pool: dict[str, None] = dict.fromkeys(semantic)
        pool.update(dict.fromkeys(sorted(collab, key=collab.get, reverse=True)[: self.pool_size]))
        for person in asks[1]:
            pool.update(dict.fromkeys(self._by_person.get(person.lower(), [])[: self.pool_size]))
        for genre in liked_genres:
            pool.update(dict.fromkeys(self._by_genre.get(genre, [])[: self.pool_size]))
            if rules.year_min is not None or rules.year_max is not None:  # "horror of the 70s": its own pool
                pool.update(dict.fromkeys(self._in_years(self._by_genre.get(genre, []), self._by_genre_years.get(genre),
                                                         rules.year_min, rules.year_max)))
        for topic in prefs.values(Slot.KEYWORD, Polarity.LIKE):  # "based on a true story": the most popular of them
            pool.update(dict.fromkeys(self._with_keyword(topic)))
        for facet in facets.facets_of(prefs.moods):  # "French films", "Pixar": the most popular of them
            found = self._facets.pool(facet, self._popular_rows, self.pool_size)
            pool.update(dict.fromkeys(index.movies[r].id for r in found.tolist()))
        pool.update(dict.fromkeys(self._popular[: self.pool_size]))
        if not (liked_genres or asks[0] or asks[1]):  # with a genre or person asked, their own pools rule
            pool.update(dict.fromkeys(self._popular_in_years(rules.year_min, rules.year_max)))
        max_collab = max(collab.values(), default=0.0) or 1.0
        taste = {g for i, w in recency.items() if w == 1.0 for g in index.by_id[i].genres}
        allowed, rows = self._allowed(pool, rules)
        sims = self._similarities(allowed, recency, list(prefs.disliked_movies), query.text, semantic, rows)
        context = _QueryContext(liked_genres=set(liked_genres), moods=prefs.moods, disliked_moods=prefs.disliked_moods,
                                disliked_topics=tuple(prefs.disliked_keywords),
                                liked_topics=tuple(prefs.values(Slot.KEYWORD, Polarity.LIKE)),
                                franchise_of=(tuple(index.by_id[i] for i in liked)
                                              if SEQUEL in prefs.disliked_keywords else ()),
                                taste_genres=taste, ask_genres=asks[0], ask_people=asks[1], carried=carried,
                                words_only=not recency)
        scored = self._score_all(allowed, sims, [collab.get(m.id, 0.0) / max_collab for m in allowed], context, rows)
        feedback = (self._feedback(allowed, signal, set(prefs.liked_genres) | asks[0], sims.matrix, rows)
                    if signal else None)
        if feedback is not None:
            scored.score = scored.score + feedback
        # Full evidence only for the n candidates returned. The order is that of sorting them all
        # by (-meets, -score, id): np.lexsort's last key is its first, and id ranks order as the ids.
        order = np.lexsort((self._rows.id_rank[rows], -scored.score, -scored.meets))[:n].tolist()
        return [scored.candidate(row, None if feedback is None else float(feedback[row])) for row in order]

    def _with_keyword(self, keyword: str) -> list[str]:
        """The ``pool_size`` most popular movies whose corpus keywords hold ``keyword`` (none
        for a topic no movie carries)."""
        return self._by_keyword.get(keyword, [])

    def _allowed(self, pool: Mapping[str, None], rules: Constraints) -> tuple[list[Movie], np.ndarray]:
        """The pool's movies that have something to score (genres or a plot) and that the
        hard constraints allow, in pool order, with their store rows."""
        index, facts = self.store.index, self._rows
        row_of = index.row
        rows = np.fromiter((row_of.get(i, -1) for i in pool), np.intp, len(pool))
        rows = rows[rows >= 0]
        rows = rows[facts.has_content[rows]]
        rows = rows[rules.allows_rows(rows, index, facts.titles)]
        movies = index.movies
        return [movies[row] for row in rows.tolist()], rows

    def _popular_in_years(self, year_min: int | None, year_max: int | None) -> list[str]:
        """The ``pool_size`` most popular movies inside a year bound (none without one).

        Used when no genre or person is asked for. With only a year bound ("old classics
        before 1960") the other pools barely reach
        into the range: the overall most popular movies are mostly recent, so the list
        would run dry after a page or two and the bound would be relaxed.
        """
        return self._in_years(self._popular, self._popular_years, year_min, year_max)

    def _in_years(self, ids: list[str], years: np.ndarray | None, year_min: int | None,
                  year_max: int | None) -> list[str]:
        """The first ``pool_size`` of ``ids`` (most popular first) whose year (``years``,
        aligned with ``ids``) is inside the bound; none without a bound."""
        if (year_min is None and year_max is None) or years is None:
            return []
        inside = ~np.isnan(years)
        if year_min is not None:
            inside &= years >= year_min
        if year_max is not None:
            inside &= years <= year_max
        return [ids[i] for i in np.flatnonzero(inside)[: self.pool_size]]

    def _semantic(self, query: RecQuery, liked: list[str], rewarded: list[str] = ()) -> dict[str, dict[str, float]]:
        """Chroma neighbours of each liked movie (recent first), of movies the session's
        feedback rewarded, and of the user's words."""
        found: dict[str, dict[str, float]] = defaultdict(dict)
        recent = liked[-5:]
        if recent:  # one Chroma call for all of them (none for those whose neighbours the store has)
            for movie_id, hits in zip(recent, self._neighbours(recent, 60, set(liked))):
                for movie, sim in hits:
                    found[movie.id][f"like:{movie_id}"] = sim
        others = [m for m in rewarded if m not in liked and m in self.store.index]
        if others:
            for hits in self._neighbours(others, 30, set(liked)):
                for movie, _ in hits:
                    found.setdefault(movie.id, {})
        if query.text.strip():
            for movie, sim in self.store.search_text(query.text, n=self.pool_size // 2):
                found[movie.id]["text"] = sim
        return found

    def _neighbours(self, movie_ids: list[str], n: int, exclude: set[str]) -> list[list[tuple[Movie, float]]]:
        """Each stored movie's ``n`` nearest neighbours (``MovieStore.search_each_movie``)."""
        each_movie = getattr(self.store, "search_each_movie", None)
        if each_movie is not None:
            return each_movie(movie_ids, n=n, exclude=exclude)
        return self.store.search_each(self.store.vectors(movie_ids), n=n, exclude=exclude)

    def _similarities(self, movies: list[Movie], recency: dict[str, float], disliked: list[str], text: str,
                      found: dict[str, dict[str, float]], rows: np.ndarray | None = None) -> "_Similarities":
        """Cosine similarity of every candidate to each recent liked movie (weighted by
        recency; the best one and which movie it is), to the closest disliked movie, and to
        the user's words (vectors come from the store; Chroma proposed only some of them)."""
        recent = sorted(recency, key=recency.get)[-5:]
        disliked = [i for i in disliked[-5:] if i in self.store.index]
        n = len(movies)
        out = _Similarities(semantic=np.zeros(n), similar_to=[None] * n, disliked=np.zeros(n), text=np.zeros(n))
        if not movies or not (recent or disliked or text.strip()):
            return out
        at_rows = getattr(self.store, "vectors_at", None)
        matrix = at_rows(rows) if at_rows is not None and rows is not None else None
        matrix = out.matrix = self.store.vectors([m.id for m in movies]) if matrix is None else matrix
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
            out.text_all = out.text
            embedder = getattr(self.store, "embedder", None)
            if embedder is not None:  # every candidate's closeness to the words, not only Chroma's top hits'
                query = embedder.embed_one(text).astype(np.float32)
                query = query / max(float(np.linalg.norm(query)), 1e-12)
                out.text_all = np.maximum(out.text, np.asarray(matrix @ query, np.float64))
        return out

    def _feedback(self, movies: list[Movie], signal, exempt_genres: set[str],
                  matrix: np.ndarray | None = None, rows: np.ndarray | None = None) -> np.ndarray | None:
        """This session's implicit feedback per candidate, added to its score (see
        crs.recommender.feedback); None without candidates. ``matrix``: the candidates'
        vectors when :meth:`_similarities` already read them; ``rows``: their store rows."""
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
        if (signal.genres or signal.directors) and rows is not None:  # else every attribute score is 0.0
            facts = self._rows  # all candidates at once, bit for bit what attribute_score gives
            attr = signal.attribute_scores(facts.genre_seq[rows], facts.genre_names, facts.director_seq[rows],
                                           facts.director_col, exempt_genres)
        elif signal.genres or signal.directors:
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
        words = " ".join(prefs.liked_genres + [m for m in prefs.moods if not facets.is_facet(m)])
        if self.collab is None or not (recency or words):
            return {}
        weights = dict(recency)
        for movie_id in prefs.disliked_movies:
            weights[movie_id] = -0.5
        # The model's answer depends only on these (in this order) and its fusion weights; a
        # conversation asks the same again on turns that add no liked or disliked movie.
        key = (tuple(weights.items()), words, self.pool_size, getattr(self.collab, "fusion", None))
        found = self._collab_cache.get(key)
        if found is None:
            scores = self.collab.score(weights, text=words, k=self.pool_size)
            found = {k: float(v) for k, v in scores.items() if v > 0}
            if len(self._collab_cache) >= self.COLLAB_CACHE:
                self._collab_cache.clear()
            self._collab_cache[key] = found
        return found

    def _score_all(self, movies: list[Movie], sims: "_Similarities", collab: list[float],
                   q: "_QueryContext", rows: np.ndarray) -> "_Scored":
        """One weighted sum of the signals per candidate, computed for all of them at once
        (the query-level values come precomputed in ``q``, the per-movie ones in
        :class:`_RowFacts`, indexed by the candidates' store ``rows``); the evidence of a
        candidate is built only when it is returned (:meth:`_Scored.candidate`)."""
        w = self.weights
        facts = self._rows
        n = len(movies)
        counts = facts.genre_count[rows] if n else np.zeros((0, len(facts.genre_names)), np.uint8)
        genre = np.zeros(n)
        if q.liked_genres:  # how many of a movie's genres (repeats counted) the user likes / all liked
            hits = counts[:, facts.columns(q.liked_genres)].sum(axis=1, dtype=np.int64)
            genre = hits.astype(np.float64) / len(q.liked_genres)
        people: list[tuple[str, str] | None] = [None] * n
        if q.ask_people:  # only movies that credit one of them can match (the per-person index)
            credited = set().union(*(self._by_person.get(p.lower(), ()) for p in q.ask_people))
            people = [person_match(m, q.ask_people) if m.id in credited else None for m in movies]
        popularity = facts.popularity[rows]
        mood = self._mood(movies, rows, q.moods, q.disliked_moods) if (q.moods or q.disliked_moods) and n else np.zeros(n)
        if q.disliked_topics and n:
            mood = mood - UNWANTED_TOPIC * _mentions_topic(movies, q.disliked_topics)
        if q.liked_topics and n:  # "something about journalism": its keyword or a word of the plot
            mood = mood + LIKED_TOPIC * _mentions_topic(movies, q.liked_topics)
        if q.franchise_of and n:  # "no sequels": the liked movies' own franchises sink too
            mood = mood - UNWANTED_FRANCHISE * np.array([float(same_franchise(m, q.franchise_of)) for m in movies])
        taste = np.zeros(n)
        present = counts > 0
        if q.taste_genres:  # Jaccard of the liked movies' genres and the candidate's (as sets)
            shared = present[:, facts.columns(q.taste_genres)].sum(axis=1, dtype=np.int64)
            union = len(q.taste_genres) + present.sum(axis=1, dtype=np.int64) - shared
            taste = shared.astype(np.float64) / union.astype(np.float64)
        collab_a = np.array(collab, np.float64)
        person_a = np.array([1.0 if p else 0.0 for p in people])
        disliked = np.maximum(0.0, sims.disliked - 0.5)
        bias = np.array([self.item_bias.get(m.id, 0.0) for m in movies]) if self.item_bias and n else np.zeros(n)
        # The same sum, in the same order, as one float64 expression per candidate would give.
        score = ((w.collab_words if q.words_only else w.collab) * collab_a + w.semantic * sims.semantic
                 + w.text * (sims.text if sims.text_all is None else sims.text_all) + w.genre * genre
                 + w.taste * taste + w.person * person_a + w.popularity * popularity + w.mood * mood
                 - w.disliked * disliked + w.feedback_bias * bias)
        meets_person = (np.array([p is not None for p in people], bool) if q.ask_people else np.ones(n, bool))
        genre_cols = present[:, facts.columns(q.ask_genres)] if q.ask_genres else np.ones((n, 1), bool)
        meets_genre = genre_cols.any(axis=1)
        every_genre = genre_cols.all(axis=1)  # "a romantic comedy": both genres before either one
        asked = {"genres": sorted(q.ask_genres), "people": list(q.ask_people)}
        if q.carried:  # the latest ask is the requirement; the carried one orders within it
            carried, latest = (meets_person, meets_genre) if q.carried == "person" else (meets_genre, meets_person)
            meets_all = latest
            asked["people" if q.carried == "person" else "genres"] = []
        else:
            carried, meets_all = np.zeros(n, bool), meets_person & meets_genre
        # Order: the requirement met, then the carried ask, then every asked genre, then how
        # many of the two kinds of ask (for the candidates that miss the requirement).
        meets = (8 * meets_all.astype(np.int64) + 4 * carried.astype(np.int64) + 2 * every_genre.astype(np.int64)
                 + meets_person.astype(np.int64) + meets_genre.astype(np.int64))
        return _Scored(movies=movies, score=score, meets=meets, meets_all=meets_all, collab=collab, sims=sims,
                       liked_genres=q.liked_genres, people=people, taste=taste, popularity=popularity, mood=mood,
                       asked=asked)

    def _mood(self, movies: list[Movie], rows: np.ndarray, wanted: list[str], unwanted: list[str]) -> np.ndarray:
        """Per candidate: +0.5 per word of a wanted mood in its plot + keywords and +1 per
        genre of that mood (or of its wanted-only genres, ``mood_genres_wanted``: "sad" lifts
        dramas); -1.5 and -4.0 for an unwanted mood's (the same float64 steps,
        in the same order, for every candidate). A length, language or studio wish (a facet,
        :mod:`crs.facets`) gives ``FACET_FIT`` to a film known to fit and takes
        ``FACET_MISS`` from one known not to; the "kids" mood takes ``KIDS_MISS`` from a film
        whose genres hold neither family nor animation, "lesser-known" up to
        ``LESSER_KNOWN_WEIGHT`` from the most talked-about."""
        value = np.zeros(len(movies))
        for mood in wanted:
            if (facet := facets.parse(mood)) is not None:  # "short", "French": from runtime / language
                fit = self._facets.fit(facet, rows)
                value = value + FACET_FIT * (fit > 0) - FACET_MISS * (fit < 0)
                continue
            words, genres = self._mood_rows(mood, movies, rows)
            value = value + 0.5 * words
            value = value + genres
            if lifted := self._rows.columns(self.lexicon.mood_genres_wanted.get(mood, ())):  # "something sad": dramas
                value = value + (self._rows.genre_count[rows][:, lifted] > 0).sum(axis=1)
            if mood == "kids":  # known genres, none for children: last
                value = value - KIDS_MISS * ((genres == 0) & self._rows.genre_count[rows].any(axis=1))
            elif mood == LESSER_KNOWN:  # "something less known", "hidden gems": the most talked-about sink
                value = value - LESSER_KNOWN_WEIGHT * self._rows.popularity[rows]
        for mood in unwanted:
            if facets.is_facet(mood):
                continue  # the NLU states length and language wishes positively
            words, genres = self._mood_rows(mood, movies, rows)
            value = value - 1.5 * words
            value = value - 4.0 * genres
        return value

    def _mood_rows(self, mood: str, movies: list[Movie], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """How many of ``mood``'s words occur in each candidate's plot + keywords and how
        many of its genres it has; counted once per movie and mood (kept per store row),
        not per turn."""
        hits = self._mood_hits.get(mood)
        if hits is None:
            size = len(self._rows.has_content)
            hits = self._mood_hits[mood] = (np.full(size, -1, np.int32), np.full(size, -1, np.int32))
        words, genres = hits
        todo = np.flatnonzero(words[rows] < 0).tolist()
        if todo:
            pattern = mood_pattern(self.lexicon.mood_words.get(mood, ()))
            mood_genres = self.lexicon.mood_genres.get(mood, ())
            for j in todo:
                m = movies[j]
                text = f"{m.plot} {' '.join(m.keywords)}".lower()
                genres[rows[j]] = sum(g in m.genres for g in mood_genres)
                words[rows[j]] = mood_word_count(pattern, text)  # set last: the check above reads it
        return words[rows], genres[rows]


@dataclass
class _RowFacts:
    """Per-movie values of the whole catalogue, row i = ``store.index.movies[i]``, built
    once with the indexes so that a turn looks them up by row instead of recomputing
    them per candidate (at 300k movies the title cache of ``norm_title`` is too small)."""

    titles: TitleRows  # title keys and years (for Constraints.allows_rows)
    has_content: np.ndarray  # the movie has genres or a plot (something to score)
    id_rank: np.ndarray  # position of each id in sorted id order (the sort's tie-break)
    popularity: np.ndarray  # log1p(popularity) / log1p(max popularity)
    genre_names: list[str]
    genre_col: dict[str, int]
    genre_count: np.ndarray  # (movies, genres) uint8: how often each genre is listed
    genre_seq: np.ndarray  # (movies, most genres) each movie's genre columns in order, padded with len(genre_names)
    director_col: dict[str, int]
    director_seq: np.ndarray  # (movies, 2) its first two directors' columns, padded with len(director_col)

    @classmethod
    def build(cls, movies: list[Movie], title_keys: Mapping[str, str], max_pop: float) -> "_RowFacts":
        n = len(movies)
        genre_names = sorted({g for m in movies for g in m.genres})
        genre_col = {g: c for c, g in enumerate(genre_names)}
        director_col: dict[str, int] = {}
        for m in movies:
            for d in m.directors[:2]:
                director_col.setdefault(d, len(director_col))
        width = max((len(m.genres) for m in movies), default=0)
        genre_seq = np.full((n, width), len(genre_names), np.int32)
        director_seq = np.full((n, 2), len(director_col), np.int32)
        genre_count = np.zeros((n, len(genre_names)), np.uint8)
        for row, m in enumerate(movies):
            for j, g in enumerate(m.genres):
                genre_seq[row, j] = genre_col[g]
                genre_count[row, genre_col[g]] += 1
            for j, d in enumerate(m.directors[:2]):
                director_seq[row, j] = director_col[d]
        id_rank = np.empty(n, np.int64)
        id_rank[sorted(range(n), key=lambda row: movies[row].id)] = np.arange(n)
        log_max = math.log1p(max_pop)
        titles = TitleRows.build(movies, [title_keys[m.id] for m in movies])
        has_content = np.array([bool(m.genres or m.plot) for m in movies], bool)
        return cls(titles=titles, has_content=has_content, id_rank=id_rank,
                   popularity=np.array([math.log1p(m.popularity) / log_max for m in movies], np.float64),
                   genre_names=genre_names, genre_col=genre_col, genre_count=genre_count, genre_seq=genre_seq,
                   director_col=director_col, director_seq=director_seq)

    def columns(self, genres) -> list[int]:
        """The columns of the catalogue's genres among ``genres`` (unknown ones have none)."""
        return [self.genre_col[g] for g in genres if g in self.genre_col]


@dataclass
class _Scored:
    """The scores of one ``retrieve``'s candidates and what their evidence is built from."""

    movies: list[Movie]
    score: np.ndarray
    meets: np.ndarray  # how well each candidate meets the current asks (higher first; see _score_all)
    meets_all: np.ndarray  # it meets the requirement (every ask, or the latest one when one is carried)
    collab: list[float]
    sims: "_Similarities"
    liked_genres: set[str]
    people: list[tuple[str, str] | None]
    taste: np.ndarray
    popularity: np.ndarray
    mood: np.ndarray
    #: The asks that are the requirement (``meets_all``); a carried ask only orders the
    #: candidates that meet the latest one (see :func:`asks_with_carry`).
    asked: dict[str, list[str]]

    def candidate(self, row: int, feedback: float | None) -> Candidate:
        """Candidate ``row`` with its evidence (``feedback``: this session's implicit feedback)."""
        m, person, sims = self.movies[row], self.people[row], self.sims
        meets = int(self.meets[row])
        evidence = {
            "collab": self.collab[row], "semantic": float(sims.semantic[row]), "similar_to": sims.similar_to[row],
            "text": float(sims.text[row]), "taste": float(self.taste[row]),
            "genres": [g for g in m.genres if g in self.liked_genres] if self.liked_genres else [], "person": person,
            "popularity": float(self.popularity[row]), "mood": float(self.mood[row]),
            "meets": meets, "meets_all": bool(self.meets_all[row]), "asked": self.asked,
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
    #: Every candidate's similarity to the user's words (what the score uses): a movie that came
    #: from another pool (a topic's, a genre's) is not scored 0 for missing Chroma's top hits;
    #: the evidence keeps ``text``, so only Chroma's hits are explained as "what you described".
    text_all: np.ndarray | None = None


@dataclass(frozen=True)
class _QueryContext:
    """Query-level values of one ``retrieve``, computed once instead of per candidate."""

    liked_genres: set[str]
    moods: list[str]
    disliked_moods: list[str]
    taste_genres: set[str]
    ask_genres: set[str]
    ask_people: list[str]
    carried: str | None = None  # which ask ("genre" / "person") is carried from an earlier message
    disliked_topics: tuple[str, ...] = ()  # "no zombie movies": keywords to keep away from
    liked_topics: tuple[str, ...] = ()  # "something about journalism": keywords to look for
    franchise_of: tuple[Movie, ...] = ()  # "no sequels": the liked movies whose franchises to keep away from
    words_only: bool = False  # no liked movie: the collaborative signal ranks from words alone


#: Mood-scale bonus of a candidate known to fit a length, language or studio wish ("something
#: short", "French films", "Pixar"), and penalty of one known not to; an unknown one gets
#: neither. At the mood weight (.15) a known fit gains 1.2, more than a full collaborative
#: match is worth, so the films known to fit come first ("A24 horror": A24's before the most
#: popular horror, whose studio the corpus may not know), then the unknown ones, then the misfits.
FACET_FIT = 8.0
FACET_MISS = 12.0
#: Children watching: a film with genres but none of the "kids" mood's (family, animation)
#: loses this much, so "something funny" for an 8-year-old does not bring Bridesmaids.
KIDS_MISS = 8.0
#: "Something less known", "hidden gems", "underrated": a film loses this many mood units
#: times its popularity (log mentions over the top film's, 0..1), so blockbusters give way.
LESSER_KNOWN = "lesser-known"
LESSER_KNOWN_WEIGHT = 8.0

#: Mood-scale penalty of a candidate whose keywords or plot name an unwanted topic (as an
#: unwanted mood's genre: it sinks below the others, it is not filtered out).
UNWANTED_TOPIC = 4.0
#: Mood-scale bonus of a candidate whose keywords or plot name a wanted topic ("something about
#: journalism", "a movie with horses").
LIKED_TOPIC = 2.0


#: The same for a film of a liked movie's franchise after "no sequels" (stronger: the
#: collaborative signal ranks a liked film's sequels first).
UNWANTED_FRANCHISE = 12.0


def _mentions_topic(movies: list[Movie], topics: tuple[str, ...]) -> np.ndarray:
    """1.0 for each movie whose keywords hold one of ``topics`` or whose plot says it."""
    patterns = [re.compile(rf"\b{re.escape(t)}s?\b") for t in topics]
    out = np.zeros(len(movies))
    for j, m in enumerate(movies):
        plot = m.plot.lower()
        if any(t in m.keywords for t in topics) or any(p.search(plot) for p in patterns):
            out[j] = 1.0
    return out


def liked_recency(prefs, liked: list[str]) -> dict[str, float]:
    """Weight of each liked movie: 1.0 for the latest ones, x0.4 per later turn that named
    other liked movies, so a change of topic moves the recommendations with it."""
    turns = {i.value: i.turn for i in prefs.items if i.slot == Slot.MOVIE and i.polarity == Polarity.LIKE}
    order = sorted({turns[m] for m in liked}, reverse=True)
    return {m: 0.4 ** order.index(turns[m]) for m in liked}


def current_asks(prefs) -> tuple[set[str], list[str]]:
    """The genres and people the user currently asks for (see :func:`asks_with_carry`),
    the older ask of the other kind included."""
    genres, people, _ = asks_with_carry(prefs)
    return genres, people


def asks_with_carry(prefs) -> tuple[set[str], list[str], str | None]:
    """(genres, people, carried): the user's latest ask of each kind, and which kind, if any,
    is carried over from an earlier message.

    A new ask of a kind replaces the older one of that kind: after "a western", "more action"
    asks for action. An ask of the *other* kind narrows: after "movies with Tom Hanks", "only
    comedies" wants Tom Hanks comedies, so the person is carried ("person"). The latest ask
    stays the requirement and the carried one orders the movies that meet it: Tom Hanks
    comedies first, then other comedies; after "a western", "anything by Nolan?" gives Nolan's
    films (none is a western) without a "loosened" notice. A liked movie named after an ask is
    a new topic and clears it ("my daughter loved Up and Coco" after "anything by Nolan?").
    Older likes still count as soft evidence.
    """
    asks = [i for i in prefs.items if i.slot in (Slot.GENRE, Slot.PERSON) and i.polarity == Polarity.LIKE]
    newest_movie = max((i.turn for i in prefs.items if i.slot == Slot.MOVIE and i.polarity == Polarity.LIKE), default=-1)
    asks = [i for i in asks if i.turn >= newest_movie]  # an ask in the movie's own message still counts
    if not asks:
        return set(), [], None
    latest = {}
    for slot in (Slot.GENRE, Slot.PERSON):
        turns = [i.turn for i in asks if i.slot == slot]
        if turns:
            latest[slot] = max(turns)
    genres = {i.value for i in asks if i.slot == Slot.GENRE and i.turn == latest.get(Slot.GENRE)}
    people = [i.value for i in asks if i.slot == Slot.PERSON and i.turn == latest.get(Slot.PERSON)]
    carried = None
    if len(latest) == 2 and latest[Slot.GENRE] != latest[Slot.PERSON]:
        carried = "genre" if latest[Slot.GENRE] < latest[Slot.PERSON] else "person"
    return genres, people, carried
