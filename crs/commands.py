"""Core CLI commands: ``crs chat`` (the web app) and ``crs replay``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Shared research data (default ../shared/data).")]
StoreDir = Annotated[Optional[Path], typer.Option("--store-dir", help="Built corpus location (default data/store).")]
Db = Annotated[Optional[str], typer.Option("--db", help="SQLAlchemy database URL for sessions.")]


def fail(message: str, code: int = 1) -> None:
    """Print a one-line error and exit (no traceback for expected problems)."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    @app.command()
    def chat(host: Annotated[Optional[str], typer.Option(help="Interface to listen on.")] = None,
             port: Annotated[Optional[int], typer.Option(help="Port (default 7860).")] = None,
             data_dir: DataDir = None, store_dir: StoreDir = None, db: Db = None) -> None:
        """Launch the chat web app (http://127.0.0.1:7860)."""
        from crs.webapp import main as web_main

        argv = []
        for flag, value in (("--host", host), ("--port", port), ("--data-dir", data_dir), ("--store-dir", store_dir), ("--db", db)):
            if value is not None:
                argv += [flag, str(value)]
        web_main(argv)

    @app.command()
    def replay(files: Annotated[list[Path], typer.Argument(help="Transcript files (JSONL, JSON list or ReDial JSONL).")],
               out: Annotated[Optional[Path], typer.Option("--out", help="Write JSON lines here (default stdout).")] = None,
               db: Db = None, data_dir: DataDir = None, store_dir: StoreDir = None) -> None:
        """Replay user turns through the bot; one JSON line per bot turn."""
        from tqdm import tqdm

        from crs.catalog.store import CorpusMissingError
        from crs.replay import TranscriptError, read_transcript
        from crs.replay_titles import movielens_titles, with_source_titles
        from crs.service import InputError
        from crs.settings import load_settings
        from crs.wiring import build_components

        settings = load_settings(database_url=db, data_dir=data_dir, store_dir=store_dir)
        try:
            turns = [t for f in files for t in read_transcript(f, max_bytes=int(settings.max_file_mb * 2**20))]
        except TranscriptError as exc:
            fail(str(exc), 2)
        try:
            service = build_components(settings).service
        except CorpusMissingError as exc:
            fail(str(exc), 2)
        titles = movielens_titles(settings.data_dir)  # the data's own titles in the output (crs.replay_titles)
        sink = out.open("w", encoding="utf-8") if out else sys.stdout
        try:
            for turn in tqdm(turns, desc="replay", unit="turn", disable=out is None):
                try:
                    result = service.handle_turn(turn.session, turn.text)
                except InputError as exc:
                    typer.echo(f"skipped a turn of session {turn.session!r}: {exc}", err=True)
                    continue
                except ValueError as exc:
                    fail(f"session {turn.session!r}: {exc}", 2)
                sink.write(json.dumps(with_source_titles(result, titles), ensure_ascii=False) + "\n")
        finally:
            if out:
                sink.close()
            service.close()
        if out:
            typer.echo(f"wrote {len(turns)} turns to {out}", err=True)
