"""The web app's programmatic side: the ``/chat`` API (via gradio_client), the event
handlers' error paths, the HTML renderers' escaping, and ``app.py`` itself."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from app_fixtures import LiveApp, free_port, live_app, small_movies  # noqa: F401  (fixtures)
from crs.ui import render
from crs.ui.handlers import ERROR_REPLY, ChatHandlers

REPO = Path(__file__).resolve().parent.parent
TURN_KEYS = {"session", "turn", "user", "reply", "phase", "preferences", "recommendations"}
PREFERENCE_KEYS = {
    "liked_movies", "disliked_movies", "seen_movies", "liked_genres", "disliked_genres", "liked_people",
    "disliked_people", "moods", "disliked_moods", "keywords", "year_min", "year_max",
}
REC_KEYS = {"id", "title", "year", "genres", "directors", "cast", "runtime", "score", "reason"}
XSS = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">'


@pytest.fixture(scope="module")
def client(live_app: LiveApp) -> Client:  # noqa: F811
    return Client(live_app.url, verbose=False)


# ------------------------------------------------------------------ the /chat API


def test_api_lists_only_the_chat_endpoint(client: Client) -> None:
    api = client.view_api(return_format="dict", print_info=False)
    assert set(api["named_endpoints"]) == {"/chat"}
    assert not api["unnamed_endpoints"]
    params = [p["parameter_name"] for p in api["named_endpoints"]["/chat"]["parameters"]]
    assert params == ["message", "session_id"]


def test_two_turns_on_one_session_carry_preferences(client: Client, small_movies: list[tuple[str, int]]) -> None:
    (first, first_year), (second, second_year) = small_movies[:2]
    t1 = client.predict(f"I loved {first} ({first_year})", "", api_name="/chat")
    assert set(t1) == TURN_KEYS
    assert set(t1["preferences"]) == PREFERENCE_KEYS
    session = t1["session"]
    assert isinstance(session, str) and len(session) >= 16  # unguessable, not a counter
    assert any(first.lower() in label.lower() for label in t1["preferences"]["liked_movies"])

    t2 = client.predict(f"{second} ({second_year}) was great too. What should I watch?", session, api_name="/chat")
    assert set(t2) == TURN_KEYS
    assert t2["session"] == session
    assert t2["turn"] == t1["turn"] + 1
    liked = [label.lower() for label in t2["preferences"]["liked_movies"]]
    assert any(first.lower() in label for label in liked), "turn 1 preference was forgotten"
    assert any(second.lower() in label for label in liked)
    recs = t2["recommendations"]
    assert recs, "no recommendations after two liked movies"
    for rec in recs:
        assert set(rec) == REC_KEYS
    shown = {rec["title"].lower() for rec in recs}
    assert first.lower() not in shown and second.lower() not in shown  # never recommend what was named


def test_client_chosen_session_id_is_kept(client: Client) -> None:
    session = f"api-test-{uuid.uuid4().hex}"
    turn = client.predict("hi", session, api_name="/chat")
    assert turn["session"] == session
    assert turn["reply"].strip()


def test_empty_message_is_a_clear_error_and_the_app_keeps_working(client: Client) -> None:
    with pytest.raises(AppError) as info:
        client.predict("   ", "", api_name="/chat")
    assert str(info.value).strip() and "Internal error" not in str(info.value)
    assert client.predict("hello", "", api_name="/chat")["reply"].strip()


def test_malformed_session_id_is_a_clear_error(client: Client) -> None:
    with pytest.raises(AppError, match="session id"):
        client.predict("hello", "not a valid id!", api_name="/chat")


def test_fresh_sessions_are_distinct(client: Client) -> None:
    a = client.predict("hello", "", api_name="/chat")["session"]
    b = client.predict("hello", "", api_name="/chat")["session"]
    assert a != b


# ---------------------------------------------------- UI handlers on the real service


def test_handlers_restore_a_known_session_and_replace_an_unknown_one(live_app: LiveApp) -> None:  # noqa: F811
    h = ChatHandlers(live_app.service)
    session, earlier = live_app.service.new_session(), live_app.service.new_session()
    live_app.service.handle_turn(earlier, "hi")
    _, chat, _ = h.accept("hello", [])
    chat, _, _, sid, _, known, sessions = h.respond("hello", session, [earlier, "long-gone"], chat)
    assert sid == session and [m["role"] for m in chat] == ["user", "assistant"]
    assert known == [session, earlier]  # the current conversation joins the list; deleted ones leave it
    assert f'data-session="{earlier}"' in sessions and 'aria-current="true"' in sessions

    restored_id, ids, restored_chat, *_ = h.load(session, [session])
    assert restored_id == session and ids == [session]
    assert [m["content"] for m in restored_chat] == [m["content"] for m in chat]

    new_id, _, new_chat, prefs, recs, sessions, n, seen = h.load("no-such-session-" + uuid.uuid4().hex, [])
    assert new_id != session and new_chat == []
    assert prefs == render.EMPTY_PREFERENCES_HTML and "crs-card" not in recs
    assert sessions == render.EMPTY_SESSIONS_HTML and (n, seen) == (live_app.settings.n_recommendations, False)


def test_bad_input_becomes_a_chat_message(live_app: LiveApp) -> None:  # noqa: F811
    h = ChatHandlers(live_app.service)
    box, chat, pending = h.accept("", [{"role": "user", "content": "earlier"}])
    assert box == "" and chat == [{"role": "user", "content": "earlier"}]  # nothing lost, no empty bubble
    chat, *_ = h.respond(pending, live_app.service.new_session(), [], chat)
    assert chat[0]["content"] == "earlier"
    assert chat[-1]["role"] == "assistant" and chat[-1]["content"].strip()


def test_unexpected_failure_is_logged_and_answered_politely(
    live_app: LiveApp, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,  # noqa: F811
) -> None:
    def broken(session_id: str, text: str) -> dict:
        raise RuntimeError("database on fire")

    h = ChatHandlers(live_app.service)
    monkeypatch.setattr(live_app.service, "handle_turn", broken)
    with caplog.at_level(logging.ERROR, logger="crs.ui.handlers"):
        chat, _, _, _, box, _, _ = h.respond("I loved Heat", live_app.service.new_session(), [], [])
        with pytest.raises(Exception) as info:
            h.api_chat("I loved Heat", "")
    assert chat[-1] == {"role": "assistant", "content": ERROR_REPLY}
    assert box == "I loved Heat"  # the message goes back into the text box
    assert "database on fire" not in str(info.value)  # internals stay in the log
    assert "database on fire" in caplog.text


def test_card_click_handlers_show_the_click_then_run_it(live_app: LiveApp, small_movies) -> None:  # noqa: F811
    import gradio as gr

    h = ChatHandlers(live_app.service)
    session = live_app.service.new_session()
    (first, first_year) = small_movies[0]
    chat, _, recs = h.respond(f"I loved {first} ({first_year})", session, [], [])[:3]
    shown = live_app.service.current_recommendations(session)
    assert shown and all(f'data-movie-id="{r["id"]}"' in recs for r in shown)
    target = shown[0]

    chat, click = h.accept_click(chat, gr.EventData(None, {"movie_id": target["id"], "kind": "reject"}))
    assert chat[-1]["role"] == "user" and chat[-1]["content"].startswith("Not for me") and click["kind"] == "reject"
    chat, prefs, recs, *_ = h.respond_click(click, session, [session], chat)
    assert chat[-1]["role"] == "assistant" and f'data-movie-id="{target["id"]}"' not in recs
    assert "crs-card" in recs and "data-slot=\"disliked_movies\"" in prefs
    assert [e["kind"] for e in live_app.service.repo.feedback(session)] == ["reject"]

    same, nothing = h.accept_click(chat, gr.EventData(None, {"movie_id": "no-such-movie", "kind": "reject"}))
    assert same == chat and nothing is None  # a forged click changes nothing


def test_streaming_handler_shows_the_reply_growing_then_the_stored_turn(live_app: LiveApp, small_movies,  # noqa: F811
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import gradio as gr

    from echo_llm_server import EchoLLMServer
    from crs.ui import handlers as handlers_module

    monkeypatch.setattr(handlers_module, "STREAM_INTERVAL_S", 0.0)  # show every piece
    h = ChatHandlers(live_app.service)
    (first, first_year) = small_movies[0]
    template_session = live_app.service.new_session()
    [only] = list(h.respond_stream(f"I loved {first} ({first_year})", template_session, [], []))
    assert only[0][-1]["role"] == "assistant" and only[1] is not gr.skip()  # at once, whole

    server = EchoLLMServer(prefix="Streaming hello! ").start()
    try:
        session = live_app.service.new_session()
        panel = h.save_llm(session, "openai", server.base_url, "echo-model", "sk-handler-key")
        assert panel[0] == "openai" and panel[3] == "" and "echo-model" in panel[5] and "API key set" in panel[5]
        outputs = list(h.respond_stream(f"I loved {first} ({first_year})", session, [], []))
    finally:
        server.stop()
    partial_replies = [out[0][-1]["content"] for out in outputs[:-1]]
    assert len(partial_replies) >= 3 and all(p.startswith("Streaming") for p in partial_replies)
    assert all(out[1] == gr.skip() for out in outputs[:-1])  # panels wait for the finished turn
    final_chat, prefs, recs, sid, *_ = outputs[-1]
    assert sid == session and "crs-card" in recs and final_chat[-1]["content"].startswith("Streaming hello!")
    assert final_chat[-1]["content"] == live_app.service.repo.last_turn(session)["reply"]

    bad = h.save_llm(session, "openai", "not a url", "m", "")
    assert bad[0] == "openai" and bad[1] == server.base_url  # refused: the previous choice stays
    assert h.choose_llm_kind(session, "template", "", "", )[0] == "template"
    assert live_app.service.llm_settings(session)["kind"] == "template"


def test_session_actions_only_touch_this_browsers_sessions(live_app: LiveApp) -> None:  # noqa: F811
    import gradio as gr

    h = ChatHandlers(live_app.service)
    mine, other = live_app.service.new_session(), live_app.service.new_session()
    for sid in (mine, other):
        h.respond("hello there", sid, [], [])
    page = h.session_action(mine, [mine], gr.EventData(None, {"action": "delete", "session": other}))
    assert page[0] == mine and live_app.service.session_view(other) is not None  # not this browser's: ignored
    page = h.session_action(mine, [mine], gr.EventData(None, {"action": "delete", "session": mine}))
    assert page[0] != mine and page[2] == [] and live_app.service.session_view(mine) is None


# ------------------------------------------------------------------ the renderers


def test_renderers_escape_everything() -> None:
    rec = {"id": '"><script>', "title": XSS, "year": 1995, "genres": ["<b>crime</b>"],
           "directors": ["<i>Mann</i>"], "cast": ["A & B"], "score": 1.0, "reason": XSS}
    prefs = {"items": [{"slot": "movie", "value": '"><script>', "polarity": "like", "label": XSS},
                       {"slot": "mood", "value": "<u>calm</u>", "polarity": "like", "label": "<u>calm</u>"}],
             "year_min": 1990, "year_max": 1999}
    sessions = [{"id": "s1", "title": XSS, "updated_at": "2026-01-02T03:04:05+00:00", "turns": 2}]
    html = (render.recommendations_html([rec], {'"><script>': XSS}) + render.preferences_html(prefs)
            + render.sessions_html(sessions, "s1"))
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "<u>" not in html and "&lt;script&gt;" in html and "A &amp; B" in html and "1990–1999" in html
    message = render.chat_message("user", XSS)
    assert "<script" not in message["content"] and "&lt;script&gt;" in message["content"]


def test_renderers_show_what_they_are_given() -> None:
    rec = {"id": "1", "title": "Heat", "year": 1995, "genres": ["crime", "thriller"],
           "directors": ["Michael Mann"], "cast": ["Al Pacino", "Robert De Niro"], "score": 0.9,
           "reason": "Because you liked Collateral"}
    plot = "A group of robbers plan a heist. A detective hunts them."
    card = render.recommendations_html([rec], {"1": plot})
    for text in ("Heat", "(1995)", "crime", "thriller", "Michael Mann", "Al Pacino", "Because you liked Collateral",
                 "A group of robbers plan a heist.", 'aria-label="Not for me: Heat (1995)"'):
        assert text in card
    assert re.search(r'class="crs-card-plot" title="[^"]*">([^<]*)<', card).group(1) == "A group of robbers plan a heist."
    for action, *_ in render.CARD_ACTIONS:
        assert f'data-action="{action}"' in card
    empty = render.recommendations_html([], revision=7)
    assert "No recommendations yet" in empty and 'data-rev="7"' in empty and "crs-card" not in empty
    assert render.preferences_html({"items": [], "year_min": None}) == render.EMPTY_PREFERENCES_HTML
    panel = render.preferences_html({"items": [{"slot": "genre", "value": "horror", "polarity": "dislike",
                                                "label": "horror"}], "year_max": 2000})
    assert "Genres to avoid" in panel and "horror" in panel and "up to 2000" in panel
    assert 'data-slot="genre" data-value="horror" data-polarity="dislike"' in panel and 'data-slot="years"' in panel
    listed = render.sessions_html([{"id": "a", "title": "Heat talk", "updated_at": "2026-01-02T03:04:05+00:00",
                                    "turns": 3}, {"id": "b", "title": None, "turns": 0}], current="a")
    assert "Heat talk" in listed and "3 messages" in listed and 'aria-current="true"' in listed
    assert 'data-session="b"' not in listed  # an empty conversation that isn't open is not listed
    assert render.one_line("x" * 400).endswith("…") and len(render.one_line("word " * 100)) <= render.PLOT_CHARS
    history = render.chat_history([{"role": "user", "content": "a"}, {"role": "system", "content": "x"},
                                   {"role": "assistant", "content": "b"}])
    assert history == [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]


# ------------------------------------------------------------------------ app.py


def _env_for(settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "CRS_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "CRS_PROMPTS_DIR": str(settings.prompts_dir),
        "CRS_COLLECTION": settings.collection,
        "CRS_LLM_BACKEND": settings.llm_backend,
    })
    return env


def test_app_exits_2_with_a_clear_message_when_the_corpus_is_missing(tmp_path: Path) -> None:
    env = {**os.environ, "CRS_ARTIFACTS_DIR": str(tmp_path / "artifacts")}
    proc = subprocess.run(
        [sys.executable, str(REPO / "app.py"), "--store-dir", str(tmp_path / "no-store"),
         "--db", str(tmp_path / "crs.db"), "--port", str(free_port())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "no-store" in proc.stderr and "crs corpus build" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("launcher", [[sys.executable, str(REPO / "app.py")],
                                      [str(Path(sys.executable).with_name("crs")), "chat"]], ids=["app.py", "crs-chat"])
def test_app_py_serves_the_chat(tmp_path: Path, small_store, launcher) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*launcher, "--store-dir", str(small_store.store_dir),
         "--data-dir", str(small_store.data_dir), "--db", str(tmp_path / "crs.db"), "--port", str(port)],
        cwd=tmp_path, env=_env_for(small_store), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else "app.py exited"
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "app.py did not start serving within 120 s"
                time.sleep(0.5)
        turn = Client(url, verbose=False).predict("hello", "", api_name="/chat")
        assert set(turn) == TURN_KEYS
        assert (tmp_path / "crs.db").exists()  # --db was honoured
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
