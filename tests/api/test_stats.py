"""Region figures through HTTP, checked against numbers worked out by hand.

The data is made through the API; only what a test cannot steer through it is
then set in the database: the times (so that the days between stages are known)
and the match scores (the model's scores are not numbers to work out by hand).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, create_engine, select

from schemas.opportunities import NEXT_STAGE
from service.models import Opportunity, OpportunityEvent
from service.stats.service import PIPELINE
from tests.factories import organization, profile, profile_id_of

PROBLEM = "application/problem+json"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
World = dict[str, dict[str, Any]]
STEPS = [
    ("new", "contacted"),
    ("contacted", "meeting"),
    ("meeting", "agreement"),
    ("agreement", "won"),
]


def _zeros(code: str) -> dict[str, Any]:
    """The figures of a region where nothing is recorded."""
    return {
        "region": code,
        "organizations": {"company": 0, "research": 0},
        "profiles": 0,
        "match_runs": 0,
        "opportunities": {
            "total": 0,
            "by_status": {
                "new": 0,
                "contacted": 0,
                "meeting": 0,
                "agreement": 0,
                "won": 0,
                "declined": 0,
                "archived": 0,
            },
        },
        "conversion": [
            {"from": start, "to": end, "reached_from": 0, "reached_to": 0, "rate": None}
            for start, end in STEPS
        ],
        "median_days": {"new_to_contacted": None, "new_to_agreement": None},
        "score_bands": [],
    }


def _post(client: TestClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(url, json=body, headers={"X-Actor": "jana"})
    assert response.status_code == 201, response.text
    return dict(response.json())


def _rank_of(run: dict[str, Any], name: str) -> int:
    return next(int(r["rank"]) for r in run["results"] if r["organization"]["name"] == name)


def _walk(client: TestClient, opportunity: dict[str, Any], *statuses: str) -> dict[str, Any]:
    """Move an opportunity through ``statuses``, one PATCH each."""
    for status in statuses:
        body: dict[str, Any] = {"status": status}
        if status == "declined":
            body["decline_reason"] = "no_capacity"
        response = client.patch(
            f"/api/v1/opportunities/{opportunity['id']}",
            json=body,
            headers={"If-Match": f'"{opportunity["version"]}"', "X-Actor": "petr"},
        )
        assert response.status_code == 200, response.text
        opportunity = response.json()
    return opportunity


def _set_in_database(
    database_url: str,
    opportunity: dict[str, Any],
    *,
    opened: datetime,
    score: float | None = None,
    **moves: timedelta,
) -> None:
    """Opened at ``opened``, moved to each stage ``moves[stage]`` later; the match score."""
    engine = create_engine(database_url)
    with Session(engine) as session:
        stored = session.get(Opportunity, opportunity["id"])
        assert stored is not None
        stored.created_at = opened
        if score is not None:
            assert stored.score is not None  # opened from a match
            stored.score = score
        session.add(stored)
        events = session.exec(
            select(OpportunityEvent).where(OpportunityEvent.opportunity_id == opportunity["id"])
        )
        for event in events:
            if event.kind == "created":
                event.at = opened
            elif event.kind == "status" and event.to_value in moves:
                event.at = opened + moves[event.to_value]
            session.add(event)
        session.commit()
    engine.dispose()


@pytest.fixture
def recorded(client: TestClient, world: World, database_url: str) -> dict[str, Any]:
    """Organisations, runs and opportunities in CZ080, CZ064 and beyond (see each test)."""
    # Organisations (world: tests/factories.py) plus three more.
    brno = _post(
        client,
        "/api/v1/organizations",
        organization(
            name="Brno Optics s.r.o.",
            region="CZ064",
            profiles=[
                profile(offers="We grind precision optical lenses."),
                profile(needs="We need coatings that resist scratching."),
            ],
        ),
    )
    _post(
        client,
        "/api/v1/organizations",
        organization(name="Ostrava Steel a.s.", region="CZ080", profiles=[]),
    )
    german = _post(
        client,
        "/api/v1/organizations",
        organization(kind="research", name="Institut Beispiel", country="DE", region=None),
    )
    castings = world["Ostrava Castings a.s."]
    second = _post(
        client,
        f"/api/v1/organizations/{castings['id']}/profiles",
        profile(needs="We look for a partner to recycle foundry sand."),
    )
    # Match runs.
    run_castings = _post(
        client,
        "/api/v1/matches",
        {"profile_id": profile_id_of(world, "Ostrava Castings a.s."), "min_score": 0, "limit": 20},
    )
    _post(client, "/api/v1/matches", {"profile_id": second["id"]})
    run_brno = _post(
        client,
        "/api/v1/matches",
        {"profile_id": brno["profiles"][0]["id"], "target": "research", "min_score": 0},
    )
    _post(client, "/api/v1/matches", {"text": "Porosity in aluminium castings."})
    _post(client, "/api/v1/matches", {"profile_id": profile_id_of(world, "Zlín Plastics s.r.o.")})
    _post(client, "/api/v1/matches", {"profile_id": german["profiles"][0]["id"]})
    _post(client, "/api/v1/matches", {"profile_id": profile_id_of(world, "Mlékárna Vzor s.r.o.")})

    def from_run(run: dict[str, Any], partner: str) -> dict[str, Any]:
        body = {"match_run_id": run["run_id"], "rank": _rank_of(run, partner)}
        return _post(client, "/api/v1/opportunities", body)

    def pair(first: int, other: str, **extra: Any) -> dict[str, Any]:
        body = {"profile_ids": [first, profile_id_of(world, other)], **extra}
        return _post(client, "/api/v1/opportunities", body)

    # Opened while the dairy is in CZ031 (its region is kept), then the dairy moves to CZ064.
    dairy = profile_id_of(world, "Mlékárna Vzor s.r.o.")
    dairy_lab = pair(dairy, "Food Microbiology Laboratory")
    moved = client.patch(
        f"/api/v1/organizations/{world['Mlékárna Vzor s.r.o.']['id']}", json={"region": "CZ064"}
    )
    assert moved.status_code == 200, moved.text

    # CZ080: the region of Ostrava Castings, the first company of o1-o5, o7, o8.
    cast = profile_id_of(world, "Ostrava Castings a.s.")
    zlin = profile_id_of(world, "Zlín Plastics s.r.o.")
    o1 = from_run(run_castings, "Institute of Foundry Research")
    o1 = _walk(client, o1, "contacted", "meeting", "agreement", "won")
    o2 = from_run(run_castings, "Centre for Machine Vision")
    o2 = _walk(client, o2, "contacted", "meeting", "declined")
    o3 = _walk(client, from_run(run_castings, "Food Microbiology Laboratory"), "contacted")
    o4 = _walk(client, pair(cast, "Polymer Processing Institute"), "archived")
    o5 = pair(cast, "Institute of Foundry Research")  # again: o1 is closed
    o6 = pair(zlin, "Polymer Processing Institute", region="CZ080")  # region given
    o6 = _walk(client, o6, "contacted", "meeting", "agreement", "won")
    o7 = from_run(run_castings, "Centre for Machine Vision")  # again: o2 is closed
    o7 = _walk(client, o7, "contacted", "meeting", "agreement")
    o8 = _walk(client, pair(cast, "Polymer Processing Institute"), "contacted", "declined")
    # CZ064: the region of Brno Optics.
    p1 = _walk(client, pair(brno["profiles"][0]["id"], "Centre for Machine Vision"), "contacted")
    p2 = _walk(client, from_run(run_brno, "Institute of Foundry Research"), "declined")

    day, hour = timedelta(days=1), timedelta(hours=1)
    times: list[tuple[dict[str, Any], float | None, dict[str, timedelta]]] = [
        (o1, 0.91, {"contacted": 2 * day + 8 * hour, "agreement": 10 * day + 12 * hour}),
        (o2, 0.85, {"contacted": 1 * day}),
        (o3, 0.30, {"contacted": 4 * day}),
        (o4, None, {}),
        (o5, None, {}),
        (o6, None, {"contacted": 3 * day, "agreement": 7 * day}),
        (o7, 1.0, {"contacted": 12 * hour, "agreement": 30 * day}),
        (o8, None, {"contacted": 10 * day}),
        (p1, None, {"contacted": 1 * day + 12 * hour}),
        (p2, 0.05, {}),
        (dairy_lab, None, {}),
    ]
    for index, (opportunity, score, moves) in enumerate(times):
        opened = T0 + index * day  # each its own opening time
        _set_in_database(database_url, opportunity, opened=opened, score=score, **moves)
    return {"dairy_lab": dairy_lab}


CZ080 = {
    "region": "CZ080",
    # Institute of Foundry Research; Ostrava Castings, Ostrava Steel
    "organizations": {"company": 2, "research": 1},
    "profiles": 3,  # Foundry 1 + Castings 2 + Steel 0
    "match_runs": 2,  # the two runs for Castings' profiles
    "opportunities": {
        "total": 8,  # o1 … o8
        "by_status": {
            "new": 1,  # o5
            "contacted": 1,  # o3
            "meeting": 0,
            "agreement": 1,  # o7
            "won": 2,  # o1, o6
            "declined": 2,  # o2, o8
            "archived": 1,  # o4
        },
    },
    "conversion": [
        # new: all 8; contacted: o1 o2 o3 o6 o7 o8 → 6/8
        {"from": "new", "to": "contacted", "reached_from": 8, "reached_to": 6, "rate": 0.75},
        # meeting: o1 o2 o6 o7 → 4/6 = 0.66666…
        {"from": "contacted", "to": "meeting", "reached_from": 6, "reached_to": 4, "rate": 0.6667},
        # agreement: o1 o6 o7 → 3/4
        {"from": "meeting", "to": "agreement", "reached_from": 4, "reached_to": 3, "rate": 0.75},
        # won: o1 o6 → 2/3
        {"from": "agreement", "to": "won", "reached_from": 3, "reached_to": 2, "rate": 0.6667},
    ],
    "median_days": {
        # days to contacted: o7 0.5, o2 1, o1 2.333…, o6 3, o3 4, o8 10 → (2.333… + 3) / 2
        "new_to_contacted": 2.67,
        # days to agreement: o6 7, o1 10.5, o7 30 → the middle one
        "new_to_agreement": 10.5,
    },
    "score_bands": [
        # o3 (0.30, contacted): nothing decided
        {"band": "0.3-0.4", "opened": 1, "won": 0, "declined": 0, "active": 1, "win_rate": None},
        # o2 (0.85, declined): 0 / (0 + 1)
        {"band": "0.8-0.9", "opened": 1, "won": 0, "declined": 1, "active": 0, "win_rate": 0.0},
        # o1 (0.91, won), o7 (1.0: the last band, agreement): 1 / (1 + 0)
        {"band": "0.9-1.0", "opened": 2, "won": 1, "declined": 0, "active": 1, "win_rate": 1.0},
        # hand-made: o4 archived, o5 new, o6 won, o8 declined: 1 / (1 + 1)
        {"band": "none", "opened": 4, "won": 1, "declined": 1, "active": 1, "win_rate": 0.5},
    ],
}

CZ064 = {
    "region": "CZ064",
    # Centre for Machine Vision; Brno Optics, and the dairy that moved here from CZ031
    "organizations": {"company": 2, "research": 1},
    "profiles": 4,  # Vision 1 + Brno 2 + dairy 1
    "match_runs": 2,  # Brno's run, and the dairy's (made in CZ031; counted where it is now)
    "opportunities": {
        "total": 2,  # p1, p2 (the dairy's opportunity stays in CZ031)
        "by_status": {
            "new": 0,
            "contacted": 1,  # p1
            "meeting": 0,
            "agreement": 0,
            "won": 0,
            "declined": 1,  # p2
            "archived": 0,
        },
    },
    "conversion": [
        # new: p1 p2; contacted: p1 → 1/2
        {"from": "new", "to": "contacted", "reached_from": 2, "reached_to": 1, "rate": 0.5},
        # meeting: none → 0/1
        {"from": "contacted", "to": "meeting", "reached_from": 1, "reached_to": 0, "rate": 0.0},
        # nobody reached meeting or agreement: no rate
        {"from": "meeting", "to": "agreement", "reached_from": 0, "reached_to": 0, "rate": None},
        {"from": "agreement", "to": "won", "reached_from": 0, "reached_to": 0, "rate": None},
    ],
    # p1 contacted after 1 day 12 hours; nobody reached agreement
    "median_days": {"new_to_contacted": 1.5, "new_to_agreement": None},
    "score_bands": [
        # p2 (0.05, declined): 0 / (0 + 1)
        {"band": "0.0-0.1", "opened": 1, "won": 0, "declined": 1, "active": 0, "win_rate": 0.0},
        # p1 (hand-made, contacted)
        {"band": "none", "opened": 1, "won": 0, "declined": 0, "active": 1, "win_rate": None},
    ],
}


def test_the_figures_of_a_region_are_the_ones_worked_out_by_hand(
    client: TestClient, recorded: dict[str, Any]
) -> None:
    del recorded
    for expected in (CZ080, CZ064):
        response = client.get(f"/api/v1/stats/regions/{expected['region']}")
        assert response.status_code == 200, response.text
        assert response.json() == expected


def test_the_list_has_every_region_with_an_organisation_or_an_opportunity(
    client: TestClient, recorded: dict[str, Any]
) -> None:
    response = client.get("/api/v1/stats/regions")
    assert response.status_code == 200, response.text
    items = {item["region"]: item for item in response.json()["items"]}
    # by code; Institut Beispiel has no region and its run counts nowhere
    assert list(items) == ["CZ010", "CZ031", "CZ064", "CZ072", "CZ080"]
    assert (items["CZ064"], items["CZ080"]) == (CZ064, CZ080)
    assert items["CZ010"] == {
        **_zeros("CZ010"),
        "organizations": {"company": 0, "research": 1},  # Food Microbiology Laboratory
        "profiles": 1,
    }
    assert items["CZ072"] == {
        **_zeros("CZ072"),
        "organizations": {"company": 1, "research": 1},  # Zlín Plastics; Polymer Processing
        "profiles": 2,
        "match_runs": 1,  # Zlín's run; o6 of Zlín and Polymer was given region CZ080
    }
    # No organisation left (the dairy moved), but the dairy's opportunity is here, new.
    cz031 = _zeros("CZ031")
    cz031["opportunities"]["total"] = 1
    cz031["opportunities"]["by_status"]["new"] = 1
    cz031["conversion"][0].update(reached_from=1, rate=0.0)  # 0/1 contacted
    cz031["score_bands"] = [
        {"band": "none", "opened": 1, "won": 0, "declined": 0, "active": 1, "win_rate": None}
    ]
    assert items["CZ031"] == cz031
    assert client.get("/api/v1/stats/regions/CZ031").json() == cz031
    assert client.get(f"/api/v1/opportunities/{recorded['dairy_lab']['id']}").json()["region"] == (
        "CZ031"
    )


def test_an_old_czech_code_reads_the_current_region(
    client: TestClient, recorded: dict[str, Any]
) -> None:
    del recorded
    current = client.get("/api/v1/stats/regions/CZ010").json()
    old = client.get("/api/v1/stats/regions/cz011")  # pre-2004 code of Prague, lower case
    assert old.status_code == 200, old.text
    assert old.json() == current
    assert current["organizations"] == {"company": 0, "research": 1}


@pytest.mark.parametrize("code", ["CZ053", "DE212"])
def test_a_region_without_data_has_zeros(client: TestClient, world: World, code: str) -> None:
    del world
    response = client.get(f"/api/v1/stats/regions/{code}")
    assert response.status_code == 200, response.text
    assert response.json() == _zeros(code)


def test_no_data_no_regions(client: TestClient) -> None:
    response = client.get("/api/v1/stats/regions")
    assert response.status_code == 200
    assert response.json() == {"items": []}


@pytest.mark.parametrize(
    ("code", "detail"),
    [
        ("CZ999", "unknown region code 'CZ999': not a Czech NUTS 3 region"),
        ("CZ0800", "unknown region code 'CZ0800' (NUTS 3 expected, e.g. CZ080)"),
        ("80", "unknown region code '80' (NUTS 3 expected, e.g. CZ080)"),
    ],
)
def test_an_invalid_code_gives_422_naming_the_parameter(
    client: TestClient, code: str, detail: str
) -> None:
    response = client.get(f"/api/v1/stats/regions/{code}")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["instance"] == f"/api/v1/stats/regions/{code}"
    assert problem["errors"] == [{"parameter": "code", "in": "path", "detail": detail}]


def test_the_pipeline_of_the_figures_is_the_pipeline_of_opportunities() -> None:
    assert PIPELINE == ("new", *NEXT_STAGE.values())
