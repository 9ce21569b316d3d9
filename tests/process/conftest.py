"""Fixtures of the process tests, and what they observed (not asserted: speed goals
belong to benchmarks), listed at the end of the run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.conftest import PG_URL

observed: list[str] = []


def observe(line: str) -> None:
    """Note a measurement for the end-of-run summary."""
    observed.append(line)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """List the observations, if any."""
    if observed:
        terminalreporter.section("observed in the process tests")
        for line in observed:
            terminalreporter.write_line(line)


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new PostgreSQL database without any table (not even migrated), dropped
    afterwards; skips on SQLite."""
    if PG_URL is None:
        pytest.skip("needs PostgreSQL (PARTNERMATCH_TEST_DATABASE_URL)")
    name = f"pm_empty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
