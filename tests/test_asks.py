"""Which genre / person asks are the requirement of a turn (crs.recommender.hybrid.asks_with_carry)."""

from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.recommender.hybrid import asks_with_carry, current_asks


def _prefs(*items):
    prefs = Preferences()
    for turn, slot, value in items:
        prefs.add(PreferenceItem(slot=slot, value=value, polarity=Polarity.LIKE, label=value, turn=turn))
    return prefs


def test_an_ask_of_the_other_kind_narrows_and_the_older_one_is_carried():
    prefs = _prefs((0, Slot.PERSON, "Tom Hanks"), (1, Slot.GENRE, "comedy"))
    assert asks_with_carry(prefs) == ({"comedy"}, ["Tom Hanks"], "person")
    prefs = _prefs((0, Slot.GENRE, "western"), (1, Slot.PERSON, "Clint Eastwood"))
    assert asks_with_carry(prefs) == ({"western"}, ["Clint Eastwood"], "genre")


def test_an_ask_of_the_same_kind_replaces_the_older_one():
    prefs = _prefs((0, Slot.GENRE, "western"), (1, Slot.GENRE, "action"))
    assert asks_with_carry(prefs) == ({"action"}, [], None)
    prefs = _prefs((0, Slot.PERSON, "Tom Hanks"), (0, Slot.GENRE, "comedy"), (2, Slot.PERSON, "Meg Ryan"))
    assert asks_with_carry(prefs) == ({"comedy"}, ["Meg Ryan"], "genre")


def test_both_in_one_message_carry_nothing_and_a_new_liked_movie_clears_older_asks():
    assert asks_with_carry(_prefs((3, Slot.PERSON, "Jim Carrey"), (3, Slot.GENRE, "comedy"))) == (
        {"comedy"}, ["Jim Carrey"], None)
    prefs = _prefs((0, Slot.PERSON, "Christopher Nolan"), (1, Slot.MOVIE, "up"))
    assert asks_with_carry(prefs) == (set(), [], None) and current_asks(prefs) == (set(), [])
    prefs = _prefs((0, Slot.PERSON, "Christopher Nolan"), (1, Slot.MOVIE, "up"), (2, Slot.GENRE, "animation"))
    assert asks_with_carry(prefs) == ({"animation"}, [], None)
