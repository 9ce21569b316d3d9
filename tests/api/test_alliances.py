"""Alliance candidates through HTTP with the real model: validation, storage, no duplicates."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"

FIRMS = {
    "Hydropump Brno s.r.o.": (
        "We manufacture high-pressure centrifugal pumps for reverse osmosis desalination plants.",
        "We need control cabinets with frequency drives and condition monitoring for our pumps.",
    ),
    "Aquapress Zlín a.s.": (  # a competitor of the pump maker
        "We build high-pressure pumps for seawater reverse osmosis and industrial water plants.",
        "We look for distributors in the Middle East.",
    ),
    "Desal Control s.r.o.": (
        "We deliver PLC control cabinets, frequency drives and vibration monitoring "
        "for water plants.",
        "We need membrane know-how to tune control of reverse osmosis trains.",
    ),
    "Membrana Liberec s.r.o.": (
        "We produce reverse osmosis membrane modules and pretreatment filters.",
        "We need an engineering contractor to bring our membranes into large desalination tenders.",
    ),
    "Gulf Water Engineering a.s.": (
        "Engineering, procurement and construction of desalination plants in the Gulf states.",
        "We need Czech suppliers of high-pressure pumps and membrane modules for a Saudi tender.",
    ),
    "Pekárna U Mlýna s.r.o.": (
        "We bake bread and pastries for supermarkets.",
        "We need a packaging supplier for sliced bread.",
    ),
}


@pytest.fixture
def firms(client: TestClient) -> dict[str, int]:
    """A water-treatment value chain for Saudi Arabia among a competitor and a bakery."""
    profile_ids = {}
    for name, (offers, needs) in FIRMS.items():
        markets = ["DE"] if name.startswith("Pekárna") else ["SA", "AE"]
        body = {
            "kind": "company",
            "name": name,
            "region": "CZ064",
            "profiles": [{"offers": offers, "needs": needs, "markets": markets}],
        }
        if "pump" in offers:  # both pump makers: CZ-NACE 28.13, pumps and compressors
            body["nace"] = ["28.13"]
        response = client.post("/api/v1/organizations", json=body)
        assert response.status_code == 201, response.text
        profile_ids[name] = response.json()["profiles"][0]["id"]
    research = {
        "kind": "research",
        "name": "Membrane Research Institute",
        "region": "CZ051",
        "profiles": [
            {
                "offers": "We develop and test reverse osmosis membranes and fouling control for "
                "desalination."
            }
        ],
    }
    assert client.post("/api/v1/organizations", json=research).status_code == 201
    return profile_ids


def _run(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/alliances", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/api/v1/alliance-runs/{response.json()['run_id']}"
    return dict(response.json())


def test_candidates_complete_each_other_and_are_stored(
    client: TestClient, firms: dict[str, int]
) -> None:
    pump = firms["Hydropump Brno s.r.o."]
    run = _run(
        client, market="SA", seed_profile_id=pump, size_min=3, size_max=4, include_research=True
    )
    assert run["candidates"]
    for candidate in run["candidates"]:
        names = [member["organization"]["name"] for member in candidate["members"]]
        assert names[0] == "Hydropump Brno s.r.o."  # the seed comes first
        assert 3 <= len(names) <= 4
        assert "Pekárna U Mlýna s.r.o." not in names  # does not target SA
        assert not {"Hydropump Brno s.r.o.", "Aquapress Zlín a.s."} <= set(names)
        assert candidate["market"] == "SA"
        assert set(candidate["components"]) == {
            "complementarity",
            "cohesion",
            "no_competition",
            "market",
            "proximity",
        }
        for member in candidate["members"]:
            assert member["brings"] in FIRMS[member["organization"]["name"]][0]
        research = candidate["research"]
        assert research["organization"]["name"] == "Membrane Research Institute"
        assert research["brings"].startswith("We develop and test reverse osmosis")
    best = {m["organization"]["name"] for m in run["candidates"][0]["members"]}
    assert {"Gulf Water Engineering a.s.", "Membrana Liberec s.r.o."} & best
    assert client.get(f"/api/v1/alliance-runs/{run['run_id']}").json() == run
    assert run["request"]["seed_profile_id"] == pump


def test_candidates_share_at_most_half_their_members_unless_asked(
    client: TestClient, firms: dict[str, int]
) -> None:
    del firms
    default = _run(client, market="SA", size_min=3, size_max=3, limit=10)
    groups = [{m["profile_id"] for m in c["members"]} for c in default["candidates"]]
    for first, second in combinations(groups, 2):
        assert len(first & second) <= 1.5
    looser = _run(client, market="SA", size_min=3, size_max=3, limit=10, max_shared=1)
    assert len(looser["candidates"]) > len(default["candidates"])


def test_no_firm_in_the_regions_gives_no_candidates(
    client: TestClient, firms: dict[str, int]
) -> None:
    del firms
    assert _run(client, regions=["CZ010"])["candidates"] == []


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"size_min": 5, "size_max": 3}, "#"),
        ({"size_min": 1}, "#/size_min"),
        ({"size_max": 11}, "#/size_max"),
        ({"limit": 0}, "#/limit"),
        ({"market": "XX"}, "#/market"),
        ({"regions": ["CZ999"]}, "#/regions/0"),
        ({"max_shared": 1.5}, "#/max_shared"),
        ({"seed_profile_id": 4242}, "#/seed_profile_id"),
        ({"seeds": [1]}, "#/seeds"),
    ],
)
def test_bad_requests_give_422_and_store_nothing(
    client: TestClient, firms: dict[str, int], body: dict[str, Any], pointer: str
) -> None:
    del firms
    response = client.post("/api/v1/alliances", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert pointer in {error["pointer"] for error in response.json()["errors"]}
    assert client.get("/api/v1/alliance-runs/1").status_code == 404


def test_the_seed_must_be_a_firm(client: TestClient, firms: dict[str, int]) -> None:
    del firms
    research = client.get("/api/v1/organizations", params={"kind": "research"}).json()["items"][0]
    response = client.post(
        "/api/v1/alliances", json={"seed_profile_id": research["profiles"][0]["id"]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/seed_profile_id"


def test_an_opportunity_opens_from_a_candidate_group(
    client: TestClient, firms: dict[str, int]
) -> None:
    pump = firms["Hydropump Brno s.r.o."]
    run = _run(client, market="SA", seed_profile_id=pump, size_max=4, include_research=True)
    group = run["candidates"][0]
    body = {"alliance_run_id": run["run_id"], "candidate": 1, "owner": "eva"}
    response = client.post("/api/v1/opportunities", json=body)
    assert response.status_code == 201, response.text
    opened = response.json()
    expected = [m["organization"]["name"] for m in [*group["members"], group["research"]]]
    assert [m["name"] for m in opened["members"]] == expected
    assert (opened["source"], opened["score"]) == ("alliance", group["score"])
    assert opened["components"] == group["components"]
    assert opened["region"] == "CZ064"  # the first company's
    again = client.post("/api/v1/opportunities", json=body)
    assert again.status_code == 409
    assert again.json()["existing"] == f"/api/v1/opportunities/{opened['id']}"
    missing = {"alliance_run_id": run["run_id"], "candidate": 20}
    wrong = client.post("/api/v1/opportunities", json=missing)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["pointer"] == "#/candidate"
    unknown = {"alliance_run_id": 4242, "candidate": 1}
    assert client.post("/api/v1/opportunities", json=unknown).status_code == 404
    half = client.post("/api/v1/opportunities", json={"alliance_run_id": run["run_id"]})
    assert half.status_code == 422
