"""Opportunities through HTTP: opening, the pipeline, concurrency, the queue, the history."""

from __future__ import annotations

import csv
import io
import json
import threading
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from schemas.opportunities import NEXT_STAGE, allowed_moves
from tests.factories import profile_id_of

PROBLEM = "application/problem+json"
STATUSES = ["new", "contacted", "meeting", "agreement", "won", "declined", "archived"]
World = dict[str, dict[str, Any]]


def _open(client: TestClient, expected: int = 201, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/opportunities", json=body, headers={"X-Actor": "jana"})
    assert response.status_code == expected, response.text
    return dict(response.json())


def _pair(
    client: TestClient, world: World, first: str, second: str, **extra: Any
) -> dict[str, Any]:
    return _open(
        client, profile_ids=[profile_id_of(world, first), profile_id_of(world, second)], **extra
    )


def _patch(
    client: TestClient, opportunity: dict[str, Any], version: int | None = None, **body: Any
) -> httpx.Response:
    headers = {"X-Actor": "petr", "If-Match": f'"{version or opportunity["version"]}"'}
    return client.patch(f"/api/v1/opportunities/{opportunity['id']}", json=body, headers=headers)


def _events(client: TestClient, opportunity_id: int) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/opportunities/{opportunity_id}/events")
    assert response.status_code == 200
    return list(response.json()["items"])


def _move_to(client: TestClient, opportunity: dict[str, Any], status: str) -> dict[str, Any]:
    """Walk the pipeline from new to ``status`` by allowed moves."""
    path = {"declined": ["declined"], "archived": ["archived"]}.get(status)
    if path is None:
        path = []
        stage = "new"
        while stage != status:
            stage = NEXT_STAGE[stage]
            path.append(stage)
    for step in path:
        body: dict[str, Any] = {"status": step}
        if step == "declined":
            body["decline_reason"] = "no_capacity"
        response = _patch(client, opportunity, **body)
        assert response.status_code == 200, response.text
        opportunity = response.json()
    return opportunity


def test_open_from_a_match_result_keeps_the_match_behind_it(
    client: TestClient, world: World
) -> None:
    company = profile_id_of(world, "Ostrava Castings a.s.")
    run = client.post("/api/v1/matches", json={"profile_id": company, "limit": 3}).json()
    top = run["results"][0]
    response = client.post(
        "/api/v1/opportunities",
        json={"match_run_id": run["run_id"], "rank": 1, "owner": "jana", "due_date": "2030-01-31"},
        headers={"X-Actor": "jana"},
    )
    assert response.status_code == 201, response.text
    opened = response.json()
    assert response.headers["Location"] == f"/api/v1/opportunities/{opened['id']}"
    assert response.headers["ETag"] == '"1"'
    assert opened["status"] == "new"
    assert opened["version"] == 1
    assert [m["name"] for m in opened["members"]] == [
        "Ostrava Castings a.s.",
        top["organization"]["name"],
    ]
    assert opened["members"][0]["profile_id"] == company
    assert opened["region"] == "CZ080"  # the company's region
    assert (opened["owner"], opened["due_date"], opened["overdue"]) == ("jana", "2030-01-31", False)
    assert opened["source"] == "match"
    assert (opened["match_run_id"], opened["match_rank"]) == (run["run_id"], 1)
    assert opened["score"] == top["score"]
    assert opened["components"] == top["components"]
    [created] = _events(client, opened["id"])
    assert (created["kind"], created["actor"], created["to"]) == ("created", "jana", "new")
    assert client.get(f"/api/v1/opportunities/{opened['id']}").json() == opened


def test_the_same_organisations_cannot_have_two_active_opportunities(
    client: TestClient, world: World
) -> None:
    first = _pair(client, world, "Ostrava Castings a.s.", "Institute of Foundry Research")
    duplicate = _pair(
        client, world, "Institute of Foundry Research", "Ostrava Castings a.s.", expected=409
    )
    assert duplicate["existing"] == f"/api/v1/opportunities/{first['id']}"
    # once closed, the pair can be opened again
    _move_to(client, first, "declined")
    again = _pair(client, world, "Ostrava Castings a.s.", "Institute of Foundry Research")
    assert again["id"] != first["id"]


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        ({"match_run_id": 4242, "rank": 1}, 404, None),
        ({"match_run_id": 1}, 422, "#"),
        ({"profile_ids": [1]}, 422, "#/profile_ids"),
        ({"profile_ids": [1, 4242]}, 422, "#/profile_ids/1"),
        ({"profile_ids": [1, 2], "match_run_id": 1, "rank": 1}, 422, "#"),
        ({"profile_ids": [1, 2], "owner": "x" * 101}, 422, "#/owner"),
        ({"profile_ids": [1, 2], "region": "CZ999"}, 422, "#/region"),
        ({"profile_ids": [1, 2], "due_date": "tomorrow"}, 422, "#/due_date"),
    ],
)
def test_bad_openings_are_refused_and_store_nothing(
    client: TestClient, world: World, body: dict[str, Any], status: int, pointer: str | None
) -> None:
    del world
    response = client.post("/api/v1/opportunities", json=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    if pointer is not None:
        assert pointer in {error.get("pointer") for error in response.json()["errors"]}
    assert client.get("/api/v1/opportunities").json()["items"] == []


def test_a_free_text_run_has_no_source_to_pair(client: TestClient, world: World) -> None:
    del world
    run = client.post("/api/v1/matches", json={"text": "Porosity in aluminium castings."}).json()
    response = client.post("/api/v1/opportunities", json={"match_run_id": run["run_id"], "rank": 1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/match_run_id"
    bad_rank = client.post(
        "/api/v1/opportunities", json={"match_run_id": run["run_id"], "rank": 99}
    )
    assert bad_rank.json()["errors"][0]["pointer"] == "#/rank"


def test_two_profiles_of_one_organisation_are_not_a_pair(client: TestClient, world: World) -> None:
    foundry = world["Institute of Foundry Research"]
    extra = client.post(
        f"/api/v1/organizations/{foundry['id']}/profiles", json={"offers": "Casting simulation."}
    )
    assert extra.status_code == 201, extra.text
    response = client.post(
        "/api/v1/opportunities",
        json={"profile_ids": [foundry["profiles"][0]["id"], extra.json()["id"]]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/profile_ids/1"


@pytest.mark.parametrize("start", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_every_pipeline_move(client: TestClient, world: World, start: str, target: str) -> None:
    opportunity = _move_to(
        client, _pair(client, world, "Zlín Plastics s.r.o.", "Polymer Processing Institute"), start
    )
    body: dict[str, Any] = {"status": target}
    if target == "declined":
        body["decline_reason"] = "not_a_fit"
    before = len(_events(client, opportunity["id"]))
    response = _patch(client, opportunity, **body)
    if target == start:
        assert response.status_code == 200  # nothing to change
        assert response.json()["version"] == opportunity["version"]
    elif target in allowed_moves(start):
        assert response.status_code == 200, response.text
        moved = response.json()
        assert (moved["status"], moved["version"]) == (target, opportunity["version"] + 1)
        assert response.headers["ETag"] == f'"{moved["version"]}"'
        event = _events(client, opportunity["id"])[-1]
        assert (event["kind"], event["from"], event["to"], event["actor"]) == (
            "status",
            start,
            target,
            "petr",
        )
    else:
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["allowed"] == allowed_moves(start)
        for allowed in problem["allowed"]:
            assert allowed in problem["detail"]
        assert client.get(f"/api/v1/opportunities/{opportunity['id']}").json() == opportunity
        assert len(_events(client, opportunity["id"])) == before


def test_declining_needs_a_reason_from_the_list_and_keeps_the_text(
    client: TestClient, world: World
) -> None:
    opportunity = _pair(client, world, "Mlékárna Vzor s.r.o.", "Food Microbiology Laboratory")
    assert _patch(client, opportunity, status="declined").status_code == 422
    wrong = _patch(client, opportunity, status="declined", decline_reason="bored")
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["pointer"] == "#/decline_reason"
    declined = _patch(
        client,
        opportunity,
        status="declined",
        decline_reason="no_funding",
        note="Rozpočet škrtnut.",
    )
    assert declined.status_code == 200
    assert declined.json()["decline_reason"] == "no_funding"
    event = _events(client, opportunity["id"])[-1]
    assert (event["kind"], event["to"], event["text"]) == (
        "status",
        "declined",
        "Rozpočet škrtnut.",
    )


def test_edits_need_the_current_version(client: TestClient, world: World) -> None:
    opportunity = _pair(client, world, "Mlékárna Vzor s.r.o.", "Food Microbiology Laboratory")
    url = f"/api/v1/opportunities/{opportunity['id']}"
    missing = client.patch(url, json={"owner": "eva"})
    assert missing.status_code == 428
    assert missing.headers["content-type"] == PROBLEM
    assert _patch(client, opportunity, owner="eva").status_code == 200
    stale = _patch(client, opportunity, version=1, owner="karel")
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert client.get(url).json()["owner"] == "eva"
    kinds = [(e["kind"], e["from"], e["to"]) for e in _events(client, opportunity["id"])]
    assert kinds == [("created", None, "new"), ("owner", None, "eva")]


def test_concurrent_edits_of_one_version_one_wins_one_gets_412(
    client: TestClient, world: World
) -> None:
    opportunity = _pair(client, world, "Ostrava Castings a.s.", "Centre for Machine Vision")
    barrier = threading.Barrier(2)
    responses: list[httpx.Response] = []

    def edit(owner: str) -> None:
        barrier.wait()
        responses.append(_patch(client, opportunity, owner=owner, status="contacted"))

    threads = [threading.Thread(target=edit, args=(owner,)) for owner in ("eva", "karel")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.status_code for r in responses) == [200, 412]
    winner = next(r.json() for r in responses if r.status_code == 200)
    stored = client.get(f"/api/v1/opportunities/{opportunity['id']}").json()
    assert stored == winner
    assert stored["version"] == 2
    events = _events(client, opportunity["id"])
    assert [(e["kind"], e["to"]) for e in events] == [
        ("created", "new"),
        ("status", "contacted"),
        ("owner", winner["owner"]),
    ]


def test_notes_join_the_history_without_changing_the_version(
    client: TestClient, world: World
) -> None:
    opportunity = _pair(client, world, "Zlín Plastics s.r.o.", "Polymer Processing Institute")
    url = f"/api/v1/opportunities/{opportunity['id']}"
    for text in ("Volal jsem řediteli.", "Schůzka domluvena na úterý."):
        response = client.post(f"{url}/notes", json={"text": text}, headers={"X-Actor": "eva"})
        assert response.status_code == 201, response.text
        assert (response.json()["kind"], response.json()["actor"]) == ("note", "eva")
    assert client.post(f"{url}/notes", json={"text": ""}).status_code == 422
    assert client.post("/api/v1/opportunities/4242/notes", json={"text": "x"}).status_code == 404
    assert client.get(url).json()["version"] == 1
    first = client.get(f"{url}/events", params={"limit": 2}).json()
    rest = client.get(f"{url}/events", params={"cursor": first["next_cursor"]}).json()
    texts = [e["text"] for e in first["items"] + rest["items"]]
    assert texts == [None, "Volal jsem řediteli.", "Schůzka domluvena na úterý."]
    assert rest["next_cursor"] is None


def test_the_queue_filters_and_pages(client: TestClient, world: World) -> None:
    castings = world["Ostrava Castings a.s."]["id"]
    a = _pair(client, world, "Ostrava Castings a.s.", "Institute of Foundry Research", owner="eva")
    b = _pair(
        client,
        world,
        "Ostrava Castings a.s.",
        "Centre for Machine Vision",
        due_date=(date.today() - timedelta(days=1)).isoformat(),
    )
    c = _pair(client, world, "Mlékárna Vzor s.r.o.", "Food Microbiology Laboratory", owner="eva")
    _move_to(client, c, "contacted")

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/v1/opportunities", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids() == [a["id"], b["id"], c["id"]]
    assert ids(status="new") == [a["id"], b["id"]]
    assert ids(status=["contacted", "won"]) == [c["id"]]
    assert ids(owner="eva") == [a["id"], c["id"]]
    assert ids(region="CZ031") == [c["id"]]
    assert ids(organization_id=castings) == [a["id"], b["id"]]
    assert ids(overdue=True) == [b["id"]]
    assert ids(created_from="2000-01-01T00:00:00Z", created_to="2000-01-02T00:00:00Z") == []
    assert ids(updated_from=c["created_at"]) == [c["id"]]  # a and b were not touched since
    page = client.get("/api/v1/opportunities", params={"limit": 2}).json()
    rest = client.get("/api/v1/opportunities", params={"cursor": page["next_cursor"]}).json()
    assert [i["id"] for i in page["items"] + rest["items"]] == [a["id"], b["id"], c["id"]]
    assert client.get("/api/v1/opportunities", params={"status": "open"}).status_code == 422
    assert client.get("/api/v1/opportunities", params={"cursor": "junk"}).status_code == 422


def test_unknown_opportunity_gives_404(client: TestClient) -> None:
    for response in (
        client.get("/api/v1/opportunities/4242"),
        client.get("/api/v1/opportunities/4242/events"),
        client.patch(
            "/api/v1/opportunities/4242", json={"owner": "x"}, headers={"If-Match": '"1"'}
        ),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM


def test_the_queue_sorts_and_pages_in_that_order(client: TestClient, world: World) -> None:
    soon = (date.today() + timedelta(days=3)).isoformat()
    later = (date.today() + timedelta(days=30)).isoformat()
    a = _pair(
        client, world, "Ostrava Castings a.s.", "Institute of Foundry Research", due_date=later
    )
    b = _pair(client, world, "Ostrava Castings a.s.", "Centre for Machine Vision")
    c = _pair(client, world, "Mlékárna Vzor s.r.o.", "Food Microbiology Laboratory", due_date=soon)
    d = _pair(client, world, "Zlín Plastics s.r.o.", "Polymer Processing Institute", due_date=soon)
    _patch(client, a, owner="eva")  # a becomes the most recently updated

    def walk(sort: str, limit: int) -> list[int]:
        found: list[int] = []
        params: dict[str, Any] = {"sort": sort, "limit": limit}
        while True:
            page = client.get("/api/v1/opportunities", params=params).json()
            found += [item["id"] for item in page["items"]]
            if page["next_cursor"] is None:
                return found
            params["cursor"] = page["next_cursor"]

    ids = [a["id"], b["id"], c["id"], d["id"]]
    for limit in (1, 3, 10):
        assert walk("id", limit) == ids
        assert walk("-id", limit) == ids[::-1]
        assert walk("due_date", limit) == [c["id"], d["id"], a["id"], b["id"]]  # none last
        assert walk("-due_date", limit) == [b["id"], a["id"], d["id"], c["id"]]
        assert walk("-updated_at", limit) == [a["id"], d["id"], c["id"], b["id"]]
        assert walk("created_at", limit) == ids
    first = client.get("/api/v1/opportunities", params={"sort": "due_date", "limit": 1}).json()
    other_order = client.get(
        "/api/v1/opportunities", params={"sort": "-id", "cursor": first["next_cursor"]}
    )
    assert other_order.status_code == 422
    assert client.get("/api/v1/opportunities", params={"sort": "owner"}).status_code == 422


def test_export_gives_the_same_selection_as_csv_and_json_lines(
    client: TestClient, world: World
) -> None:
    a = _pair(
        client, world, "Mlékárna Vzor s.r.o.", "Food Microbiology Laboratory", owner="Šárka Říhová"
    )
    _pair(client, world, "Ostrava Castings a.s.", "Centre for Machine Vision")
    c = _pair(
        client, world, "Zlín Plastics s.r.o.", "Polymer Processing Institute", owner="Šárka Říhová"
    )
    params = {"owner": "Šárka Říhová", "sort": "-id"}

    response = client.get("/api/v1/opportunities/export", params={**params, "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == [c["id"], a["id"]]
    assert rows[1]["members"] == "Mlékárna Vzor s.r.o. | Food Microbiology Laboratory"
    assert rows[1]["owner"] == "Šárka Říhová"
    assert rows[1]["status"] == "new"

    lines = client.get("/api/v1/opportunities/export", params={**params, "format": "jsonl"})
    assert lines.headers["content-type"] == "application/x-ndjson"
    exported = [json.loads(line) for line in lines.text.splitlines()]
    listed = client.get("/api/v1/opportunities", params=params).json()["items"]
    assert exported == listed
    bad = client.get("/api/v1/opportunities/export", params={"format": "xlsx"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
