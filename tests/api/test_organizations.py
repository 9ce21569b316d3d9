"""Organisations and profiles through HTTP, with the real model and FAISS."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import organization, profile

PROBLEM = "application/problem+json"


def _create(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/organizations", json=organization(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def _pointers(response: Any) -> set[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return {error.get("pointer") or error.get("parameter") for error in response.json()["errors"]}


def test_create_returns_location_etag_ids_and_normalised_codes(client: TestClient) -> None:
    response = client.post(
        "/api/v1/organizations",
        json=organization(
            kind="research",
            name="České vysoké učení technické v Praze",
            ico="68407700",
            ror="03kqpb082",
            region="CZ010",
        ),
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["Location"] == f"/api/v1/organizations/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["version"] == 1
    assert body["ico"] == "68407700"
    assert body["ror"] == "https://ror.org/03kqpb082"
    assert isinstance(body["profiles"][0]["id"], int)
    fetched = client.get(response.headers["Location"]).json()
    assert fetched == body


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"ico": "00216207"}, "#/ico"),
        ({"region": "CZ099"}, "#/region"),
        ({"country": "XX"}, "#/country"),
        ({"nace": ["28.41", "2841"]}, "#/nace/1"),
        ({"size": "huge"}, "#/size"),
        ({"website": "not a url"}, "#/website"),
        ({"name": ""}, "#/name"),
        ({"kind": "government"}, "#/kind"),
        ({"colour": "blue"}, "#/colour"),
        ({"profiles": [profile(offers="", needs="")]}, "#/profiles/0"),
        ({"profiles": [profile(needs="x" * 10_001)]}, "#/profiles/0/needs"),
        ({"profiles": [profile(markets=["ZZ"])]}, "#/profiles/0/markets/0"),
        ({"profiles": [profile(keywords=["k"] * 31)]}, "#/profiles/0/keywords"),
    ],
)
def test_bad_fields_give_422_naming_the_field(
    client: TestClient, overrides: dict[str, Any], pointer: str
) -> None:
    response = client.post("/api/v1/organizations", json=organization(**overrides))
    assert pointer in _pointers(response)
    assert client.get("/api/v1/organizations").json()["items"] == []


def test_region_must_belong_to_the_country(client: TestClient) -> None:
    response = client.post("/api/v1/organizations", json=organization(country="SK"))
    assert response.status_code == 422
    assert "not in country" in response.text


def test_several_errors_are_listed_together(client: TestClient) -> None:
    response = client.post(
        "/api/v1/organizations", json=organization(ico="12345678", region="CZ099")
    )
    assert {"#/ico", "#/region"} <= _pointers(response)


def test_text_of_exactly_the_limit_is_accepted(client: TestClient) -> None:
    long_text = ("Laser welding of steel. " * 500)[:10_000]
    created = _create(client, profiles=[profile(offers=long_text, needs="")])
    assert len(created["profiles"][0]["offers"]) == 10_000


def test_body_over_one_mebibyte_gives_413(client: TestClient) -> None:
    body = b'{"kind": "company", "name": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/organizations", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 413


def test_malformed_json_gives_422_problem(client: TestClient) -> None:
    response = client.post(
        "/api/v1/organizations", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_duplicate_ico_is_a_conflict(client: TestClient) -> None:
    first = _create(client, ico="49777513")
    response = client.post(
        "/api/v1/organizations", json=organization(name="Another", ico="49777513")
    )
    assert response.status_code == 409
    assert response.json()["existing"] == f"/api/v1/organizations/{first['id']}"


def test_list_filters_search_and_cursor_pagination(client: TestClient) -> None:
    ids = [
        _create(client, name=f"Firma {i}", region="CZ080" if i % 2 else "CZ064")["id"]
        for i in range(5)
    ]
    research = _create(client, kind="research", name="Ústav fyziky plazmatu", region="CZ010")
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, "kind": "company"} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/organizations", params=params).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    by_region = client.get("/api/v1/organizations", params={"region": "CZ080"}).json()
    assert [item["id"] for item in by_region["items"]] == ids[1::2]
    found = client.get("/api/v1/organizations", params={"q": "USTAV FYZIKY"}).json()
    assert [item["id"] for item in found["items"]] == [research["id"]]
    assert client.get("/api/v1/organizations", params={"q": "50%_"}).json()["items"] == []


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"cursor": "garbage!"}, {"region": "XX"}, {"kind": "x"}],
)
def test_bad_list_parameters_give_422(client: TestClient, params: dict[str, Any]) -> None:
    response = client.get("/api/v1/organizations", params=params)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_patch_honours_if_match_and_bumps_version(client: TestClient) -> None:
    created = _create(client)
    url = f"/api/v1/organizations/{created['id']}"
    stale = client.patch(url, json={"name": "Renamed"}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    assert client.get(url).json()["name"] == created["name"]
    ok = client.patch(url, json={"name": "Renamed", "size": None}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.headers["ETag"] == '"2"'
    assert ok.json()["name"] == "Renamed"
    assert ok.json()["size"] is None
    again = client.patch(url, json={"name": "Lost update"}, headers={"If-Match": '"1"'})
    assert again.status_code == 412


def test_patch_validates_region_against_stored_country(client: TestClient) -> None:
    created = _create(client)
    response = client.patch(f"/api/v1/organizations/{created['id']}", json={"region": "DE212"})
    assert "#/region" in _pointers(response)
    response = client.patch(f"/api/v1/organizations/{created['id']}", json={"name": None})
    assert "#/name" in _pointers(response)


def test_delete_honours_if_match_and_removes_profiles(client: TestClient) -> None:
    created = _create(client)
    url = f"/api/v1/organizations/{created['id']}"
    assert client.delete(url, headers={"If-Match": '"3"'}).status_code == 412
    assert client.delete(url, headers={"If-Match": '"1"'}).status_code == 204
    assert client.get(url).status_code == 404
    profile_url = f"/api/v1/profiles/{created['profiles'][0]['id']}"
    assert client.get(profile_url).status_code == 404
    assert client.delete(url).status_code == 404


def test_profiles_add_read_update_delete(client: TestClient) -> None:
    created = _create(client)
    response = client.post(
        f"/api/v1/organizations/{created['id']}/profiles",
        json=profile(offers="", needs="We seek a partner for corrosion testing of coatings."),
    )
    assert response.status_code == 201, response.text
    added = response.json()
    url = response.headers["Location"]
    assert url == f"/api/v1/profiles/{added['id']}"
    assert client.get(url).json() == added
    emptied = client.patch(url, json={"needs": ""})
    assert "#/offers" in _pointers(emptied)
    updated = client.patch(url, json={"offers": "Salt spray testing."}, headers={"If-Match": '"1"'})
    assert updated.status_code == 200
    assert updated.json()["version"] == 2
    assert client.patch(url, json={"title": "x"}, headers={"If-Match": '"1"'}).status_code == 412
    organization_now = client.get(f"/api/v1/organizations/{created['id']}").json()
    assert [p["id"] for p in organization_now["profiles"]] == [
        created["profiles"][0]["id"],
        added["id"],
    ]
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_unknown_things_are_problem_404s(client: TestClient) -> None:
    for url in ("/api/v1/organizations/999", "/api/v1/profiles/999", "/api/v1/nothing"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["instance"] == url
    assert client.post("/api/v1/organizations/999/profiles", json=profile()).status_code == 404
    assert client.put("/api/v1/organizations/1", json={}).status_code == 405
    for url in ("/api/v1/organizations/2147483648", "/api/v1/profiles/0", "/api/v1/match-runs/-1"):
        response = client.get(url)
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
