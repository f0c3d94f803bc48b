"""Fuzzed NLU and title linker (issue 6, bad input): thousands of generated messages,
from raw Unicode noise to movie-talk built from the real corpus's titles, genres and
people, must never raise and must only ever produce well-formed results that point at
movies of the corpus.

The index is the real one of the small test store (800 ReDial movies, tests/conftest.py).
Example budgets: see ``fuzz_settings`` below; the total is printed at the end of the run.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_counts import counted, fuzz_settings
from crs.catalog.linker import TitleLinker
from crs.nlu.lexicon import load_lexicon
from crs.nlu.people import PeopleIndex
from crs.nlu.rules import RuleNLU
from crs.nlu.types import Intent, NLUResult
from crs.nlu.years import bare_years, parse_years
from crs.preferences import Polarity, Slot

REFERENCE_YEAR = 2020

#: Characters that break naive text handling: zero-width, bidi controls, combining marks,
#: lookalikes, full-width digits, emoji (with skin tones and ZWJ sequences), NUL and friends.
TRICKY = ("\u200b", "\u200d", "\u202e", "\u2066", "\u0301", "\u0338", "\ufeff", "\u00a0", "\u2028",
          "\uff11\uff19\uff19\uff15", "\u0660\u0661", "\u00b2", "\u2163", "🎬", "👍🏽", "👨‍👩‍👧", "🏳️‍🌈",
          "\x00", "\x1b[31m", "\r\n", "\t", "İ", "ß", "ﬁ", "Ω", "ǅ", "@", "@@", "@0", "@99999999999999999999",
          "'", "\u2019", '"', "“", "«", "(", ")", "((1995))", "(19", "&", "&amp;", "<script>", "{", "}", "%s", "{0}")
CONNECTORS = ("and", "but", "not", "no", "nothing", "never", "without", "except", "or", ",", ".", "!", "?",
              "I loved", "I hate", "I've seen", "not a fan of", "like", "something like", "but not", "more",
              "the second one", "that one", "those", "why", "reset", "bye", "hi", "actually", "instead",
              "from the", "before", "after", "between", "since", "recent", "old", "s", "'s", "90s", "80's",
              "nineteen eighties", "-", "–", "to", "10", "1", "0", "2030", "1899", "99999", "-5")


@pytest.fixture(scope="module")
def vocab(movie_store):
    index = movie_store.index
    lexicon = load_lexicon()
    linker = TitleLinker(index, blocked=set(lexicon.genres) | set(lexicon.moods))
    nlu = RuleNLU(linker, PeopleIndex(index, linker.starters), reference_year=REFERENCE_YEAR)
    titles = sorted({m.title for m in index.movies})
    displays = sorted({m.display for m in index.movies})
    people = sorted({p for m in index.movies for p in (*m.directors[:1], *m.cast[:2])})[:400]
    words = sorted(set(lexicon.genres) | set(lexicon.moods))
    out = {"index": index, "linker": linker, "nlu": nlu, "titles": titles, "displays": displays,
           "people": people, "words": words}
    out["pool"] = fragment_pool(out)
    return out


def fragment_pool(vocab) -> list[str]:
    """Pieces of messages: real titles (exact and mangled: cased oddly, truncated, reversed,
    squashed, typo'd), people, genre and mood words, connectors, numbers, tricky characters."""
    titles = vocab["titles"] + vocab["displays"]
    mangled = [_mangle(t, i % 6) for i, t in enumerate(titles)]
    numbers = ["0", "-1", "7", "12", "1899", "1950", "1995", "2004", "2030", "99999", "10000000000", "3.5", "1e9"]
    return sorted(set(titles + mangled + vocab["people"] + vocab["words"] + list(CONNECTORS) + list(TRICKY) + numbers))


def _mangle(title: str, how: int) -> str:
    if how == 0:
        return title.upper()
    if how == 1:
        return title.lower()
    if how == 2:
        return title[: max(1, len(title) // 2)]
    if how == 3:
        return title[::-1]
    if how == 4:
        return title.replace(" ", "")
    return "".join(c + c if i == 1 else c for i, c in enumerate(title))  # a typo


SEPARATORS = (" ", "", ", ", "\n")


def messages(vocab, max_parts: int = 12) -> st.SearchStrategy[str]:
    """Movie talk: up to ``max_parts`` pieces of the pool joined by one separator, with
    random Unicode noise at the end. (Indexes into a fixed pool keep generation cheap.)"""
    pool = vocab["pool"]
    return st.tuples(st.lists(st.integers(0, len(pool) - 1), max_size=max_parts),
                     st.integers(0, len(SEPARATORS) - 1), st.text(max_size=8)).map(
        lambda t: SEPARATORS[t[1]].join(pool[i] for i in t[0]) + t[2])


def check_result(result: NLUResult, index) -> None:
    """What every NLU result must look like, whatever the input."""
    assert isinstance(result, NLUResult)
    assert all(isinstance(i, Intent) for i in result.intents)
    for item in result.items:
        assert isinstance(item.slot, Slot) and isinstance(item.polarity, Polarity)
        assert isinstance(item.value, str) and item.value.strip()
        if item.slot is Slot.MOVIE:
            assert item.value in index, f"movie preference {item.value!r} is not in the corpus"
    for movie_id in result.mentioned:
        assert movie_id in index
    for mention, polarity in result.ambiguous:
        assert isinstance(polarity, Polarity)
        assert len(mention.candidates) >= 2
        assert all(c.id in index for c in mention.candidates)
    for bound in (result.year_min, result.year_max):
        assert bound is None or isinstance(bound, int)
    assert all(isinstance(i, int) for i in result.refers_to_shown)
    assert all(isinstance(y, int) for y in result.years_mentioned)


# ------------------------------------------------------------------ the rule NLU


def test_nlu_never_raises_on_unicode_noise(vocab):
    @fuzz_settings(3500)
    @given(text=st.text(max_size=300))
    @counted
    def prop(text: str) -> None:
        check_result(vocab["nlu"].parse(text), vocab["index"])

    prop()


def test_nlu_never_raises_on_movie_talk(vocab):
    @fuzz_settings(2000)
    @given(text=messages(vocab), turn=st.integers(0, 10_000))
    @counted
    def prop(text: str, turn: int) -> None:
        result = vocab["nlu"].parse(text, turn=turn)
        check_result(result, vocab["index"])
        assert all(item.turn == turn for item in result.items)

    prop()


def test_nlu_is_deterministic(vocab):
    @fuzz_settings(200)
    @given(text=messages(vocab))
    @counted
    def prop(text: str) -> None:
        first, second = vocab["nlu"].parse(text), vocab["nlu"].parse(text)
        assert [(i.slot, i.value, i.polarity) for i in first.items] == [(i.slot, i.value, i.polarity) for i in second.items]
        assert first.intents == second.intents and first.mentioned == second.mentioned

    prop()


def test_nlu_is_fast_on_the_longest_allowed_message(vocab):
    """A message at the size limit (settings.max_message_chars, 4000) parses in well under a second."""
    text = " ".join((vocab["titles"] * 3)[:400])[:4000]
    noise = ("@" * 2000 + "(" * 1000 + "1995 " * 200)[:4000]
    for sample in (text, noise, "a" * 4000, "🎬" * 4000):
        started = time.perf_counter()
        check_result(vocab["nlu"].parse(sample), vocab["index"])
        assert time.perf_counter() - started < 2.0, f"parse of a {len(sample)}-char message took too long"


# ------------------------------------------------------------------ the title linker and years


def test_linker_mentions_are_spans_of_the_text(vocab):
    @fuzz_settings(1000)
    @given(text=st.one_of(messages(vocab), st.text(max_size=200)))
    @counted
    def prop(text: str) -> None:
        for mention in vocab["linker"].find(text):
            assert 0 <= mention.start <= mention.end <= len(text)
            assert mention.candidates, "a mention without candidate movies"
            assert all(c.id in vocab["index"] for c in mention.candidates)
            if mention.chosen is not None:
                assert mention.chosen.id in vocab["index"]

    prop()


def test_linker_resolves_odd_titles(vocab):
    @fuzz_settings(500)
    @given(title=st.one_of(st.sampled_from(vocab["displays"]), st.text(max_size=60),
                           st.tuples(st.sampled_from(vocab["titles"]), st.integers(-99999, 99999)).map(
                               lambda t: f"{t[0]} ({t[1]})")))
    @counted
    def prop(title: str) -> None:
        mention = vocab["linker"].resolve_title(title)
        if mention is not None:
            assert mention.candidates and all(c.id in vocab["index"] for c in mention.candidates)

    prop()


def test_year_parsing_never_raises(vocab):
    @fuzz_settings(600)
    @given(text=st.one_of(messages(vocab, 6), st.text(alphabet="0123456789s'’-– toandbefrmcilg", max_size=40)))
    @counted
    def prop(text: str) -> None:
        years = parse_years(text, REFERENCE_YEAR)
        assert years.year_min is None or isinstance(years.year_min, int)
        assert years.year_max is None or isinstance(years.year_max, int)
        assert all(isinstance(y, int) for y in bare_years(text))

    prop()
