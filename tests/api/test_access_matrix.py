# ruff: noqa: ARG005 - every call builder takes (world, role); most use one of them
"""Every role against every endpoint: what each may call, declared and enforced.

``EXPECTED`` is the access policy written out by hand; the test checks that the
OpenAPI description declares exactly it (``x-roles``) and that a real request
of every role gets through (2xx) or is refused (403), and without a key 401.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.config import Settings
from service.models import Profile, WebhookDelivery
from tests.access_helpers import as_key, make_key
from tests.api.test_openapi import ENDPOINTS
from tests.factories import organization, profile

PUBLIC = None
STAFF = {"advisor", "integration"}
EXPECTED: dict[tuple[str, str], set[str] | None] = {
    ("post", "/api/v1/organizations"): STAFF,
    ("get", "/api/v1/organizations"): STAFF,
    ("get", "/api/v1/organizations/{organization_id}"): STAFF,
    ("patch", "/api/v1/organizations/{organization_id}"): STAFF,
    ("delete", "/api/v1/organizations/{organization_id}"): STAFF,
    ("post", "/api/v1/organizations/{organization_id}/profiles"): STAFF,
    ("get", "/api/v1/profiles/{profile_id}"): STAFF | {"widget"},
    ("patch", "/api/v1/profiles/{profile_id}"): STAFF,
    ("delete", "/api/v1/profiles/{profile_id}"): STAFF,
    ("post", "/api/v1/matches"): STAFF | {"widget"},
    ("get", "/api/v1/fields"): STAFF | {"widget"},
    ("get", "/api/v1/match-runs/{run_id}"): STAFF,
    ("get", "/api/v1/match-runs"): STAFF,
    ("post", "/api/v1/opportunities"): {"advisor"},
    ("get", "/api/v1/opportunities"): {"advisor"},
    ("get", "/api/v1/opportunities/{opportunity_id}"): {"advisor"},
    ("patch", "/api/v1/opportunities/{opportunity_id}"): {"advisor"},
    ("post", "/api/v1/opportunities/{opportunity_id}/notes"): {"advisor"},
    ("get", "/api/v1/opportunities/{opportunity_id}/events"): {"advisor"},
    ("get", "/api/v1/opportunities/export"): {"advisor"},
    ("get", "/api/v1/stats/regions"): {"advisor"},
    ("get", "/api/v1/stats/regions/{code}"): {"advisor"},
    ("post", "/api/v1/alliances"): {"advisor"},
    ("get", "/api/v1/alliance-runs/{run_id}"): {"advisor"},
    ("post", "/api/v1/keys"): set(),
    ("get", "/api/v1/keys"): set(),
    ("delete", "/api/v1/keys/{key_id}"): set(),
    ("get", "/api/v1/audit"): set(),
    ("post", "/api/v1/erasures"): set(),
    ("post", "/api/v1/imports"): STAFF,
    ("get", "/api/v1/imports/template.csv"): STAFF,
    ("get", "/api/v1/jobs/{job_id}"): STAFF,
    ("delete", "/api/v1/jobs/{job_id}"): STAFF,
    ("get", "/api/v1/match-runs/{run_id}/eoi"): STAFF,
    ("post", "/api/v1/webhooks"): {"integration"},
    ("get", "/api/v1/webhooks"): {"integration"},
    ("get", "/api/v1/webhooks/{webhook_id}"): {"integration"},
    ("delete", "/api/v1/webhooks/{webhook_id}"): {"integration"},
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"): {"integration"},
    ("post", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"): {"integration"},
    ("post", "/api/v1/widget/search"): {"widget"},
    ("post", "/api/v1/widget/leads"): {"widget"},
    ("get", "/widget.js"): PUBLIC,
    ("get", "/widget/demo"): PUBLIC,
    ("get", "/healthz"): PUBLIC,
    ("get", "/readyz"): PUBLIC,
}
NOT_FOR_ADMIN = {("post", "/api/v1/widget/search"), ("post", "/api/v1/widget/leads")}
SITE = "https://www.jmk.cz"  # the widget key's web site
NOWHERE = "http://127.0.0.1:9/matrix"  # nothing listens there


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Webhooks may point at this machine (no test reaches the internet)."""
    return settings.model_copy(update={"webhook_allow_private_urls": True})


