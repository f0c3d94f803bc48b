"""Implicit feedback: what a session's reactions to shown movies say, as one reward per movie.

The app stores, for every list it shows, the movies (``recommendations_shown``), the
user's next message (``turns``: text, time, the preferences after it) and the feedback
events (``feedback_events``: card clicks and typed reactions, with the seconds between
the list and the click). :func:`session_rewards` turns that log into a reward per shown
movie with the table below (:class:`RewardTable`), in the spirit of the implicit-feedback
reward of RLHF-for-CRS work: explicit likes are worth most, a quick "not for me" is a
stronger dislike than a slow one, a movie looked at for a long while and passed over is
a faint positive, and the sentiment of the reply (VADER, a lexicon model) nudges the
movies it is about.

Two consumers:

* the per-session signal (:class:`FeedbackSignal`, built each recommendation turn by
  :class:`FeedbackProvider` from the repository): candidates close to positively
  rewarded movies (embedding cosine and the collaborative model's item-item weights) rise,
  those close to negatively rewarded ones sink, and genres/directors that keep being
  rejected are lowered softly (never a genre the user asked for);
* ``crs train feedback`` (:mod:`crs.recommender.feedback_training`): rewards of every
  session of a database become a per-movie bias artefact the retriever adds to its score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np

#: Kinds that settle what the user thinks of a movie (the latest one counts).
DECISIVE = ("like", "accept", "more_like_this", "reject", "seen")


@dataclass(frozen=True)
class RewardTable:
    """The reward of each reaction to a shown movie (docs/feedback.md has the table).

    Attributes:
        like: 👍, "I like X" about a shown movie.
        accept: "Sounds good", "I'll watch it".
        more_like_this: "More like X" (a like that asks for neighbours).
        why: "Why X?": interest, not yet a like.
        ignored_long: Shown, and the reply reacted to no movie of the list after
            ``long_dwell_s`` or more (looked at it, moved on).
        ignored_quick: The same within ``quick_dwell_s`` (skimmed past).
        seen: 👁 "seen it": neutral for taste.
        reject: 👎 "not for me" after an ordinary pause.
        reject_quick: A reject within ``quick_dwell_s`` of the list: a strong dislike.
        reject_slow: A reject after ``long_dwell_s`` or more: considered, then declined.
        quick_dwell_s / long_dwell_s: The dwell-time bands (seconds since the list).
        reject_all: Factor on the rejects of a reply that turns down a whole list at once
            ("None of those."): it says the list missed, not that each movie is disliked
            (the movies are excluded from later lists anyway), and the shown movies are
            usually close to what the user wants, so by default it gives them no reward.
        sentiment: Weight of the reply's sentiment (VADER compound, -1..1) on the movies
            the reply reacts to; a reply that reacts to no movie and states nothing new
            ("hmm, those look dull") gives half of it to every unreacted movie of the list.
        decay: Per later list, older lists count this much less.
        clip: Rewards are clipped to [-clip, clip].
    """

    like: float = 1.0
    accept: float = 1.0
    more_like_this: float = 0.8
    why: float = 0.3
    ignored_long: float = 0.1
    ignored_quick: float = -0.1
    seen: float = 0.0
    reject: float = -1.0
    reject_quick: float = -1.4
    reject_slow: float = -0.7
    reject_all: float = 0.0
    quick_dwell_s: float = 5.0
    long_dwell_s: float = 30.0
    sentiment: float = 0.3
    decay: float = 0.85
    clip: float = 1.5

    def value(self, kind: str, dwell: float | None) -> float:
        """The reward of one explicit reaction ``kind`` after ``dwell`` seconds (None: unknown)."""
        if kind == "reject" and dwell is not None:
            if dwell < self.quick_dwell_s:
                return self.reject_quick
            if dwell >= self.long_dwell_s:
                return self.reject_slow
        return float(getattr(self, kind, 0.0))

    def ignored(self, dwell: float | None) -> float:
        """The reward of a shown movie nobody reacted to, given the list's dwell time."""
        if dwell is None:
            return 0.0
        if dwell >= self.long_dwell_s:
            return self.ignored_long
        if dwell < self.quick_dwell_s:
            return self.ignored_quick
        return 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


class Sentiment:
    """VADER's compound polarity of a message (-1 very negative .. 1 very positive).

    The lexicon ships inside the ``vaderSentiment`` package; it is read on first use.
    """

    def __init__(self) -> None:
        self._analyzer = None

    def __call__(self, text: str) -> float:
        if not text.strip():
            return 0.0
        if self._analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._analyzer = SentimentIntensityAnalyzer()
        return float(self._analyzer.polarity_scores(text)["compound"])


