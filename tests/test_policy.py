"""Table-driven tests of the dialogue policy's pure functions (crs/dialogue/policy.py)."""

import math

import pytest

from crs.dialogue import policy
from crs.dialogue.policy import Facts, choose_question, entropy, find_conflict, match_option, open_attributes
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot


def item(slot, value, polarity="like", turn=0):
    return PreferenceItem(slot=Slot(slot), value=value, polarity=Polarity(polarity), label=value, turn=turn)


def prefs(*items, year_min=None, year_max=None):
    return Preferences(items=list(items), year_min=year_min, year_max=year_max)


# ---------------------------------------------------------------------- entropy and weights
@pytest.mark.parametrize("ps, bits", [
    ([1.0], 0.0), ([0.5, 0.5], 1.0), ([1, 1, 1, 1], 2.0), ([2, 0, 2], 1.0), ([], 0.0), ([0.9, 0.1], 0.469),
])
def test_entropy(ps, bits):
    assert entropy(ps) == pytest.approx(bits, abs=1e-3)


def test_candidate_weights_follow_scores():
    w = policy.candidate_weights([2.0, 1.0, 1.0], temperature=1.0)
    assert sum(w) == pytest.approx(1.0) and w[0] > w[1] == w[2]
    assert w[0] / w[1] == pytest.approx(math.e)
    assert policy.candidate_weights([]) == []


# ---------------------------------------------------------------------- which attribute to ask
G = lambda *g, year=None, d=(), c=(), m=(), s=1.0: Facts(score=s, year=year, genres=g, directors=d, cast=c, moods=m)  # noqa: E731

#: Every candidate is a 1990s thriller, but they split evenly between three directors.
SAME_GENRE_SPLIT_DIRECTOR = [G("thriller", year=1995, d=(f"Director {k % 3}",)) for k in range(12)]
#: Three genres evenly; one era; everyone has a different director.
SPLIT_GENRE = [G(g, year=2005, d=(f"D{k}",)) for k, g in enumerate(["comedy", "drama", "horror"] * 4)]
#: Half recent, half classic, all dramas, all different directors.
SPLIT_ERA = [G("drama", year=2015 if k % 2 else 1960, d=(f"D{k}",)) for k in range(10)]
#: Two equally good splits; the higher-scored half decides nothing but ties break by ATTRIBUTES order.
TIED = [G("comedy" if k % 2 else "drama", year=2015 if k % 2 else 1960) for k in range(8)]
#: Nearly all the score mass on one comedy: nothing left to split.
ONE_FAVOURITE = [G("comedy", year=2015, s=10.0)] + [G(g, year=1960, s=0.0) for g in ["drama", "horror"] * 3]


@pytest.mark.parametrize("candidates, open_attrs, attribute, options", [
    (SPLIT_GENRE, policy.ATTRIBUTES, "genre", {"comedy", "drama", "horror"}),
    (SAME_GENRE_SPLIT_DIRECTOR, policy.ATTRIBUTES, "director", {"Director 0", "Director 1", "Director 2"}),
    (SPLIT_ERA, policy.ATTRIBUTES, "era", {"recent", "classic"}),  # one genre, all directors different
    (SPLIT_ERA, ["genre", "director"], None, None),
    (TIED, ["era", "genre"], "genre", {"comedy", "drama"}),
    (TIED, ["era"], "era", {"recent", "classic"}),
    (SPLIT_GENRE, ["era", "director"], None, None),  # one era; directors all different: no good split
    (ONE_FAVOURITE, policy.ATTRIBUTES, None, None),
    (SPLIT_GENRE[:1], policy.ATTRIBUTES, None, None),
    ([], policy.ATTRIBUTES, None, None),
])
def test_choose_question(candidates, open_attrs, attribute, options):
    q = choose_question(candidates, open_attrs, min_gain=1.0)
    if attribute is None:
        assert q is None
    else:
        assert q is not None and q.attribute == attribute and {o.value for o in q.options} == options
        assert q.gain >= 1.0 and sum(o.share for o in q.options) <= 1.0 + 1e-9


