"""A real server process: restarts, kill -9, and a slow match beside /healthz."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import COMPANIES, RESEARCH
from tests.process.server import Server

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    """A server on this test's database; snapshots every half second."""
    running = Server(tmp_path / "data", database_url, snapshot_interval_seconds="0.5")
    yield running
    if running.process is not None and running.process.poll() is None:
        running.kill()


def _load(http: httpx.Client, bodies: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    stored = {}
    for body in bodies:
        response = http.post("/api/v1/organizations", json=body)
        assert response.status_code == 201, response.text
        stored[body["name"]] = response.json()
    return stored


def _results(http: httpx.Client, **request: Any) -> list[dict[str, Any]]:
    response = http.post("/api/v1/matches", json=request)
    assert response.status_code == 201, response.text
    return list(response.json()["results"])


def test_restart_keeps_everything_and_answers_the_same(server: Server) -> None:
    server.start()
    with server.client() as http:
        world = _load(http, RESEARCH + COMPANIES)
        request = {"profile_id": world["Ostrava Castings a.s."]["profiles"][0]["id"]}
        before = _results(http, **request)
        run_id = http.get("/api/v1/match-runs").json()["items"][0]["run_id"]
    server.stop()
    server.start()
    with server.client() as http:
        assert _results(http, **request) == before
        assert http.get(f"/api/v1/match-runs/{run_id}").json()["results"] == before
        assert len(http.get("/api/v1/organizations").json()["items"]) == len(world)
    assert "index snapshot loaded" in server.log.read_text()


def test_kill_9_loses_no_committed_profile_and_returns_no_deleted_one(server: Server) -> None:
    server.start()
    with server.client() as http:
        world = _load(http, RESEARCH + COMPANIES)
        time.sleep(1.5)  # a snapshot holding the first writes is on disk now
        foundry = world["Institute of Foundry Research"]
        assert http.delete(f"/api/v1/organizations/{foundry['id']}").status_code == 204
        late = _load(
            http,
            [
                {
                    "kind": "research",
                    "name": "Late Casting Institute",
                    "region": "CZ080",
                    "profiles": [
                        {
                            "offers": "Computed tomography of aluminium castings finds porosity "
                            "and shrinkage defects.",
                        }
                    ],
                }
            ],
        )["Late Casting Institute"]
        request = {"profile_id": world["Ostrava Castings a.s."]["profiles"][0]["id"]}
        before = _results(http, **request)
    server.kill()
    server.start()
    with server.client() as http:
        after = _results(http, **request)
        assert after == before
        names = [result["organization"]["name"] for result in after]
        assert names[0] == "Late Casting Institute"
        assert "Institute of Foundry Research" not in names
        found = _results(http, text="X-ray tomography of castings", limit=20)
        returned = {result["profile_id"] for result in found}
        assert late["profiles"][0]["id"] in returned
        assert foundry["profiles"][0]["id"] not in returned
        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["profiles"] == len(RESEARCH) + len(COMPANIES)


def test_slow_matches_do_not_stall_healthz(server: Server) -> None:
    server.start()
    long_need = " ".join(
        f"Requirement {i}: we need help with laser welding of thin steel sheet number {i}."
        for i in range(130)
    )[:10_000]
    with server.client() as http:
        _load(http, RESEARCH)
        finished: list[float] = []

        def slow_match() -> None:
            with server.client() as own:
                response = own.post("/api/v1/matches", json={"text": long_need})
                assert response.status_code == 201
            finished.append(time.monotonic())

        workers = [threading.Thread(target=slow_match) for _ in range(6)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        latencies = []
        while any(worker.is_alive() for worker in workers):
            sent = time.monotonic()
            assert http.get("/healthz").status_code == 200
            latencies.append(time.monotonic() - sent)
            time.sleep(0.02)
        for worker in workers:
            worker.join()
    matching_took = max(finished) - started
    answered_meanwhile = len(latencies)
    assert matching_took > 1.0, "the matches were too fast to show anything"
    assert answered_meanwhile >= 10
    assert max(latencies) < matching_took / 3
