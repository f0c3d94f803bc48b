"""Shared fixtures of the web-app tests: the real app served on a free local port.

Test modules import the fixtures they use (``from app_fixtures import live_app``); the
app runs in this process (Gradio's own server thread), on the small test corpus from
``tests/conftest.py`` and a fresh SQLite session database.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from crs.settings import Settings


@dataclass(frozen=True)
class LiveApp:
    """A running app: where it listens and the parts behind it."""

    url: str
    settings: Settings
    service: Any


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_settings(base: Settings, workdir: Any) -> Settings:
    """``base`` with its own session database and checkpoints in ``workdir`` and a free port."""
    return base.model_copy(update={
        "database_url": f"sqlite:///{workdir / 'crs.db'}",
        "checkpoint_path": workdir / "crs.db.checkpoints.sqlite",
        "host": "127.0.0.1",
        "port": free_port(),
    })


@pytest.fixture(scope="session")
def live_app(small_store: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """The real service and UI, served until the test session ends."""
    from crs.service import build_service
    from crs.ui import build_ui, launch_ui

    settings = app_settings(small_store, tmp_path_factory.mktemp("webapp"))
    service = build_service(settings)
    demo = build_ui(service, settings)
    for attempt in range(3):  # the free port may be taken between probe and bind
        try:
            _, url, _ = launch_ui(demo, settings, prevent_thread_lock=True, quiet=True)
            break
        except OSError:
            if attempt == 2:
                raise
            settings = settings.model_copy(update={"port": free_port()})
    try:
        yield LiveApp(url=url.rstrip("/"), settings=settings, service=service)
    finally:
        demo.close()
        if hasattr(service, "close"):
            service.close()


#: Movies the app tests like to talk about, in order of preference (those in the store are used).
PREFERRED_TITLES = ("Heat", "Collateral", "Die Hard", "The Matrix", "Inception", "John Wick", "Taken")


@pytest.fixture(scope="session")
def small_movies(movie_store: Any) -> list[tuple[str, int]]:
    """(title, year) of at least two well-known movies of the small store, each with a
    title no other movie there has, so that naming it is unambiguous."""
    movies = [m for m in movie_store.index.movies if m.year]
    counts: dict[str, int] = {}
    for m in movie_store.index.movies:
        counts[m.title.lower()] = counts.get(m.title.lower(), 0) + 1
    unique = {m.title.lower(): m for m in movies if counts[m.title.lower()] == 1}
    picked = [(unique[t.lower()].title, unique[t.lower()].year) for t in PREFERRED_TITLES if t.lower() in unique]
    for m in sorted(unique.values(), key=lambda m: -m.popularity):  # fallback: the most mentioned
        if len(picked) >= 2:
            break
        if (m.title, m.year) not in picked:
            picked.append((m.title, m.year))
    assert len(picked) >= 2, "the small store has too few movies with unique titles"
    return picked
