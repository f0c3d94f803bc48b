"""``crs loadtest`` and ``crs crashtest``.

    crs loadtest [--url URL] [--sessions 20] [--turns 20] [--concurrency 1,4] [--store-dir DIR] [--out reports/load.json]
    crs crashtest [--kills 25] [--turns 120] [--store-dir DIR] [--out reports/crash.json]
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import typer


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _parse_ports(ports: str) -> tuple[int, int]:
    """"7850-7869" -> (7850, 7869); ValueError naming the option otherwise."""
    try:
        low, high = (int(x) for x in ports.split("-"))
    except ValueError:
        raise ValueError(f"--ports expects LOW-HIGH, got {ports!r}") from None
    if not 0 < low <= high < 65536:
        raise ValueError(f"--ports expects LOW-HIGH with 0 < LOW <= HIGH < 65536, got {ports!r}")
    return low, high


def _run(command: str, run, options, progress: bool) -> dict:
    """``run(options, progress, say)`` with its progress lines on stderr; a missing file, a
    bad value or an app that does not start ends the command with exit code 2. The report
    records the command line."""
    from crs.ops.app_process import AppStartError

    try:
        doc = run(options, progress, lambda m: typer.echo(m, err=True))
    except (FileNotFoundError, ValueError, AppStartError) as exc:
        _fail(str(exc))
    doc["command"] = shlex.join(["crs", command, *sys.argv[2:]])
    return doc


def _write(doc: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def loadtest(
    url: str | None = typer.Option(None, "--url", help="A running app (e.g. http://127.0.0.1:7860/). Default: start `crs chat` here, once per --concurrency value."),
    sessions: int = typer.Option(20, "--sessions", min=1, help="Concurrent sessions."),
    turns: int = typer.Option(20, "--turns", min=1, help="Turns per session."),
    concurrency: str = typer.Option("1", "--concurrency", help="turn_concurrency values to measure, comma-separated (only when the app is started here)."),
    store_dir: Path | None = typer.Option(None, "--store-dir", help="The movie store (the app's; scripts pick movies from it). Default: settings."),
    db: Path | None = typer.Option(None, "--db", help="With --url: the app's SQLite file, to check what it stored."),
    workdir: Path | None = typer.Option(None, "--workdir", help="Where started apps keep database and log (default: a temp dir)."),
    ports: str = typer.Option("7850-7869", "--ports", help="Port range for started apps."),
    out: Path = typer.Option(Path("reports/load.json"), "--out", help="JSON report (a PNG plot is written beside it)."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """Drive the running app over HTTP with concurrent scripted sessions: errors, leakage, latency."""
    from crs.ops.loadtest import LoadOptions, format_load, plot_load, run_load
    from crs.settings import load_settings

    try:
        levels = tuple(int(x) for x in concurrency.split(",") if x.strip())
        low, high = _parse_ports(ports)
        if not levels or min(levels) < 1:
            raise ValueError("--concurrency needs integers >= 1")
    except ValueError as exc:
        _fail(f"bad option: {exc}")
        return
    settings = load_settings(store_dir=store_dir)
    options = LoadOptions(url=url, sessions=sessions, turns=turns, store_dir=settings.store_dir, db=db,
                          concurrency=levels, ports=(low, high), workdir=workdir)
    doc = _run("loadtest", run_load, options, progress)
    typer.echo(format_load(doc))
    png = plot_load(doc, out.with_suffix(".png"))
    for run in doc["runs"]:
        run.pop("_series", None)
    _write(doc, out)
    typer.echo(f"wrote {out} and {png}")
    if not doc["passed"]:
        raise typer.Exit(1)


def crashtest(
    kills: int = typer.Option(25, "--kills", min=0, help="kill -9 the app this many times, at random points."),
    turns: int = typer.Option(120, "--turns", min=1, help="Turns of the scripted conversation (round-robin over --sessions)."),
    sessions: int = typer.Option(3, "--sessions", min=1, help="Sessions the turns are spread over."),
    writers: int = typer.Option(4, "--writer-sessions", min=0, help="Sessions per process in the two-processes-one-database check (0 skips it)."),
    store_dir: Path | None = typer.Option(None, "--store-dir", help="The movie store (default: settings)."),
    workdir: Path | None = typer.Option(None, "--workdir", help="Database and logs (default: a temp dir)."),
    ports: str = typer.Option("7850-7869", "--ports", help="Port range for the app."),
    seed: int = typer.Option(0, "--seed"),
    out: Path = typer.Option(Path("reports/crash.json"), "--out", help="JSON report."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
) -> None:
    """kill -9 the app during a scripted conversation, restart, continue: nothing acknowledged may be lost."""
    from crs.ops.crashtest import CrashOptions, format_crash, run_crash
    from crs.settings import load_settings

    try:
        low, high = _parse_ports(ports)
    except ValueError as exc:
        _fail(str(exc))
        return
    settings = load_settings(store_dir=store_dir)
    options = CrashOptions(kills=kills, turns=turns, store_dir=settings.store_dir, sessions=sessions, workdir=workdir,
                           ports=(low, high), seed=seed, writers_sessions=writers)
    doc = _run("crashtest", run_crash, options, progress)
    typer.echo(format_crash(doc))
    _write(doc, out)
    typer.echo(f"wrote {out}")
    if not doc["passed"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("loadtest")(loadtest)
    app.command("crashtest")(crashtest)
