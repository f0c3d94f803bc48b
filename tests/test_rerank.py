"""Stage 2 with an LLM: grounded in the candidate ids, cached, and falling back cleanly.

Unit tests with a scripted fake LLM, plus the whole path through the real OpenAI client
against the fake OpenAI-compatible server on 127.0.0.1.
"""

import json

import pytest

from crs.catalog.models import Movie, MovieIndex
from crs.llm import FallbackBackend, LLMError, TemplateBackend
from crs.preferences import Polarity, PreferenceItem, Preferences, Slot
from crs.prompts import PromptLibrary
from crs.recommender.explain import Explainer
from crs.recommender.rerank import LLMReranker, MetadataReranker
from crs.recommender.types import Candidate, RecQuery
from crs.settings import REPO_ROOT
from scripted_llm import ScriptedBackend

MOVIES = [Movie(str(i), f"Movie {i}", 2000 + i, ("drama",), (f"Director {i}",)) for i in range(8)]


@pytest.fixture()
def parts():
    prompts = PromptLibrary(REPO_ROOT / "prompts")
    explainer = Explainer(prompts, MovieIndex(list(MOVIES)))
    query = RecQuery(preferences=Preferences(items=[PreferenceItem(slot=Slot.GENRE, value="drama", polarity=Polarity.LIKE)]), k=3)
    candidates = [Candidate(m, 1.0 - i / 10, {"genres": ["drama"]}) for i, m in enumerate(MOVIES)]
    return prompts, explainer, query, candidates


def test_llm_order_is_used_and_invented_ids_are_dropped(parts):
    prompts, explainer, query, candidates = parts
    llm = ScriptedBackend([json.dumps({"ranking": [{"id": "5", "reason": "Moody drama."}, {"id": "999", "reason": "made up"},
                                                {"id": "Titanic", "reason": "not a candidate"}, {"id": "2", "reason": ""}]})])
    reranker = LLMReranker(llm, prompts, MetadataReranker(explainer))
    out = reranker.rerank(query, candidates, 3)
    assert [c.movie.id for c in out] == ["5", "2", "0"]
    assert out[0].reason == "Moody drama." and out[1].reason  # empty LLM reason keeps the metadata one
    assert reranker.discarded == 2
    # cached: the same context and candidates ask the LLM only once
    assert [c.movie.id for c in reranker.rerank(query, candidates, 3)] == ["5", "2", "0"] and llm.calls == 1


@pytest.mark.parametrize("answer", ["not json at all", json.dumps({"ranking": "nope"}), json.dumps({"ranking": [{"id": "42"}]})])
def test_garbage_keeps_stage_one_order(parts, answer):
    prompts, explainer, query, candidates = parts
    out = LLMReranker(ScriptedBackend([answer]), prompts, MetadataReranker(explainer)).rerank(query, candidates, 3)
    assert [c.movie.id for c in out] == ["0", "1", "2"]


def test_backend_failure_and_template_backend_keep_stage_one_order(parts):
    prompts, explainer, query, candidates = parts
    failing = FallbackBackend(ScriptedBackend([LLMError("server down")]))
    for backend in (failing, TemplateBackend()):
        out = LLMReranker(backend, prompts, MetadataReranker(explainer)).rerank(query, candidates, 3)
        assert [c.movie.id for c in out] == ["0", "1", "2"] and all(c.reason for c in out)
    assert failing.failures == 1