def test_a_two_way_split_needs_a_low_enough_bar():
    assert choose_question(SPLIT_ERA, ["era"], min_gain=1.2) is None
    q = choose_question(SPLIT_ERA, ["era"], min_gain=0.9)
    assert q.attribute == "era" and [o.label for o in q.options] == ["something recent (2010 on)", "a classic from before 1980"]
    assert q.gain == pytest.approx(1.0)


def test_gain_is_the_entropy_of_the_answer_groups():
    q = policy.score_attribute(SPLIT_GENRE, [1 / 12] * 12, "genre")
    assert q.gain == pytest.approx(math.log2(3))
    assert all(o.share == pytest.approx(1 / 3) for o in q.options)


def test_options_skip_stated_values_and_low_coverage_is_refused():
    q = policy.score_attribute(SPLIT_GENRE, [1 / 12] * 12, "genre", skip_values=frozenset({"horror"}))
    assert {o.value for o in q.options} == {"comedy", "drama"}
    # ten directors of one film each: three options cover 30%, the answer is likely "none of these"
    spread = [G("drama", d=(f"D{k}",)) for k in range(10)]
    assert choose_question(spread, ["director"], min_gain=0.5, min_coverage=0.5) is None
    assert choose_question(spread, ["director"], min_gain=0.5, min_coverage=0.2).attribute == "director"


def test_keywords_split_candidates_about_different_things():
    heists = [Facts(score=1.0, genres=("crime",), keywords=("heist", "bank")) for _ in range(4)]
    revenge = [Facts(score=1.0, genres=("crime",), keywords=("revenge",)) for _ in range(4)]
    q = choose_question(heists + revenge, ["keyword"], min_gain=0.9)
    assert q.attribute == "keyword" and {o.value for o in q.options} == {"heist", "revenge", "bank"}
    assert q.gain == pytest.approx(1.0)  # "bank" adds nothing: every bank movie is a heist one
    assert match_option(q.to_state(), "a heist please", []) == [o.value for o in q.options].index("heist")


def test_unknown_attribute_is_an_error():
    with pytest.raises(ValueError):
        policy.values_of(G("drama"), "budget")


@pytest.mark.parametrize("p, asked, expected", [
    (prefs(), [], ["genre", "era", "director", "actor", "mood", "keyword"]),
    (prefs(), ["genre"], ["era", "director", "actor", "mood", "keyword"]),
    (prefs(item("genre", "comedy")), [], ["era", "director", "actor", "mood", "keyword"]),
    (prefs(item("genre", "comedy", "dislike")), [], ["genre", "era", "director", "actor", "mood", "keyword"]),
    (prefs(item("genre", "crime"), year_min=1990, year_max=1999), [], ["director", "actor", "mood", "keyword"]),
    (prefs(item("person", "Michael Mann"), item("mood", "dark")), ["era"], ["genre", "keyword"]),
    (prefs(item("keyword", "heist")), ["genre", "era"], ["director", "actor", "mood"]),
])
def test_open_attributes(p, asked, expected):
    assert open_attributes(p, asked) == expected


# ---------------------------------------------------------------------- when to ask
@pytest.mark.parametrize("p, expected", [
    (prefs(), False),
    (prefs(item("genre", "comedy")), False),
    (prefs(item("genre", "comedy"), year_min=1990), True),
    (prefs(item("genre", "comedy"), item("mood", "dark")), True),
    (prefs(item("movie", "123")), True),
    (prefs(item("person", "Tom Hanks")), True),
    (prefs(item("genre", "comedy", "dislike"), year_min=1990), False),
])
def test_knows_enough(p, expected):
    assert policy.knows_enough(p) is expected


THIN = prefs(item("genre", "crime"), year_min=1990, year_max=1999)


