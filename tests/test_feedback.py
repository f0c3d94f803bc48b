"""Implicit feedback: rewards from stored reactions, the per-session reordering, and
`crs train feedback` (real Chroma store, real SQLite, the real graph and service)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from crs.recommender.feedback import FeedbackSignal, RewardTable, Sentiment, session_rewards
from crs.wiring import build_components

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def _turn(index, text, at, recs=(), items=()):
    return {"index": index, "user_text": text, "created_at": at.isoformat(), "latency_ms": 0.0,
            "recommendations": [{"id": r} for r in recs], "preferences": {"items": list(items)}}


def test_reward_table_orders_reactions_and_dwell():
    """like > more like this > why > passed over after a long look > seen > slow reject
    > reject > quick reject, from stored turns and events."""
    turns = [_turn(0, "westerns please", T0, ["like", "more", "why", "ignored", "seen", "slow", "plain", "quick"])]
    events = [{"movie_id": "like", "kind": "like", "dwell_s": 12.0, "turn": 1},
              {"movie_id": "more", "kind": "more_like_this", "dwell_s": 12.0, "turn": 1},
              {"movie_id": "why", "kind": "why", "dwell_s": 12.0, "turn": 1},
              {"movie_id": "seen", "kind": "seen", "dwell_s": 12.0, "turn": 1},
              {"movie_id": "slow", "kind": "reject", "dwell_s": 60.0, "turn": 1},
              {"movie_id": "plain", "kind": "reject", "dwell_s": 12.0, "turn": 1},
              {"movie_id": "quick", "kind": "reject", "dwell_s": 1.5, "turn": 1}]
    r = session_rewards(turns, events, RewardTable())
    order = ["like", "more", "why", "seen", "slow", "plain", "quick"]
    values = [r.get(m, 0.0) for m in order]
    assert values == sorted(values, reverse=True) and values[0] > 0 > values[4]
    assert r["quick"] == pytest.approx(RewardTable().reject_quick)
    assert "ignored" not in r  # the reply reacted to the list: an unclicked card is not "passed over"
    # A list the user looked at for a long while and answered with something else: faint positive.
    quiet = [_turn(0, "westerns", T0, ["a", "b"]), _turn(1, "and from the 90s", T0 + timedelta(seconds=50))]
    assert session_rewards(quiet, [])["a"] == pytest.approx(RewardTable().ignored_long)
    hasty = [_turn(0, "westerns", T0, ["a", "b"]), _turn(1, "and from the 90s", T0 + timedelta(seconds=2))]
    assert session_rewards(hasty, [])["a"] == pytest.approx(RewardTable().ignored_quick)


def test_typed_reactions_and_reply_sentiment():
    """A typed "not for me" (a dislike stated in the reply turn) counts like the button,
    with the list's dwell; the reply's sentiment moves the movies it is about."""
    dislike = {"slot": "movie", "value": "a", "polarity": "dislike", "turn": 1}
    turns = [_turn(0, "westerns", T0, ["a", "b"]), _turn(1, "not for me", T0 + timedelta(seconds=3), items=[dislike])]
    assert session_rewards(turns, [])["a"] == pytest.approx(RewardTable().reject_quick)
    sentiment = Sentiment()
    assert sentiment("ugh, those look awful") < -0.3 < 0.3 < sentiment("ooh, those look great!")
    glum = [_turn(0, "westerns", T0, ["a", "b"]), _turn(1, "ugh, those look awful", T0 + timedelta(seconds=20))]
    happy = [_turn(0, "westerns", T0, ["a", "b"]), _turn(1, "ooh, those look great!", T0 + timedelta(seconds=20))]
    assert session_rewards(glum, [], sentiment=sentiment)["a"] < 0 < session_rewards(happy, [], sentiment=sentiment)["a"]


def test_none_of_those_weighs_less_per_movie_than_a_single_thumbs_down():
    dislikes = [{"slot": "movie", "value": m, "polarity": "dislike", "turn": 1} for m in "abc"]
    blanket = [_turn(0, "westerns", T0, "abc"), _turn(1, "None of those.", T0 + timedelta(seconds=12), items=dislikes)]
    single = [_turn(0, "westerns", T0, "abc"), _turn(1, "not a", T0 + timedelta(seconds=12), items=dislikes[:1])]
    all_out, one = session_rewards(blanket, []), session_rewards(single, [])
    assert one["a"] == pytest.approx(RewardTable().reject)
    # "None of those." says the list missed, not that each movie is disliked: no per-movie reward
    assert all_out.get("a", 0.0) == pytest.approx(RewardTable().reject * RewardTable().reject_all) == 0.0
    halved = session_rewards(blanket, [], table=RewardTable(reject_all=0.5))
    assert one["a"] < halved["a"] < 0  # the factor is still honoured when set


def test_only_explicit_dislikes_and_likes_spread_to_other_movies():
    signal = FeedbackSignal({"glanced": -0.1, "thumbs_down": -1.4, "liked": 1.0, "why": 0.3})
    assert signal.spreading(signal.rewards) == {"thumbs_down": -1.4, "liked": 1.0, "why": 0.3}


def test_repeatedly_rejected_genre_goes_down_softly(movie_store):
    horror = [m for m in movie_store.index.movies if m.genres == ("horror",) or "horror" in m.genres][:3]
    once = FeedbackSignal.from_rewards({horror[0].id: -1.4}, movie_store.index)
    twice = FeedbackSignal.from_rewards({horror[0].id: -1.4, horror[1].id: -1.4}, movie_store.index)
    assert twice.genres["horror"] < once.genres.get("horror", 0.0) == 0.0  # one reject: the genre does not move
    glance = FeedbackSignal.from_rewards({horror[0].id: -0.1, horror[1].id: -0.1}, movie_store.index)
    assert glance.genres.get("horror", 0.0) == 0.0  # weak negatives never lower a genre
    assert -1.0 < twice.attribute_score(horror[2], set()) < 0
    assert twice.attribute_score(horror[2], {"horror", *horror[2].genres}) >= 0  # an asked-for genre is never lowered


# ---------------------------------------------------------------------------- the live signal


class Clock:
    """Real time plus a controllable offset (the user's reading time before a click)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.offset)


@pytest.fixture()
def parts(small_store, tmp_path):
    settings = small_store.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'crs.db'}",
                                              "checkpoint_path": tmp_path / "ck.sqlite", "feedback_session": True})
    built = build_components(settings)
    clock = Clock()
    built.service.clock = clock
    built.recommender.feedback.clock = clock
    yield built, clock
    built.service.close()


