"""Other titles of a film (MovieLens's US title, original title, "a.k.a." names) are linkable."""

from __future__ import annotations

from pathlib import Path

from crs.catalog.linker import TitleLinker
from crs.catalog.models import Movie, MovieIndex
from crs.corpus.merge import _other_titles, load_movies


def test_a_redial_film_takes_movielens_other_titles_as_aliases(small_store):
    movies = {m.id: m for m in load_movies(Path(small_store.data_dir), limit=400, include_movielens=False)}
    potter = movies["93521"]  # ReDial calls it "Harry Potter (2001)"
    assert potter.title == "Harry Potter" and "Harry Potter and the Sorcerer's Stone" in potter.aliases
    assert all(a != m.title for m in movies.values() for a in m.aliases)
    assert Movie.from_dict(potter.to_dict()) == potter


def test_other_titles_drop_the_own_title_and_repeats():
    assert _other_titles("Seven", ["Se7en", "seven", "SE7EN", "Seven!"]) == ("Se7en",)


def test_the_linker_finds_a_film_by_its_alias_in_one_piece():
    potter = Movie("h1", "Harry Potter", 2001, ("fantasy",), aliases=("Harry Potter and the Sorcerer's Stone",))
    sorcerers = Movie("s1", "The Sorcerers", 1967, ("horror",))
    linker = TitleLinker(MovieIndex([potter, sorcerers]))
    found = linker.find("I liked Harry Potter and the Sorcerer's Stone a lot")
    assert [(m.text, [c.id for c in m.candidates]) for m in found] == [("Harry Potter and the Sorcerer's Stone", ["h1"])]
    without = TitleLinker(MovieIndex([Movie("h1", "Harry Potter", 2001, ("fantasy",)), sorcerers]))
    assert len(without.find("I liked Harry Potter and the Sorcerer's Stone a lot")) == 2  # what happened before
    assert linker.resolve_title("Harry Potter and the Sorcerer's Stone (2001)").candidates[0].id == "h1"
