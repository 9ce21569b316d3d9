"""The command line: demo data, reindex and migrate on a data folder of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matching.embedder import SentenceTransformerEmbedder
from service.cli import app as cli
from service.config import Settings
from tests.api.test_imports import GOOD, HEADER
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


@pytest.mark.usefixtures("cli_env")
def test_import_shows_a_summary_and_fails_on_bad_rows(tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(f"{HEADER}\n{GOOD}\n", encoding="utf-8")
    runner = CliRunner()
    first = runner.invoke(cli, ["import", str(good)])
    assert first.exit_code == 0, first.output
    assert "done" in first.output
    counts = r"│\s*{}\s*│\s*{}\s*│\s*{}\s*│\s*{}\s*│\s*{}\s*│"  # rows created updated …
    assert re.search(counts.format(1, 1, 0, 0, 0), first.output), first.output
    again = runner.invoke(cli, ["import", str(good)])
    assert again.exit_code == 0
    assert re.search(counts.format(1, 0, 0, 1, 0), again.output), again.output
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n{GOOD.replace('25596641', '12345678')}\n", encoding="utf-8")
    failed = runner.invoke(cli, ["import", str(bad)])
    assert failed.exit_code == 1
    assert "wrong check digit" in failed.output
    assert runner.invoke(cli, ["import", str(tmp_path / "missing.csv")]).exit_code == 2
    assert runner.invoke(cli, ["import", str(good), "--format", "xlsx"]).exit_code == 2