@dataclass(frozen=True)
class Reply:
    """The user's message after a list: its turn index, text, time, and the movie
    preferences it stated ({movie id: polarity})."""

    index: int
    text: str
    at: datetime | None
    movie_prefs: Mapping[str, str] = field(default_factory=dict)
    new_items: int = 0


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        out = value
    else:
        out = datetime.fromisoformat(str(value))
    return out if out.tzinfo else out.replace(tzinfo=timezone.utc)


def _new_items(preferences: Mapping[str, Any] | None, index: int) -> tuple[dict[str, str], int]:
    """Movie preferences stated in turn ``index`` and how many items it stated at all."""
    items = [i for i in (preferences or {}).get("items", []) if int(i.get("turn", -1)) == index]
    return {i["value"]: i["polarity"] for i in items if i.get("slot") == "movie"}, len(items)


def stored_replies(turns: Sequence[Mapping[str, Any]]) -> dict[int, Reply]:
    """Every stored turn as the reply it is (the time the user sent it: stored time minus latency)."""
    out: dict[int, Reply] = {}
    for turn in turns:
        at = _time(turn.get("created_at"))
        if at is not None and turn.get("latency_ms"):
            at = at.fromtimestamp(at.timestamp() - float(turn["latency_ms"]) / 1000, timezone.utc)
        prefs, n = _new_items(turn.get("preferences"), int(turn["index"]))
        out[int(turn["index"])] = Reply(int(turn["index"]), turn.get("user_text", ""), at, prefs, n)
    return out


def session_rewards(turns: Sequence[Mapping[str, Any]], events: Iterable[Mapping[str, Any]],
                    table: RewardTable | None = None, sentiment: Callable[[str], float] | None = None,
                    current: Reply | None = None) -> dict[str, float]:
    """The reward of every shown movie the session says something about.

    Args:
        turns: The session's stored turns in order (``Repository.history``).
        events: Its feedback events (``Repository.feedback``).
        table: The rewards (default :class:`RewardTable`).
        sentiment: Text -> polarity in [-1, 1] (default: none).
        current: This turn's message when it is not stored yet (the live signal).

    Returns:
        ``{movie id: reward}`` for movies with a non-zero reward.
    """
    table = table or RewardTable()
    replies = stored_replies(turns)
    if current is not None:
        replies[current.index] = current
    lists = [(int(t["index"]), [r["id"] for r in t.get("recommendations") or []], _time(t.get("created_at")))
             for t in turns if t.get("recommendations")]
    shown_in: dict[str, int] = {}
    for pos, (_, ids, _) in enumerate(lists):
        for movie_id in ids:
            shown_in.setdefault(movie_id, pos)
    reactions: dict[str, list[tuple[str, float | None, int | None]]] = defaultdict(list)
    for e in events:
        if e["movie_id"] in shown_in:
            reactions[e["movie_id"]].append((e["kind"], e.get("dwell_s"), e.get("turn")))
    kinds = {"like": "like", "dislike": "reject", "seen": "seen"}
    for reply in sorted(replies.values(), key=lambda r: r.index):
        for movie_id, polarity in reply.movie_prefs.items():
            pos = shown_in.get(movie_id)
            if pos is None or lists[pos][0] >= reply.index:
                continue
            kind = kinds.get(polarity)
            if kind and not any(k == kind for k, _, _ in reactions[movie_id]):
                reactions[movie_id].append((kind, None, reply.index))
    out: dict[str, float] = {}
    for pos, (index, ids, shown_at) in enumerate(lists):
        reply = replies.get(index + 1)
        dwell = None
        if reply is not None and reply.at is not None and shown_at is not None:
            dwell = max(0.0, (reply.at - shown_at).total_seconds())
        mood = sentiment(reply.text) if (sentiment and reply is not None) else 0.0
        reacted_now = {m for m in ids if any(turn == index + 1 for _, _, turn in reactions.get(m, []))}
        silent = reply is not None and not reacted_now and reply.new_items == 0
        rejected_now = {m for m in reacted_now if any(k == "reject" and t == index + 1 for k, _, t in reactions[m])}
        blanket = len(ids) >= 3 and rejected_now >= set(ids)
        age = table.decay ** (len(lists) - 1 - pos)
        for movie_id in ids:
            if shown_in[movie_id] != pos:
                continue
            value = _movie_value(reactions.get(movie_id, []), table, dwell, index, not reacted_now)
            if blanket:
                value *= table.reject_all
            if movie_id in reacted_now:
                value += table.sentiment * mood
            elif silent:
                value += 0.5 * table.sentiment * mood
            value = max(-table.clip, min(table.clip, value)) * age
            if abs(value) > 1e-6:
                out[movie_id] = value
    return out


