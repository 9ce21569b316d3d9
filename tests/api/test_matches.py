"""Complementary matching through HTTP with the real model and FAISS."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from matching.scoring import DEFAULT_MIN_SCORE
from matching.taxonomy import taxonomy
from service import vector_store
from service.db import make_engine
from service.models import Profile, utcnow
from tests.factories import profile_id_of

PROBLEM = "application/problem+json"


def _profile_id(world: dict[str, dict[str, Any]], name: str) -> int:
    return profile_id_of(world, name)


def _match(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/matches", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["Location"] == f"/api/v1/match-runs/{response.json()['run_id']}"
    return response.json()


def _names(run: dict[str, Any]) -> list[str]:
    return [result["organization"]["name"] for result in run["results"]]


@pytest.mark.parametrize(
    ("company", "partner"),
    [
        ("Ostrava Castings a.s.", "Institute of Foundry Research"),
        ("Mlékárna Vzor s.r.o.", "Food Microbiology Laboratory"),
        ("Zlín Plastics s.r.o.", "Polymer Processing Institute"),
    ],
)
def test_company_needs_find_the_research_offer_that_answers_them(
    client: TestClient, world: dict[str, dict[str, Any]], company: str, partner: str
) -> None:
    run = _match(client, profile_id=_profile_id(world, company))
    assert run["target"] == "research"
    assert _names(run)[0] == partner
    assert all(r["organization"]["kind"] == "research" for r in run["results"])
    scores = [r["score"] for r in run["results"]]
    assert scores == sorted(scores, reverse=True)
    assert [r["rank"] for r in run["results"]] == list(range(1, len(scores) + 1))


def test_result_explains_itself_with_real_sentences(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    run = _match(client, profile_id=_profile_id(world, "Ostrava Castings a.s."), limit=1)
    [top] = run["results"]
    company = world["Ostrava Castings a.s."]["profiles"][0]
    institute = world["Institute of Foundry Research"]["profiles"][0]
    explanation = top["explanation"]
    assert explanation["need_offer"]["need_sentence"] in company["needs"]
    assert explanation["need_offer"]["offer_sentence"] in institute["offers"]
    assert explanation["offer_need"]["need_sentence"] in institute["needs"]
    assert explanation["offer_need"]["offer_sentence"] in company["offers"]
    assert "porosity" in explanation["shared_keywords"]
    assert {"porosity", "aluminium"} <= set(explanation["shared_terms"])
    assert "Words in common: " in explanation["summary"]
    assert "Institute of Foundry Research offers" in explanation["summary"]
    assert "Same region." in explanation["summary"]
    components = top["components"]
    assert set(components) == {
        "need_offer",
        "offer_need",
        "domain",
        "lexical",
        "domain_lexical",
        "keywords",
        "concepts",
        "domain_concepts",
        "proximity",
    }
    # the source states needs: its needs meet the offers, never its offers
    assert components["domain_lexical"] is None
    assert components["domain_concepts"] is None
    assert 0 < components["lexical"] < 1
    assert components["domain"] is None
    assert explanation["domain"] is None
    assert components["proximity"] == 1.0
    assert 0 < components["need_offer"] <= 1


def test_research_to_company_is_the_mirror_image(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    run = _match(client, profile_id=_profile_id(world, "Food Microbiology Laboratory"))
    assert run["target"] == "company"
    assert _names(run)[0] == "Mlékárna Vzor s.r.o."


def test_free_text_is_read_as_a_need(client: TestClient, world: dict[str, dict[str, Any]]) -> None:
    del world
    run = _match(
        client,
        text="Our injection moulded parts should be made from compostable plastics.",
        limit=2,
    )
    assert run["profile_id"] is None
    assert run["target"] == "research"
    assert _names(run)[0] == "Polymer Processing Institute"
    assert run["results"][0]["components"]["offer_need"] is None


def test_a_profile_without_needs_is_matched_by_its_offers(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    del world
    response = client.post(
        "/api/v1/organizations",
        json={
            "kind": "company",
            "name": "Optics Works",
            "region": "CZ064",
            "profiles": [{"offers": "We build camera-based inspection of machined parts."}],
        },
    )
    profile_id = response.json()["profiles"][0]["id"]
    run = _match(client, profile_id=profile_id, limit=1)
    [top] = run["results"]
    assert top["organization"]["name"] == "Centre for Machine Vision"
    assert top["components"]["need_offer"] is None
    assert top["components"]["domain"] > 0.3
    assert top["explanation"]["domain"]["source_sentence"].startswith("We build camera-based")
    assert "Centre for Machine Vision works on" in top["explanation"]["summary"]


def test_filters_and_exclusions(client: TestClient, world: dict[str, dict[str, Any]]) -> None:
    source = _profile_id(world, "Ostrava Castings a.s.")
    in_region = _match(client, profile_id=source, regions=["CZ072", "CZ010"], min_score=0)
    assert {r["organization"]["region"] for r in in_region["results"]} <= {"CZ072", "CZ010"}
    assert len(in_region["results"]) == 2
    abroad = _match(client, profile_id=source, countries=["DE"])
    assert abroad["results"] == []
    foundry = world["Institute of Foundry Research"]["id"]
    without = _match(client, profile_id=source, exclude_organization_ids=[foundry])
    assert "Institute of Foundry Research" not in _names(without)
    companies = _match(client, profile_id=source, target="company")
    assert "Ostrava Castings a.s." not in _names(companies)


def test_every_run_is_stored_exactly_as_returned(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    source = _profile_id(world, "Zlín Plastics s.r.o.")
    run = _match(client, profile_id=source, limit=3, min_score=0)
    url = f"/api/v1/match-runs/{run['run_id']}"
    assert client.get(url).json() == run
    # Later changes rewrite neither the stored results nor the names in them.
    institute = world["Polymer Processing Institute"]
    client.patch(f"/api/v1/organizations/{institute['id']}", json={"name": "Renamed Institute"})
    client.delete(f"/api/v1/organizations/{world['Zlín Plastics s.r.o.']['id']}")
    assert client.get(url).json() == run
    # the model, and the version of the Czech glossary it reads Czech text through
    assert run["model_id"].startswith("sentence-transformers/all-MiniLM-L6-v2+cs-glossary-")
    listed = client.get("/api/v1/match-runs", params={"profile_id": source}).json()
    assert [item["run_id"] for item in listed["items"]] == [run["run_id"]]
    assert listed["items"][0]["result_count"] == 3


def test_run_listing_pages_newest_first(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    source = _profile_id(world, "Mlékárna Vzor s.r.o.")
    run_ids = [_match(client, profile_id=source, limit=1)["run_id"] for _ in range(3)]
    first = client.get("/api/v1/match-runs", params={"limit": 2}).json()
    second = client.get(
        "/api/v1/match-runs", params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert [i["run_id"] for i in first["items"] + second["items"]] == run_ids[::-1]
    assert second["next_cursor"] is None


def test_changes_and_deletions_reach_the_next_match(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    source = _profile_id(world, "Mlékárna Vzor s.r.o.")
    lab = world["Food Microbiology Laboratory"]
    assert client.delete(f"/api/v1/organizations/{lab['id']}").status_code == 204
    assert "Food Microbiology Laboratory" not in _names(_match(client, profile_id=source))
    polymer = world["Polymer Processing Institute"]["profiles"][0]["id"]
    response = client.patch(
        f"/api/v1/profiles/{polymer}",
        json={"offers": "We develop probiotic cultures that extend the shelf life of yoghurts."},
    )
    assert response.status_code == 200
    assert _names(_match(client, profile_id=source))[0] == "Polymer Processing Institute"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({}, "#"),
        ({"profile_id": 1, "text": "both"}, "#"),
        ({"text": ""}, "#/text"),
        ({"text": "x" * 10_001}, "#/text"),
        ({"text": "x", "limit": 0}, "#/limit"),
        ({"text": "x", "limit": 101}, "#/limit"),
        ({"text": "x", "target": "government"}, "#/target"),
        ({"text": "x", "regions": ["CZ099"]}, "#/regions/0"),
        ({"text": "x", "countries": ["XX"]}, "#/countries/0"),
        ({"profile_id": 2**31}, "#/profile_id"),
        ({"text": "x", "exclude_organization_ids": [0]}, "#/exclude_organization_ids/0"),
        ({"text": "x", "min_score": -0.1}, "#/min_score"),
        ({"text": "x", "min_score": 2.5}, "#/min_score"),
        ({"text": "x", "fields": ["cooking"]}, "#/fields/0"),
        ({"text": "x", "fields": "energy"}, "#/fields"),
    ],
)
def test_bad_match_requests_give_422(
    client: TestClient, body: dict[str, Any], pointer: str
) -> None:
    response = client.post("/api/v1/matches", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert pointer in {error["pointer"] for error in response.json()["errors"]}
    assert client.get("/api/v1/match-runs").json()["items"] == []


def test_unknown_profile_and_run_give_404(client: TestClient) -> None:
    response = client.post("/api/v1/matches", json={"profile_id": 4242})
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert client.get("/api/v1/match-runs/4242").status_code == 404
    assert client.get("/api/v1/match-runs").json()["items"] == []


def test_a_czech_need_finds_the_english_offer_and_names_the_shared_concept(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    del world
    run = _match(
        client,
        text="Hledáme dodavatele systémů strojového vidění pro automatickou kontrolu "
        "povrchových vad výrobků na výrobní lince.",
        limit=3,
    )
    [top, *_] = run["results"]
    assert top["organization"]["name"] == "Centre for Machine Vision"
    explanation = top["explanation"]
    machine_vision = {"id": "machine-vision", "en": "machine vision", "cs": "strojové vidění"}
    assert machine_vision in explanation["shared_concepts"]
    assert "Shared concepts: machine vision (strojové vidění)" in explanation["summary"]
    assert top["components"]["concepts"] > 0
    # the evidence quotes the need as written, in Czech
    assert explanation["need_offer"]["need_sentence"].startswith("Hledáme dodavatele")


def test_a_need_nobody_answers_says_so_instead_of_listing_noise(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    del world
    text = "We organise wedding parties and rent out marquees, chairs and party tents."
    run = _match(client, text=text)
    assert run["results"] == []
    assert run["min_score"] == DEFAULT_MIN_SCORE
    assert run["note"].startswith(f"No partner scored at least {DEFAULT_MIN_SCORE:g}")
    assert client.get(f"/api/v1/match-runs/{run['run_id']}").json() == run

    everything = _match(client, text=text, min_score=0)
    assert everything["note"] is None
    assert everything["results"]
    assert all(result["score"] < DEFAULT_MIN_SCORE for result in everything["results"])


def test_an_organisation_is_listed_once_by_its_best_profile(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    body = {
        "kind": "research",
        "name": "Technical University Foundry Department",
        "region": "CZ064",
        "profiles": [
            {"offers": "Aluminium die casting trials and porosity analysis of castings."},
            {"offers": "Casting simulation of mould filling for aluminium foundries."},
        ],
    }
    response = client.post("/api/v1/organizations", json=body)
    assert response.status_code == 201, response.text
    run = _match(client, profile_id=_profile_id(world, "Ostrava Castings a.s."), min_score=0)
    names = _names(run)
    assert names.count("Technical University Foundry Department") == 1


CASTING_NEED = "We need to reduce porosity in our aluminium castings and want X-ray inspection."


def test_fields_keep_only_partners_offering_something_in_them(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    del world
    everyone = _match(client, text=CASTING_NEED, min_score=0)
    assert _names(everyone)[0] == "Institute of Foundry Research"
    assert everyone["fields"] is None
    # the polymer institute's offers name materials concepts; the foundry's do not
    materials = _match(client, text=CASTING_NEED, min_score=0, fields=["materials"])
    assert _names(materials) == ["Polymer Processing Institute"]
    assert materials["fields"] == ["materials"]
    assert client.get(f"/api/v1/match-runs/{materials['run_id']}").json() == materials
    either = _match(client, text=CASTING_NEED, min_score=0, fields=["digital", "agrifood"])
    assert set(_names(either)) == {"Centre for Machine Vision", "Food Microbiology Laboratory"}
    nothing = _match(client, text=CASTING_NEED, min_score=0, fields=["energy"])
    assert nothing["results"] == []


def test_fields_limit_matches_of_stored_profiles_too(
    client: TestClient, world: dict[str, dict[str, Any]]
) -> None:
    source = _profile_id(world, "Ostrava Castings a.s.")
    assert _names(_match(client, profile_id=source))[0] == "Institute of Foundry Research"
    run = _match(client, profile_id=source, min_score=0, fields=["digital"])
    assert _names(run) == ["Centre for Machine Vision"]
    assert run["fields"] == ["digital"]


def test_an_unknown_field_is_refused_with_the_known_ones(client: TestClient) -> None:
    response = client.post("/api/v1/matches", json={"text": "casting", "fields": ["cooking"]})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    [error] = response.json()["errors"]
    assert error["pointer"] == "#/fields/0"
    assert "'energy'" in error["detail"]


def test_the_fields_are_listed_with_both_labels(client: TestClient) -> None:
    response = client.get("/api/v1/fields")
    assert response.status_code == 200
    fields = response.json()["fields"]
    assert [field["id"] for field in fields] == list(taxonomy().fields)
    assert {"id": "energy", "label": {"en": "Energy", "cs": "Energetika"}} in fields
    assert all(field["label"]["en"] and field["label"]["cs"] for field in fields)


def test_a_profile_leaves_the_matches_when_its_validity_ends(
    client: TestClient, world: dict[str, dict[str, Any]], database_url: str
) -> None:
    source = _profile_id(world, "Ostrava Castings a.s.")
    institute = _profile_id(world, "Institute of Foundry Research")
    ends = utcnow() + timedelta(seconds=2)
    engine = make_engine(database_url)
    with Session(engine) as session:  # as an EEN import sets a deadline
        profile = session.get(Profile, institute)
        assert profile is not None
        profile.valid_until = ends
        session.add(profile)
        vector_store.record_changes(session, [institute])
        session.commit()
    engine.dispose()
    assert "Institute of Foundry Research" in _names(_match(client, profile_id=source))
    time.sleep(max(0.0, (ends - utcnow()).total_seconds()) + 0.1)
    # nothing was written: time passing is enough
    assert "Institute of Foundry Research" not in _names(_match(client, profile_id=source))
    # an expired profile may still look for partners itself
    assert "Ostrava Castings a.s." in _names(_match(client, profile_id=institute, limit=20))
