"""LLM refinement of the rule NLU: adds what the rules missed, never overrides them, and
falls back to the rules' result on any bad answer, failure or timeout. Real linker,
people index, lexicon and prompts; a scripted fake LLM."""

import json
import time

import pytest

from crs.catalog.linker import TitleLinker
from crs.catalog.models import Movie, MovieIndex
from crs.dialogue.deps import DialogueDeps
from crs.dialogue.nodes.understand import make_understand
from crs.llm import LLMError, TemplateBackend
from crs.llm.turn import TurnBackend
from crs.nlu.lexicon import load_lexicon
from crs.nlu.llm_refine import LLMRefiner
from crs.nlu.people import PeopleIndex
from crs.nlu.rules import RuleNLU
from crs.nlu.types import Intent
from crs.preferences import Polarity, Slot
from crs.prompts import PromptLibrary
from crs.settings import REPO_ROOT
from scripted_llm import ScriptedBackend

MOVIES = [
    Movie("1", "Heat", 1995, ("action", "crime"), ("Michael Mann",), ("Al Pacino", "Robert De Niro"), popularity=40),
    Movie("2", "Heat", 1986, ("action",), ("Dick Richards",), ("Burt Reynolds",), popularity=30),
    Movie("3", "Collateral", 2004, ("crime", "thriller"), ("Michael Mann",), ("Tom Cruise",), popularity=10),
    Movie("6", "The Matrix", 1999, ("action", "sci-fi"), ("Lana Wachowski",), ("Keanu Reeves",), popularity=300),
    Movie("7", "Interstellar", 2014, ("sci-fi",), ("Christopher Nolan",), ("Matthew McConaughey",), popularity=150),
]


def answer(likes=None, dislikes=None, intent="give_preference", **extra):
    side = lambda d: {"movies": [], "genres": [], "people": [], **(d or {})}  # noqa: E731
    return json.dumps({"likes": side(likes), "dislikes": side(dislikes), "year_min": None, "year_max": None,
                       "moods": [], "intent": intent, **extra})


@pytest.fixture(scope="module")
def parts():
    index = MovieIndex(list(MOVIES))
    lex = load_lexicon()
    linker = TitleLinker(index, blocked=set(lex.genres) | set(lex.moods))
    nlu = RuleNLU(linker, PeopleIndex(index, linker.starters), reference_year=2020, lexicon=lex)
    prompts = PromptLibrary(REPO_ROOT / "prompts")
    return nlu, prompts, index


def items(result):
    return {(i.slot, i.value, i.polarity) for i in result.items}


def refine(parts, text, answers, timeout_s=None):
    nlu, prompts, _ = parts
    result = nlu.parse(text, 1)
    before = items(result)
    result.before_years = (result.year_min, result.year_max)
    llm = ScriptedBackend(answers)
    refiner = LLMRefiner.from_rule_nlu(nlu, prompts, timeout_s=timeout_s)
    added = refiner.refine(text, result, TurnBackend(llm), 1)
    return result, before, added, llm, refiner


def test_adds_missed_genre_movie_person_and_years(parts):
    text = "something in the spirit of that Keanu hacker flick, by the Interstellar guy, spooky stuff, made back when flip phones were cool"
    result, before, added, llm, refiner = refine(parts, text, [answer(
        likes={"movies": ["The Matrix"], "genres": ["horror"], "people": ["Christopher Nolan"]},
        year_min=2000, year_max=2009, moods=["dark"])])
    assert llm.calls == 1
    before_years = result.before_years
    new = items(result) - before
    assert {(Slot.MOVIE, "6", Polarity.LIKE), (Slot.GENRE, "horror", Polarity.LIKE),
            (Slot.PERSON, "Christopher Nolan", Polarity.LIKE)} <= new
    assert (before_years, (result.year_min, result.year_max)) == ((None, None), (2000, 2009))
    assert "6" in result.mentioned and "Christopher Nolan" in result.people_mentioned
    assert added == len(new) + 1 and refiner.stats["added"] == added


def test_never_overrides_or_removes_a_rule_item(parts):
    text = "no horror please, I liked Collateral, anything after 2010"
    result, before, _, _, _ = refine(parts, text, [answer(
        likes={"genres": ["horror"]}, dislikes={"movies": ["Collateral"]}, year_min=1950, year_max=1960)])
    assert (Slot.GENRE, "horror", Polarity.DISLIKE) in before and (Slot.MOVIE, "3", Polarity.LIKE) in before
    assert items(result) == before  # still dislike horror, still like Collateral; nothing flipped or added
    assert (result.year_min, result.year_max) == result.before_years and result.year_min > 2000  # the rules' years stand


