"""Processes starting at the same moment on one database (several hosts, or the
workers of one): migrations and the bootstrap key must not trip over each other."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlmodel import Session, col, select

from service.cli import _ensure_bootstrap
from service.db import make_engine
from service.models import ApiKey
from tests.conftest import ADMIN_KEY

# Imports first (seconds, and uneven), then waits for the go file, then migrates: so
# the migrations start together.
MIGRATE_ON_CUE = """
import sys, time
from pathlib import Path
from service import cli
print("ready", flush=True)
while not Path(sys.argv[1]).exists():
    time.sleep(0.005)
cli.migrate_command()
"""


@pytest.mark.slow
def test_processes_migrating_an_empty_database_at_once_all_succeed(
    empty_database: str, tmp_path: Path
) -> None:
    """Without the start-up lock one of them fails: both create the same tables."""
    env = {"PARTNERMATCH_DATABASE_URL": empty_database, "PARTNERMATCH_DATA_DIR": str(tmp_path)}
    go = tmp_path / "go"
    commands = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_ON_CUE, str(go)],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    for command in commands:
        assert command.stdout is not None
        assert command.stdout.readline() == b"ready\n"
    go.touch()
    outputs = [command.communicate(timeout=300)[0].decode() for command in commands]
    assert [command.returncode for command in commands] == [0, 0, 0], outputs
    engine = create_engine(empty_database)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert len(versions) == 1


def test_processes_storing_the_bootstrap_key_at_once_all_succeed(database_url: str) -> None:
    """Host B looks for the key, finds none, and just before it inserts the key host A
    stores it: B's insert breaks the unique prefix, and B looks again."""
    engine_a, engine_b = make_engine(database_url), make_engine(database_url)
    inserted_by_a: list[bool] = []

    def a_gets_there_first(
        _conn: Any, _cursor: Any, statement: str, _parameters: Any, *_: Any
    ) -> None:
        if not inserted_by_a and statement.lstrip().upper().startswith("INSERT INTO API_KEY"):
            _ensure_bootstrap(engine_a, ADMIN_KEY)
            inserted_by_a.append(True)

    event.listen(engine_b, "before_cursor_execute", a_gets_there_first)
    try:
        _ensure_bootstrap(engine_b, ADMIN_KEY)
        with Session(engine_a) as session:
            stored = session.exec(select(ApiKey).where(col(ApiKey.bootstrap).is_(True))).all()
    finally:
        engine_a.dispose()
        engine_b.dispose()
    assert inserted_by_a
    assert [(key.revoked_at, key.role) for key in stored] == [(None, "admin")]
