"""Hard constraints (crs/recommender/constraints.py) on a small hand-made index."""

from crs.catalog.models import Movie, MovieIndex
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.recommender.constraints import Constraints
from crs.recommender.types import RecQuery

MOVIES = [
    Movie("mi1", "Mission: Impossible", 1996, ("action",), cast=("Tom Cruise",)),
    Movie("mi2", "Mission: Impossible II", 2000, ("action",), cast=("Tom Cruise",)),
    Movie("mi5", "Mission: Impossible \u2013 Rogue Nation", 2015, ("action",), cast=("Tom Cruise",)),
    Movie("mi6", "Mission: Impossible - Fallout", 2018, ("action",), cast=("Tom Cruise",)),
    Movie("tg", "Top Gun", 1986, ("action",), cast=("Tom Cruise",)),
    Movie("h95", "Heat", 1995, ("crime",)),
    Movie("hw", "Heat Wave", 1990, ("drama",)),
    Movie("h2", "Heat 2", 2026, ("crime",)),
    Movie("a", "Alien", 1979, ("horror",)),
    Movie("a3", "Alien 3", 1992, ("horror",)),
]


def _rules(*items: PreferenceItem) -> Constraints:
    index = MovieIndex(list(MOVIES))
    return Constraints.from_query(RecQuery(preferences=Preferences(items=list(items))), index)


def _movie(movie_id: str) -> Movie:
    return next(m for m in MOVIES if m.id == movie_id)


def test_a_turned_down_movie_takes_its_sequels_with_it():
    rules = _rules(PreferenceItem(slot=Slot.MOVIE, value="mi1", polarity=Polarity.DISLIKE, label="Mission: Impossible"))
    assert [m.id for m in MOVIES if m.id.startswith("mi") and rules.allows(m)] == []
    assert rules.allows(_movie("tg"))


def test_only_real_sequel_titles_go_not_titles_that_merely_start_alike():
    rules = _rules(PreferenceItem(slot=Slot.MOVIE, value="h95", polarity=Polarity.DISLIKE, label="Heat"))
    assert not rules.allows(_movie("h95")) and not rules.allows(_movie("h2"))
    assert rules.allows(_movie("hw"))


def test_liked_and_seen_movies_keep_their_sequels():
    rules = _rules(PreferenceItem(slot=Slot.MOVIE, value="a", polarity=Polarity.LIKE, label="Alien"),
                   PreferenceItem(slot=Slot.MOVIE, value="mi1", polarity=Polarity.SEEN, label="Mission: Impossible"))
    assert not rules.allows(_movie("a")) and not rules.allows(_movie("mi1"))
    assert rules.allows(_movie("a3")) and rules.allows(_movie("mi2"))
