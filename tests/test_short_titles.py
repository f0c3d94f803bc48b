"""A popular film is found by the start of its title, as people shorten it ("Grand
Budapest", "Eternal Sunshine", "loved Shawshank"), only when written like a title."""

from __future__ import annotations

import pytest

from crs.catalog.linker import SHORT_TITLE_MIN_POPULARITY, TitleLinker
from crs.catalog.models import Movie, MovieIndex

POPULAR = SHORT_TITLE_MIN_POPULARITY


@pytest.fixture(scope="module")
def linker() -> TitleLinker:
    return TitleLinker(MovieIndex([
        Movie("gb", "The Grand Budapest Hotel", 2014, ("comedy",), popularity=POPULAR),
        Movie("bu", "Budapest", 2018, ("comedy",)),
        Movie("es", "Eternal Sunshine of the Spotless Mind", 2004, ("drama",), popularity=33),
        Movie("et", "Eternal", 2004, ("horror",)),
        Movie("su", "Sunshine", 2007, ("sci-fi",), popularity=13),
        Movie("sh", "The Shawshank Redemption", 1994, ("drama",), popularity=133),
        Movie("ij", "Indiana Jones and the Last Crusade", 1989, ("adventure",), popularity=40),
        Movie("ca1", "Captain America: The First Avenger", 2011, ("action",), popularity=20),
        Movie("ca2", "Captain America: Civil War", 2016, ("action",), popularity=25),
        Movie("lr", "The Lord of the Rings: The Return of the King", 2003, ("fantasy",), popularity=50),
        Movie("rare", "The Grand Seduction of Paris", 2013, ("comedy",), popularity=1),
    ]))


def _found(linker: TitleLinker, text: str) -> list[tuple[str, list[str]]]:
    return [(m.text, [c.id for c in m.candidates]) for m in linker.find(text)]


@pytest.mark.parametrize("text, expected", [
    ("not Grand Budapest, seen it", [("Grand Budapest", ["gb"])]),  # not the film "Budapest"
    ("Eternal Sunshine was great", [("Eternal Sunshine", ["es"])]),  # not "Eternal" and "Sunshine"
    ("I loved Shawshank", [("Shawshank", ["sh"])]),  # one word: after a cue
    ("Shawshank is my favourite", [("Shawshank", ["sh"])]),  # or with a verdict
    ("I liked Captain America", [("Captain America", ["ca2", "ca1"])]),  # two films start so: ask which
    ("I grew up in Indiana", []),  # one word, no cue: no film
    ("I love grand budapest", []),  # lower case: not written like a title
    ("I loved Sunshine", [("Sunshine", ["su"])]),  # a whole title still wins
    ("Lord of the Rings was great", [("Lord of the Rings", ["lr"])]),  # up to the subtitle
    ("I liked Grand Seduction", []),  # a film nobody talks about is not shortened
])
def test_short_titles(linker, text, expected):
    assert _found(linker, text) == expected


def test_a_lower_case_plural_of_a_film_nobody_names_is_a_noun():
    linker = TitleLinker(MovieIndex([
        Movie("sp", "Spiders", 2000, ("horror",)),  # nobody talks about it: "spiders" is the animals
        Movie("ja", "Jaws", 1975, ("thriller",), popularity=120),
        Movie("te", "Tenet", 2020, ("action",)),
    ]))
    assert _found(linker, "I don't like spiders") == []
    assert _found(linker, "she loves spiders and snakes") == []
    assert _found(linker, "I loved Spiders") == [("Spiders", ["sp"])]  # written like a title
    assert _found(linker, "i loved jaws") == [("jaws", ["ja"])]  # talked about: the film
    assert _found(linker, "i loved tenet") == [("tenet", ["te"])]  # no plural: the film
