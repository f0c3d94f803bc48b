"""Security (issue 6, item 6): unguessable session ids, isolation between sessions through
the real app's API and UI handlers, optional password protection, no user text in logs,
SQL through bound parameters only (the dependency audit is tested in tests/test_audit.py).

The apps here are the real service and Gradio UI served in this process on the small
test corpus (tests/app_fixtures.py), driven over HTTP with gradio_client.
"""

from __future__ import annotations

import ast
import logging
import math
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from gradio_client import Client

from app_fixtures import LiveApp, app_settings, free_port, live_app, small_movies  # noqa: F401  (fixtures)
from crs.auth import AuthConfigError, credentials, launch_options
from crs.service import ChatService
from crs.settings import load_settings

REPO = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


# ------------------------------------------------------------------ session ids


def test_session_ids_are_unguessable_tokens() -> None:
    """secrets.token_urlsafe(16): 22 URL-safe characters, 128 random bits, no repeats."""
    ids = [ChatService.new_session() for _ in range(5000)]
    assert all(TOKEN.fullmatch(i) for i in ids), ids[:3]
    assert len(set(ids)) == len(ids)
    # The first 21 characters carry 6 random bits each (the last one 2): their empirical
    # entropy over 5000 ids must be close to log2(64) = 6 bits per character.
    chars = Counter(c for i in ids for c in i[:21])
    n = sum(chars.values())
    entropy = -sum(k / n * math.log2(k / n) for k in chars.values())
    assert len(chars) == 64 and entropy > 5.98, (len(chars), entropy)
    # no shared prefix or counter-like structure between consecutive ids
    assert max(len(_common_prefix(a, b)) for a, b in zip(ids, ids[1:])) <= 4


def _common_prefix(a: str, b: str) -> str:
    out = []
    for x, y in zip(a, b):
        if x != y:
            break
        out.append(x)
    return "".join(out)


# ------------------------------------------------------------------ isolation through the API


@pytest.fixture(scope="module")
def client(live_app: LiveApp) -> Client:  # noqa: F811
    return Client(live_app.url, verbose=False)


def _liked(turn: dict) -> list[str]:
    return [label.lower() for label in turn["preferences"]["liked_movies"]]


def test_two_api_sessions_never_see_each_other(client: Client, live_app: LiveApp, small_movies) -> None:  # noqa: F811
    (a, ay), (b, by) = small_movies[:2]
    first = client.predict(f"I loved {a} ({ay})", "", api_name="/chat")
    second = Client(live_app.url, verbose=False).predict(f"I loved {b} ({by})", "", api_name="/chat")
    sa, sb = first["session"], second["session"]
    assert sa != sb and TOKEN.fullmatch(sa) and TOKEN.fullmatch(sb), "new API sessions must get unguessable ids"
    again_a = client.predict("What should I watch?", sa, api_name="/chat")
    again_b = client.predict("What should I watch?", sb, api_name="/chat")
    assert any(a.lower() in x for x in _liked(again_a)) and not any(b.lower() in x for x in _liked(again_a))
    assert any(b.lower() in x for x in _liked(again_b)) and not any(a.lower() in x for x in _liked(again_b))
    assert again_a["turn"] == 1 and again_b["turn"] == 1, "a turn of one session was counted in the other"
    # guessing: ids a client might try reach nobody's conversation, only a fresh one
    for guess in ("1", "0", "admin", "session-1", sa[:-1] + ("A" if sa[-1] != "A" else "B"), sa.lower()):
        if guess == sa:
            continue
        turn = client.predict("What do you know about me?", guess, api_name="/chat")
        assert turn["session"] == guess and not turn["preferences"]["liked_movies"], f"{guess!r} reached a session"