ROLES = ("admin", "advisor", "integration", "widget")


@dataclass
class World:
    """Objects each role may work on: its own organisation, runs, an opportunity."""

    admin: TestClient
    clients: dict[str, TestClient]
    research_profile: int = 0
    own_org: dict[str, int] = field(default_factory=dict)
    own_profile: dict[str, int] = field(default_factory=dict)
    run: dict[str, int] = field(default_factory=dict)
    opportunity: int = 0
    alliance_run: int = 0
    job: dict[str, int] = field(default_factory=dict)
    webhook: dict[str, int] = field(default_factory=dict)
    serial: int = 0

    def fresh_organization(self, role: str) -> dict[str, Any]:
        """A new company of region CZ064, registered with ``role``'s key when it may."""
        self.serial += 1
        maker = self.clients[role] if role in {"advisor", "integration"} else self.admin
        response = maker.post(
            "/api/v1/organizations",
            json=organization(name=f"Matrix firm {self.serial}", region="CZ064"),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())


IMPORT_FILE = b"kind;name;region;offers\ncompany;Matrix import;CZ064;Machining of parts.\n"


def _queue_import(world: World, role: str) -> int:
    maker = world.clients[role] if role != "widget" else world.admin
    queued = maker.post("/api/v1/imports", files={"file": ("matrix.csv", IMPORT_FILE)})
    assert queued.status_code == 202, queued.text
    return int(queued.json()["job_id"])


def _build_world(client: TestClient) -> World:
    client.app.state.job_worker.stop()  # type: ignore[attr-defined]  # jobs stay queued
    clients = {"admin": client}
    for role in ("advisor", "integration"):
        clients[role] = as_key(client, make_key(client, role)["key"])
    widget = make_key(client, "widget", allowed_origins=[SITE], regions=["CZ064"])
    clients["widget"] = as_key(client, widget["key"], headers={"Origin": SITE})
    world = World(admin=client, clients=clients)
    research = client.post(
        "/api/v1/organizations",
        json=organization(
            kind="research",
            name="Matrix Institute",
            region="CZ064",
            nace=["72.19"],
            profiles=[profile(needs="")],
        ),
    ).json()
    world.research_profile = research["profiles"][0]["id"]
    for role in ROLES:
        own = world.fresh_organization(role)
        world.own_org[role] = own["id"]
        world.own_profile[role] = own["profiles"][0]["id"]
        maker = clients[role] if role != "widget" else client
        run = maker.post("/api/v1/matches", json={"profile_id": world.own_profile[role]})
        assert run.status_code == 201, run.text
        world.run[role] = run.json()["run_id"]
    queued = world.fresh_organization("admin")
    opened = client.post(
        "/api/v1/opportunities",
        json={"profile_ids": [queued["profiles"][0]["id"], world.research_profile]},
    )
    assert opened.status_code == 201, opened.text
    world.opportunity = opened.json()["id"]
    alliance = clients["advisor"].post("/api/v1/alliances", json={"size_min": 2, "size_max": 3})
    assert alliance.status_code == 201, alliance.text
    world.alliance_run = alliance.json()["run_id"]
    world.job = {role: _queue_import(world, role) for role in ROLES}
    world.webhook = {role: _new_webhook(world, role) for role in ROLES}
    _as_een_profiles(client, world.own_profile.values())
    return world