def _movie_value(reactions: list[tuple[str, float | None, int | None]], table: RewardTable,
                 list_dwell: float | None, index: int, passed_over: bool) -> float:
    """One movie's reward from its reactions; ``passed_over``: the reply reacted to no
    movie of its list, so an unreacted movie was looked at and left (dwell decides)."""
    decisive = [(k, d, t) for k, d, t in reactions if k in DECISIVE]
    if decisive:
        kind, dwell, turn = decisive[-1]
        if dwell is None and turn == index + 1:
            dwell = list_dwell
        return table.value(kind, dwell)
    if any(k == "why" for k, _, _ in reactions):
        return table.why
    return table.ignored(list_dwell) if passed_over else 0.0


@dataclass
class FeedbackSignal:
    """One session's rewards and what follows from them for the next list.

    Attributes:
        rewards: ``{movie id: reward}`` (see :func:`session_rewards`).
        genres / directors: Attribute-level scores: the shrunk mean reward of the shown
            movies with that genre (director), so a genre rejected again and again goes
            down softly while one rejected once barely moves.
    """

    rewards: dict[str, float]
    genres: dict[str, float] = field(default_factory=dict)
    directors: dict[str, float] = field(default_factory=dict)

    #: Pseudo-count of the attribute means (larger = softer).
    PRIOR = 2.0
    #: A negative reward counts as an explicit per-movie dislike (👎, "not for me: X")
    #: from this value down; weaker ones (a glance past a list, a vague glum reply) stay
    #: on their own movie and never push its neighbours, genres or director down.
    STRONG_NEGATIVE = -0.3
    #: An attribute is lowered only after this many explicit dislikes of movies with it.
    MIN_REJECTS = 2

    @classmethod
    def from_rewards(cls, rewards: Mapping[str, float], index) -> FeedbackSignal:
        """Attribute scores from ``rewards`` over the movies of ``index`` (a MovieIndex)."""
        sums: dict[str, dict[str, float]] = {"g": defaultdict(float), "d": defaultdict(float)}
        counts: dict[str, dict[str, int]] = {"g": defaultdict(int), "d": defaultdict(int)}
        rejects: dict[str, dict[str, int]] = {"g": defaultdict(int), "d": defaultdict(int)}
        for movie_id, reward in cls.spreading(rewards).items():
            movie = index.get(movie_id)
            if movie is None:
                continue
            for key, values in (("g", movie.genres), ("d", movie.directors[:2])):
                for value in values:
                    sums[key][value] += reward
                    counts[key][value] += 1
                    rejects[key][value] += reward < 0
        score = {k: {v: sums[k][v] / (counts[k][v] + cls.PRIOR) for v in sums[k]} for k in sums}
        for k in score:  # one explicit reject says little about a genre: lower it from the second on
            score[k] = {v: s for v, s in score[k].items() if s >= 0 or rejects[k][v] >= cls.MIN_REJECTS}
        return cls(dict(rewards), score["g"], score["d"])

    @classmethod
    def spreading(cls, rewards: Mapping[str, float]) -> dict[str, float]:
        """The rewards that may move other movies: every positive one, and the explicit
        per-movie dislikes (at or below :attr:`STRONG_NEGATIVE`)."""
        return {m: r for m, r in rewards.items() if r > 0 or r <= cls.STRONG_NEGATIVE}

    def __bool__(self) -> bool:
        return bool(self.rewards)

    def positives(self, threshold: float = 0.25) -> list[str]:
        """Positively rewarded movies, best first."""
        return sorted((m for m, r in self.rewards.items() if r >= threshold), key=lambda m: -self.rewards[m])

    def attribute_score(self, movie, exempt_genres: set[str]) -> float:
        """Mean genre score of ``movie`` (a genre the user asks for only ever helps) plus
        the score of its best-known director."""
        genres = [self._genre_value(g, exempt_genres) for g in movie.genres]
        total = 0.0
        for value in genres:  # left to right, as attribute_scores adds its columns
            total += value
        genre = total / len(genres) if genres else 0.0
        people = [self.directors[d] for d in movie.directors[:2] if d in self.directors]
        return genre + (max(people, key=abs) if people else 0.0)

    def _genre_value(self, genre: str, exempt_genres: set[str]) -> float:
        value = min(1.0, max(-1.0, self.genres.get(genre, 0.0)))
        return max(0.0, value) if genre in exempt_genres else value

    def attribute_scores(self, genre_seq: np.ndarray, genre_names: Sequence[str], director_seq: np.ndarray,
                         director_col: Mapping[str, int], exempt_genres: set[str]) -> np.ndarray:
        """:meth:`attribute_score` of many movies at once, bit for bit the same values.

        Args:
            genre_seq: (movies, k) each movie's genres in order as columns of
                ``genre_names``, padded with ``len(genre_names)``.
            genre_names: The genre of each column.
            director_seq: (movies, 2) the columns of each movie's first two directors in
                ``director_col``, padded with ``len(director_col)``.
            director_col: Director name -> column.
            exempt_genres: Genres the user asks for (never lowered).
        """
        n = genre_seq.shape[0]
        table = np.zeros(len(genre_names) + 1)  # the last entry is the padding: adds 0.0
        for col, genre in enumerate(genre_names):
            table[col] = self._genre_value(genre, exempt_genres)
        values = table[genre_seq]
        total = np.zeros(n)
        for j in range(genre_seq.shape[1]):  # the same left-to-right sum per movie (x + 0.0 == x)
            total = total + values[:, j]
        count = (genre_seq < len(genre_names)).sum(axis=1)
        genre = np.divide(total, count, out=np.zeros(n), where=count > 0)
        known = np.zeros(len(director_col) + 1, bool)
        score = np.zeros(len(director_col) + 1)
        for name, value in self.directors.items():
            col = director_col.get(name)
            if col is not None:
                known[col], score[col] = True, value
        has0, has1 = known[director_seq[:, 0]], known[director_seq[:, 1]]
        v0, v1 = score[director_seq[:, 0]], score[director_seq[:, 1]]
        # max(people, key=abs): the first of equal magnitudes; 0.0 without a known director.
        best = np.where(has0 & has1, np.where(np.abs(v1) > np.abs(v0), v1, v0),
                        np.where(has0, v0, np.where(has1, v1, 0.0)))
        return genre + best


