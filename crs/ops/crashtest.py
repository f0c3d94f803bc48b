"""``crs crashtest``: kill -9 the app at random points of scripted conversations, restart, go on.

The driver talks to ``crs chat`` (a child process) over HTTP through ``gradio_client``, like
a user, round-robin over a few sessions. Before chosen turns it arms a timer that SIGKILLs
the app a random time later: sometimes mid-turn (the reply never comes: the user retries
the same message after the restart), sometimes just after the reply, between turns.

A turn is *acknowledged* when its reply reached the client. After every kill, with the
app down, and at the end:

* both SQLite files (sessions and LangGraph checkpoints) pass ``PRAGMA integrity_check``;
* every acknowledged turn is in the database with its user message (at its turn index);
* no acknowledged preference is lost: the database's preferences of the session, and the
  preferences the next reply after the restart reports, still name every movie, genre and
  person the last acknowledged reply named (with any polarity: the user may change their
  mind in the retried turn);
* a turn committed whose reply was lost (killed between commit and reply) is counted, not
  an error: the user's retry stores the message a second time.

Then two app processes on one database file serve sessions at the same time
(``two_writers``): WAL and the busy timeout must let both write with no error.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from crs.ops.app_process import AppProcess, free_port
from crs.ops.loadtest import CLIENT_TIMEOUT_S
from crs.ops.scripts import make_scripts


@dataclass
class CrashOptions:
    """What one crash test does (see the module docstring)."""

    kills: int
    turns: int
    store_dir: Path
    sessions: int = 3
    workdir: Path | None = None
    ports: tuple[int, int] = (7850, 7869)
    seed: int = 0
    writers_sessions: int = 4
    writers_turns: int = 5
    start_timeout_s: float = 300.0


def integrity(path: Path) -> str:
    """``PRAGMA integrity_check`` of a SQLite file ("ok" when sound)."""
    if not path.exists():
        return "missing"
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as db:
            rows = db.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return f"unreadable: {exc}"
    return "; ".join(str(r[0]) for r in rows)


def _vocabulary(summary: dict[str, Any]) -> set[str]:
    """Everything a preferences summary names, without polarity (movies, genres, people, moods)."""
    out: set[str] = set()
    for key, value in summary.items():
        if isinstance(value, list):
            out |= {str(v).lower() for v in value}
    return out


def _stored(db: Path, sessions: list[str]) -> tuple[dict[str, dict[int, str]], dict[str, dict[str, Any]]]:
    from crs.storage import Repository

    repo = Repository.from_url(f"sqlite:///{db}")
    try:
        turns, prefs = {}, {}
        for sid in sessions:
            if not repo.session_exists(sid):
                turns[sid], prefs[sid] = {}, {}
                continue
            turns[sid] = {t["index"]: t["user_text"] for t in repo.history(sid)}
            prefs[sid] = repo.load_preferences(sid).summary()
        return turns, prefs
    finally:
        repo.close()


class _Driver:
    def __init__(self, options: CrashOptions, workdir: Path, movies: list, echo) -> None:
        self.options = options
        self.workdir = workdir
        self.echo = echo
        self.rng = random.Random(options.seed)
        self.scripts = make_scripts(movies, options.sessions)
        self.db = workdir / "crash.db"
        self.checkpoints = self.db.with_name(self.db.name + ".checkpoints.sqlite")
        self.app: AppProcess | None = None
        self.client = None
        self.session_ids: dict[str, str | None] = {s.name: None for s in self.scripts}
        self.acked: dict[str, list[dict[str, Any]]] = {s.name: [] for s in self.scripts}
        self.last_recs: dict[str, list] = {s.name: [] for s in self.scripts}
        self.position: dict[str, int] = {s.name: 0 for s in self.scripts}
        self.failures: list[str] = []
        self.kills = 0
        self.kills_mid_turn = 0
        self.retries = 0
        self.startups: list[float] = []
        self.latencies: list[float] = []
        self.checks = 0

    # -- app lifecycle
    def start(self) -> None:
        from gradio_client import Client

        port = free_port(*self.options.ports)
        self.app = AppProcess(port, self.db, self.options.store_dir, self.workdir / "app.log")
        self.app.start(self.options.start_timeout_s)
        self.startups.append(self.app.started_s)
        self.client = Client(self.app.url, verbose=False, httpx_kwargs={"timeout": CLIENT_TIMEOUT_S})

    def _kill(self) -> None:
        if self.app is not None and self.app.proc is not None and self.app.proc.poll() is None:
            self.app.kill()
            self.kills += 1

    # -- checks
    def verify(self, when: str) -> None:
        """With the app down: integrity of both files, acknowledged turns and preferences stored."""
        self.checks += 1
        for path in (self.db, self.checkpoints):
            verdict = integrity(path)
            if verdict != "ok":
                self.failures.append(f"{when}: integrity_check of {path.name}: {verdict}")
        sids = {name: sid for name, sid in self.session_ids.items() if sid}
        turns, prefs = _stored(self.db, list(sids.values()))
        for name, sid in sids.items():
            for ack in self.acked[name]:
                if turns[sid].get(ack["turn"]) != ack["text"]:
                    self.failures.append(f"{when}: acknowledged turn {ack['turn']} of {name} is not stored "
                                         f"(found {turns[sid].get(ack['turn'])!r})")
            if self.acked[name]:
                lost = _vocabulary(self.acked[name][-1]["preferences"]) - _vocabulary(prefs[sid])
                if lost:
                    self.failures.append(f"{when}: {name} lost acknowledged preferences {sorted(lost)}")

    # -- one turn, retried across crashes
    def turn(self, script, kill_after_s: float | None) -> None:
        name = script.name
        message = script.message(self.position[name], self.last_recs[name])
        timer = threading.Timer(kill_after_s, self._kill) if kill_after_s is not None else None
        kills_before = self.kills
        while True:
            if timer is not None:
                timer.start()
            tick = time.perf_counter()
            try:
                out = self.client.predict(message, self.session_ids[name] or "", api_name="/chat")
            except Exception as exc:  # noqa: BLE001 - a killed app: restart and retry
                if timer is not None:
                    timer.join()
                    timer = None
                if self.app.proc.poll() is None:
                    self.failures.append(f"{name}: turn failed while the app was up: {type(exc).__name__}: {exc}")
                    return
                self.kills_mid_turn += 1
                self.verify(f"after kill {self.kills} (mid-turn)")
                self.retries += 1
                self.start()
                continue
            self.latencies.append((time.perf_counter() - tick) * 1000)
            break
        previous = self.acked[name][-1]["preferences"] if self.acked[name] else {}
        lost = _vocabulary(previous) - _vocabulary(out.get("preferences") or {})
        if lost:
            self.failures.append(f"{name}: the reply after turn {out.get('turn')} no longer names {sorted(lost)}")
        self.session_ids[name] = self.session_ids[name] or out["session"]
        self.acked[name].append({"turn": out["turn"], "text": message, "preferences": out.get("preferences") or {}})
        self.last_recs[name] = out.get("recommendations") or self.last_recs[name]
        self.position[name] += 1
        if timer is not None:
            timer.join()  # the kill may land after the reply: between turns
            if self.kills > kills_before:
                self.verify(f"after kill {self.kills} (between turns)")
                self.start()


def _plan_kills(rng: random.Random, turns: int, kills: int) -> set[int]:
    candidates = list(range(1, turns))
    return set(rng.sample(candidates, min(kills, len(candidates))))


def _two_writers(options: CrashOptions, workdir: Path, movies: list, progress: bool) -> dict[str, Any]:
    """Two app processes, one database file, sessions on both at the same time."""
    from crs.ops.loadtest import _check, _drive

    db = workdir / "two-writers.db"
    apps = [AppProcess(free_port(*options.ports), db, options.store_dir, workdir / f"writer{i}.log") for i in range(2)]
    scripts = make_scripts(movies, 2 * options.writers_sessions)
    try:
        for app in apps:
            app.launch()
        for app in apps:
            app.wait_ready(options.start_timeout_s)
        results: list[dict[str, Any]] = [{}, {}]

        def drive(i: int) -> None:
            part = scripts[i * options.writers_sessions:(i + 1) * options.writers_sessions]
            results[i] = _drive(apps[i].url, part, options.writers_turns, False)

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for app in apps:
            app.stop()
    records = {**results[0].get("records", {}), **results[1].get("records", {})}
    checks = _check(scripts, records, db)
    errors = [e for r in records.values() for e in r["errors"]]
    answered = sum(len(r["turns"]) for r in records.values())
    verdicts = {p.name: integrity(p) for p in (db, db.with_name(db.name + ".checkpoints.sqlite"))}
    return {"processes": 2, "sessions": len(scripts), "turns_answered": answered, "errors": len(errors),
            "error_samples": errors[:5], "mismatches": checks["session_mismatches"] + checks["leaks_in_database"],
            "integrity": verdicts,
            "passed": not errors and answered == len(scripts) * options.writers_turns
            and not checks["session_mismatches"] and not checks["leaks_in_database"]
            and all(v == "ok" for v in verdicts.values())}


def run_crash(options: CrashOptions, progress: bool = True, echo=print) -> dict[str, Any]:
    """The whole crash test (kills, then two writers) as a JSON-ready dict."""
    from crs.bench import summarize_ms
    from crs.catalog import store_files

    if options.kills < 0 or options.turns < 1:
        raise ValueError("--kills must be >= 0 and --turns >= 1")
    workdir = Path(options.workdir or tempfile.mkdtemp(prefix="crs-crash-"))
    workdir.mkdir(parents=True, exist_ok=True)
    for path in workdir.glob("*.db*"):  # the databases, their WAL files and the session-lock folder
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    movies = store_files.read_table(options.store_dir)
    driver = _Driver(options, workdir, movies, echo)
    plan = _plan_kills(driver.rng, options.turns, options.kills)
    started = time.perf_counter()
    driver.start()
    try:
        for number in tqdm(range(options.turns), desc="crash-test turns", unit="turn", disable=not progress):
            script = driver.scripts[number % len(driver.scripts)]
            delay = None
            if number in plan:
                typical = sorted(driver.latencies)[len(driver.latencies) // 2] / 1000 if driver.latencies else 0.3
                delay = driver.rng.uniform(0.0, 1.6 * typical)
            driver.turn(script, delay)
    finally:
        if driver.app is not None:
            driver.app.stop()
    driver.verify("at the end")
    seconds = time.perf_counter() - started
    acked = sum(len(v) for v in driver.acked.values())
    stored_turns, _ = _stored(driver.db, [s for s in driver.session_ids.values() if s])
    stored = sum(len(v) for v in stored_turns.values())
    writers = _two_writers(options, workdir, movies, progress) if options.writers_sessions > 0 else None
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "store_dir": str(options.store_dir),
        "movies_in_store": len(movies), "sessions": options.sessions, "turns_planned": options.turns,
        "turns_acknowledged": acked, "turns_stored": stored, "kills": driver.kills,
        "kills_mid_turn": driver.kills_mid_turn, "kills_between_turns": driver.kills - driver.kills_mid_turn,
        "retried_turns": driver.retries,
        "stored_but_unacknowledged": max(0, stored - acked), "checks_after_kills": driver.checks,
        "failures": driver.failures, "lost": len(driver.failures),
        "startup_s": summarize_ms([s * 1000 for s in driver.startups]), "turn_latency": summarize_ms(driver.latencies),
        "seconds": round(seconds, 1), "two_writers": writers,
        "passed": not driver.failures and acked == options.turns and driver.kills == len(plan)
        and (writers is None or writers["passed"]),
    }


def format_crash(doc: dict[str, Any]) -> str:
    lines = [f"{doc['turns_acknowledged']}/{doc['turns_planned']} turns acknowledged over {doc['kills']} kills "
             f"({doc['kills_mid_turn']} mid-turn, {doc['kills_between_turns']} between turns; "
             f"{doc['stored_but_unacknowledged']} committed but unacknowledged); {doc['checks_after_kills']} checks, "
             f"{len(doc['failures'])} failures; {doc['seconds']} s"]
    lines += [f"  {f}" for f in doc["failures"][:10]]
    w = doc.get("two_writers")
    if w:
        lines.append(f"two app processes on one database: {w['turns_answered']} turns, {w['errors']} errors, "
                     f"integrity {w['integrity']}")
        lines += [f"  {e}" for e in (w["error_samples"] + w["mismatches"])[:5]]
    lines.append("PASS" if doc["passed"] else "FAIL")
    return "\n".join(lines)
