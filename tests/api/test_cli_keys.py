"""``partnermatch keys`` and the start-up refusal without keys."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from matching.embedder import SentenceTransformerEmbedder
from service.cli import app as cli
from service.config import Settings
from tests.access_helpers import as_key
from tests.conftest import admin_client, wait_ready


def test_keys_create_prints_the_key_alone_last_then_revoke_stops_it(
    cli_env: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli, ["keys", "create", "--role", "advisor", "--name", "Brno", "--regions", "CZ064,CZ080"]
    )
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("sk_")
    assert " " not in key
    listed = runner.invoke(cli, ["keys", "list"])
    assert "Brno" in listed.output
    assert "CZ064" in listed.output
    assert key not in listed.output
    with admin_client(cli_env, embedder) as client:
        wait_ready(client)
        advisor = as_key(client, key)
        assert advisor.get("/api/v1/stats/regions/CZ064").status_code == 200
        assert advisor.get("/api/v1/stats/regions/CZ020").status_code == 403
        key_id = next(
            k["id"] for k in client.get("/api/v1/keys").json()["items"] if k["name"] == "Brno"
        )
        revoked = runner.invoke(cli, ["keys", "revoke", str(key_id)])
        assert revoked.exit_code == 0, revoked.output
        client.app.state.key_resolver.invalidate()  # type: ignore[attr-defined]  # (other process)
        assert advisor.get("/api/v1/stats/regions/CZ064").status_code == 401
        audit = client.get("/api/v1/audit", params={"object_type": "api_key"}).json()["items"]
        assert [(e["action"], e["key_name"]) for e in audit[:2]] == [
            ("update", "command line"),
            ("create", "command line"),
        ]
    assert runner.invoke(cli, ["keys", "revoke", "99999"]).exit_code == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "advisor", "--name", "x"], "regions"),
        (["--role", "root", "--name", "x"], "role"),
        (["--role", "admin", "--name", "x", "--expires", "yesterday"], "expires_at"),
        (["--role", "widget", "--name", "x", "--origins", "not a url"], "allowed_origins"),
    ],
)
@pytest.mark.usefixtures("cli_env")
def test_keys_create_explains_bad_input(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["keys", "create", *arguments])
    assert result.exit_code == 2
    assert message in result.output
    listed = CliRunner().invoke(cli, ["keys", "list"])
    assert " x " not in listed.output


@pytest.mark.usefixtures("cli_env")
def test_serve_refuses_a_public_address_without_any_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PARTNERMATCH_BOOTSTRAP_ADMIN_KEY")
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "1"])
    assert result.exit_code == 2
    assert "refusing to serve on 0.0.0.0 without an API key" in result.output


def test_local_open_mode_is_only_for_this_machine(client: TestClient) -> None:
    """With keys configured, even a loopback client needs one."""
    local = TestClient(client.app, client=("127.0.0.1", 1234))
    assert local.get("/api/v1/organizations").status_code == 401