def test_ui_handlers_act_only_on_this_browsers_sessions(live_app: LiveApp, small_movies) -> None:  # noqa: F811
    """The sidebar's open/forget and the page load ignore ids the browser does not hold."""
    from crs.ui.handlers import ChatHandlers

    service = live_app.service
    (a, ay), _ = small_movies[:2]
    victim = service.new_session()
    service.handle_turn(victim, f"I loved {a} ({ay})")
    handlers = ChatHandlers(service)
    mine = service.new_session()

    class Event:
        def __init__(self, data: dict) -> None:
            self._data = data

    for action in ("delete", "resume"):
        page = handlers.session_action(mine, [mine], Event({"action": action, "session": victim}))
        assert page[0] == mine and victim not in page[1], f"{action} of a foreign session was not ignored"
    assert service.session_view(victim) is not None, "a foreign session was deleted"
    assert any(a.lower() in x.lower() for x in service.session_view(victim)["preferences"]["liked_movies"])
    # a page load with an id nobody created starts a fresh session instead of using it
    page = handlers.load(f"guess-{uuid.uuid4().hex}", [])
    assert TOKEN.fullmatch(page[0]) and page[2] == []


def test_only_the_chat_endpoint_is_callable(client: Client) -> None:
    api = client.view_api(return_format="dict", print_info=False)
    assert set(api["named_endpoints"]) == {"/chat"} and not api["unnamed_endpoints"]


# ------------------------------------------------------------------ password protection


def test_auth_settings_parse_and_never_print_the_password(tmp_path: Path) -> None:
    settings = load_settings(auth="ann:s3cret, bob:pa:ss")
    assert credentials(settings) == [("ann", "s3cret"), ("bob", "pa:ss")]
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())
    assert launch_options(load_settings()) == {}
    file = tmp_path / "users.txt"
    file.write_text("# who may log in\ncara:x y z\n\n", encoding="utf-8")
    assert credentials(load_settings(auth_file=file)) == [("cara", "x y z")]
    for bad in ("nopassword", "ann:", ":pw"):
        with pytest.raises(AuthConfigError) as info:
            credentials(load_settings(auth=bad))
        assert "CRS_AUTH" in str(info.value) and (bad.split(":")[-1] not in str(info.value) or not bad.split(":")[-1])
    with pytest.raises(AuthConfigError):
        credentials(load_settings(auth_file=tmp_path / "missing.txt"))


