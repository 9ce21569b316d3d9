"""Migrations and models agree, and the schema goes down and up again cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from service import migrate
from service.models import SQLModel


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return list(differences)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_upgrade_check_downgrade_upgrade(database_url: str) -> None:
    # The fixture database is already at head (built by `alembic upgrade head`).
    assert _differences(database_url) == []
    migrate.downgrade(database_url, "base")
    assert _tables(database_url) <= {"alembic_version"}
    migrate.upgrade(database_url)
    assert _differences(database_url) == []
    assert {"organization", "profile", "profile_vector", "index_change", "match_run", "match"} <= (
        _tables(database_url)
    )
