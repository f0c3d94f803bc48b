"""``crs loadtest``: concurrent scripted sessions against the running app, over HTTP.

Every session is a thread with its own ``gradio_client.Client`` calling the app's ``/chat``
API (the same queue the browser's turns use). All sessions start together. Checks:

* errors: any exception from a call (HTTP, queue, ``gr.Error``);
* leakage: a turn returned to session A that carries another session's id, or whose
  preferences name a movie/person from another session's pool (see :mod:`crs.ops.scripts`);
  and the same for what the database holds for A afterwards, whose stored user messages
  must also be exactly A's messages, in order;
* latency: client-side wall time per turn (includes queueing), summarised and plotted.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from crs.ops.app_process import AppProcess, free_port
from crs.ops.scripts import SessionScript, leaks, make_scripts

#: HTTP timeout of the clients. httpx's default (5 s) is shorter than a turn can wait in
#: the queue under load; a browser waits far longer, so the clients do too.
CLIENT_TIMEOUT_S = 120.0
#: Targets of issue #6.
TARGETS = {"errors": 0, "leaks": 0}


@dataclass
class LoadOptions:
    """What one load run does.

    Attributes:
        url: A running app; None starts ``crs chat`` on ``store_dir`` per concurrency value.
        sessions / turns: Concurrent sessions and turns per session.
        store_dir: The store the app serves (the scripts pick movies from it).
        db: The app's SQLite file, to check what was stored (known when we start the app).
        concurrency: ``turn_concurrency`` values to measure (only when the app is started here).
        ports: Port range for started apps.
        workdir: Where started apps keep their database and log.
    """

    url: str | None
    sessions: int
    turns: int
    store_dir: Path
    db: Path | None = None
    concurrency: tuple[int, ...] = (1,)
    ports: tuple[int, int] = (7850, 7869)
    workdir: Path | None = None
    start_timeout_s: float = 300.0


def _drive(url: str, scripts: list[SessionScript], turns: int, progress: bool) -> dict[str, Any]:
    """Run all sessions at once; returns per-session records and all latencies."""
    from gradio_client import Client

    records: dict[str, dict[str, Any]] = {s.name: {"session": None, "sent": [], "turns": [], "errors": []} for s in scripts}
    bar = tqdm(total=len(scripts) * turns, desc="load turns", unit="turn", disable=not progress)
    barrier = threading.Barrier(len(scripts))
    lock = threading.Lock()

    def session(script: SessionScript) -> None:
        rec = records[script.name]
        try:
            client = Client(url, verbose=False, httpx_kwargs={"timeout": CLIENT_TIMEOUT_S})
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            rec["errors"].append(f"connect: {type(exc).__name__}: {exc}")
            barrier.abort()
            return
        try:
            barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            pass
        last_recs: list[dict[str, Any]] = []
        for turn in range(turns):
            message = script.message(turn, last_recs)
            tick = time.perf_counter()
            try:
                out = client.predict(message, rec["session"] or "", api_name="/chat")
            except Exception as exc:  # noqa: BLE001
                rec["errors"].append(f"turn {turn}: {type(exc).__name__}: {exc}")
                with lock:
                    bar.update(1)
                continue
            latency = (time.perf_counter() - tick) * 1000
            rec["session"] = rec["session"] or out.get("session")
            rec["sent"].append(message)
            rec["turns"].append({"turn": out.get("turn"), "session": out.get("session"), "latency_ms": latency,
                                 "at_s": time.perf_counter(), "preferences": out.get("preferences") or {},
                                 "n_recs": len(out.get("recommendations") or [])})
            last_recs = out.get("recommendations") or last_recs
            with lock:
                bar.update(1)
        try:
            client.close()
        except Exception:  # noqa: BLE001
            pass

    threads = [threading.Thread(target=session, args=(s,), name=f"load-{s.name}") for s in scripts]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bar.close()
    return {"records": records, "wall_s": time.perf_counter() - start, "t0": start}


def _check(scripts: list[SessionScript], records: dict[str, dict[str, Any]], db: Path | None) -> dict[str, Any]:
    problems: list[str] = []
    for script in scripts:
        rec = records[script.name]
        for turn in rec["turns"]:
            if turn["session"] != rec["session"]:
                problems.append(f"{script.name}: turn {turn['turn']} came back for session {turn['session']!r}")
    turn_leaks = sorted({leak for i in range(max((len(r["turns"]) for r in records.values()), default=0))
                         for leak in leaks(scripts, {s.name: records[s.name]["turns"][i]["preferences"]
                                                     for s in scripts if i < len(records[s.name]["turns"])})})
    db_leaks: list[str] = []
    checked_db = False
    if db is not None and db.exists():
        from crs.storage import Repository

        checked_db = True
        repo = Repository.from_url(f"sqlite:///{db}")
        try:
            stored = {}
            for script in scripts:
                sid = records[script.name]["session"]
                if not sid:
                    continue
                stored[script.name] = repo.load_preferences(sid).summary()
                texts = [t["user_text"] for t in repo.history(sid)]
                if texts != records[script.name]["sent"]:
                    problems.append(f"{script.name}: the database holds {len(texts)} user messages that differ "
                                    f"from the {len(records[script.name]['sent'])} this session sent")
            db_leaks = leaks(scripts, stored)
        finally:
            repo.close()
    return {"leaks_in_turns": turn_leaks, "leaks_in_database": db_leaks, "session_mismatches": problems,
            "database_checked": checked_db}


def _latency_doc(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from crs.bench import summarize_ms

    all_ms = [t["latency_ms"] for r in records.values() for t in r["turns"]]
    first = [r["turns"][0]["latency_ms"] for r in records.values() if r["turns"]]
    return {"all": summarize_ms(all_ms), "first_turn": summarize_ms(first)}


def run_one(options: LoadOptions, scripts_source: list, concurrency: int | None, progress: bool,
            echo=print) -> dict[str, Any]:
    """One load run (starting the app when ``options.url`` is None)."""
    scripts = make_scripts(scripts_source, options.sessions)
    app = None
    db = options.db
    url = options.url
    if url is None:
        workdir = Path(options.workdir or tempfile.mkdtemp(prefix="crs-load-"))
        workdir.mkdir(parents=True, exist_ok=True)
        db = workdir / f"load-c{concurrency}.db"
        for path in (db, db.with_name(db.name + ".checkpoints.sqlite")):
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        app = AppProcess(free_port(*options.ports), db, options.store_dir, workdir / f"app-c{concurrency}.log",
                         env={"CRS_TURN_CONCURRENCY": str(concurrency or 1)})
        echo(f"starting the app on {app.url} (turn_concurrency={concurrency}, store {options.store_dir})")
        app.start(options.start_timeout_s)
        url = app.url
    try:
        driven = _drive(url, scripts, options.turns, progress)
        memory = app.memory_mb() if app else {}
    finally:
        if app is not None:
            app.stop()
    records = driven["records"]
    checks = _check(scripts, records, db)
    errors = [e for r in records.values() for e in r["errors"]]
    n_turns = sum(len(r["turns"]) for r in records.values())
    leak_count = len(checks["leaks_in_turns"]) + len(checks["leaks_in_database"]) + len(checks["session_mismatches"])
    return {
        "turn_concurrency": concurrency, "url": url if app is None else "(started here)", "sessions": options.sessions,
        "turns_per_session": options.turns, "turns_answered": n_turns, "errors": len(errors), "error_samples": errors[:10],
        "leaks": leak_count, **checks, "wall_s": round(driven["wall_s"], 2),
        "throughput_turns_per_s": round(n_turns / max(driven["wall_s"], 1e-9), 2),
        "latency_ms": _latency_doc(records), "app_memory": memory,
        "app_startup_s": round(app.started_s, 1) if app else None,
        "passed": not errors and leak_count == 0 and n_turns == options.sessions * options.turns,
        "_series": [[round(t["at_s"] - driven["t0"], 3), round(t["latency_ms"], 1)] for r in records.values()
                    for t in r["turns"]],
    }


def run_load(options: LoadOptions, progress: bool = True, echo=print) -> dict[str, Any]:
    """All runs (one per concurrency value, or one against ``options.url``), as a JSON-ready dict."""
    from crs.catalog import store_files

    movies = store_files.read_table(options.store_dir)
    levels = [None] if options.url else list(options.concurrency)
    runs = [run_one(options, movies, level, progress, echo) for level in levels]
    return {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "machine": {"cpus": os.cpu_count(), "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
            "store_dir": str(options.store_dir), "movies_in_store": len(movies), "targets": TARGETS, "runs": runs,
            "passed": all(r["passed"] for r in runs)}


def plot_load(doc: dict[str, Any], path: Path) -> Path:
    """Latency histogram and latency over time, one colour per run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (hist, series) = plt.subplots(1, 2, figsize=(11, 4))
    for run in doc["runs"]:
        label = f"turn_concurrency={run['turn_concurrency']}" if run["turn_concurrency"] else "app at URL"
        values = [ms for _, ms in run["_series"]]
        if values:
            hist.hist(values, bins=40, alpha=0.5, label=label)
            series.scatter([t for t, _ in run["_series"]], values, s=6, alpha=0.6, label=label)
    hist.set_xlabel("turn latency seen by the client (ms)")
    hist.set_ylabel("turns")
    series.set_xlabel("time since start (s)")
    series.set_ylabel("latency (ms)")
    for ax in (hist, series):
        ax.legend(fontsize=8)
    first = doc["runs"][0] if doc["runs"] else {}
    fig.suptitle(f"{first.get('sessions')} sessions x {first.get('turns_per_session')} turns, "
                 f"{doc['movies_in_store']:,} movies")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def format_load(doc: dict[str, Any]) -> str:
    lines = []
    for run in doc["runs"]:
        lat = run["latency_ms"]["all"]
        lines.append(f"turn_concurrency={run['turn_concurrency']}: {run['turns_answered']} turns in {run['wall_s']} s "
                     f"({run['throughput_turns_per_s']} turns/s); latency p50 {lat.get('p50_ms')} ms, "
                     f"p95 {lat.get('p95_ms')} ms, p99 {lat.get('p99_ms')} ms; errors {run['errors']}, leaks {run['leaks']}; "
                     f"app RSS {run['app_memory'].get('peak_rss_mb', '?')} MiB peak -> {'PASS' if run['passed'] else 'FAIL'}")
        for sample in run["error_samples"][:3] + (run["leaks_in_turns"] + run["leaks_in_database"] + run["session_mismatches"])[:5]:
            lines.append(f"  {sample}")
    return "\n".join(lines)
