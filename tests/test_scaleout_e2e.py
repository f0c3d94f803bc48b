"""End to end: app workers sharing one PostgreSQL database and one Chroma server.

* Two ``crs chat`` processes on their own ports, configured only through ``CRS_*``
  variables, continue each other's sessions turn by turn, with several sessions at once,
  and take turns of one session sent to both at the same moment one after the other.
* Two in-process services over the servers give the same turns, word for word, as one
  service over the default laptop setup (SQLite files and the local Chroma folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from gradio_client import Client

from app_fixtures import free_port, small_movies  # noqa: F401  (fixtures)
from crs.dialogue.checkpoints import libpq_conninfo
from crs.settings import Settings
from scaleout_fixtures import chroma_url, pg_url, postgres_admin_url, server_store  # noqa: F401  (fixtures)
from session_race import check, race

pytestmark = [pytest.mark.scaleout, pytest.mark.slow]

CRS = str(Path(sys.executable).with_name("crs"))
#: One distinct taste per concurrent session: each must see only its own.
GENRES = {"westerns": "western", "comedies": "comedy", "horror movies": "horror", "documentaries": "documentary"}


def worker_env(settings: Settings, database_url: str, port: int) -> dict[str, str]:
    """A worker's whole configuration, as a deployment would give it (docs/deploy.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRS_")}
    env.update({
        "CRS_DATABASE_URL": database_url,
        "CRS_CHROMA_URL": str(settings.chroma_url),
        "CRS_COLLECTION": settings.collection,
        "CRS_STORE_DIR": str(settings.store_dir),
        "CRS_ARTIFACTS_DIR": str(settings.artifacts_dir),
        "CRS_PROMPTS_DIR": str(settings.prompts_dir),
        "CRS_DATA_DIR": str(settings.data_dir),
        "CRS_LLM_BACKEND": "template",
        "CRS_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    })
    return env


@pytest.fixture
def two_workers(server_store: Settings, pg_url: str, tmp_path: Path) -> Iterator[list[str]]:  # noqa: F811
    """Two ``crs chat`` processes on the same database and Chroma server."""
    procs, urls = [], []
    for n in range(2):
        port = free_port()
        log = (tmp_path / f"worker{n}.log").open("w")
        procs.append(subprocess.Popen([CRS, "chat"], cwd=tmp_path, env=worker_env(server_store, pg_url, port),
                                      stdout=log, stderr=subprocess.STDOUT))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 300
        for n, (proc, url) in enumerate(zip(procs, urls)):
            while True:
                assert proc.poll() is None, (tmp_path / f"worker{n}.log").read_text()[-3000:]
                try:
                    with urllib.request.urlopen(url, timeout=2):
                        break
                except OSError:
                    assert time.monotonic() < deadline, (
                        f"worker {n} did not serve within 300 s:\n" + (tmp_path / f"worker{n}.log").read_text()[-3000:])
                    time.sleep(0.5)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_two_app_processes_continue_each_others_sessions(two_workers: list[str], pg_url: str,  # noqa: F811
                                                         small_movies: list[tuple[str, int]]) -> None:  # noqa: F811
    a, b = (Client(url, verbose=False) for url in two_workers)
    (title, year), (other, other_year) = small_movies[:2]
    t0 = a.predict(f"I loved {title} ({year})", "", api_name="/chat")
    session = t0["session"]
    t1 = b.predict("no horror please", session, api_name="/chat")  # the other worker
    assert (t1["session"], t1["turn"]) == (session, 1)
    assert any(title.lower() in m.lower() for m in t1["preferences"]["liked_movies"]), "worker B lost turn 0"
    assert "horror" in t1["preferences"]["disliked_genres"]
    t2 = a.predict(f"{other} ({other_year}) was great too. What should I watch?", session, api_name="/chat")
    assert t2["turn"] == 2 and "horror" in t2["preferences"]["disliked_genres"]
    assert t2["recommendations"] and not any("horror" in r["genres"] for r in t2["recommendations"])
    t3 = b.predict("more please", session, api_name="/chat")
    assert t3["turn"] == 3 and t3["recommendations"]
    assert not {r["id"] for r in t3["recommendations"]} & {r["id"] for r in t2["recommendations"]}

    # Several sessions at once, every turn on the other worker than the last.
    errors: list[BaseException] = []
    ids: dict[str, str] = {}

    def converse(phrase: str) -> None:
        try:
            clients = [Client(url, verbose=False) for url in two_workers]
            sid = clients[0].predict(f"I like {phrase}", "", api_name="/chat")["session"]
            ids[phrase] = sid
            for turn, text in enumerate(("what else?", "more please"), start=1):
                out = clients[turn % 2].predict(text, sid, api_name="/chat")
                assert out["turn"] == turn and out["preferences"]["liked_genres"] == [GENRES[phrase]]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=converse, args=(p,)) for p in GENRES]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    with psycopg.connect(libpq_conninfo(pg_url)) as conn:  # what the database holds, in plain SQL
        for phrase, sid in ids.items():
            texts = [r[0] for r in conn.execute(
                "SELECT user_text FROM turns WHERE session_id = %s ORDER BY turn_index", (sid,))]
            assert texts == [f"I like {phrase}", "what else?", "more please"]
        assert conn.execute("SELECT count(*) FROM turns WHERE session_id = %s", (session,)).fetchone()[0] == 4
        assert conn.execute("SELECT count(DISTINCT thread_id) FROM checkpoints").fetchone()[0] == 1 + len(GENRES)
        most = conn.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM checkpoints "
                            "GROUP BY thread_id) AS per_thread").fetchone()[0]
        assert most <= 8  # pruned after each turn, whichever worker ran it

    # One session, two tabs: turns sent to both workers at the same moment run one after
    # the other (the session's advisory lock), each seeing the one before; none is lost.
    clients = [Client(url, verbose=False) for url in two_workers]
    sid = "two-tabs"
    acked, errors = race([lambda text, c=c: c.predict(text, sid, api_name="/chat") for c in clients], rounds=3)
    assert errors == []
    with psycopg.connect(libpq_conninfo(pg_url)) as conn:
        texts = [r[0] for r in conn.execute(
            "SELECT user_text FROM turns WHERE session_id = %s ORDER BY turn_index", (sid,))]
    final = clients[1].predict("what should I watch?", sid, api_name="/chat")
    assert final["turn"] == 6
    check(acked, texts, final["preferences"]["liked_genres"], 6)


