"""Two hosts on one database: two real server processes, each with its own data folder
and index replica. A write through one is matched through the other by the very next
request (the match catches up with the change log first; no polling, no sleep), and
imports queued through both run once each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ADMIN_KEY, fresh_database
from tests.process.conftest import observe
from tests.process.server import Server

pytestmark = pytest.mark.slow

LAB = {
    "kind": "research",
    "name": "Hydrogen Embrittlement Laboratory",
    "region": "CZ064",
    "nace": ["72.19"],
    "profiles": [
        {
            "offers": "We test hydrogen embrittlement of high-strength steel fasteners. Slow "
            "strain rate tests and thermal desorption spectroscopy measure trapped hydrogen.",
            "keywords": ["hydrogen embrittlement", "steel"],
        }
    ],
}
OTHERS = [
    {
        "kind": "research",
        "name": "Centre for Machine Vision",
        "region": "CZ064",
        "profiles": [{"offers": "Machine vision inspects surfaces of manufactured parts."}],
    },
    {
        "kind": "research",
        "name": "Food Microbiology Laboratory",
        "region": "CZ010",
        "profiles": [{"offers": "We analyse microbial contamination in dairy products."}],
    },
]
STEEL_NEED = "Our high-strength steel bolts crack after galvanising: is it hydrogen embrittlement?"
HOPS_OFFER = "We analyse hop bitterness and aroma compounds of craft beer by chromatography."
HOPS_NEED = "Our brewery needs chromatography of hop bitterness in craft beer."
IMPORT_HEADER = "kind;name;ico;country;region;nace;offers;needs;keywords;contact_name;contact_email"
FILES, ROWS = 6, 24


@pytest.fixture(scope="module")
def hosts(
    _database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Hosts A and B: one database, a data folder each, started side by side. Index
    maintenance is hourly, so only the catch-up before each match can show a change."""
    folder = tmp_path_factory.mktemp("two-hosts")
    database_url = fresh_database(_database_template, folder)
    servers = [
        Server(
            folder / name,
            database_url,
            bootstrap_admin_key=ADMIN_KEY,
            rate_limit_per_minute="1000000",
            snapshot_interval_seconds="3600",
        )
        for name in ("host-a", "host-b")
    ]
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_ready()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.ensure_gone()


def _http(server: Server) -> httpx.Client:
    http = server.client()
    http.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    return http


def _created(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/api/v1/organizations", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _match(http: httpx.Client, need: str) -> list[dict[str, Any]]:
    """Every research result for a free-text need, however weak (so a missing one is
    missing from the index, not cut off by a threshold)."""
    response = http.post("/api/v1/matches", json={"text": need, "min_score": 0, "limit": 100})
    assert response.status_code == 201, response.text
    return list(response.json()["results"])


def _profile_ids(results: list[dict[str, Any]]) -> list[int]:
    return [result["profile_id"] for result in results]


def _score(results: list[dict[str, Any]], profile_id: int) -> float:
    [score] = [result["score"] for result in results if result["profile_id"] == profile_id]
    return float(score)


def test_a_write_through_one_host_is_matched_through_the_other_at_once(
    hosts: tuple[Server, Server],
) -> None:
    host_a, host_b = hosts
    with _http(host_a) as a, _http(host_b) as b:
        for body in OTHERS:
            _created(a, body)
        assert _match(b, STEEL_NEED)  # B has matched before: its replica is warm
        lab = _created(a, LAB)
        written = time.monotonic()
        found = _match(b, STEEL_NEED)
        seen = time.monotonic() - written
        profile_id = lab["profiles"][0]["id"]
        assert _profile_ids(found)[0] == profile_id

        steel_before = _score(_match(a, STEEL_NEED), profile_id)
        patched = b.patch(
            f"/api/v1/profiles/{profile_id}", json={"offers": HOPS_OFFER, "keywords": ["hops"]}
        )
        assert patched.status_code == 200, patched.text
        assert _profile_ids(_match(a, HOPS_NEED))[0] == profile_id
        assert _score(_match(a, STEEL_NEED), profile_id) < steel_before

        assert a.delete(f"/api/v1/organizations/{lab['id']}").status_code == 204
        deleted = time.monotonic()
        assert profile_id not in _profile_ids(_match(b, HOPS_NEED))
        gone = time.monotonic() - deleted
    observe(f"two hosts: a write through A was matched through B after {seen * 1000:.0f} ms")
    observe(f"two hosts: a delete through A was gone from B after {gone * 1000:.0f} ms")


def _import_file(number: int) -> bytes:
    """ROWS companies no other file names, each with a profile to embed."""
    rows = [
        f"company;Import Firm {number}-{row} s.r.o.;;CZ;CZ064;25.62;"
        f"We machine part family {number}-{row} from stainless steel on CNC lathes.;"
        f"We need surface treatment of batch {row} of part family {number}.;cnc;;"
        for row in range(ROWS)
    ]
    return ("\n".join([IMPORT_HEADER, *rows]) + "\n").encode()


def _queue(http: httpx.Client, number: int) -> int:
    response = http.post(
        "/api/v1/imports", files={"file": (f"firms-{number}.csv", _import_file(number))}
    )
    assert response.status_code == 202, response.text
    return int(response.json()["job_id"])


def _finished(http: httpx.Client, job_id: int, timeout: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get(f"/api/v1/jobs/{job_id}").json()
        if job["status"] in {"done", "failed", "cancelled"}:
            return dict(job)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s")


def _claims(server: Server, job_ids: list[int]) -> dict[int, int]:
    """How often this host's worker claimed each job (from its log)."""
    log = server.log.read_text()
    return {job_id: log.count(f"job {job_id} claimed\n") for job_id in job_ids}


def _duplicate_names(database_url: str) -> tuple[int, list[str]]:
    """Imported organisations stored, and names stored more than once."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                text("SELECT count(*) FROM organization WHERE name LIKE 'Import Firm %'")
            ).scalar_one()
            twice = connection.execute(
                text("SELECT name FROM organization GROUP BY name HAVING count(*) > 1")
            ).scalars()
            return int(stored), list(twice)
    finally:
        engine.dispose()


def test_imports_queued_through_both_hosts_run_once_each(hosts: tuple[Server, Server]) -> None:
    host_a, host_b = hosts
    with _http(host_a) as a, _http(host_b) as b:
        job_ids = [_queue((a, b)[number % 2], number) for number in range(FILES)]
        jobs = [_finished((b, a)[index % 2], job_id) for index, job_id in enumerate(job_ids)]
    for job in jobs:
        counts = {k: job[k] for k in ("status", "total", "created", "updated", "unchanged")}
        assert counts == {
            "status": "done",
            "total": ROWS,
            "created": ROWS,  # a second run would find every row stored: unchanged
            "updated": 0,
            "unchanged": 0,
        }, job
        assert (job["failed"], job["errors"]) == (0, [])
    by_a, by_b = _claims(host_a, job_ids), _claims(host_b, job_ids)
    assert all(by_a[job_id] + by_b[job_id] == 1 for job_id in job_ids), (by_a, by_b)
    assert sum(by_a.values()) >= 1
    assert sum(by_b.values()) >= 1
    for server in hosts:
        assert "lost its worker" not in server.log.read_text()
    stored, twice = _duplicate_names(host_a.env["PARTNERMATCH_DATABASE_URL"])
    assert (stored, twice) == (FILES * ROWS, [])
    observe(
        f"two hosts: {FILES} imports claimed {sum(by_a.values())} by A, {sum(by_b.values())} by B"
    )
