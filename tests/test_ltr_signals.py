"""The collab-v3 signals of the pool ranker: directional co-mention, text matches, external priors."""

from __future__ import annotations

import itertools
import json

import numpy as np
from eval_fixtures import TINY_CATALOGUE, data_dir, tiny_dialogue, write_jsonl

from crs.datasets import dialogue_samples, read_dialogues
from crs.recommender.collaborative import tokenize
from crs.recommender.ltr_signals import TextFacts, directional_counts, external_priors


def test_directional_counts_follow_dialogue_order(tmp_path):
    """@100 is in the context when @200 and @300 are first recommended: 100 -> 200 counts,
    200 -> 100 does not (the later repeat of @100 is not a new recommendation)."""
    path = write_jsonl(tmp_path / "d.jsonl", [tiny_dialogue()])
    samples = [s for d in read_dialogues(path) for s in dialogue_samples(d, TINY_CATALOGUE)]
    ratio, recommended = directional_counts(samples, TINY_CATALOGUE.row, len(TINY_CATALOGUE))
    row = TINY_CATALOGUE.row
    assert ratio[row["100"], row["200"]] > 0 and ratio[row["100"], row["300"]] > 0
    assert ratio[row["200"], row["100"]] == 0  # @100 was repeated, not recommended as new
    # one turn with two targets counts its context once: 1 / (1 + smoothing)
    assert ratio[row["100"], row["200"]] == ratio[row["100"], row["300"]] == np.float32(1 / 6)
    assert recommended[row["200"]] == np.float32(np.log(2)) and recommended[row["100"]] == 0


def test_text_facts_match_people_genres_and_plot_words():
    info = json.loads((data_dir() / "movies/redial_id2info.json").read_text(encoding="utf-8"))
    ids = tuple(itertools.islice((i for i, r in info.items() if r.get("star") and r.get("plot")), 200))
    facts = TextFacts.from_info(info, ids)
    first = info[ids[0]]
    star = first["star"][0]
    genre = first["genre"][0].lower()
    pool = np.arange(len(ids))
    x = facts.features(tokenize(f"anything with {star}?") + [genre] + tokenize(first["plot"]), pool)
    assert x[0, 0] >= 1  # the star is named
    people = [{p for k in ("director", "star", "writer") for p in info[i].get(k) or []} for i in ids]
    assert all((v > 0) == (star in p) for p, v in zip(people, x[:, 0]))  # exactly the movies with that person
    assert x[0, 1] >= 1 and int(np.argmax(x[:, 2])) == 0  # its genre, and its own plot is the best cosine
    assert not facts.features([], pool).any()
    again = TextFacts.from_arrays(facts.arrays())
    np.testing.assert_allclose(again.features(tokenize(star) + ["scary"], pool), facts.features(tokenize(star) + ["scary"], pool))


def test_external_priors_match_known_movies():
    info = json.loads((data_dir() / "movies/redial_id2info.json").read_text(encoding="utf-8"))
    by_name = {r.get("name"): i for i, r in info.items()}
    ids = tuple(i for name in ("Avatar (2009)", "Pari (1995)") if (i := by_name.get(name)))
    priors = external_priors(data_dir(), info, ids)
    assert priors.shape == (len(ids), 4)
    avatar = ids.index(by_name["Avatar (2009)"])
    assert priors[avatar, 1] > np.log1p(1000) and 5 < priors[avatar, 2] < 9  # thousands of TMDB votes
