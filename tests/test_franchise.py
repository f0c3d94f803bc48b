""""No sequels" and "movies like Star Wars": the NLU's unwanted topic and the franchise test
(crs.recommender.franchise) as the retriever and the reranker use it."""

import pytest
from test_nlu import nlu  # noqa: F401 - the hand-made index and its NLU fixture

from crs.catalog.models import Movie
from crs.preferences import SEQUEL, Polarity, Slot
from crs.recommender.franchise import _franchise_key, franchise_of, same_franchise

STAR_WARS = Movie("1", "Star Wars", 1977, (), ("George Lucas",), ("Mark Hamill", "Harrison Ford", "Carrie Fisher"))


@pytest.mark.parametrize("text", ["not the sequels or prequels, something different", "no sequels please",
                                  "without any remakes", "none of the spin-offs"])
def test_no_sequels_is_an_unwanted_sequel_topic(nlu, text):  # noqa: F811
    assert (Slot.KEYWORD, SEQUEL, Polarity.DISLIKE) in {(i.slot, i.value, i.polarity) for i in nlu.parse(text).items}


@pytest.mark.parametrize("text", ["I love sequels", "are the sequels any good?"])
def test_sequels_wanted_or_asked_about_are_no_dislike(nlu, text):  # noqa: F811
    assert not any(i.value == SEQUEL for i in nlu.parse(text).items)


@pytest.mark.parametrize("title, key", [("Star Wars: Episode I – The Phantom Menace", "star wars"),
                                        ("Toy Story 2", "toy story"), ("Frozen II", "frozen"),
                                        ("The Matrix Reloaded", "matrix reloaded")])
def test_franchise_key(title, key):
    assert _franchise_key(title) == key


def test_same_franchise_by_title_head_or_two_of_three_leads():
    empire = Movie("2", "The Empire Strikes Back", 1980, (), ("Irvin Kershner",),
                   ("Mark Hamill", "Harrison Ford", "Carrie Fisher"))
    rogue = Movie("3", "Rogue One: A Star Wars Story", 2016, (), (), ("Felicity Jones", "Diego Luna"))
    blade_runner = Movie("4", "Blade Runner", 1982, (), ("Ridley Scott",), ("Harrison Ford", "Rutger Hauer"))
    assert same_franchise(empire, (STAR_WARS,)) and same_franchise(rogue, (STAR_WARS,))
    assert not same_franchise(blade_runner, (STAR_WARS,)) and not same_franchise(STAR_WARS, (STAR_WARS,))
    assert franchise_of(empire, (blade_runner, STAR_WARS)) is STAR_WARS and franchise_of(blade_runner, (STAR_WARS,)) is None


def test_movies_like_star_wars_shows_one_film_of_the_saga_per_page(small_store, tmp_path):
    """"movies like Star Wars" showed three Star Wars films first (the collaborative signal);
    now one per page, the others on later pages (crs.recommender.rerank.MetadataReranker)."""
    from crs.wiring import build_components

    components = build_components(small_store.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'crs.db'}"}))
    service, by_id = components.service, components.store.index.by_id
    try:
        pages = [service.handle_turn("fr1", "movies like Star Wars"), service.handle_turn("fr1", "more"),
                 service.handle_turn("fr1", "more")]
        liked = next(m for m in by_id.values() if m.title == "Star Wars" and m.year == 1977)
        saga = [[r["title"] for r in page["recommendations"] if franchise_of(by_id[r["id"]], (liked,))]
                for page in pages]
        assert all(len(titles) <= 1 for titles in saga), saga
        assert sum(len(titles) for titles in saga) >= 2, saga  # the saga is not hidden, only spread out
    finally:
        service.close()