@pytest.mark.parametrize("act, p, asked, pending, expected", [
    ({"feedback": "reject"}, THIN, [], False, True),
    ({"feedback": "reject"}, THIN, ["mood"], False, True),
    ({"feedback": "reject"}, THIN, ["mood", "actor"], False, False),  # at most two questions
    ({"feedback": "reject"}, THIN, [], True, False),  # another question is open
    ({"feedback": "reject", "rejected_all": False}, THIN, [], False, False),  # one card turned down: no question
    ({"feedback": "seen"}, THIN, [], False, False),
    ({"more": True}, THIN, [], False, False),  # "more" is not a rejection: no question
    ({"feedback": "reject"}, prefs(item("person", "Michael Mann")), [], False, False),
    ({"feedback": "reject"}, prefs(item("movie", "42")), [], False, False),
])
def test_follow_up_wanted(act, p, asked, pending, expected):
    assert policy.follow_up_wanted(act, p, asked, pending) is expected


# ---------------------------------------------------------------------- answers
GENRE_Q = {"attribute": "genre", "options": [{"value": "comedy", "label": "comedy"}, {"value": "drama", "label": "drama"},
                                             {"value": "sci-fi", "label": "sci-fi"}]}
ERA_Q = {"attribute": "era", "options": [{"value": "recent", "label": "something recent (2010 on)"},
                                         {"value": "classic", "label": "a classic from before 1980"}]}
PEOPLE_Q = {"attribute": "director", "options": [{"value": "Christopher Nolan", "label": "Christopher Nolan"},
                                                 {"value": "Ridley Scott", "label": "Ridley Scott"}]}
MOOD_Q = {"attribute": "mood", "options": [{"value": "light", "label": "light-hearted"},
                                           {"value": "twist", "label": "with a twist"}]}


@pytest.mark.parametrize("question, text, refs, expected", [
    (GENRE_Q, "comedy please", [], 0),
    (GENRE_Q, "the second one", [1], 1),
    (GENRE_Q, "the last", [-2], 2),
    (GENRE_Q, "Sci-Fi!", [], 2),
    (GENRE_Q, "comedy or drama", [], None),  # two options: not an answer
    (GENRE_Q, "what's on tv", [], None),
    (ERA_Q, "something classic", [], 1),
    (ERA_Q, "a newer one", [], 0),
    (ERA_Q, "old ones are best", [], 1),
    (PEOPLE_Q, "Nolan", [], 0),
    (PEOPLE_Q, "I like ridley scott", [], 1),
    (MOOD_Q, "light-hearted please", [], 0),
    (MOOD_Q, "one with a twist", [], 1),
    (GENRE_Q, "the fifth", [4], None),
])
def test_match_option(question, text, refs, expected):
    assert match_option(question, text, refs) == expected


@pytest.mark.parametrize("text, expected", [
    ("any", True), ("I don't mind", True), ("doesn't matter", True), ("surprise me", True), ("comedy", False),
    ("no", False),
])
def test_is_skip(text, expected):
    assert policy.is_skip(text) is expected


