"""Fixtures of the scale-out tests: a real PostgreSQL server and a real Chroma server.

``.ci/run`` starts both (``scripts/scaleout_services.sh``) and exports

* ``CRS_TEST_POSTGRES_URL``: a SQLAlchemy URL of a database the tests may connect to as a
  user who can ``CREATE DATABASE`` (each test gets a fresh database, dropped afterwards),
  e.g. ``postgresql+psycopg://postgres@127.0.0.1:55432/postgres``;
* ``CRS_TEST_CHROMA_URL``: a ``chroma run`` server, e.g. ``http://127.0.0.1:8123`` (each
  test session pushes the small store into a collection of its own, deleted afterwards).

Without them the tests skip, saying how to run them; under CI (``CI=true``) or with
``CRS_REQUIRE_SCALEOUT=1`` a missing or unreachable server fails them instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from crs.settings import Settings

POSTGRES_VAR = "CRS_TEST_POSTGRES_URL"
CHROMA_VAR = "CRS_TEST_CHROMA_URL"
HOW = ("start them with `scripts/scaleout_services.sh start /tmp/crs-services` and export the two "
       "variables it prints (see docs/deploy.md)")


def required() -> bool:
    """Whether a missing server is a failure (CI) rather than a skip."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("CRS_REQUIRE_SCALEOUT") == "1"


def server_url(var: str) -> str:
    """The URL in ``var``, or skip (fail under CI) with what to do."""
    value = os.environ.get(var, "").strip()
    if not value:
        message = f"{var} is not set: the scale-out tests need a real server; {HOW}"
        if required():
            pytest.fail(message + " [required: CI=true or CRS_REQUIRE_SCALEOUT=1]")
        pytest.skip(message)
    return value


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The PostgreSQL server of ``CRS_TEST_POSTGRES_URL``, checked to answer."""
    from sqlalchemy import text

    from crs.storage.db import make_engine

    url = server_url(POSTGRES_VAR)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection error means the same here
        pytest.fail(f"{POSTGRES_VAR}={url} does not answer: {exc}")
    finally:
        engine.dispose()
    return url


def _admin(url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    from sqlalchemy import text

    from crs.storage.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def pg_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    from sqlalchemy.engine import make_url

    name = f"crs_t_{uuid.uuid4().hex[:12]}"
    _admin(postgres_admin_url, f'CREATE DATABASE "{name}"')
    url = make_url(postgres_admin_url).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        _admin(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def chroma_url() -> str:
    """The Chroma server of ``CRS_TEST_CHROMA_URL``, checked to answer."""
    from crs.catalog import store_files as files

    url = server_url(CHROMA_VAR)
    try:
        files.http_client(url).heartbeat()
    except Exception as exc:  # noqa: BLE001 - any connection error means the same here
        pytest.fail(f"{CHROMA_VAR}={url} does not answer: {exc}")
    return url


def worker_store_dir(store_dir: Path, target: Path) -> Path:
    """What a worker of the scaled deployment has locally: the store directory without its
    Chroma folder (the manifest and the movie table); the vectors are on the server."""
    from crs.catalog import store_files as files

    shutil.copytree(store_dir, target, ignore=shutil.ignore_patterns(files.CHROMA_DIR))
    return target


def push_collection(store: Settings, chroma_url: str, name: str) -> None:
    """Copy ``store``'s vectors into collection ``name`` on the server (as ``crs corpus push``)."""
    from crs.catalog import store_files as files

    local = files.get_collection(files.chroma_client(store.store_dir), store.collection)
    model = (files.read_manifest(store.store_dir) or {}).get("model")
    files.copy_collection(local, files.http_client(chroma_url), name, model)


def drop_collection(chroma_url: str, name: str) -> None:
    from crs.catalog import store_files as files

    try:
        files.http_client(chroma_url).delete_collection(name)
    except Exception:  # noqa: BLE001 - already gone is fine
        pass


@pytest.fixture(scope="session")
def server_store(small_store: Settings, chroma_url: str,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings of the small store as a scaled worker sees it: vectors in a collection of
    its own on the Chroma server, the movie table in a store directory without Chroma."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    push_collection(small_store, chroma_url, name)
    store_dir = worker_store_dir(small_store.store_dir, tmp_path_factory.mktemp("server_store") / "store")
    try:
        yield small_store.model_copy(update={"store_dir": store_dir, "chroma_url": chroma_url,
                                             "collection": name})
    finally:
        drop_collection(chroma_url, name)