def test_invented_and_ambiguous_titles_and_unknown_values_are_dropped(parts):
    text = "hmm"
    result, before, added, _, _ = refine(parts, text, [answer(
        likes={"movies": ["Galactic Pizza Wars 3", "Heat"], "genres": ["space opera western"],
               "people": ["Nobody McMadeup"]}, moods=["zzz"])])
    assert items(result) == before and added == 0  # "Heat" is two corpus films: ambiguous, dropped


def test_llm_intent_only_replaces_the_weak_fallback(parts):
    nlu, prompts, _ = parts
    weak = nlu.parse("hmm", 1)
    assert weak.primary in (None, Intent.CHITCHAT)
    LLMRefiner.from_rule_nlu(nlu, prompts).refine("hmm", weak, TurnBackend(ScriptedBackend([answer(intent="ask_recommendation")])))
    assert weak.primary is Intent.ASK_REC
    strong = nlu.parse("hello there", 1)
    first = strong.primary
    assert first not in (None, Intent.CHITCHAT)
    LLMRefiner.from_rule_nlu(nlu, prompts).refine("hello there", strong, TurnBackend(ScriptedBackend([answer(intent="goodbye")])))
    assert strong.primary is first


@pytest.mark.parametrize("bad", [
    "not json", json.dumps({"likes": "horror"}), answer(intent="launch_missiles"),
    answer(likes={"genres": ["horror"]}, extra_key=1), json.dumps([1, 2]), None,
    LLMError("server down"), TimeoutError("timed out")])
def test_bad_answers_and_failures_keep_the_rules_result(parts, bad):
    text = "I liked Collateral"
    result, before, added, llm, _ = refine(parts, text, [bad])
    assert llm.calls == 1 and added == 0 and items(result) == before


def test_raw_backend_exception_and_late_answer_keep_the_rules_result(parts):
    nlu, prompts, _ = parts

    class Slow(ScriptedBackend):
        def complete(self, *a, **k):
            time.sleep(0.05)
            return super().complete(*a, **k)

    for backend, timeout in ((ScriptedBackend([RuntimeError("boom")]), None),
                             (Slow([answer(likes={"genres": ["horror"]})]), 0.01)):
        result = nlu.parse("I liked Collateral", 1)
        before = items(result)
        refiner = LLMRefiner.from_rule_nlu(nlu, prompts, timeout_s=timeout)
        assert refiner.refine("I liked Collateral", result, backend) == 0 and items(result) == before
        assert refiner.stats["failed"] == 1


def _understand_graph(parts):
    from langgraph.graph import END, START, StateGraph

    nlu, prompts, index = parts
    deps = DialogueDeps(nlu=nlu, recommender=None, explainer=None, prompts=prompts, index=index,
                        nlu_refiner=LLMRefiner.from_rule_nlu(nlu, prompts))
    graph = StateGraph(dict)
    graph.add_node("understand", make_understand(deps))
    graph.add_edge(START, "understand")
    graph.add_edge("understand", END)
    return graph.compile()


def _liked_genres(out):
    return {i["value"] for i in out["preferences"]["items"] if i["slot"] == "genre" and i["polarity"] == "like"}


def test_wired_into_the_understand_node_and_skipped_for_the_template_backend(parts):
    graph = _understand_graph(parts)
    state = {"text": "something spooky", "turn": 1, "session_id": "s"}
    llm = ScriptedBackend([answer(likes={"genres": ["horror"]})])
    out = graph.invoke(dict(state), config={"configurable": {"llm": TurnBackend(llm)}})
    assert llm.calls == 1 and "horror" in _liked_genres(out)
    template = TurnBackend(TemplateBackend())
    out = graph.invoke(dict(state), config={"configurable": {"llm": template}})
    assert template.usage.calls == 0 and "horror" not in _liked_genres(out)
    assert "horror" not in _liked_genres(graph.invoke(dict(state)))  # no turn backend: the template


def test_the_app_wires_it_only_when_configured(small_store, tmp_path):
    from crs.wiring import build_components

    base = small_store.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'crs.db'}"})
    assert base.llm_nlu is False  # off by default: one more model call per turn
    components = build_components(base.model_copy(update={"llm_nlu": True}))
    try:
        graph = components.service.graph
        llm = ScriptedBackend([answer(likes={"genres": ["horror"]}, intent="ask_recommendation")])
        out = graph.invoke({"text": "something spooky", "turn": 1, "session_id": "t1"},
                           config={"configurable": {"thread_id": "t1", "llm": TurnBackend(llm)}})
        assert llm.calls >= 1 and "horror" in _liked_genres(out)
    finally:
        components.service.close()