# ---------------------------------------------------------------------- contradictions
@pytest.mark.parametrize("old, new, lo, hi, clauses, changed, expected", [
    # one message: "a comedy, no comedies"
    (prefs(), [item("genre", "comedy"), item("genre", "comedy", "dislike")], None, None, [], False,
     ("genre", "comedy", "no comedy")),
    # one message: "I want a horror movie but nothing scary" (the lexicon reads "scary" as horror)
    (prefs(), [item("genre", "horror"), item("genre", "horror", "dislike")], None, None, [], False,
     ("genre", "horror", "no horror")),
    # across turns, no change of mind
    (prefs(item("person", "Tom Cruise", turn=0)), [item("person", "Tom Cruise", "dislike", turn=2)], None, None, [], False,
     ("person", "Tom Cruise", "nothing with Tom Cruise")),
    # across turns with a change of mind: the newer wish simply wins
    (prefs(item("person", "Tom Cruise", turn=0)), [item("person", "Tom Cruise", "dislike", turn=2)], None, None, [], True, None),
    # different values, or a seen movie: no contradiction
    (prefs(item("genre", "comedy")), [item("genre", "romance", "dislike", turn=1)], None, None, [], False, None),
    (prefs(), [item("genre", "comedy"), item("genre", "drama", "dislike")], None, None, [], False, None),
    # years within one message ("after 2010 and before 1990") and across turns
    (prefs(), [], 2011, None, [(2011, None), (None, 1989)], False, ("year", "after 2010", "before 1990")),
    (prefs(year_min=2011), [], None, 1989, [], False, ("year", "after 2010", "before 1990")),
    (prefs(year_min=2011), [], None, 1989, [], True, None),
    (prefs(year_min=1990, year_max=1999), [], 2011, None, [], False, ("year", "1990–1999", "after 2010")),
    (prefs(year_min=1980, year_max=1989), [], 2000, 2009, [], False, None),  # a new range replaces the old one
    (prefs(year_min=1990), [], None, 2005, [], False, None),  # compatible bounds
    (prefs(), [], 2000, 2010, [(2000, None), (None, 2010)], False, None),
])
def test_find_conflict(old, new, lo, hi, clauses, changed, expected):
    conflict = find_conflict(old, new, lo, hi, clauses, changed)
    if expected is None:
        assert conflict is None
    else:
        assert (conflict.kind, conflict.first.label, conflict.second.label) == expected


@pytest.mark.parametrize("text, items, lo, hi, expected", [
    ("horror is fine", [item("genre", "horror")], None, None, "first"),
    ("no horror then", [item("genre", "horror", "dislike")], None, None, "second"),
    ("the second", [], None, None, "second"),
    ("the first one", [], None, None, "first"),
    ("what I said last", [], None, None, "second"),
    ("hmm", [], None, None, None),
])
def test_pick_side_of_a_genre_conflict(text, items, lo, hi, expected):
    conflict = find_conflict(prefs(), [item("genre", "horror"), item("genre", "horror", "dislike")], None, None).to_state()
    assert policy.pick_side(conflict, text, items, lo, hi) == expected


@pytest.mark.parametrize("text, lo, hi, expected", [
    ("after 2010", 2011, None, "first"), ("before 1990 please", None, 1989, "second"), ("either", None, None, None),
])
def test_pick_side_of_a_year_conflict(text, lo, hi, expected):
    conflict = find_conflict(prefs(), [], 2011, None, [(2011, None), (None, 1989)]).to_state()
    assert policy.pick_side(conflict, text, [], lo, hi) == expected


@pytest.mark.parametrize("text, nlu_change, expected", [
    ("actually, no horror", False, True), ("no horror instead", False, True), ("no horror", False, False),
    ("no horror", True, True),
])
def test_says_change_of_mind(text, nlu_change, expected):
    assert policy.says_change_of_mind(text, nlu_change) is expected


# ---------------------------------------------------------------------- relaxing an empty result
FULL = prefs(item("genre", "horror"), item("mood", "dark"), item("genre", "comedy", "dislike"),
             item("person", "Tom Cruise", "dislike"), year_max=1989)


@pytest.mark.parametrize("p, steps", [
    (FULL, ["mood", "years widened", "years", "genre", "person"]),
    (prefs(item("genre", "horror"), year_min=2021), ["years widened", "years"]),
    (prefs(item("genre", "horror")), []),  # nothing hard to loosen (a liked genre is the pipeline's)
    (prefs(item("person", "Tom Cruise", "dislike"), item("movie", "42", "dislike")), ["person"]),
])
def test_relaxations_in_order(p, steps):
    assert [r.step for r in policy.relaxations(p)] == steps
    assert [s for s in policy.RELAX_ORDER if s in steps] == steps