def _query(parts_, session):
    from crs.recommender.types import RecQuery

    repo = parts_.service.repo
    return RecQuery(preferences=repo.load_preferences(session), exclude=frozenset(repo.shown_movie_ids(session)),
                    session_id=session, message="more please", k=5)


def _horror(items):
    return sum("horror" in (c["genres"] if isinstance(c, dict) else c.movie.genres) for c in items)


def test_two_quick_thumbs_down_on_horror_mean_fewer_horror_picks(parts):
    built, clock = parts
    svc = built.service
    turn = svc.handle_turn("h", "something like Alien")
    rejected = []
    for _ in range(2):
        card = next(r for r in turn["recommendations"] if "horror" in r["genres"])
        clock.offset = 2.0  # a glance, then 👎
        turn = svc.click("h", card["id"], "reject")
        rejected.append(card["id"])
    clock.offset = 0.0
    events = svc.repo.feedback("h")
    assert [e["movie_id"] for e in events] == rejected and all(e["dwell_s"] < 5 for e in events)
    query = _query(built, "h")
    signal = built.recommender.feedback.signal(query)
    assert all(signal.rewards[m] <= RewardTable().reject for m in rejected)  # quick: stronger than a plain reject
    assert signal.genres["horror"] < 0
    with_signal = built.recommender.retriever.retrieve(replace(query, feedback=signal), 10)
    without = built.recommender.retriever.retrieve(query, 10)
    assert _horror(with_signal) < _horror(without)
    nxt = svc.handle_turn("h", "more please")["recommendations"]  # what the user sees next
    assert _horror(nxt) <= _horror(without[:5]) and _horror(nxt) < len(nxt)


def test_thumbs_up_moves_the_liked_movies_neighbours_up(parts, movie_store):
    built, clock = parts
    svc = built.service
    shown = svc.handle_turn("u", "I want a funny animated movie")["recommendations"]
    liked = shown[2]
    clock.offset = 12.0
    svc.click("u", liked["id"], "like")
    clock.offset = 0.0
    query = _query(built, "u")
    signal = built.recommender.feedback.signal(query)
    assert signal.rewards[liked["id"]] >= RewardTable().like * RewardTable().decay  # one list since
    retriever = built.recommender.retriever
    without = {c.movie.id: (rank, c.score) for rank, c in enumerate(retriever.retrieve(query, 60))}
    with_ = {c.movie.id: (rank, c.score) for rank, c in enumerate(retriever.retrieve(replace(query, feedback=signal), 60))}
    both = [m for m in without if m in with_]
    sims = (movie_store.vectors(both) @ movie_store.vectors([liked["id"]]).T).ravel()
    near = [m for m, s in zip(both, sims) if s > 0.6]
    far = [m for m, s in zip(both, sims) if s < 0.35]
    assert near and far
    assert all(with_[m][1] > without[m][1] for m in near)
    gain = np.mean([without[m][0] - with_[m][0] for m in near])
    assert gain > 0 and gain > np.mean([without[m][0] - with_[m][0] for m in far])


