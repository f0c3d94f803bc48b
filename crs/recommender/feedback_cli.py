"""``crs train feedback``: learn the per-movie feedback bias from a session database.

    crs train feedback [--db URL] [--out FILE] [--min-events N] [--shrinkage K]
"""

from __future__ import annotations

import json
from pathlib import Path

import typer


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL fails later with its own message
        return url


def train_feedback(
    db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the session database to learn from (default: settings / CRS_DATABASE_URL)."),
    out: Path | None = typer.Option(None, "--out", help="Artefact path (default: ARTIFACTS_DIR/feedback-v1.json, what settings.feedback_model names)."),
    min_events: int = typer.Option(20, "--min-events", min=1, help="Refuse to train on fewer feedback events than this."),
    shrinkage: float = typer.Option(5.0, "--shrinkage", min=0.0, help="Pseudo-count: a movie's bias = summed reward / (times shown + K)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Turn the stored feedback events (clicks, typed reactions, dwell times, reply
    sentiment) of every session into rewards and save a per-movie bias the app's
    retriever adds to its score; prints a JSON summary."""
    from crs.recommender.feedback_training import TooFewEventsError, feedback_path
    from crs.recommender.feedback_training import train_feedback as learn
    from crs.settings import load_settings
    from crs.storage import Repository

    settings = load_settings(database_url=db)
    url = settings.database_url
    if url.startswith("sqlite:///") and ":memory:" not in url and not Path(url[len("sqlite:///"):]).exists():
        _fail(f"no session database at {url[len('sqlite:///'):]} (pass --db sqlite:///PATH of a database the app wrote)")
    try:
        repo = Repository.from_url(url)
    except Exception as exc:  # noqa: BLE001 - any driver error: say which database
        _fail(f"cannot open the session database {_redacted(url)}: {exc}")
        return
    try:
        model, summary = learn(repo, shrinkage=shrinkage, min_events=min_events, progress=progress,
                               source=_redacted(url))
    except (TooFewEventsError, ValueError) as exc:
        _fail(str(exc))
        return
    finally:
        repo.close()
    path = model.save(Path(out) if out else feedback_path(settings))
    typer.echo(json.dumps({"artefact": str(path), **summary}, indent=1))
    typer.echo(f"wrote {path}; the app loads it when CRS_FEEDBACK_MODEL names it (default {settings.feedback_model})",
               err=True)