def test_crs_chat_refuses_malformed_auth_before_loading_anything(tmp_path: Path) -> None:
    env = {"CRS_AUTH": "only-a-user", "CRS_STORE_DIR": str(tmp_path / "none"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(Path(sys.executable).with_name("crs")), "chat", "--port", str(free_port())],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 2 and "CRS_AUTH" in done.stderr and "user:password" in done.stderr, done.stderr


@pytest.fixture(scope="module")
def protected_app(small_store, tmp_path_factory):
    """The real app with CRS_AUTH set, launched the way crs.webapp does it."""
    from crs.service import build_service
    from crs.ui import build_ui, launch_ui

    base = app_settings(small_store, tmp_path_factory.mktemp("protected"))
    settings = load_settings(**base.model_dump(exclude={"auth"}), auth="ann:correct horse")
    service = build_service(settings)
    demo = build_ui(service, settings)
    for port in [*range(7840, 7850), free_port()]:
        try:
            _, url, _ = launch_ui(demo, settings.model_copy(update={"port": port}), prevent_thread_lock=True,
                                  quiet=True, **launch_options(settings))
            break
        except OSError:
            continue
    yield url.rstrip("/")
    demo.close()
    service.close()


def test_password_protection_guards_page_and_api(protected_app: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{protected_app}/config", timeout=10)
    assert info.value.code == 401
    with pytest.raises(Exception):
        Client(protected_app, verbose=False).predict("hi", "", api_name="/chat")
    with pytest.raises(Exception):
        Client(protected_app, auth=("ann", "wrong"), verbose=False)
    turn = Client(protected_app, auth=("ann", "correct horse"), verbose=False).predict("hi", "", api_name="/chat")
    assert turn["reply"].strip() and TOKEN.fullmatch(turn["session"])


# ------------------------------------------------------------------ logs


SENTINEL = "zq7SENTINELxv"


def test_no_user_text_in_logs_at_info(client: Client, live_app: LiveApp, small_movies, caplog) -> None:  # noqa: F811
    """Turns through the API (HTTP, in this process: Gradio's and uvicorn's loggers too),
    the service, replies with an LLM that fails, and bad input: the user's words never
    reach a log record at INFO or above."""
    (a, ay), _ = small_movies[:2]
    caplog.set_level(logging.INFO)
    messages = [f"I loved {a} ({ay}) {SENTINEL}", f"{SENTINEL} nothing too violent", f"why {SENTINEL}?",
                f"{SENTINEL}" * 2000]
    session = ""
    for text in messages:
        session = client.predict(text, session, api_name="/chat")["session"]
    for bad_session in (f"{SENTINEL} with spaces", f"{SENTINEL}/../x"):
        with pytest.raises(Exception):
            client.predict("hi", bad_session, api_name="/chat")
    service = live_app.service
    for text in messages:
        service.handle_turn(f"log-{uuid.uuid4().hex}", text)
    # an LLM that fails in three ways (its errors are logged at WARNING)
    from fake_openai_server import running
    from crs.wiring import build_components

    with running() as server:
        settings = live_app.settings.model_copy(update={"llm_backend": "openai", "llm_base_url": server.base_url,
                                                        "llm_timeout_s": 0.5})
        components = build_components(settings)
        try:
            for mode in ("error500", "garbage", "hang"):
                server.mode = mode
                components.service.handle_turn(f"log-llm-{mode}", f"I loved {a} ({ay}), {SENTINEL}, recommend one")
        finally:
            server.mode = "ok"
            components.service.close()
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert records, "nothing was logged at all: the capture is not working"
    assert any(r.name.startswith("httpx") for r in records), "the HTTP client's request log was not captured"
    assert any(r.levelno >= logging.WARNING and "LLM" in r.getMessage() for r in records), \
        "the failing LLM was not logged: the LLM paths were not exercised"
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        assert SENTINEL not in text, f"{record.name} logged user text: {text[:200]!r}"


# ------------------------------------------------------------------ SQL


def _sql_calls(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in {"execute", "executemany", "executescript", "exec_driver_sql", "text"}:
                yield node, node.args[0]


#: f-strings in SQL that interpolate constants only (checked by hand): file -> allowed snippets.
ALLOWED_DYNAMIC_SQL = {
    "crs/storage/db.py": ("PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}", "BEGIN {mode}",
                          "pg_advisory_xact_lock({PG_WRITE_LOCK_KEY})"),
}


def test_sql_is_built_from_constants_and_bound_parameters() -> None:
    """Every execute()/text() in crs/ gets a string literal (values travel as bound
    parameters) or the SQLAlchemy expression language, never text built from values."""
    offenders = []
    for path in sorted((REPO / "crs").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        source = path.read_text(encoding="utf-8")
        for node, arg in _sql_calls(path):
            if isinstance(arg, ast.JoinedStr) or (isinstance(arg, ast.BinOp) and isinstance(arg.op, (ast.Mod, ast.Add))) \
                    or (isinstance(arg, ast.Call) and getattr(arg.func, "attr", "") == "format"):
                snippet = ast.get_source_segment(source, arg) or ""
                if not any(ok in snippet for ok in ALLOWED_DYNAMIC_SQL.get(rel, ())):
                    offenders.append(f"{rel}:{node.lineno}: {snippet}")
    assert not offenders, "SQL built from values (use bound parameters):\n" + "\n".join(offenders)


def test_the_sql_check_catches_string_built_sql(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('def f(db, name):\n    db.execute(f"SELECT * FROM t WHERE name = \'{name}\'")\n'
                   '    db.execute("SELECT * FROM t WHERE id = " + name)\n    db.execute("SELECT ?", (name,))\n')
    flagged = [n.lineno for n, arg in _sql_calls(bad) if isinstance(arg, (ast.JoinedStr, ast.BinOp))]
    assert flagged == [2, 3]


def test_hostile_text_is_stored_verbatim_not_executed(live_app: LiveApp) -> None:  # noqa: F811
    service = live_app.service
    session = service.new_session()
    text = "Robert'); DROP TABLE turns;-- \" OR 1=1 --"
    service.handle_turn(session, text)
    view = service.session_view(session)
    assert view["history"][0]["content"] == text
    assert service.handle_turn(session, "hi")["turn"] == 1  # the tables are all still there