# ---------------------------------------------------------------------------- training


def test_train_feedback_writes_an_artefact_the_app_loads(small_store, tmp_path):
    from typer.testing import CliRunner

    from crs.cli import build_app
    from crs.recommender.feedback_sim import run_log
    from crs.simulation.targets import load_targets

    db = f"sqlite:///{tmp_path / 'log.db'}"
    settings = small_store.model_copy(update={"database_url": db, "checkpoint_path": tmp_path / "log.ck",
                                              "artifacts_dir": tmp_path / "artifacts"})
    built = build_components(settings)
    try:
        targets = load_targets("redial", settings.data_dir / "redial" / "valid_dialogues.jsonl", settings.data_dir,
                               built.store.index, built.nlu.linker, limit=8)
        metrics = run_log(built, targets, turns=4, seed=3, progress=False)
    finally:
        built.service.close()
    assert metrics["users"] == len(targets) == 8 and metrics["clicks"]
    runner = CliRunner()
    few = runner.invoke(build_app(), ["train", "feedback", "--db", db, "--min-events", "100000", "--no-progress"])
    assert few.exit_code == 2 and "feedback event(s)" in few.output
    out = tmp_path / "artifacts" / "feedback-v1.json"
    done = runner.invoke(build_app(), ["train", "feedback", "--db", db, "--out", str(out), "--min-events", "5",
                                       "--no-progress"])
    assert done.exit_code == 0, done.output
    summary = json.loads(done.stdout[done.stdout.index("{"):])
    assert summary["sessions"] == 8 and summary["movies_with_bias"] > 0 and summary["negative"] > 0
    stored = json.loads(out.read_text())
    assert stored["version"] == 1 and stored["item_bias"] and stored["reward_table"]["reject_quick"] < 0
    app = build_components(settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'app.db'}",
                                                       "checkpoint_path": tmp_path / "app.ck"}))
    try:
        bias = app.recommender.retriever.item_bias
        assert bias and set(bias) == set(stored["item_bias"])
        worst = min(bias, key=bias.get)
        assert bias[worst] < 0
    finally:
        app.service.close()


def test_simulated_click_user_turns_down_far_cards_quickly_and_marks_popular_ones_seen():
    """The card clicks of the simulated feedback user (feedback_sim.CARD_CLICKS): a card
    sharing no genre with the target gets a 👎 about 60 % of the time, a popular card 👁
    about 8 % of the remaining time; a scripted list stands in for the app."""
    import random
    from collections import Counter

    from crs.catalog.models import Movie

    from crs.recommender.feedback_sim import SimClock, run_user
    from crs.simulation.targets import SimTarget
    from crs.simulation.user import genre_phrases
    from crs.nlu.lexicon import load_lexicon

    class Lists:
        def __init__(self):
            self.clicks, self.n = [], 0

        def _list(self):
            self.n += 1
            return {"recommendations": [{"id": f"{self.n}-{i}", "title": f"M{self.n}-{i}", "year": 1990,
                                         "genres": ["comedy"] if i == 0 else ["crime"], "directors": [], "cast": []}
                                        for i in range(5)]}

        def handle_turn(self, session, text):
            return self._list()

        def click(self, session, movie_id, kind):
            self.clicks.append((kind, movie_id))
            return self._list()

    target = SimTarget("d", Movie("t", "Target", 1995, ("crime",), ("Ann Lee",), ()), "Target (1995)")
    phrases, kinds = genre_phrases(load_lexicon()), Counter()
    for seed in range(40):
        service, clock = Lists(), SimClock()
        episode = run_user(service, "s", target, 6, phrases, Counter(), random.Random(seed), clock,
                           popular=lambda movie_id: movie_id.endswith("-1"))
        assert episode.success_turn is None and len(episode.messages) <= 6
        for kind, movie_id in service.clicks:
            kinds[kind] += 1
            if kind == "reject":
                assert movie_id.endswith("-0"), "only the card sharing no genre is turned down"
            if kind == "seen":
                assert movie_id.endswith("-1")
    assert kinds["reject"] > 3 * kinds["seen"] > 0
