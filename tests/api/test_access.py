"""Access control beyond the matrix: regions, ownership, private data, keys, limits."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from matching.embedder import SentenceTransformerEmbedder
from service import idempotency
from service.app import create_app
from service.config import Settings
from tests.access_helpers import as_key, bearer, make_key
from tests.conftest import ADMIN_KEY, admin_client, wait_ready
from tests.factories import organization, profile


def _store(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/organizations", json=organization(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def _open(client: TestClient, *profile_ids: int) -> dict[str, Any]:
    response = client.post("/api/v1/opportunities", json={"profile_ids": list(profile_ids)})
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def two_regions(client: TestClient) -> dict[str, Any]:
    """A firm and an institute in CZ064 and in CZ080, an opportunity in each region."""
    made: dict[str, Any] = {}
    for region in ("CZ064", "CZ080"):
        firm = _store(client, name=f"Firm {region}", region=region)
        institute = _store(
            client,
            kind="research",
            name=f"Institute {region}",
            region=region,
            nace=["72.19"],
            profiles=[profile(needs="")],
        )
        made[region] = {
            "firm": firm,
            "institute": institute,
            "opportunity": _open(client, firm["profiles"][0]["id"], institute["profiles"][0]["id"]),
        }
    return made


def test_an_advisor_never_sees_another_regions_opportunity(
    client: TestClient, two_regions: dict[str, Any]
) -> None:
    brno = as_key(client, make_key(client, "advisor", regions=["CZ064"])["key"])
    theirs = two_regions["CZ080"]["opportunity"]["id"]
    mine = two_regions["CZ064"]["opportunity"]["id"]
    version = client.get(f"/api/v1/opportunities/{theirs}").headers["etag"]
    for method, url, options in (
        ("GET", f"/api/v1/opportunities/{theirs}", {}),
        ("GET", f"/api/v1/opportunities/{theirs}/events", {}),
        ("POST", f"/api/v1/opportunities/{theirs}/notes", {"json": {"text": "hello"}}),
        (
            "PATCH",
            f"/api/v1/opportunities/{theirs}",
            {"json": {"status": "contacted"}, "headers": {"If-Match": version}},
        ),
    ):
        response = brno.request(method, url, **options)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["detail"] == f"opportunity {theirs} does not exist"
    missing = brno.get("/api/v1/opportunities/999999").json()
    assert missing["detail"] == "opportunity 999999 does not exist"  # same answer as absent
    listed = brno.get("/api/v1/opportunities", params={"limit": 200}).json()["items"]
    assert [item["id"] for item in listed] == [mine]
    exported = brno.get("/api/v1/opportunities/export", params={"format": "jsonl"}).text
    assert [line for line in exported.splitlines() if line] == [
        client.get(f"/api/v1/opportunities/{mine}").text
    ]
    assert client.get(f"/api/v1/opportunities/{theirs}").json()["status"] == "new"  # untouched
    assert brno.get(f"/api/v1/opportunities/{mine}").status_code == 200


def test_an_advisor_opens_and_changes_only_in_its_regions(
    client: TestClient, two_regions: dict[str, Any]
) -> None:
    brno = as_key(client, make_key(client, "advisor", regions=["CZ064"])["key"])
    refused = brno.post("/api/v1/organizations", json=organization(name="X", region="CZ080"))
    assert refused.status_code == 403
    assert "CZ080" in refused.json()["detail"]
    assert refused.json()["errors"] == [{"pointer": "#/region"}]
    other = two_regions["CZ080"]["firm"]
    moved = brno.patch(f"/api/v1/organizations/{other['id']}", json={"name": "Mine now"})
    assert moved.status_code == 403
    away = brno.patch(
        f"/api/v1/organizations/{two_regions['CZ064']['firm']['id']}", json={"region": "CZ080"}
    )
    assert away.status_code == 403  # moving one's firm out of reach is a write elsewhere
    pair = [other["profiles"][0]["id"], two_regions["CZ080"]["institute"]["profiles"][0]["id"]]
    client.patch(
        f"/api/v1/opportunities/{two_regions['CZ080']['opportunity']['id']}",
        json={"status": "archived"},
        headers={"If-Match": '"1"'},
    )
    opened = brno.post("/api/v1/opportunities", json={"profile_ids": pair})
    assert opened.status_code == 403
    assert client.get(f"/api/v1/organizations/{other['id']}").json()["name"] == "Firm CZ080"


def test_contacts_and_private_profiles_stay_within_reach(client: TestClient) -> None:
    contact = {"name": "Jana Nováková", "email": "jana@firma.cz", "phone": "+420 603 123 456"}
    firm = _store(
        client,
        name="Private Plans s.r.o.",
        region="CZ080",
        contacts=[contact],
        profiles=[profile(), profile(title="Secret plan", public=False)],
    )
    assert firm["contacts"][0] | {"id": 0} == {**contact, "position": None, "id": 0}
    brno = as_key(client, make_key(client, "advisor", regions=["CZ064"])["key"])
    seen = brno.get(f"/api/v1/organizations/{firm['id']}").json()
    assert seen["contacts"] is None
    assert [p["title"] for p in seen["profiles"]] == [None]
    private_id = firm["profiles"][1]["id"]
    assert brno.get(f"/api/v1/profiles/{private_id}").status_code == 404
    ostrava = as_key(client, make_key(client, "advisor", regions=["CZ080"])["key"])
    own = ostrava.get(f"/api/v1/organizations/{firm['id']}").json()
    assert own["contacts"][0]["email"] == "jana@firma.cz"
    assert len(own["profiles"]) == 2
    widget = as_key(client, make_key(client, "widget")["key"])
    assert widget.get(f"/api/v1/profiles/{private_id}").status_code == 404
    assert widget.get(f"/api/v1/profiles/{firm['profiles'][0]['id']}").status_code == 200
    assert widget.get(f"/api/v1/organizations/{firm['id']}").status_code == 403


def test_matches_never_return_private_profiles_out_of_reach(client: TestClient) -> None:
    text = "automated visual inspection of machined parts with machine vision"
    offers = "Machine vision systems for automated optical inspection of machined parts."
    lab = _store(
        client,
        kind="research",
        name="Hidden Vision Lab",
        region="CZ080",
        nace=["72.19"],
        profiles=[profile(offers=offers, needs="", public=False)],
    )
    private_id = lab["profiles"][0]["id"]

    def found(caller: TestClient) -> list[int]:
        response = caller.post("/api/v1/matches", json={"text": text, "min_score": 0})
        assert response.status_code == 201, response.text
        return [result["profile_id"] for result in response.json()["results"]]

    assert private_id in found(client)
    assert private_id in found(
        as_key(client, make_key(client, "advisor", regions=["CZ080"])["key"])
    )
    for caller in (
        as_key(client, make_key(client, "advisor", regions=["CZ064"])["key"]),
        as_key(client, make_key(client, "widget")["key"]),
        as_key(client, make_key(client, "integration")["key"]),
    ):
        assert private_id not in found(caller)


def test_an_integration_works_on_what_it_registered(client: TestClient) -> None:
    partner = as_key(client, make_key(client, "integration")["key"])
    other = as_key(client, make_key(client, "integration")["key"])
    mine = partner.post("/api/v1/organizations", json=organization(name="Via partner"))
    assert mine.status_code == 201
    theirs = _store(client, name="Registered by the region")
    listed = partner.get("/api/v1/organizations").json()["items"]
    assert [item["name"] for item in listed] == ["Via partner"]
    assert partner.get(f"/api/v1/organizations/{theirs['id']}").status_code == 404
    assert other.get(f"/api/v1/organizations/{mine.json()['id']}").status_code == 404
    run = partner.post("/api/v1/matches", json={"profile_id": mine.json()["profiles"][0]["id"]})
    assert run.status_code == 201, run.text
    run_id = run.json()["run_id"]
    assert partner.get(f"/api/v1/match-runs/{run_id}").status_code == 200
    assert other.get(f"/api/v1/match-runs/{run_id}").status_code == 404
    admins = client.post("/api/v1/matches", json={"profile_id": mine.json()["profiles"][0]["id"]})
    # runs for its organisations are its to read, whoever asked for them
    assert partner.get(f"/api/v1/match-runs/{admins.json()['run_id']}").status_code == 200
    runs = partner.get("/api/v1/match-runs").json()["items"]
    assert {item["run_id"] for item in runs} == {run_id, admins.json()["run_id"]}
    foreign = partner.post("/api/v1/matches", json={"profile_id": theirs["profiles"][0]["id"]})
    assert foreign.status_code == 403


def test_keys_are_shown_once_and_stored_as_digests(client: TestClient, database_url: str) -> None:
    made = make_key(client, "advisor", regions=["CZ064", "CZ080"], name="Brno office")
    assert made["key"].startswith("sk_")
    assert made["key"].startswith(made["prefix"] + "_")
    assert len(made["key"]) >= 12 + 43  # 256 random bits after the prefix
    listed = client.get("/api/v1/keys").json()["items"]
    assert "key" not in listed[-1]
    assert listed[-1]["regions"] == ["CZ064", "CZ080"]
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM api_key")).all()
    engine.dispose()
    stored = repr(rows)
    assert made["key"] not in stored
    assert made["key"].split("_")[-1] not in stored
    assert ADMIN_KEY not in stored
    widget = make_key(client, "widget", allowed_origins=["https://www.jmk.cz"])
    assert widget["key"].startswith("pk_")


def test_revoked_and_expired_keys_stop_working(client: TestClient, database_url: str) -> None:
    made = make_key(client, "integration")
    caller = as_key(client, made["key"])
    assert caller.get("/api/v1/organizations").status_code == 200
    assert client.get("/api/v1/keys").json()["items"][-1]["last_used_at"] is not None
    assert client.delete(f"/api/v1/keys/{made['id']}").status_code == 204
    refused = caller.get("/api/v1/organizations")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the API key is unknown, revoked or expired"
    assert client.delete("/api/v1/keys/999999").status_code == 404
    soon = make_key(
        client, "integration", expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat()
    )
    engine = create_engine(database_url)
    with engine.begin() as connection:  # let an hour pass
        connection.execute(
            text("UPDATE api_key SET expires_at = :past WHERE id = :id"),
            {"past": datetime.now(UTC) - timedelta(seconds=1), "id": soon["id"]},
        )
    engine.dispose()
    client.app.state.key_resolver.invalidate()  # type: ignore[attr-defined]
    assert as_key(client, soon["key"]).get("/api/v1/organizations").status_code == 401


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"name": "a", "role": "advisor"}, "#"),
        ({"name": "a", "role": "integration", "regions": ["CZ064"]}, "#"),
        ({"name": "a", "role": "advisor", "regions": ["CZ999"]}, "#/regions/0"),
        (
            {
                "name": "a",
                "role": "advisor",
                "regions": ["CZ064"],
                "allowed_origins": ["https://a.cz"],
            },
            "#",
        ),
        (
            {"name": "a", "role": "widget", "allowed_origins": ["javascript:alert(1)"]},
            "#/allowed_origins/0",
        ),
        ({"name": "a", "role": "root"}, "#/role"),
        ({"name": "", "role": "admin"}, "#/name"),
        ({"name": "a", "role": "admin", "expires_at": "2020-01-01T00:00:00+00:00"}, "#"),
        ({"name": "a", "role": "admin", "expires_at": "2099-01-01T00:00:00"}, "#/expires_at"),
    ],
)
def test_bad_key_requests_name_the_field(
    client: TestClient, body: dict[str, Any], pointer: str
) -> None:
    before = len(client.get("/api/v1/keys").json()["items"])
    response = client.post("/api/v1/keys", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["pointer"] == pointer
    assert len(client.get("/api/v1/keys").json()["items"]) == before


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "bearer x y", "Token abc", "Bearer " + "x" * 300],
)
def test_malformed_authorization_is_401_with_a_hint(client: TestClient, header: str) -> None:
    response = client.get("/api/v1/organizations", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]


def test_rate_limit_per_key_answers_429_with_retry_after(client: TestClient) -> None:
    slow = as_key(client, make_key(client, "integration", rate_limit_per_minute=3)["key"])
    other = as_key(client, make_key(client, "integration", rate_limit_per_minute=3)["key"])
    statuses = [slow.get("/api/v1/organizations").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = slow.get("/api/v1/organizations")
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert other.get("/api/v1/organizations").status_code == 200  # buckets are per key


def test_guessing_keys_is_rate_limited_per_address(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    strict = settings.model_copy(update={"failed_auth_per_minute": 5})
    with admin_client(strict, embedder) as client:
        wait_ready(client)
        guesses = [
            client.get("/api/v1/organizations", headers={"Authorization": f"Bearer guess{i}"})
            for i in range(7)
        ]
        assert [g.status_code for g in guesses] == [401] * 5 + [429] * 2
        assert int(guesses[-1].headers["retry-after"]) >= 1
        assert client.get("/api/v1/organizations").status_code == 200  # a right key still works


def test_idempotent_post_returns_the_first_response(client: TestClient) -> None:
    body = organization(name="Retried s.r.o.")
    first = client.post("/api/v1/organizations", json=body, headers={"Idempotency-Key": "imp-1"})
    again = client.post("/api/v1/organizations", json=body, headers={"Idempotency-Key": "imp-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    names = [o["name"] for o in client.get("/api/v1/organizations").json()["items"]]
    assert names.count("Retried s.r.o.") == 1
    changed = client.post(
        "/api/v1/organizations",
        json={**body, "name": "Another s.r.o."},
        headers={"Idempotency-Key": "imp-1"},
    )
    assert changed.status_code == 422
    assert changed.headers["content-type"] == "application/problem+json"
    assert "different request body" in changed.json()["detail"]
    other = as_key(client, make_key(client, "integration")["key"])
    theirs = other.post(
        "/api/v1/matches", json={"text": "casting simulation"}, headers={"Idempotency-Key": "imp-1"}
    )
    assert theirs.status_code == 201  # keys are per caller: the admin's imp-1 is not theirs
    run_again = other.post(
        "/api/v1/matches", json={"text": "casting simulation"}, headers={"Idempotency-Key": "imp-1"}
    )
    assert run_again.json()["run_id"] == theirs.json()["run_id"]


def test_a_failed_first_attempt_is_not_replayed(client: TestClient) -> None:
    body = organization(name="Will be fixed", region="XX999")
    bad = client.post("/api/v1/organizations", json=body, headers={"Idempotency-Key": "imp-2"})
    assert bad.status_code == 422
    again = client.post("/api/v1/organizations", json=body, headers={"Idempotency-Key": "imp-2"})
    assert again.json() == bad.json()  # a client error is an answer too: replayed
    widget = as_key(client, make_key(client, "widget")["key"])
    for _ in range(2):
        refused = widget.post(
            "/api/v1/organizations", json=organization(), headers={"Idempotency-Key": "imp-3"}
        )
        assert refused.status_code == 403
    assert "idempotent-replayed" not in refused.headers
    bad_key = client.post(
        "/api/v1/organizations", json=body, headers={"Idempotency-Key": "x" * 300}
    )
    assert bad_key.status_code in {400, 422}


def test_a_key_is_never_stored_for_an_idempotent_replay(client: TestClient) -> None:
    response = client.post(
        "/api/v1/keys",
        json={"name": "retry", "role": "integration"},
        headers={"Idempotency-Key": "key-1"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["parameter"] == "Idempotency-Key"
    assert [k["name"] for k in client.get("/api/v1/keys").json()["items"]] == ["bootstrap admin"]


def test_cors_only_for_a_widget_keys_origins(client: TestClient) -> None:
    widget = make_key(client, "widget", allowed_origins=["https://www.jmk.cz"])
    allowed = client.options(
        "/api/v1/matches",
        headers={"Origin": "https://www.jmk.cz", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://www.jmk.cz"
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    foreign = client.options(
        "/api/v1/matches",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert foreign.status_code == 403
    assert "access-control-allow-origin" not in foreign.headers
    caller = as_key(client, widget["key"])
    search = {"text": "machine vision"}
    ok = caller.post("/api/v1/matches", json=search, headers={"Origin": "https://www.jmk.cz"})
    assert ok.status_code == 201
    assert ok.headers["access-control-allow-origin"] == "https://www.jmk.cz"
    elsewhere = caller.post(
        "/api/v1/matches", json=search, headers={"Origin": "https://evil.example"}
    )
    assert elsewhere.status_code == 403
    staff = client.get("/api/v1/organizations", headers={"Origin": "https://www.jmk.cz"})
    assert staff.status_code == 200
    assert "access-control-allow-origin" not in staff.headers  # same-origin only
    revoked = caller.post(
        "/api/v1/matches",
        json=search,
        headers={"Origin": "https://www.jmk.cz", "Authorization": "Bearer pk_wrong"},
    )
    assert revoked.status_code == 401  # and the widget's page can read why
    assert revoked.headers["access-control-allow-origin"] == "https://www.jmk.cz"


def test_bootstrap_key_rotates_on_restart(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    new_key = "rotated-admin-" + "r" * 32
    rotated = settings.model_copy(update={"bootstrap_admin_key": SecretStr(new_key)})
    with TestClient(create_app(rotated, embedder=embedder), headers=bearer(new_key)) as client:
        wait_ready(client)
        old = client.get("/api/v1/keys", headers=bearer(ADMIN_KEY))
        assert old.status_code == 401  # the replaced one is revoked
        fresh = client.get("/api/v1/keys")
        assert fresh.status_code == 200
        names = [key["name"] for key in fresh.json()["items"]]
        assert names == ["bootstrap admin"]


def test_a_short_or_revoked_bootstrap_key_stops_the_start(
    client: TestClient, settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    short = settings.model_copy(update={"bootstrap_admin_key": SecretStr("too-short")})
    with pytest.raises(ValueError, match="at least 32 characters"):
        with admin_client(short, embedder):
            pass
    bootstrap = client.get("/api/v1/keys").json()["items"][0]
    assert client.delete(f"/api/v1/keys/{bootstrap['id']}").status_code == 204
    with pytest.raises(ValueError, match="was revoked"):
        with admin_client(settings, embedder):
            pass


def test_without_any_key_only_this_machine_is_served(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    keyless = settings.model_copy(update={"bootstrap_admin_key": None})
    app = create_app(keyless, embedder=embedder)
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        wait_ready(local)
        assert local.get("/api/v1/organizations").status_code == 200
        remote = TestClient(app, client=("192.0.2.7", 40000))
        assert remote.get("/api/v1/organizations").status_code == 401
        made = local.post("/api/v1/keys", json={"name": "first", "role": "admin"})
        assert made.status_code == 201
        app.state.key_resolver.invalidate()
        assert local.get("/api/v1/organizations").status_code == 401  # keys exist now
        first = made.json()
        assert local.get("/api/v1/organizations", headers=bearer(first["key"])).status_code == 200
        revoked = local.delete(f"/api/v1/keys/{first['id']}", headers=bearer(first["key"]))
        assert revoked.status_code == 204
        app.state.key_resolver.invalidate()
        assert local.get("/api/v1/organizations").status_code == 401  # revoking all reopens nothing


def test_a_retry_while_the_first_is_running_gets_409(client: TestClient, database_url: str) -> None:
    body = organization(name="Slow s.r.o.")
    first = client.post("/api/v1/organizations", json=body, headers={"Idempotency-Key": "race"})
    assert first.status_code == 201
    engine = create_engine(database_url)
    with engine.begin() as connection:  # as if the first request had not answered yet
        connection.execute(text("UPDATE idempotency_record SET status_code = NULL"))
    engine.dispose()
    running = client.post("/api/v1/organizations", json=body, headers={"Idempotency-Key": "race"})
    assert running.status_code == 409
    assert running.headers["retry-after"] == "1"
    names = [o["name"] for o in client.get("/api/v1/organizations").json()["items"]]
    assert names.count("Slow s.r.o.") == 1


def test_concurrent_retries_write_once(client: TestClient) -> None:
    body = organization(name="Twice s.r.o.")
    barrier = threading.Barrier(4)
    answers: list[Any] = []

    def post() -> None:
        caller = as_key(client, ADMIN_KEY)
        barrier.wait()
        answers.append(
            caller.post("/api/v1/organizations", json=body, headers={"Idempotency-Key": "twice"})
        )

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers)[0] == 201
    assert {a.status_code for a in answers} <= {201, 409}
    created = {a.json()["id"] for a in answers if a.status_code == 201}
    assert len(created) == 1  # every 201 is the one organisation
    names = [o["name"] for o in client.get("/api/v1/organizations").json()["items"]]
    assert names.count("Twice s.r.o.") == 1


def test_expired_idempotency_records_are_purged(client: TestClient, database_url: str) -> None:
    client.post("/api/v1/organizations", json=organization(), headers={"Idempotency-Key": "old"})
    client.post("/api/v1/organizations", json=organization(), headers={"Idempotency-Key": "new"})
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE idempotency_record SET created_at = :then WHERE idempotency_key = 'old'"),
            {"then": datetime.now(UTC) - timedelta(hours=25)},
        )
    assert idempotency.purge(client.app.state.db_engine) == 1  # type: ignore[attr-defined]
    with engine.connect() as connection:
        left = connection.execute(text("SELECT idempotency_key FROM idempotency_record")).all()
    engine.dispose()
    assert [row[0] for row in left] == ["new"]
