"""The widget's server side: search and leads, for widget keys from their own sites."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from matching.embedder import SentenceTransformerEmbedder
from service.config import Settings
from tests.access_helpers import as_key, make_key
from tests.conftest import admin_client, wait_ready

SITE = "https://www.jmk.cz"
NEED = "Potřebujeme automatickou optickou kontrolu obrobených dílů strojovým viděním."


def _widget(client: TestClient, **fields: Any) -> TestClient:
    made = make_key(client, "widget", allowed_origins=[SITE], regions=["CZ064"], **fields)
    return as_key(client, made["key"], headers={"Origin": SITE})


def _lead(partner_profile: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "profile_id": partner_profile,
        "company_name": "Přesné díly s.r.o.",
        "ico": "25596641",
        "email": "jana@presnedily.cz",
        "contact_name": "Jana Malá",
        "need": NEED,
        "consent": True,
    }
    return body | overrides


@pytest.mark.usefixtures("world")
def test_search_gives_public_fields_of_public_profiles(client: TestClient) -> None:
    hidden = client.post(
        "/api/v1/organizations",
        json={
            "kind": "research",
            "name": "Secret Vision Lab",
            "region": "CZ064",
            "profiles": [
                {
                    "offers": "Machine vision for automated optical inspection of machined parts.",
                    "public": False,
                }
            ],
        },
    ).json()
    widget = _widget(client)
    response = widget.post("/api/v1/widget/search", json={"text": NEED})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == SITE
    found = response.json()
    assert found["results"], found
    top = found["results"][0]
    assert top["organization"]["name"] == "Centre for Machine Vision"
    assert set(top) == {"profile_id", "organization", "title", "why", "score"}
    assert set(top["organization"]) == {"name", "kind", "region", "country"}
    assert 0 < len(top["why"]) <= 160
    assert "\n" not in top["why"]
    offers = client.get(f"/api/v1/profiles/{top['profile_id']}").json()["offers"]
    assert top["why"].rstrip("…") in " ".join(offers.split())  # the partner's own words
    names = {r["organization"]["name"] for r in found["results"]}
    assert "Secret Vision Lab" not in names
    assert hidden["profiles"][0]["id"] not in {r["profile_id"] for r in found["results"]}
    only_064 = widget.post("/api/v1/widget/search", json={"text": NEED, "region": "CZ080"})
    assert {r["organization"]["region"] for r in only_064.json()["results"]} <= {"CZ080"}


@pytest.mark.usefixtures("world")
def test_search_can_keep_to_one_field(client: TestClient) -> None:
    widget = _widget(client)
    listed = widget.get("/api/v1/fields")
    assert listed.status_code == 200, listed.text
    assert "digital" in {field["id"] for field in listed.json()["fields"]}

    def names(field: str) -> tuple[int, list[str]]:
        response = widget.post("/api/v1/widget/search", json={"text": NEED, "field": field})
        assert response.status_code == 200, response.text
        found = response.json()
        return found["run_id"], [r["organization"]["name"] for r in found["results"]]

    assert names("digital")[1] == ["Centre for Machine Vision"]
    run_id, food = names("agrifood")  # the vision centre offers nothing in agriculture or food
    assert set(food) <= {"Food Microbiology Laboratory"}
    assert client.get(f"/api/v1/match-runs/{run_id}").json()["fields"] == ["agrifood"]
    refused = widget.post("/api/v1/widget/search", json={"text": NEED, "field": "cooking"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["pointer"] == "#/field"


@pytest.mark.usefixtures("world")
def test_only_widget_keys_from_their_sites(client: TestClient) -> None:
    widget = _widget(client)
    assert widget.post("/api/v1/widget/search", json={"text": NEED}).status_code == 200
    for headers in ({"Origin": "https://evil.example"}, {"Origin": ""}):
        refused = widget.post("/api/v1/widget/search", json={"text": NEED}, headers=headers)
        assert refused.status_code == 403, headers
    no_origin = as_key(client, make_key(client, "widget", allowed_origins=[SITE])["key"])
    assert no_origin.post("/api/v1/widget/search", json={"text": NEED}).status_code == 403
    for role in ("admin", "advisor", "integration"):
        caller = client if role == "admin" else as_key(client, make_key(client, role)["key"])
        response = caller.post(
            "/api/v1/widget/search", json={"text": NEED}, headers={"Origin": SITE}
        )
        assert response.status_code == 403, role


def test_a_lead_becomes_a_new_opportunity_for_the_regions_advisors(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    widget = _widget(client)
    partner = world["Centre for Machine Vision"]["profiles"][0]["id"]
    response = widget.post("/api/v1/widget/leads", json=_lead(partner))
    assert response.status_code == 201, response.text
    lead = response.json()
    assert lead == {"lead_id": lead["lead_id"], "region": "CZ064", "status": "new"}
    brno = as_key(client, make_key(client, "advisor", regions=["CZ064"])["key"])
    stored = brno.get(f"/api/v1/opportunities/{lead['lead_id']}").json()
    assert (stored["status"], stored["source"], stored["region"]) == ("new", "widget", "CZ064")
    firm_id = next(m["organization_id"] for m in stored["members"] if m["kind"] == "company")
    firm = client.get(f"/api/v1/organizations/{firm_id}").json()
    assert (firm["name"], firm["ico"]) == ("Přesné díly s.r.o.", "25596641")
    assert firm["contacts"][0]["email"] == "jana@presnedily.cz"
    assert firm["profiles"][0]["public"] is False
    assert firm["profiles"][0]["source"] == "widget"
    events = brno.get(f"/api/v1/opportunities/{lead['lead_id']}/events").json()["items"]
    assert NEED in events[0]["text"]
    again = widget.post("/api/v1/widget/leads", json=_lead(partner))
    assert again.status_code == 409  # the same firm already asked for this partner
    ostrava = as_key(client, make_key(client, "advisor", regions=["CZ080"])["key"])
    assert ostrava.get(f"/api/v1/opportunities/{lead['lead_id']}").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "pointer"),
    [
        ({"consent": False}, "#/consent"),
        ({"email": "not-an-email"}, "#/email"),
        ({"region": "CZ080"}, "#/region"),
        ({"ico": "12345678"}, "#/ico"),
        ({"need": ""}, "#/need"),
    ],
)
def test_bad_leads_name_the_field_and_store_nothing(
    client: TestClient,
    world: dict[str, dict[str, Any]],
    overrides: dict[str, Any],
    pointer: str,
) -> None:
    widget = _widget(client)
    partner = world["Centre for Machine Vision"]["profiles"][0]["id"]
    response = widget.post("/api/v1/widget/leads", json=_lead(partner, **overrides))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == pointer
    assert client.get("/api/v1/opportunities").json()["items"] == []


@pytest.mark.usefixtures("world")
def test_a_lead_for_a_private_or_unknown_profile_is_404(client: TestClient) -> None:
    widget = _widget(client)
    private = client.post(
        "/api/v1/organizations",
        json={
            "kind": "research",
            "name": "Closed Lab",
            "profiles": [{"offers": "Secret things.", "public": False}],
        },
    ).json()["profiles"][0]["id"]
    for profile_id in (private, 999_999):
        response = widget.post("/api/v1/widget/leads", json=_lead(profile_id))
        assert response.status_code == 404


def test_each_visitor_address_has_its_own_budget(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    strict = settings.model_copy(update={"widget_per_address_per_minute": 2})
    with admin_client(strict, embedder) as client:
        wait_ready(client)
        key = make_key(client, "widget", allowed_origins=[SITE], regions=["CZ064"])["key"]
        one = as_key(client, key, headers={"Origin": SITE}, client=("203.0.113.5", 1000))
        other = as_key(client, key, headers={"Origin": SITE}, client=("203.0.113.9", 1000))
        statuses = [
            one.post("/api/v1/widget/search", json={"text": NEED}).status_code for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        limited = one.post("/api/v1/widget/search", json={"text": NEED})
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["content-type"] == "application/problem+json"
        assert other.post("/api/v1/widget/search", json={"text": NEED}).status_code == 200
