"""``partnermatch serve --workers 2`` on an empty PostgreSQL database: the parent
migrates and stores the bootstrap key, each worker builds its own app and index
replica, and a write answered by one worker is matched by the other at once.

PostgreSQL only: what is particular to ``--workers`` (one parent preparing the
database, an app and a replica per worker) does not depend on the database, and
SQLite's catch-up across processes is covered by test_two_workers.py."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY, PG_URL
from tests.process.conftest import observe
from tests.process.server import Server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PG_URL is None, reason="PostgreSQL only: see the module docstring"),
]

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
LABS = [
    (
        {
            "kind": "research",
            "name": "Hydrogen Embrittlement Laboratory",
            "region": "CZ064",
            "profiles": [
                {
                    "offers": "We test hydrogen embrittlement of high-strength steel fasteners "
                    "with slow strain rate tests and thermal desorption spectroscopy."
                }
            ],
        },
        "Our high-strength steel bolts crack after galvanising: is it hydrogen embrittlement?",
    ),
    (
        {
            "kind": "research",
            "name": "Brewing Chemistry Laboratory",
            "region": "CZ064",
            "profiles": [
                {
                    "offers": "We analyse hop bitterness and aroma compounds of craft beer by "
                    "gas chromatography."
                }
            ],
        },
        "Our brewery needs chromatography of hop bitterness in craft beer.",
    ),
]
TRIES = 60  # requests until the other worker takes one (each goes on a new connection)


@pytest.fixture
def workers(empty_database: str, tmp_path: Path) -> Iterator[Server]:
    """``serve --workers 2`` on an empty database, both workers ready; index
    maintenance hourly, so only the catch-up before each match can show a change."""
    server = Server(
        tmp_path / "data",
        empty_database,
        workers=2,
        bootstrap_admin_key=ADMIN_KEY,
        rate_limit_per_minute="1000000",
        snapshot_interval_seconds="3600",
    )
    started = time.monotonic()
    try:
        server.start(timeout=240)
        observe(f"serve --workers 2: both workers ready after {time.monotonic() - started:.0f} s")
        yield server
    finally:
        server.ensure_gone()


def _match(server: Server, need: str) -> tuple[list[tuple[int, float]], int]:
    """(profile id, score) of every research result for a need, and who answered."""
    response, pid = server.request(
        "POST",
        "/api/v1/matches",
        json={"text": need, "min_score": 0, "limit": 100},
        headers=AUTH,
    )
    assert response.status_code == 201, response.text
    return [(r["profile_id"], r["score"]) for r in response.json()["results"]], pid


def _match_elsewhere(server: Server, need: str, not_by: int) -> list[int]:
    """The profile ids of the first match answered by a worker other than ``not_by``."""
    for _ in range(TRIES):
        results, pid = _match(server, need)
        if pid != not_by:
            return [profile_id for profile_id, _ in results]
    raise AssertionError(f"worker {not_by} answered {TRIES} matches in a row")


def _answers_from_both(server: Server, need: str) -> list[tuple[list[tuple[int, float]], int]]:
    """Matches of one need until each worker answered at least five (or 100 in all)."""
    answers: list[tuple[list[tuple[int, float]], int]] = []
    while len(answers) < 100:
        answers.append(_match(server, need))
        by_worker = Counter(pid for _, pid in answers)
        if len(by_worker) == 2 and min(by_worker.values()) >= 5:
            break
    return answers


def _write(server: Server, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, int]:
    response, pid = server.request(method, path, headers=AUTH, **kwargs)
    assert response.is_success, response.text
    return response, pid


def test_a_write_answered_by_one_worker_is_matched_by_the_other(workers: Server) -> None:
    pids = workers.worker_pids()
    assert len(pids) == 2
    stored: list[dict[str, Any]] = []
    for body, need in LABS:
        response, writer = _write(workers, "POST", "/api/v1/organizations", json=body)
        stored.append(response.json())
        found = _match_elsewhere(workers, need, not_by=writer)
        assert found[0] == stored[-1]["profiles"][0]["id"]

    answers = _answers_from_both(workers, LABS[0][1])
    assert {pid for _, pid in answers} == pids, "one worker answered every match"
    assert all(results == answers[0][0] for results, _ in answers)
    split = sorted(Counter(pid for _, pid in answers).values())
    observe(f"serve --workers 2: {len(answers)} equal answers, {split} from each worker")

    gone = stored[0]
    _, deleter = _write(workers, "DELETE", f"/api/v1/organizations/{gone['id']}")
    assert gone["profiles"][0]["id"] not in _match_elsewhere(workers, LABS[0][1], deleter)

    log = workers.log.read_text()
    assert "died" not in log, "uvicorn restarted a worker"
    assert workers.worker_pids() == pids