def _new_webhook(world: World, role: str) -> int:
    maker = world.clients[role] if role in {"admin", "integration"} else world.admin
    made = maker.post("/api/v1/webhooks", json={"url": NOWHERE, "events": ["match.created"]})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _as_een_profiles(client: TestClient, profile_ids: Iterable[int]) -> None:
    """Make the roles' own profiles EEN-sourced, so their runs have EOI drafts."""
    with Session(client.app.state.db_engine) as session:  # type: ignore[attr-defined]
        for profile_id in profile_ids:
            stored = session.get(Profile, profile_id)
            assert stored is not None
            stored.source, stored.details = "een", {"reference": f"TOCZ2025000000{profile_id}"}
            session.add(stored)
        session.commit()


def _pending_delivery(world: World, role: str) -> tuple[int, int]:
    webhook_id = world.webhook[role]
    with Session(world.admin.app.state.db_engine) as session:  # type: ignore[attr-defined]
        row = WebhookDelivery(
            webhook_id=webhook_id,
            event="match.created",
            object_type="match_run",
            object_id=1,
            payload={"run_id": 1},
        )
        session.add(row)
        session.commit()
        assert row.id is not None
        return webhook_id, row.id


Call = tuple[str, dict[str, Any]]  # url, request options


def _version(world: World) -> str:
    return str(world.admin.get(f"/api/v1/opportunities/{world.opportunity}").headers["etag"])


def _throwaway_key(world: World) -> int:
    return int(make_key(world.admin, "integration")["id"])


def _fresh_profile(world: World, role: str) -> int:
    added = world.admin.post(
        f"/api/v1/organizations/{world.own_org[role]}/profiles", json=profile()
    )
    assert added.status_code == 201, added.text
    return int(added.json()["id"])


def _matches(world: World, role: str) -> Call:
    if role == "widget":
        return "/api/v1/matches", {"json": {"text": "machine vision inspection of parts"}}
    return "/api/v1/matches", {"json": {"profile_id": world.own_profile[role]}}


def _new_opportunity(world: World, role: str) -> Call:
    firm = world.fresh_organization(role)
    body = {"profile_ids": [firm["profiles"][0]["id"], world.research_profile]}
    return "/api/v1/opportunities", {"json": body}


