"""A real server's log holds no keys and no personal data, only what happened."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest

from tests.factories import organization, profile
from tests.process.server import Server

pytestmark = pytest.mark.slow

ADMIN = "log-test-admin-" + "a" * 32
JANA = {"name": "Jana Nováková", "email": "jana.novakova@firma.cz", "phone": "+420 603 123 456"}


def test_the_log_never_shows_keys_or_personal_data(tmp_path: Path, database_url: str) -> None:
    server = Server(tmp_path / "data", database_url, bootstrap_admin_key=ADMIN)
    server.start()
    secrets = [ADMIN, *JANA.values(), quote(JANA["name"]), "laser welding for Jana"]
    try:
        with server.client() as http:
            http.headers["Authorization"] = f"Bearer {ADMIN}"
            firm = http.post("/api/v1/organizations", json=organization(contacts=[JANA])).json()
            lab = http.post(
                "/api/v1/organizations",
                json=organization(
                    kind="research", name="Lab", nace=["72.19"], profiles=[profile()]
                ),
            ).json()
            opened = http.post(
                "/api/v1/opportunities",
                json={
                    "profile_ids": [firm["profiles"][0]["id"], lab["profiles"][0]["id"]],
                    "owner": JANA["name"],
                    "note": f"Write to {JANA['email']}",
                },
            )
            assert opened.status_code == 201, opened.text
            queue = http.get("/api/v1/opportunities", params={"owner": JANA["name"]})
            assert queue.status_code == 200
            match = http.post("/api/v1/matches", json={"text": "laser welding for Jana"})
            assert match.status_code == 201
            duplicate = http.post("/api/v1/organizations", json=organization(contacts=[JANA]))
            assert duplicate.status_code in {201, 409}
            made = http.post(
                "/api/v1/keys", json={"name": "Brno", "role": "advisor", "regions": ["CZ064"]}
            )
            advisor_key = made.json()["key"]
            secrets.append(advisor_key)
            assert (
                http.get(
                    "/api/v1/organizations", headers={"Authorization": f"Bearer {advisor_key}"}
                ).status_code
                == 200
            )
            wrong = "sk_abcdefghijkl_" + "w" * 43
            secrets.append(wrong)
            assert (
                http.get(
                    "/api/v1/organizations", headers={"Authorization": f"Bearer {wrong}"}
                ).status_code
                == 401
            )
            erased = http.post(
                "/api/v1/erasures", json={"email": JANA["email"], "name": JANA["name"]}
            )
            assert erased.status_code == 200
    finally:
        server.stop()
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert '"POST /api/v1/organizations HTTP/1.1" 201' in log  # requests are logged ...
    assert '"GET /api/v1/opportunities HTTP/1.1" 200' in log  # ... without their query
    for secret in secrets:
        assert secret not in log, f"{secret!r} leaked into the log"
    assert "127.0.0.1:" not in log.split("CTRL+C to quit", 1)[-1]  # no client addresses