def test_each_relaxation_loosens_only_its_constraint():
    by_step = {r.step: r for r in policy.relaxations(FULL)}
    assert by_step["mood"].preferences.moods == [] and by_step["mood"].preferences.year_max == 1989
    assert by_step["years widened"].preferences.year_max == 1999
    assert by_step["years widened"].describe() == "widening 'before 1990' to before 2000"
    assert by_step["years"].preferences.year_max is None and by_step["years"].describe() == "dropping 'before 1990'"
    assert by_step["genre"].preferences.disliked_genres == [] and by_step["genre"].preferences.disliked_people == ["Tom Cruise"]
    assert by_step["person"].describe() == "dropping 'nothing with Tom Cruise'"
    for r in by_step.values():
        assert r.preferences.liked_genres == ["horror"]
    assert FULL.year_max == 1989 and len(FULL.items) == 4  # the stored preferences are untouched


def test_cumulative_relaxations_pile_up_without_moods():
    chain = policy.cumulative(FULL)
    assert [r.step for r in chain] == ["years", "years+genre", "years+genre+person"]
    last = chain[-1]
    assert last.preferences.year_max is None and not last.preferences.disliked_genres and not last.preferences.disliked_people
    assert last.preferences.moods == ["dark"]
    assert last.describe() == "dropping 'before 1990' and 'no comedy' and 'nothing with Tom Cruise'"


@pytest.mark.parametrize("lo, hi, label", [
    (1990, 1999, "1990–1999"), (2011, None, "after 2010"), (2012, None, "from 2012 on"), (None, 1989, "before 1990"),
    (None, 1992, "up to 1992"),
])
def test_year_label(lo, hi, label):
    assert policy.year_label(lo, hi) == label


# ---------------------------------------------------------------------- after feedback (crs/dialogue/routing.py)
@pytest.mark.parametrize("act, expected", [
    ({"feedback": "accept"}, "__end__"),
    ({"feedback": "accept", "more": True}, "recommendation"),  # "the second one sounds good, anything like it?"
    ({"feedback": "why", "more": True}, "__end__"),
    ({"feedback": "seen"}, "recommendation"),
    ({"feedback": "reject"}, "recommendation"),
])
def test_route_after_feedback(act, expected):
    from crs.dialogue.routing import route_after_feedback

    assert route_after_feedback({"act": act}) == expected


# ---------------------------------------------------------------------- which one? (crs/dialogue/nodes/understand.py)
@pytest.mark.parametrize("answer, expected", [
    ("the original", "h78"),  # the earliest film people talk about, not the forgotten 1931 one
    ("the old one", "h78"),
    ("the remake", "h18"),
    ("the newer one please", "h18"),
    ("2007", "h07"),
    ("the rob zombie one", "h07"),
    ("no idea", None),
])
def test_clarification_answers(answer, expected):
    from types import SimpleNamespace

    from crs.catalog.models import Movie, MovieIndex
    from crs.dialogue.nodes.understand import resolve_clarification
    from crs.nlu.types import NLUResult
    from crs.nlu.years import bare_years

    index = MovieIndex([Movie("h78", "Halloween", 1978, ("horror",), ("John Carpenter",), popularity=145),
                        Movie("h07", "Halloween", 2007, ("horror",), ("Rob Zombie",), popularity=35),
                        Movie("h31", "Halloween", 1931, ()), Movie("h18", "Halloween", 2018, ("horror",))])
    pending = {"candidates": ["h78", "h07", "h31", "h18"], "polarity": "like", "mention": "Halloween"}
    nlu = NLUResult(years_mentioned=bare_years(answer))
    assert resolve_clarification(pending, nlu, answer, SimpleNamespace(index=index)) == expected


@pytest.mark.parametrize("text, expected", [
    ("surprise me", True), ("you pick", True), ("what's the best movie of all time?", True),
    ("what's your favourite movie?", True), ("whats ur fave film", True), ("your top picks?", True),
    ("my favourite movie is Heat", False), ("a comedy please", False), ("what do you think of Heat?", False),
])
def test_says_surprise(text, expected):
    assert policy.says_surprise(text) is expected