CALLS: dict[tuple[str, str], Callable[[World, str], Call]] = {
    ("post", "/api/v1/organizations"): lambda w, r: (
        "/api/v1/organizations",
        {"json": organization(name=f"Matrix new {r}", region="CZ064")},
    ),
    ("get", "/api/v1/organizations"): lambda w, r: ("/api/v1/organizations", {}),
    ("get", "/api/v1/organizations/{organization_id}"): lambda w, r: (
        f"/api/v1/organizations/{w.own_org[r]}",
        {},
    ),
    ("patch", "/api/v1/organizations/{organization_id}"): lambda w, r: (
        f"/api/v1/organizations/{w.own_org[r]}",
        {"json": {"website": "https://example.org"}},
    ),
    ("delete", "/api/v1/organizations/{organization_id}"): lambda w, r: (
        f"/api/v1/organizations/{w.fresh_organization(r)['id']}",
        {},
    ),
    ("post", "/api/v1/organizations/{organization_id}/profiles"): lambda w, r: (
        f"/api/v1/organizations/{w.own_org[r]}/profiles",
        {"json": profile()},
    ),
    ("get", "/api/v1/profiles/{profile_id}"): lambda w, r: (
        f"/api/v1/profiles/{w.research_profile}",
        {},
    ),
    ("patch", "/api/v1/profiles/{profile_id}"): lambda w, r: (
        f"/api/v1/profiles/{w.own_profile[r]}",
        {"json": {"title": "Precision parts"}},
    ),
    ("delete", "/api/v1/profiles/{profile_id}"): lambda w, r: (
        f"/api/v1/profiles/{_fresh_profile(w, r)}",
        {},
    ),
    ("post", "/api/v1/matches"): _matches,
    ("get", "/api/v1/fields"): lambda w, r: ("/api/v1/fields", {}),
    ("get", "/api/v1/match-runs/{run_id}"): lambda w, r: (
        f"/api/v1/match-runs/{w.run[r]}",
        {},
    ),
    ("get", "/api/v1/match-runs"): lambda w, r: ("/api/v1/match-runs", {}),
    ("post", "/api/v1/opportunities"): _new_opportunity,
    ("get", "/api/v1/opportunities"): lambda w, r: ("/api/v1/opportunities", {}),
    ("get", "/api/v1/opportunities/{opportunity_id}"): lambda w, r: (
        f"/api/v1/opportunities/{w.opportunity}",
        {},
    ),
    ("patch", "/api/v1/opportunities/{opportunity_id}"): lambda w, r: (
        f"/api/v1/opportunities/{w.opportunity}",
        {"json": {"owner": f"Owner {r}"}, "headers": {"If-Match": _version(w)}},
    ),
    ("post", "/api/v1/opportunities/{opportunity_id}/notes"): lambda w, r: (
        f"/api/v1/opportunities/{w.opportunity}/notes",
        {"json": {"text": "Called them."}},
    ),
    ("get", "/api/v1/opportunities/{opportunity_id}/events"): lambda w, r: (
        f"/api/v1/opportunities/{w.opportunity}/events",
        {},
    ),
    ("get", "/api/v1/opportunities/export"): lambda w, r: ("/api/v1/opportunities/export", {}),
    ("get", "/api/v1/stats/regions"): lambda w, r: ("/api/v1/stats/regions", {}),
    ("get", "/api/v1/stats/regions/{code}"): lambda w, r: ("/api/v1/stats/regions/CZ064", {}),
    ("post", "/api/v1/alliances"): lambda w, r: (
        "/api/v1/alliances",
        {"json": {"regions": ["CZ064"], "size_min": 2, "size_max": 3}},
    ),
    ("get", "/api/v1/alliance-runs/{run_id}"): lambda w, r: (
        f"/api/v1/alliance-runs/{w.alliance_run}",
        {},
    ),
    ("post", "/api/v1/keys"): lambda w, r: (
        "/api/v1/keys",
        {"json": {"name": "made in the matrix", "role": "integration"}},
    ),
    ("get", "/api/v1/keys"): lambda w, r: ("/api/v1/keys", {}),
    ("delete", "/api/v1/keys/{key_id}"): lambda w, r: (
        f"/api/v1/keys/{_throwaway_key(w)}",
        {},
    ),
    ("get", "/api/v1/audit"): lambda w, r: ("/api/v1/audit", {}),
    ("post", "/api/v1/erasures"): lambda w, r: (
        "/api/v1/erasures",
        {"json": {"email": "nobody@example.cz"}},
    ),
    ("post", "/api/v1/imports"): lambda w, r: (
        "/api/v1/imports",
        {"files": {"file": ("matrix.csv", IMPORT_FILE)}},
    ),
    ("get", "/api/v1/imports/template.csv"): lambda w, r: ("/api/v1/imports/template.csv", {}),
    ("get", "/api/v1/jobs/{job_id}"): lambda w, r: (f"/api/v1/jobs/{w.job[r]}", {}),
    ("delete", "/api/v1/jobs/{job_id}"): lambda w, r: (
        f"/api/v1/jobs/{_queue_import(w, r)}",
        {},
    ),
    ("get", "/api/v1/match-runs/{run_id}/eoi"): lambda w, r: (
        f"/api/v1/match-runs/{w.run[r]}/eoi",
        {},
    ),
    ("post", "/api/v1/webhooks"): lambda w, r: (
        "/api/v1/webhooks",
        {"json": {"url": NOWHERE, "events": ["opportunity.status_changed"]}},
    ),
    ("get", "/api/v1/webhooks"): lambda w, r: ("/api/v1/webhooks", {}),
    ("get", "/api/v1/webhooks/{webhook_id}"): lambda w, r: (
        f"/api/v1/webhooks/{w.webhook[r]}",
        {},
    ),
    ("delete", "/api/v1/webhooks/{webhook_id}"): lambda w, r: (
        f"/api/v1/webhooks/{_new_webhook(w, r)}",
        {},
    ),
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"): lambda w, r: (
        f"/api/v1/webhooks/{w.webhook[r]}/deliveries",
        {},
    ),
    ("post", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"): lambda w, r: (
        "/api/v1/webhooks/{}/deliveries/{}/replay".format(*_pending_delivery(w, r)),
        {},
    ),
    ("post", "/api/v1/widget/search"): lambda w, r: (
        "/api/v1/widget/search",
        {"json": {"text": "machine vision inspection"}, "headers": {"Origin": SITE}},
    ),
    ("post", "/api/v1/widget/leads"): lambda w, r: (
        "/api/v1/widget/leads",
        {
            "json": {
                "profile_id": w.research_profile,
                "company_name": f"Matrix visitor {r}",
                "email": "visitor@example.cz",
                "need": "Machine vision inspection of machined parts.",
                "consent": True,
            },
            "headers": {"Origin": SITE},
        },
    ),
    ("get", "/widget.js"): lambda w, r: ("/widget.js", {}),
    ("get", "/widget/demo"): lambda w, r: (
        "/widget/demo",
        {"params": {"key": "pk_" + "a" * 12 + "_" + "b" * 43}},
    ),
    ("get", "/healthz"): lambda w, r: ("/healthz", {}),
    ("get", "/readyz"): lambda w, r: ("/readyz", {}),
}


