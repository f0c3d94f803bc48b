"""Build the rule NLU over a movie index, the way the app does (crs/wiring.py)."""

from __future__ import annotations

from crs.catalog.models import MovieIndex
from crs.nlu.rules import RuleNLU


def reference_year(index: MovieIndex) -> int:
    """The newest year of a movie people talk about: "recent" counts back from it."""
    years = [m.year for m in index.movies if m.year and m.popularity > 0]
    return max(years) if years else 2020


def build_rule_nlu(index: MovieIndex, year: int | None = None) -> RuleNLU:
    """Title linker (genre and mood words blocked as titles), people index and rules; ``year``:
    the reference year of "recent" (default: :func:`reference_year` of the index)."""
    from crs.catalog.linker import TitleLinker
    from crs.nlu.lexicon import load_lexicon
    from crs.nlu.people import PeopleIndex

    lexicon = load_lexicon()
    linker = TitleLinker(index, blocked=set(lexicon.genres) | set(lexicon.moods))
    return RuleNLU(linker, PeopleIndex(index, linker.starters), reference_year=year or reference_year(index),
                   lexicon=lexicon)
