"""The audit trail (who changed which fields) and erasure of a person's data."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.access_helpers import as_key, make_key
from tests.factories import organization, profile

JANA = {"name": "Jana Nováková", "email": "jana.novakova@firma.cz", "phone": "+420 603 123 456"}


def _audit(client: TestClient, **filters: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params={"limit": 200, **filters})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_every_write_is_audited_with_key_role_and_field_names(client: TestClient) -> None:
    made = make_key(client, "advisor", regions=["CZ080"], name="Ostrava office")
    advisor = as_key(client, made["key"])
    created = advisor.post("/api/v1/organizations", json=organization(contacts=[JANA]))
    assert created.status_code == 201
    org_id = created.json()["id"]
    advisor.patch(f"/api/v1/organizations/{org_id}", json={"website": "https://new.cz"})
    profile_id = created.json()["profiles"][0]["id"]
    advisor.patch(f"/api/v1/profiles/{profile_id}", json={"needs": "Laser welding partners."})
    institute = client.post(
        "/api/v1/organizations",
        json=organization(kind="research", name="Lab", nace=["72.19"], profiles=[profile()]),
    ).json()
    opened = advisor.post(
        "/api/v1/opportunities",
        json={"profile_ids": [profile_id, institute["profiles"][0]["id"]]},
    ).json()
    advisor.patch(
        f"/api/v1/opportunities/{opened['id']}",
        json={"status": "contacted", "owner": "Petr"},
        headers={"If-Match": '"1"'},
    )
    advisor.post(f"/api/v1/opportunities/{opened['id']}/notes", json={"text": "Met at fair."})
    advisor.delete(f"/api/v1/profiles/{profile_id}")

    mine = _audit(client, key_id=made["id"])
    assert all(e["key_name"] == "Ostrava office" and e["role"] == "advisor" for e in mine)
    trail = [(e["action"], e["object_type"], e["object_id"]) for e in reversed(mine)]
    assert trail[:3] == [
        ("create", "organization", org_id),
        ("create", "profile", profile_id),
        ("create", "contact", trail[2][2]),
    ]
    assert ("update", "organization", org_id) in trail
    assert ("update", "profile", profile_id) in trail
    assert ("create", "opportunity", opened["id"]) in trail
    assert trail[-3:] == [
        ("update", "opportunity", opened["id"]),
        ("note", "opportunity", opened["id"]),
        ("delete", "profile", profile_id),
    ]
    by_trail = {(e["action"], e["object_type"], e["object_id"]): e["fields"] for e in mine}
    assert by_trail[("update", "organization", org_id)] == ["website"]
    assert by_trail[("update", "profile", profile_id)] == ["needs"]
    assert by_trail[("update", "opportunity", opened["id"])] == ["active", "owner", "status"]
    assert {"name", "email", "phone"} <= set(by_trail[("create", "contact", trail[2][2])])
    assert by_trail[("create", "organization", org_id)][:3] == [
        "country",
        "created_by_key_id",
        "kind",
    ]
    dumped = json.dumps(mine, ensure_ascii=False)
    for value in (*JANA.values(), "https://new.cz", "Laser welding", "Petr", "Met at fair"):
        assert value not in dumped  # names of fields, never their values

    only = _audit(client, object_type="opportunity", action="note")
    assert [(e["object_id"], e["fields"]) for e in only] == [(opened["id"], ["notes"])]
    assert _audit(client, role="widget") == []
    admin_keys = _audit(client, object_type="api_key")
    assert [(e["action"], e["role"]) for e in admin_keys] == [("create", "admin")]
    page = client.get("/api/v1/audit", params={"limit": 2}).json()
    rest = client.get("/api/v1/audit", params={"limit": 200, "cursor": page["next_cursor"]})
    assert [e["id"] for e in page["items"] + rest.json()["items"]] == [
        e["id"] for e in _audit(client)
    ]


def test_reads_and_refused_writes_are_not_audited(client: TestClient) -> None:
    before = len(_audit(client))
    client.get("/api/v1/organizations")
    widget = as_key(client, make_key(client, "widget")["key"])
    widget.post("/api/v1/organizations", json=organization())
    client.post("/api/v1/organizations", json=organization(region="CZ999"))
    after = _audit(client)
    assert len(after) == before + 1  # the widget key's creation only
    assert after[0]["object_type"] == "api_key"


def test_sending_the_same_contacts_again_changes_and_audits_nothing(client: TestClient) -> None:
    created = client.post("/api/v1/organizations", json=organization(contacts=[JANA])).json()
    url = f"/api/v1/organizations/{created['id']}"
    contacts_before = _audit(client, object_type="contact")

    same = client.patch(url, json={"contacts": [JANA]})
    assert same.status_code == 200, same.text
    assert same.json()["contacts"] == created["contacts"]  # same ids: nothing replaced
    assert _audit(client, object_type="contact") == contacts_before

    moved = client.patch(url, json={"contacts": [JANA | {"phone": "+420 777 000 111"}]})
    assert moved.status_code == 200, moved.text
    changes = _audit(client, object_type="contact")[: -len(contacts_before)]
    assert sorted(e["action"] for e in changes) == ["create", "delete"]


def test_erasure_removes_a_person_everywhere_and_audits_without_the_data(
    client: TestClient,
) -> None:
    firm = client.post(
        "/api/v1/organizations",
        json=organization(contacts=[JANA, {"name": "Karel Novák", "email": "karel@firma.cz"}]),
        headers={"Idempotency-Key": "register-firm"},  # its stored answer names Jana too
    ).json()
    institute = client.post(
        "/api/v1/organizations",
        json=organization(kind="research", name="Lab", nace=["72.19"], profiles=[profile()]),
    ).json()
    opened = client.post(
        "/api/v1/opportunities",
        json={
            "profile_ids": [firm["profiles"][0]["id"], institute["profiles"][0]["id"]],
            "owner": JANA["name"],
            "note": f"Call {JANA['name']} at {JANA['phone']} or write to {JANA['email']}.",
        },
    ).json()
    client.post(
        f"/api/v1/opportunities/{opened['id']}/notes",
        json={"text": "Jana Nováková agreed to a meeting."},
    )
    client.post("/api/v1/matches", json={"text": f"{JANA['email']} needs laser welding"})

    erased = client.post(
        "/api/v1/erasures",
        json={"email": JANA["email"], "name": JANA["name"], "phone": JANA["phone"]},
    )
    assert erased.status_code == 200, erased.text
    assert erased.json() == {
        "contacts": 1,
        "opportunities": 1,
        "events": 2,
        "match_runs": 1,
        "stored_responses": 1,
    }

    after = client.get(f"/api/v1/organizations/{firm['id']}").json()
    assert [c["name"] for c in after["contacts"]] == ["Karel Novák"]
    assert client.get(f"/api/v1/opportunities/{opened['id']}").json()["owner"] is None
    events = client.get(f"/api/v1/opportunities/{opened['id']}/events").json()["items"]
    runs = client.get("/api/v1/match-runs").json()["items"]
    run = client.get(f"/api/v1/match-runs/{runs[0]['run_id']}").json()  # explanations quote it
    everything = json.dumps([after, events, runs, run, _audit(client)], ensure_ascii=False)
    for value in JANA.values():
        assert value not in everything
    assert events[0]["text"] == "Call [erased] at [erased] or write to [erased]."
    assert events[-1]["text"] == "[erased] agreed to a meeting."
    erasure = _audit(client, action="erase")
    assert [(e["object_type"], e["object_id"], e["fields"]) for e in erasure] == [
        ("person", None, ["contacts", "events", "match_runs", "opportunities", "stored_responses"])
    ]
    again = client.post("/api/v1/erasures", json={"email": JANA["email"]})
    assert set(again.json().values()) == {0}
    replay = client.post(
        "/api/v1/organizations",
        json=organization(contacts=[JANA, {"name": "Karel Novák", "email": "karel@firma.cz"}]),
        headers={"Idempotency-Key": "register-firm"},
    )
    assert "idempotent-replayed" not in replay.headers  # its stored answer is gone


def test_erasure_finds_names_whatever_their_case_is_written_in(client: TestClient) -> None:
    firm = client.post("/api/v1/organizations", json=organization()).json()
    lab = client.post(
        "/api/v1/organizations",
        json=organization(kind="research", name="Lab", nace=["72.19"], profiles=[profile()]),
    ).json()
    opened = client.post(
        "/api/v1/opportunities",
        json={
            "profile_ids": [firm["profiles"][0]["id"], lab["profiles"][0]["id"]],
            "owner": "ŠÁRKA ŘÍHOVÁ",
            "note": "Šárka Říhová leads it.",
        },
    ).json()
    client.patch(
        f"/api/v1/opportunities/{opened['id']}",
        json={"owner": "Petr", "status": "contacted"},
        headers={"If-Match": '"1"'},
    )
    erased = client.post("/api/v1/erasures", json={"name": "šárka říhová"}).json()
    assert erased["events"] == 2  # the note at creation, the reassignment from her
    events = client.get(f"/api/v1/opportunities/{opened['id']}/events").json()["items"]
    assert events[0]["text"] == "[erased] leads it."
    reassigned = next(e for e in events if e["kind"] == "owner")
    assert (reassigned["from"], reassigned["to"]) == ("[erased]", "Petr")
    moved = next(e for e in events if e["kind"] == "status")
    assert (moved["from"], moved["to"]) == ("new", "contacted")  # statuses untouched


def test_erasure_needs_someone_to_erase(client: TestClient) -> None:
    response = client.post("/api/v1/erasures", json={})
    assert response.status_code == 422
    assert "at least one" in response.json()["errors"][0]["detail"]
    short = client.post("/api/v1/erasures", json={"name": "J"})
    assert short.json()["errors"][0]["pointer"] == "#/name"
