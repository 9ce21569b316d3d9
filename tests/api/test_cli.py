"""The command line: demo data, reindex and migrate on a data folder of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from matching.embedder import SentenceTransformerEmbedder
from service.cli import app as cli
from service.config import Settings
from tests.conftest import admin_client, wait_ready


def test_migrate_creates_an_empty_sqlite_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERMATCH_DATA_DIR", str(tmp_path / "fresh"))
    monkeypatch.delenv("PARTNERMATCH_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fresh" / "partnermatch.db").exists()


def test_demo_loads_once_and_gives_useful_matches_then_reindex_rebuilds(
    cli_env: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    assert "organisations added" in first.output
    again = runner.invoke(cli, ["demo"])
    assert "0 organisations added" in again.output
    with admin_client(cli_env, embedder) as client:
        wait_ready(client)
        found = client.get("/api/v1/organizations", params={"q": "precision castings"}).json()
        castings = found["items"][0]["profiles"][0]["id"]
        run = client.post("/api/v1/matches", json={"profile_id": castings, "limit": 3}).json()
        names = {result["organization"]["name"] for result in run["results"]}
        assert any(name.startswith(("COMTES", "Vysoká škola báňská")) for name in names)
        before = client.get("/readyz").json()["profiles"]
    result = runner.invoke(cli, ["reindex", "--all"])
    assert result.exit_code == 0, result.output
    assert f"embedded {before} profiles" in result.output
    assert f"index holds {before} profiles" in result.output
