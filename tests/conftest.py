"""Fixtures: the real model (once per session), a fresh database per test, the app.

The database is SQLite unless ``PARTNERMATCH_TEST_DATABASE_URL`` names a
PostgreSQL server; there each test session creates its own database, and each
test starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from matching.embedder import SentenceTransformerEmbedder
from service import migrate
from service.app import create_app
from service.config import Settings
from service.models import SQLModel
from tests.factories import COMPANIES, RESEARCH

PG_URL = os.environ.get("PARTNERMATCH_TEST_DATABASE_URL")
ADMIN_KEY = "test-admin-" + "k" * 32  # the bootstrap admin key of every test app


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The packaged model, loaded once."""
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def _database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database: a SQLite file to copy, or a PostgreSQL database to truncate."""
    if PG_URL is None:
        path = tmp_path_factory.mktemp("template") / "template.db"
        migrate.upgrade(f"sqlite:///{path}")
        yield str(path)
        return
    name = f"pm_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


def fresh_database(template: str, folder: Path) -> str:
    """A migrated, empty database: a copy of the SQLite template in ``folder``, or the
    PostgreSQL test database with its tables emptied."""
    if PG_URL is None:
        path = folder / "partnermatch.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    _truncate_all(template)
    return template


@pytest.fixture
def database_url(_database_template: str, tmp_path: Path) -> str:
    """A migrated, empty database for this test."""
    return fresh_database(_database_template, tmp_path)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for this test's database and data folder."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        bootstrap_admin_key=ADMIN_KEY,
        rate_limit_per_minute=1_000_000,  # tests of rate limits set their own
        max_import_bytes=2 * 1024 * 1024,  # so a test can go over it cheaply
    )


def wait_ready(client: TestClient, timeout: float = 60.0) -> None:
    """Poll /readyz until 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"not ready after {timeout}s: {client.get('/readyz').json()}")


def admin_client(settings: Settings, embedder: SentenceTransformerEmbedder) -> TestClient:
    """A client of a new app that sends the bootstrap admin key unless a request says
    otherwise (use it in ``with``)."""
    return TestClient(
        create_app(settings, embedder=embedder),
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )


@pytest.fixture
def client(settings: Settings, embedder: SentenceTransformerEmbedder) -> Iterator[TestClient]:
    """The app over HTTP (httpx), started and ready, with the real model and FAISS, as
    the bootstrap admin."""
    with admin_client(settings, embedder) as test_client:
        wait_ready(test_client)
        yield test_client


@pytest.fixture
def world(client: TestClient) -> dict[str, dict[str, Any]]:
    """The small data set of tests/factories.py stored through the API, by name."""
    stored = {}
    for body in RESEARCH + COMPANIES:
        response = client.post("/api/v1/organizations", json=body)
        assert response.status_code == 201, response.text
        stored[body["name"]] = response.json()
    return stored


@pytest.fixture
def cli_env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the command line at this test's database and a data folder of its own."""
    monkeypatch.setenv("PARTNERMATCH_DATA_DIR", str(tmp_path / "cli-data"))
    monkeypatch.setenv("PARTNERMATCH_DATABASE_URL", database_url)
    monkeypatch.setenv("PARTNERMATCH_BOOTSTRAP_ADMIN_KEY", ADMIN_KEY)
    return Settings()
