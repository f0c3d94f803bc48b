"""Shared test fixtures. The offline environment is set before anything else is imported."""

from __future__ import annotations

from crs.settings import apply_offline_env

apply_offline_env()

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from crs.settings import Settings, load_settings  # noqa: E402

#: ReDial movies in the shared small store (the most mentioned ones, no MovieLens).
SMALL_STORE_LIMIT = 800


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    """Settings whose writable paths (store, artefacts, database) all lie in ``tmp_path``.

    ``data_dir`` stays the shared research data unless overridden.
    """
    values: dict[str, object] = {
        "store_dir": tmp_path / "store",
        "artifacts_dir": tmp_path / "artifacts",
        "database_url": f"sqlite:///{tmp_path / 'crs.db'}",
    }
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
def make_settings():
    """The :func:`settings_for` helper, as a fixture: ``make_settings(tmp_path, **overrides)``."""
    return settings_for


@pytest.fixture(scope="session")
def small_store_limit() -> int:
    """How many movies ``small_store`` holds."""
    return SMALL_STORE_LIMIT


@pytest.fixture(scope="session")
def embedder():
    """One MiniLM embedder for the whole session (the ONNX model loads once)."""
    from crs.embedding import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory, embedder) -> Settings:
    """Settings of a store built from the real data: the 800 most mentioned ReDial movies.

    Built once per session (~20 s). Treat it as read-only; use ``writable_store`` to
    change a store.
    """
    from crs.corpus.build import build_corpus

    settings = settings_for(tmp_path_factory.mktemp("small_store"))
    build_corpus(settings, limit=SMALL_STORE_LIMIT, include_movielens=False, progress=False,
                 embedder=embedder)
    return settings


@pytest.fixture(scope="session")
def movie_store(small_store: Settings, embedder):
    """A read-only :class:`MovieStore` opened on ``small_store``."""
    from crs.catalog.store import MovieStore

    return MovieStore.open(small_store.store_dir, embedder, small_store.collection)


@pytest.fixture()
def writable_store(small_store: Settings, tmp_path: Path) -> Settings:
    """Settings of a private copy of ``small_store`` that a test may modify."""
    settings = settings_for(tmp_path)
    shutil.copytree(small_store.store_dir, settings.store_dir)
    return settings


@pytest.fixture(scope="session")
def redial_store(tmp_path_factory: pytest.TempPathFactory, embedder) -> Settings:
    """Settings of a store of every ReDial movie (about 6.9k, no MovieLens long tail).

    Built once per session (~2-3 minutes); used by the scenario and golden-conversation
    replays. Its artefacts directory is empty: no trained collaborative model.
    """
    from crs.corpus.build import build_corpus

    settings = settings_for(tmp_path_factory.mktemp("redial_store"))
    build_corpus(settings, include_movielens=False, progress=False, embedder=embedder)
    return settings


def pytest_terminal_summary(terminalreporter) -> None:
    """Issue 6: how many generated inputs the fuzz tests ran (see tests/fuzz_counts.py)."""
    import sys

    counts = sys.modules.get("fuzz_counts")
    if counts is None or not counts.COUNTS:
        return
    for line in counts.report_lines():
        terminalreporter.write_line(line)
    counts.write_report(Path(__file__).resolve().parent.parent / "reports" / "fuzz-examples.json")
