"""Fuzzed conversations through the whole bot (issue 6, bad input): generated messages go
through ``ChatService.handle_turn`` — the real compiled LangGraph, the real SQLite session
database and checkpoints, the real Chroma store of 800 movies (tests/conftest.py) — and
through the web app's API handler. Sessions are drawn from a few ids, so state piles up
over many odd turns as it would in a long, messy conversation.

The only acceptable failures are the service's own ``InputError`` (empty message, not
text) and ``InvalidSessionIdError`` (a malformed session id); every answer must be a
well-formed turn whose recommendations are all corpus movies.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzz_counts import counted, fuzz_settings
from test_fuzz_nlu import CONNECTORS, TRICKY

TURN_KEYS = {"session", "turn", "user", "reply", "phase", "preferences", "recommendations"}
SESSIONS = [f"fuzz-{i}" for i in range(6)]
BAD_SESSIONS = ["", " ", "a b", "x" * 129, "../etc/passwd", "ß", "id\n", "😀"]


@pytest.fixture(scope="module")
def bot(small_store, tmp_path_factory):
    from crs.wiring import build_components

    workdir = tmp_path_factory.mktemp("fuzz_graph")
    settings = small_store.model_copy(update={"database_url": f"sqlite:///{workdir / 'crs.db'}",
                                              "checkpoint_path": workdir / "checkpoints.sqlite"})
    components = build_components(settings)
    index = components.store.index
    titles = sorted({m.display for m in index.movies})[:300] + sorted({m.title for m in index.movies})[:300]
    pool = sorted(set(titles) | set(CONNECTORS) | set(TRICKY) | {"more", "why?", "the first one", "not that one",
                                                                 "I've seen it", "reset", "start over", "thanks"})
    yield {"service": components.service, "index": index, "pool": pool}
    components.service.close()


def message(pool: list[str]) -> st.SearchStrategy:
    talk = st.tuples(st.lists(st.integers(0, len(pool) - 1), min_size=1, max_size=8), st.text(max_size=6)).map(
        lambda t: " ".join(pool[i] for i in t[0]) + t[1])
    return st.one_of(talk, talk, talk, st.text(max_size=120), st.sampled_from(["", "   ", "\x00\x01", "🎬" * 50]),
                     st.integers(0, 20_000).map(lambda n: "a" * n), st.none(), st.integers(), st.binary(max_size=5))


def check_turn(out: dict, session: str, index) -> None:
    assert set(out) == TURN_KEYS
    assert out["session"] == session and isinstance(out["turn"], int)
    assert isinstance(out["reply"], str) and out["reply"].strip()
    for rec in out["recommendations"]:
        assert rec["id"] in index, f"recommended {rec['id']!r}, which is not in the corpus"
        assert rec["title"] == index.get(rec["id"]).title


def test_turns_through_the_real_graph_never_fail_unexpectedly(bot):
    from crs.service import InputError
    from crs.storage import InvalidSessionIdError

    service, index = bot["service"], bot["index"]
    last_turn: dict[str, int] = {}

    @fuzz_settings(300)
    @given(session=st.one_of(st.sampled_from(SESSIONS), st.sampled_from(BAD_SESSIONS)), text=message(bot["pool"]))
    @counted
    def prop(session: str, text: object) -> None:
        try:
            out = service.handle_turn(session, text)
        except InvalidSessionIdError:
            assert session in BAD_SESSIONS
            return
        except InputError as exc:
            assert str(exc), "an InputError without a message for the user"
            assert not isinstance(text, str) or not text.strip() or not text.replace("\x00", "").replace("\x01", "").strip()
            return
        assert session in SESSIONS
        check_turn(out, session, index)
        assert out["turn"] == last_turn.get(session, -1) + 1, "a turn was lost or counted twice"
        last_turn[session] = out["turn"]
        assert len(out["user"]) <= service.max_message_chars

    prop()
    assert sum(n + 1 for n in last_turn.values()) >= 100, "too few generated turns reached the graph"


def test_card_clicks_with_odd_payloads(bot):
    from crs.service import InputError

    service, index = bot["service"], bot["index"]
    real_ids = [m.id for m in index.movies[:50]]

    @fuzz_settings(80)
    @given(movie_id=st.one_of(st.sampled_from(real_ids), st.text(max_size=10)),
           kind=st.one_of(st.sampled_from(list(service.CLICK_TEXT)), st.text(max_size=8)))
    @counted
    def prop(movie_id: str, kind: str) -> None:
        try:
            out = service.click("fuzz-clicks", movie_id, kind)
        except InputError as exc:
            assert movie_id not in index or kind not in service.CLICK_TEXT, exc
            return
        check_turn(out, "fuzz-clicks", index)

    prop()


def test_api_handler_answers_or_raises_a_user_facing_error(bot):
    """The /chat API's handler: bad input becomes a ``gr.Error`` with a message, nothing else."""
    import gradio as gr

    from crs.ui.handlers import ChatHandlers

    handlers = ChatHandlers(bot["service"])

    @fuzz_settings(60)
    @given(text=message(bot["pool"]), session=st.one_of(st.sampled_from(["", "fuzz-api"]), st.sampled_from(BAD_SESSIONS),
                                                        st.text(max_size=10)))
    @counted
    def prop(text: object, session: str) -> None:
        try:
            out = handlers.api_chat(text, session)
        except gr.Error as exc:
            assert "Internal error" not in str(exc), f"an unexpected failure behind the API: {exc}"
            return
        check_turn(out, out["session"], bot["index"])

    prop()
