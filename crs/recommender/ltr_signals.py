"""Extra per-candidate signals of the pool ranker (artefact ``collab-v3``).

* :class:`TextFacts`: what the chat's words say about a candidate's metadata, with no
  training: people named in the chat (a director / star / writer whose full name appears
  as two consecutive context words), genres named ("horror", "scary", "comedies"), and
  the TF-IDF cosine between the context words and the candidate's plot + genre words.
  This reaches movies the dialogues rarely mention, which the co-mention and word blocks
  cannot.
* :class:`ExternalPriors`: TMDB popularity, vote count and vote average and presence in
  MovieLens 1M, matched through ``imdb_id`` -> MovieLens links -> TMDB id (nan when a
  movie is not matched; about 40 % of the catalogue has TMDB figures).
* :func:`directional_counts`: how often a movie is recommended *as a new movie* right
  after another one was mentioned (P(recommended | in the context), smoothed), learned
  from the training dialogues' order; unlike EASE it is directional.

All are computed from the same inputs in the app and in ``crs evaluate`` (the context
movies with their weights and the context words).
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from crs.recommender.collaborative import tokenize

LINKS_FILE = "movies/movielens_links.csv"
TMDB_FILE = "movies/tmdb_5000_movies.csv.zip"
ML1M_FILE = "movies/movielens_movies_tmdb.csv"
#: Words that name a genre of ``redial_id2info.json`` (besides the genre names themselves).
GENRE_WORDS = {"scary": "horror", "comedies": "comedy", "funny": "comedy", "animated": "animation",
               "romantic": "romance", "thrillers": "thriller", "documentaries": "documentary",
               "musicals": "musical", "westerns": "western"}
#: Smoothing of the directional co-mention ratio count(a -> b) / (contexts with a + this).
DIRECTIONAL_SMOOTHING = 5.0


def _csr(rows: list[int], cols: list[int], vals: Sequence[float] | None, shape: tuple[int, int]) -> sp.csr_matrix:
    data = np.asarray(vals if vals is not None else np.ones(len(rows)), np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=shape, dtype=np.float32)


@dataclass
class TextFacts:
    """Candidate metadata indexed for matching against context words.

    Attributes:
        people: (n_items, n_names) 0/1: the movie's people, each as its last two name tokens.
        names: The (first, last) token pairs of the columns of ``people``.
        genres: (n_items, n_genres) 0/1; ``genre_names`` the column names.
        text: (n_items, n_words) row-normalised TF-IDF of plot + genre words; ``words`` its
            columns, ``idf`` their IDF.
    """

    people: sp.csr_matrix
    names: tuple[tuple[str, str], ...]
    genres: sp.csr_matrix
    genre_names: tuple[str, ...]
    text: sp.csr_matrix
    words: tuple[str, ...]
    idf: np.ndarray

    def __post_init__(self) -> None:
        self._name_col = {n: j for j, n in enumerate(self.names)}
        self._genre_col = {g: j for j, g in enumerate(self.genre_names)}
        self._word_col = {w: j for j, w in enumerate(self.words)}

    @classmethod
    def from_info(cls, info: Mapping[str, dict], item_ids: Sequence[str]) -> "TextFacts":
        names: dict[tuple[str, str], int] = {}
        genres: dict[str, int] = {}
        words: dict[str, int] = {}
        p_rows, p_cols, g_rows, g_cols, t_rows, t_cols, t_vals = [], [], [], [], [], [], []
        for r, item in enumerate(item_ids):
            rec = info.get(item) or {}
            for person in {p for k in ("director", "star", "writer") for p in rec.get(k) or []}:
                tokens = tokenize(person)
                if len(tokens) >= 2:
                    p_rows.append(r)
                    p_cols.append(names.setdefault((tokens[-2], tokens[-1]), len(names)))
            for g in {g.lower() for g in rec.get("genre") or []}:
                g_rows.append(r)
                g_cols.append(genres.setdefault(g, len(genres)))
            bag = Counter(tokenize(rec.get("plot") or "") + [g.lower() for g in rec.get("genre") or []])
            for w, c in bag.items():
                t_rows.append(r)
                t_cols.append(words.setdefault(w, len(words)))
                t_vals.append(float(c))
        n = len(item_ids)
        text = _csr(t_rows, t_cols, t_vals, (n, max(len(words), 1)))
        df = np.asarray((text > 0).sum(axis=0)).ravel()
        idf = np.log(n / (1.0 + df)).astype(np.float32)
        text = sp.csr_matrix(text @ sp.diags(idf))
        norms = np.sqrt(np.asarray(text.multiply(text).sum(axis=1)).ravel())
        text = sp.csr_matrix(sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ text, dtype=np.float32)
        return cls(_csr(p_rows, p_cols, None, (n, max(len(names), 1))), tuple(names),
                   _csr(g_rows, g_cols, None, (n, max(len(genres), 1))), tuple(genres),
                   text, tuple(words), idf)

    def features(self, words: Sequence[str], pool: np.ndarray) -> np.ndarray:
        """(len(pool), 3): people named, genres named, TF-IDF cosine of words vs plot."""
        out = np.zeros((len(pool), 3), np.float32)
        if not len(pool) or not words:
            return out
        cols = sorted({self._name_col[b] for b in zip(words, words[1:]) if b in self._name_col})
        if cols:
            out[:, 0] = np.asarray(self.people[pool][:, cols].sum(axis=1)).ravel()
        named = {GENRE_WORDS.get(w, w) for w in words}
        g_cols = sorted(self._genre_col[g] for g in named if g in self._genre_col)
        if g_cols:
            out[:, 1] = np.asarray(self.genres[pool][:, g_cols].sum(axis=1)).ravel()
        bag = Counter(self._word_col[w] for w in words if w in self._word_col)
        if bag:
            cols = np.fromiter(bag, np.int64)
            q = np.fromiter(bag.values(), np.float32) * self.idf[cols]
            q /= float(np.linalg.norm(q)) + 1e-9
            out[:, 2] = np.asarray(self.text[pool][:, cols] @ q).ravel()
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {"text_names": np.array([" ".join(n) for n in self.names] or [""]),
                                      "text_genre_names": np.array(self.genre_names or ("",)),
                                      "text_words": np.array(self.words or ("",)), "text_idf": self.idf}
        for name in ("people", "genres", "text"):
            m: sp.csr_matrix = getattr(self, name)
            out |= {f"text_{name}_data": m.data.astype(np.float32), f"text_{name}_indices": m.indices.astype(np.int32),
                    f"text_{name}_indptr": m.indptr.astype(np.int64), f"text_{name}_shape": np.array(m.shape, np.int64)}
        return out

    @classmethod
    def from_arrays(cls, data: Mapping[str, np.ndarray]) -> "TextFacts":
        def matrix(name: str) -> sp.csr_matrix:
            return sp.csr_matrix((data[f"text_{name}_data"], data[f"text_{name}_indices"], data[f"text_{name}_indptr"]),
                                 shape=tuple(int(x) for x in data[f"text_{name}_shape"]))

        names = tuple(tuple(str(s).split(" ")) for s in data["text_names"] if str(s))
        return cls(matrix("people"), names, matrix("genres"), tuple(str(s) for s in data["text_genre_names"] if str(s)),
                   matrix("text"), tuple(str(s) for s in data["text_words"] if str(s)),
                   np.asarray(data["text_idf"], np.float32))


def external_priors(data_dir: Path, info: Mapping[str, dict], item_ids: Sequence[str]) -> np.ndarray:
    """(n_items, 4) float32: log1p TMDB popularity, log1p TMDB vote count, TMDB vote average,
    in MovieLens 1M (0/1); nan where the movie is not matched (or a file is absent)."""
    data_dir = Path(data_dir)
    out = np.full((len(item_ids), 4), np.nan, np.float32)
    links = data_dir / LINKS_FILE
    if not links.exists():
        return out
    imdb_to_tmdb: dict[int, int] = {}
    with links.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("tmdbId") and row.get("imdbId", "").isdigit():
                imdb_to_tmdb[int(row["imdbId"])] = int(float(row["tmdbId"]))
    tmdb: dict[int, tuple[float, float, float]] = {}
    if (data_dir / TMDB_FILE).exists():
        with zipfile.ZipFile(data_dir / TMDB_FILE) as archive:
            with archive.open("tmdb_5000_movies.csv") as raw:
                for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")):
                    tmdb[int(row["id"])] = (float(row["popularity"] or 0), float(row["vote_count"] or 0),
                                            float(row["vote_average"] or 0))
    ml1m: set[int] = set()
    if (data_dir / ML1M_FILE).exists():
        with (data_dir / ML1M_FILE).open(encoding="utf-8") as fh:
            ml1m = {int(float(row["tmdb_id"])) for row in csv.DictReader(fh) if row.get("tmdb_id")}
    for r, item in enumerate(item_ids):
        imdb = (info.get(item) or {}).get("imdb_id") or ""
        tmdb_id = imdb_to_tmdb.get(int(imdb[2:])) if imdb.startswith("tt") and imdb[2:].isdigit() else None
        if tmdb_id is None:
            continue
        out[r, 3] = float(tmdb_id in ml1m)
        if tmdb_id in tmdb:
            popularity, votes, average = tmdb[tmdb_id]
            out[r, :3] = (np.log1p(popularity), np.log1p(votes), average)
    return out


def load_signals(data_dir: Path, item_ids: Sequence[str]) -> tuple[TextFacts, np.ndarray]:
    """The :class:`TextFacts` and :func:`external_priors` of the catalogue ``item_ids``."""
    from crs.recommender.collaborative_content import INFO_FILE

    path = Path(data_dir) / INFO_FILE
    if not path.exists():
        raise FileNotFoundError(f"movie metadata not found: {path} (set --data-dir or CRS_DATA_DIR)")
    info = json.loads(path.read_text(encoding="utf-8"))
    return TextFacts.from_info(info, item_ids), external_priors(data_dir, info, item_ids)


def directional_counts(samples: Sequence, row: Mapping[str, int], n: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """From new-target recommendation samples (:class:`~crs.datasets.EvalSample`, not repeated):

    Returns:
        (P (n x n) float32 CSR: count(b recommended new while a is in the context) /
        (recommendation turns with a in the context + smoothing), log1p(times recommended new)).
    """
    rows: list[int] = []
    cols: list[int] = []
    contexts = np.zeros(n, np.float32)
    recommended = np.zeros(n, np.float32)
    last: tuple[str, int] | None = None
    for s in samples:
        if s.repeated or s.target is None or s.target not in row:
            continue
        target = row[s.target]
        recommended[target] += 1
        context = {row[m.item_id] for m in s.mentions if m.item_id in row}
        if (s.dialog_id, s.turn) != last:  # a turn with several targets counts its context once
            for a in context:
                contexts[a] += 1
            last = (s.dialog_id, s.turn)
        rows += context
        cols += [target] * len(context)
    counts = _csr(rows, cols, None, (n, n))
    counts.sum_duplicates()
    ratio = sp.csr_matrix(sp.diags(1.0 / (contexts + DIRECTIONAL_SMOOTHING)) @ counts, dtype=np.float32)
    return ratio, np.log1p(recommended).astype(np.float32)