#: Cosine below which two movies are not "close" (MiniLM movie texts; see hybrid.py).
SIM_FLOOR = 0.45


def similarity_scores(matrix: np.ndarray, rewarded: np.ndarray, rewards: np.ndarray) -> np.ndarray:
    """Per candidate: tanh of the reward-weighted closeness to the rewarded movies.

    Args:
        matrix: (n, d) unit vectors of the candidates.
        rewarded: (m, d) unit vectors of the rewarded movies.
        rewards: (m,) their rewards.
    """
    if not len(matrix) or not len(rewarded):
        return np.zeros(len(matrix), np.float32)
    close = np.clip((matrix @ rewarded.T - SIM_FLOOR) / (1.0 - SIM_FLOOR), 0.0, 1.0)
    return np.tanh(close @ rewards).astype(np.float32)


def collab_scores(collab, rewards: Mapping[str, float], ids: Sequence[str]) -> np.ndarray:
    """The collaborative model's item-item neighbours of the rewarded movies, signed by
    reward and scaled to [-1, 1] (zeros without a model)."""
    if collab is None or not hasattr(collab, "item_vector") or not rewards:
        return np.zeros(len(ids), np.float32)
    vector = np.asarray(collab.item_vector(dict(rewards)), np.float32)
    scale = float(np.abs(vector).max()) if vector.size else 0.0
    if scale <= 0:
        return np.zeros(len(ids), np.float32)
    rows = collab.row
    return np.array([vector[rows[i]] / scale if i in rows else 0.0 for i in ids], np.float32)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class FeedbackProvider:
    """Builds a session's :class:`FeedbackSignal` from the repository for each new list.

    The current message is not stored yet when the list is made, so it is read from the
    query (its text, and the movie preferences it stated, which carry this turn's index).
    """

    def __init__(self, repo, index, table: RewardTable | None = None,
                 sentiment: Callable[[str], float] | None = None,
                 clock: Callable[[], datetime] = _utc_now) -> None:
        self.repo = repo
        self.index = index
        self.table = table or RewardTable()
        self.sentiment = sentiment or Sentiment()
        self.clock = clock

    def signal(self, query) -> FeedbackSignal | None:
        """The signal for ``query`` (a RecQuery with ``session_id``), or None without one."""
        if not query.session_id or not self.repo.session_exists(query.session_id):
            return None
        turns = self.repo.history(query.session_id)
        if not any(t.get("recommendations") for t in turns):
            return None
        index = int(turns[-1]["index"]) + 1
        prefs = query.preferences.model_dump(mode="json")
        movie_prefs, n = _new_items(prefs, index)
        current = Reply(index, query.message, self.clock(), movie_prefs, n)
        rewards = session_rewards(turns, self.repo.feedback(query.session_id), self.table, self.sentiment, current)
        return FeedbackSignal.from_rewards(rewards, self.index) if rewards else None