def test_services_over_the_servers_match_the_laptop_setup(server_store: Settings, small_store: Settings,  # noqa: F811
                                                          pg_url: str, tmp_path: Path,  # noqa: F811
                                                          small_movies: list[tuple[str, int]]) -> None:  # noqa: F811
    from crs.wiring import build_components

    (title, year), (other, other_year) = small_movies[:2]
    script = [f"I loved {title} ({year})", "nothing too violent", f"and {other} ({other_year}), what now?",
              "more please", "something from the 90s"]
    laptop = build_components(small_store.model_copy(update={
        "database_url": f"sqlite:///{tmp_path / 'crs.db'}", "checkpoint_path": None})).service
    workers = [build_components(server_store.model_copy(update={"database_url": pg_url})) for _ in range(2)]
    try:
        for turn, text in enumerate(script):
            want = laptop.handle_turn("same", text)
            got = workers[turn % 2].service.handle_turn("same", text)
            assert got == want, f"turn {turn}"
        assert workers[0].service.repo.history("same") == workers[1].service.repo.history("same")
        assert workers[1].service.delete_session("same")  # forget: rows and checkpoints, for every worker
        assert workers[0].service.session_view("same") is None
        with psycopg.connect(libpq_conninfo(pg_url)) as conn:
            assert conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = 'same'").fetchone()[0] == 0
    finally:
        laptop.close()
        for parts in workers:
            parts.service.close()  # its checkpoint pool too
            assert parts.graph.checkpointer.conn.closed
