"""``crs corpus build | add | push | info``: build, share and inspect the movie store.

Errors end in a one-line message on stderr and exit code 1 (a problem with the data or
the store) or 2 (bad input given on the command line), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="The shared data folder (default: ../shared/data or CRS_DATA_DIR).")]
StoreDir = Annotated[Optional[Path], typer.Option("--store-dir", help="Where the store lives (default: data/store or CRS_STORE_DIR).")]


def _fail(message: str, code: int = EXIT_FAILURE) -> None:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code)


def _settings(data_dir: Path | None, store_dir: Path | None):  # noqa: ANN202 - Settings
    from crs.settings import load_settings

    try:
        return load_settings(data_dir=data_dir, store_dir=store_dir)
    except Exception as exc:  # noqa: BLE001 - pydantic's message is the useful part
        _fail(f"invalid settings: {exc}".splitlines()[0], EXIT_BAD_INPUT)


def build(
    data_dir: DataDir = None,
    store_dir: StoreDir = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the N most mentioned ReDial movies (quick builds).")] = None,
    no_movielens: Annotated[bool, typer.Option("--no-movielens", help="Leave out the MovieLens-only long tail.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if the store is up to date.")] = False,
) -> None:
    """Build the movie corpus (Chroma vectors + movie table) from the shared data."""
    from crs.corpus.build import build_corpus
    from crs.corpus.sources import SourceMissingError

    settings = _settings(data_dir, store_dir)
    try:
        result = build_corpus(settings, limit=limit, include_movielens=not no_movielens, force=force)
    except SourceMissingError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    except OSError as exc:
        _fail(f"could not write the store at {settings.store_dir}: {exc}")
    typer.echo(result.message)


def add(
    file: Annotated[Path, typer.Argument(help="A .jsonl file: one movie object a line (id and title required).")],
    store_dir: StoreDir = None,
) -> None:
    """Add movies from a JSONL file to the built store; they are recommendable at once."""
    from crs.catalog.store import CorpusMissingError
    from crs.corpus.build import AddFileError, add_movies

    settings = _settings(None, store_dir)
    if not file.is_file():
        _fail(f"no such file: {file}", EXIT_BAD_INPUT)
    try:
        count = add_movies(settings, file)
    except AddFileError as exc:
        typer.echo(str(exc), err=True)
        _fail(f"{file}: nothing added (fix the lines above)", EXIT_BAD_INPUT)
    except CorpusMissingError as exc:
        _fail(str(exc))
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"could not read {file}: {exc}", EXIT_BAD_INPUT)
    typer.echo(f"Added {count} movies from {file} to {settings.store_dir}.")


def push(
    chroma_url: Annotated[Optional[str], typer.Option("--chroma-url", help="The Chroma server, e.g. http://127.0.0.1:8000 (default: CRS_CHROMA_URL).")] = None,
    store_dir: StoreDir = None,
    collection: Annotated[Optional[str], typer.Option("--collection", help="Collection name on the server (default: CRS_COLLECTION, 'movies').")] = None,
) -> None:
    """Copy the built store's vectors to a Chroma server (no re-embedding); replaces the collection there."""
    from crs.catalog import store_files as files
    from crs.catalog.store import CorpusMissingError, MovieStore

    settings = _settings(None, store_dir)
    url = chroma_url or settings.chroma_url
    name = collection or settings.collection
    if not url:
        _fail("no Chroma server given: pass --chroma-url http://HOST:PORT or set CRS_CHROMA_URL", EXIT_BAD_INPUT)
    try:
        files.parse_chroma_url(url)
    except ValueError as exc:
        _fail(str(exc), EXIT_BAD_INPUT)
    try:  # the local store must be complete: same checks as the app's
        local = MovieStore.open(settings.store_dir, _ManifestModel(settings.store_dir), settings.collection)
    except CorpusMissingError as exc:
        _fail(str(exc))
    try:
        client = files.http_client(url)
        client.heartbeat()
    except Exception as exc:  # noqa: BLE001 - connection errors come in many types
        _fail(f"Chroma server {url} is not reachable ({type(exc).__name__}); is `chroma run` up?")
    model = local.manifest.get("model")
    remote = files.copy_collection(local.chroma, client, name, model, progress=True)
    if remote.count() != len(local):
        _fail(f"the server holds {remote.count()} vectors after the copy, the store {len(local)}; push again")
    typer.echo(f"Pushed {len(local)} movie vectors from {settings.store_dir} to {url} (collection {name!r}). "
               f"Start the app with CRS_CHROMA_URL={url} and this store directory.")


class _ManifestModel:
    """Stands in for the embedder when only opening a store (no query is embedded):
    claims the model the manifest names, so the open checks everything else."""

    def __init__(self, store_dir: Path) -> None:
        from crs.catalog import store_files as files

        self.model_id = (files.read_manifest(store_dir) or {}).get("model")
        self.dim = 384


def info(
    store_dir: StoreDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Show what the store holds: counts, sources, embedding model."""
    from crs.catalog import store_files as files

    settings = _settings(None, store_dir)
    manifest = files.read_manifest(settings.store_dir)
    if manifest is None:
        _fail(f'No movie corpus at {settings.store_dir}: run "crs corpus build"')
    if as_json:
        typer.echo(json.dumps(manifest, indent=2, sort_keys=True))
        return
    options = manifest.get("options", {})
    added = manifest.get("added", [])
    lines = [
        f"Store:       {settings.store_dir}",
        f"Movies:      {manifest.get('count')} ({manifest.get('redial_count')} from ReDial"
        f"{', MovieLens long tail included' if options.get('include_movielens') else ''}"
        f"{', limit ' + str(options['limit']) if options.get('limit') else ''})",
        f"Added:       {sum(a.get('count', 0) for a in added)} movies in {len(added)} file(s)",
        f"Model:       {manifest.get('model')}",
        f"Collection:  {manifest.get('collection')}",
        f"Built:       {manifest.get('built_at')} in {manifest.get('build_seconds')} s",
        "Sources:",
        *(f"  {key}: {path}" for key, path in sorted(manifest.get("sources", {}).items())),
    ]
    if settings.chroma_url:
        lines.insert(6, f"Server:      {_server_line(settings, manifest)}")
    typer.echo("\n".join(lines))


def _server_line(settings, manifest: dict) -> str:  # noqa: ANN001 - Settings
    """What the Chroma server of ``CRS_CHROMA_URL`` holds, compared with the table."""
    from crs.catalog.store import CorpusMissingError, server_collection

    try:
        chroma = server_collection(settings.chroma_url, settings.collection, settings.store_dir, manifest)
    except CorpusMissingError as exc:
        return f"PROBLEM: {exc}"
    return f"{settings.chroma_url}, collection {settings.collection!r}: {chroma.count()} vectors (matches the table)"


def register(app: typer.Typer) -> None:
    """Add the ``corpus`` command group to the main CLI."""
    corpus = typer.Typer(help="Build and inspect the movie corpus.", no_args_is_help=True)
    corpus.command("build")(build)
    corpus.command("add")(add)
    corpus.command("push")(push)
    corpus.command("info")(info)
    app.add_typer(corpus, name="corpus")
