"""Start the CineCRS web app (``crs chat`` or ``python app.py``) with options [--host H] [--port P] [--data-dir D] [--store-dir S] [--db DB].

This file only wires parts together (settings -> service -> UI -> launch); behaviour lives
in :mod:`crs.service` and :mod:`crs.ui`. Nothing happens at import time.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def _database_url(db: str | None) -> str | None:
    """``--db`` takes a SQLAlchemy URL or a plain path to a SQLite file."""
    if db is None or "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options; anything left out falls back to CRS_* variables and defaults."""
    parser = argparse.ArgumentParser(prog="crs chat", description="Serve the CineCRS chat in the browser.")
    parser.add_argument("--host", help="interface to listen on (default 127.0.0.1, env CRS_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default 7860, env CRS_PORT)")
    parser.add_argument("--data-dir", type=Path, help="the shared research data (env CRS_DATA_DIR)")
    parser.add_argument("--store-dir", type=Path, help="the built movie corpus (env CRS_STORE_DIR)")
    parser.add_argument("--db", help="session database: a SQLite file path or SQLAlchemy URL (env CRS_DATABASE_URL)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Build the service and serve the UI until interrupted; exit 2 if the corpus is missing."""
    args = parse_args(argv)
    from crs.settings import apply_offline_env, load_settings

    apply_offline_env()  # before gradio/chromadb are imported
    settings = load_settings(host=args.host, port=args.port, data_dir=args.data_dir,
                             store_dir=args.store_dir, database_url=_database_url(args.db))

    from crs.auth import AuthConfigError, launch_options

    try:
        protection = launch_options(settings)  # CRS_AUTH / CRS_AUTH_FILE: see docs/security.md
    except AuthConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    from crs.catalog.store import CorpusMissingError
    from crs.service import build_service

    try:
        service = build_service(settings)
    except CorpusMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

    from crs.ui import build_ui, launch_ui

    launch_ui(build_ui(service, settings), settings, **protection)