def test_every_endpoint_declares_the_roles_of_the_policy(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    declared = {
        (method, path): operation.get("x-roles")
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert set(declared) == set(EXPECTED) == ENDPOINTS == set(CALLS)
    for endpoint, roles in EXPECTED.items():
        admins = set() if endpoint in NOT_FOR_ADMIN else {"admin"}
        wanted = None if roles is None else sorted(admins | roles)
        got = declared[endpoint]
        assert (None if got is None else sorted(got)) == wanted, endpoint
        if roles is not None:
            responses = schema["paths"][endpoint[1]][endpoint[0]]["responses"]
            assert {"401", "403", "429"} <= set(responses), endpoint


def test_every_role_against_every_endpoint(client: TestClient) -> None:
    world = _build_world(client)
    anonymous = as_key(client, None)
    outcomes: dict[tuple[str, str, str], int] = {}
    for endpoint, roles in EXPECTED.items():
        method, _ = endpoint
        for role in ROLES:
            url, options = CALLS[endpoint](world, role)
            response = world.clients[role].request(method.upper(), url, **options)
            outcomes[(role, *endpoint)] = response.status_code
            admin = role == "admin" and endpoint not in NOT_FOR_ADMIN
            allowed = roles is None or admin or role in roles
            if allowed:
                assert 200 <= response.status_code < 300, (role, endpoint, response.text)
            else:
                assert response.status_code == 403, (role, endpoint, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert role in response.json()["detail"]
        url, options = CALLS[endpoint](world, "admin")
        response = anonymous.request(method.upper(), url, **options)
        if roles is None:
            assert response.status_code == 200, (endpoint, response.text)
        else:
            assert response.status_code == 401, (endpoint, response.text)
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.headers["content-type"] == "application/problem+json"
    assert len(outcomes) == len(EXPECTED) * len(ROLES)


@pytest.mark.parametrize("role", ["advisor", "integration", "widget"])
def test_a_key_cannot_grant_itself_more(client: TestClient, role: str) -> None:
    """No role but admin makes keys; a widget or advisor key stays what it is."""
    caller = as_key(client, make_key(client, role)["key"])
    made = caller.post("/api/v1/keys", json={"name": "escalate", "role": "admin"})
    assert made.status_code == 403
    listed = client.get("/api/v1/keys").json()["items"]
    assert [key["name"] for key in listed].count("escalate") == 0
