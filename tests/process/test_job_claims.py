"""Job claims of two workers on one database, each with its own engine (as two processes
have): the steps of one are run at the exact moment that matters inside the other."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from service import jobs
from service.db import make_engine
from service.models import Job, utcnow


@pytest.fixture
def engines(database_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on the test's database: worker A's and worker B's."""
    first, second = make_engine(database_url), make_engine(database_url)
    yield first, second
    first.dispose()
    second.dispose()


def _stale_running_job(db_engine: Engine) -> int:
    """A job whose worker died: running, last heartbeat long ago."""
    long_ago = utcnow() - jobs.STALE_AFTER - timedelta(minutes=1)
    with Session(db_engine) as session:
        job = jobs.enqueue(
            session,
            kind="import",
            content=b"kind;name\n",
            created_by_key_id=None,
            status="running",
            started_at=long_ago,
            heartbeat_at=long_ago,
        )
        session.commit()
        assert job.id is not None
        return job.id


def _sets_status(statement: str, parameters: Any, status: str) -> bool:
    """Whether a statement is an UPDATE of jobs giving ``status``."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    return statement.lstrip().upper().startswith("UPDATE JOB SET") and status in list(values)


def test_a_stale_job_taken_over_meanwhile_is_not_queued_again(
    engines: tuple[Engine, Engine],
) -> None:
    """Worker B saw the job stale; before B puts it back in the queue, worker A does so
    and claims it. B must leave it alone, or the job runs twice."""
    engine_a, engine_b = engines
    job_id = _stale_running_job(engine_a)
    claimed_by_a: list[Job | None] = []

    def a_gets_there_first(
        _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any
    ) -> None:
        if not claimed_by_a and _sets_status(statement, parameters, "queued"):
            claimed_by_a.append(jobs.claim_next(engine_a, {"import"}))

    event.listen(engine_b, "before_cursor_execute", a_gets_there_first)
    claimed_by_b = jobs.claim_next(engine_b, {"import"})

    assert claimed_by_a
    assert claimed_by_a[0] is not None
    assert claimed_by_a[0].id == job_id
    assert claimed_by_b is None, "the job was claimed by both workers"
    with Session(engine_a) as session:
        stored = session.get(Job, job_id)
        assert stored is not None
        assert stored.status == "running"


def test_each_queued_job_is_claimed_by_one_of_two_workers(
    engines: tuple[Engine, Engine],
) -> None:
    """Both workers go for the same oldest job at the same moment: one gets it, the
    other the next one."""
    engine_a, engine_b = engines
    with Session(engine_a) as session:
        queued = [
            jobs.enqueue(session, kind="import", content=b"x", created_by_key_id=None).id
            for _ in range(2)
        ]
        session.commit()
    claimed_by_a: list[Job | None] = []

    def a_claims_too(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not claimed_by_a and _sets_status(statement, parameters, "running"):
            claimed_by_a.append(jobs.claim_next(engine_a, {"import"}))

    event.listen(engine_b, "before_cursor_execute", a_claims_too)
    claimed_by_b = jobs.claim_next(engine_b, {"import"})

    assert claimed_by_a
    assert claimed_by_a[0] is not None
    assert claimed_by_b is not None
    assert sorted([claimed_by_a[0].id, claimed_by_b.id]) == queued
