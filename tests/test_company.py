"""An ambiguous title settled by the movie it is named with (crs.dialogue.company)."""

from test_nlu import MOVIES, nlu  # noqa: F401 - the hand-made index and its NLU fixture

from crs.catalog.models import Movie
from crs.dialogue.company import resolve_by_company, shared_person
from crs.preferences import Polarity, Slot

BY_ID = {m.id: m for m in MOVIES}


def _named(result):
    return [BY_ID[i.value] for i in result.items if i.slot == Slot.MOVIE]


def test_heat_named_with_collateral_is_michael_manns(nlu):  # noqa: F811
    r = nlu.parse("I loved Heat and Collateral")
    assert r.ambiguous  # alone, "Heat" is asked about (two films, neither clearly ahead)
    settled, left = resolve_by_company(r.ambiguous, _named(r))
    assert not left and len(settled) == 1
    s = settled[0]
    assert (s.movie.id, s.person, s.role, s.anchor.id, s.polarity) == ("1", "Michael Mann", "director", "3", Polarity.LIKE)


def test_an_unrelated_companion_or_a_liked_movie_of_both_keeps_the_question(nlu):  # noqa: F811
    r = nlu.parse("I loved Heat and The Matrix")
    settled, left = resolve_by_company(r.ambiguous, _named(r))
    assert not settled and len(left) == 1
    # an anchor related to *both* candidates says nothing
    both = Movie("99", "Mann and Richards", 2000, (), ("Michael Mann", "Dick Richards"))
    assert resolve_by_company(r.ambiguous, [both])[0] == []


def test_cast_counts_from_two_shared_stars():
    a = Movie("a", "A", 2000, (), ("X",), ("P", "Q", "R"))
    assert shared_person(Movie("b", "B", 2001, (), ("Y",), ("Q", "P")), a) == ("Q", "cast")  # in the candidate's billing order
    assert shared_person(Movie("c", "C", 2001, (), ("Y",), ("P", "Z")), a) is None
    assert shared_person(Movie("d", "D", 2001, (), ("X",), ()), a) == ("X", "director")