def test_cache_is_kept_apart_per_backend_server_and_model(parts):
    """Two sessions on different servers or models must not share a cached ranking: the
    reranker holds a ConfiguredBackend that is each turn's TurnBackend (as in the app)."""
    from crs.llm.turn import ConfiguredBackend, TurnBackend

    prompts, explainer, query, candidates = parts

    def server(base_url, model, pick):
        backend = ScriptedBackend([json.dumps({"ranking": [{"id": pick, "reason": ""}]})])
        backend.name, backend.base_url, backend.model = "openai", base_url, model
        return backend

    a = server("http://a:1/v1", "m1", "5")
    other_server, other_model = server("http://b:1/v1", "m1", "6"), server("http://a:1/v1", "m2", "7")
    turn = ConfiguredBackend(TurnBackend(a, where="m1 at http://a:1/v1"))
    reranker = LLMReranker(turn, prompts, MetadataReranker(explainer))
    assert reranker.rerank(query, candidates, 2)[0].movie.id == "5"
    for backend, pick in ((other_server, "6"), (other_model, "7")):
        turn.default = TurnBackend(backend)
        assert reranker.rerank(query, candidates, 2)[0].movie.id == pick, "another model's cached ranking was used"
        assert backend.calls == 1
    turn.default = TurnBackend(a)
    assert reranker.rerank(query, candidates, 2)[0].movie.id == "5" and a.calls == 1  # its own answer, cached


def test_openai_backend_end_to_end_against_a_local_server(parts):
    from fake_openai_server import running  # noqa: PLC0415 - test helper module

    from crs.llm.openai_backend import OpenAIBackend

    prompts, explainer, query, candidates = parts
    with running(json.dumps({"ranking": [{"id": "3", "reason": "Directed by Director 3."}]})) as server:
        backend = FallbackBackend(OpenAIBackend(server.base_url, "tiny-model", timeout_s=5))
        out = LLMReranker(backend, prompts, MetadataReranker(explainer)).rerank(query, candidates, 2)
    assert [c.movie.id for c in out] == ["3", "0"] and out[0].reason == "Directed by Director 3."
    assert server.requests[0]["model"] == "tiny-model" and "Movie 3" in server.requests[0]["messages"][-1]["content"]


def test_reasons_cite_shared_people_and_genres_of_the_liked_movie():
    liked = Movie("L", "Die Hard", 1988, ("action", "thriller"), ("John McTiernan",), ("Bruce Willis", "Alan Rickman"))
    costar = Movie("C", "Armageddon", 1998, ("action", "sci-fi"), ("Michael Bay",), ("Bruce Willis",))
    same_genres = Movie("G", "Speed", 1994, ("action", "thriller"), ("Jan de Bont",), ("Keanu Reeves",))
    explainer = Explainer(PromptLibrary(REPO_ROOT / "prompts"), MovieIndex([liked, costar, same_genres]))
    query = RecQuery(preferences=Preferences(items=[PreferenceItem(slot=Slot.MOVIE, value="L", polarity=Polarity.LIKE)]))
    assert explainer.reason(Candidate(costar, 1.0, {"similar_to": "L", "semantic": 0.6}), query) == \
        "Also stars Bruce Willis, as Die Hard (1988) does."
    assert explainer.reason(Candidate(same_genres, 1.0, {"similar_to": "L", "semantic": 0.6}), query) == \
        "Action and thriller, like Die Hard (1988)."


def test_a_film_tagged_with_the_asked_topic_says_so_instead_of_what_you_described():
    """"Any good indie films?": the pick's reason names the corpus keyword it carries; the vague
    "matches what you described" is not added beside it (it was the only reason before)."""
    tagged = Movie("T", "Primer", 2004, ("sci-fi", "drama"), keywords=("time travel", "independent film"))
    explainer = Explainer(PromptLibrary(REPO_ROOT / "prompts"), MovieIndex([tagged]))
    prefs = Preferences(items=[PreferenceItem(slot=Slot.KEYWORD, value="independent film", polarity=Polarity.LIKE)])
    reason = explainer.reason(Candidate(tagged, 1.0, {"text": 0.6}), RecQuery(preferences=prefs))
    assert reason == 'Tagged "independent film", as you asked.'
    other = RecQuery(preferences=Preferences(items=[PreferenceItem(slot=Slot.KEYWORD, value="heist", polarity=Polarity.LIKE)]))
    assert explainer.reason(Candidate(tagged, 1.0, {"text": 0.6}), other) == "Matches what you described."
