"""The index follows the database: other workers' writes, snapshots, damaged files."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from matching.embedder import SentenceTransformerEmbedder
from service import vector_store
from service.config import Settings
from tests.conftest import admin_client, wait_ready
from tests.factories import COMPANIES, RESEARCH


def _load(client: TestClient) -> dict[str, int]:
    ids = {}
    for body in RESEARCH + COMPANIES:
        response = client.post("/api/v1/organizations", json=body)
        assert response.status_code == 201
        ids[body["name"]] = response.json()["profiles"][0]["id"]
    return ids


def _top(client: TestClient, profile_id: int) -> str:
    response = client.post("/api/v1/matches", json={"profile_id": profile_id, "limit": 1})
    assert response.status_code == 201, response.text
    return str(response.json()["results"][0]["organization"]["name"])


@contextmanager
def _two_workers(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> Iterator[tuple[TestClient, TestClient, dict[str, int]]]:
    """Two app instances on one database, each with its own data folder (index and
    snapshot), both ready; the sample organisations loaded through the first. Yields
    the two clients and the loaded profile ids by organisation name."""
    other = settings.model_copy(update={"data_dir": settings.data_dir.parent / "other"})
    with (
        admin_client(settings, embedder) as first,
        admin_client(other, embedder) as second,
    ):
        wait_ready(first)
        wait_ready(second)
        yield first, second, _load(first)


def _foundry(client: TestClient) -> dict[str, object]:
    """The foundry research institute as the organisation list shows it."""
    organizations = client.get("/api/v1/organizations", params={"q": "foundry"}).json()
    return dict(organizations["items"][0])


def test_a_second_worker_sees_writes_of_the_first(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    with _two_workers(settings, embedder) as (first, second, ids):
        assert second.get("/readyz").json()["profiles"] == len(ids)
        assert _top(second, ids["Ostrava Castings a.s."]) == "Institute of Foundry Research"
        foundry = _foundry(first)["id"]
        assert first.delete(f"/api/v1/organizations/{foundry}").status_code == 204
        assert _top(second, ids["Ostrava Castings a.s."]) != "Institute of Foundry Research"


def test_a_renamed_organisation_is_shown_by_its_new_name_in_every_worker(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    """Results show the organisation as the index entry holds it: a rename must reach
    the entries of its profiles, in the worker that wrote it and in the others."""
    with _two_workers(settings, embedder) as (first, second, ids):
        assert _top(second, ids["Ostrava Castings a.s."]) == "Institute of Foundry Research"
        foundry = _foundry(first)
        renamed = first.patch(
            f"/api/v1/organizations/{foundry['id']}",
            json={"name": "Foundry Research Centre"},
            headers={"If-Match": f'"{foundry["version"]}"'},
        )
        assert renamed.status_code == 200, renamed.text
        for client in (first, second):
            assert _top(client, ids["Ostrava Castings a.s."]) == "Foundry Research Centre"


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_damaged_snapshot_is_rebuilt_from_stored_vectors(
    settings: Settings,
    embedder: SentenceTransformerEmbedder,
    caplog: pytest.LogCaptureFixture,
    damage: str,
) -> None:
    with admin_client(settings, embedder) as client:
        wait_ready(client)
        ids = _load(client)
        expected = _top(client, ids["Mlékárna Vzor s.r.o."])
    snapshot = settings.snapshot_path
    data = snapshot.read_bytes()
    snapshot.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"garbage")
    caplog.set_level(logging.INFO, logger="service.engine")
    with admin_client(settings, embedder) as client:
        wait_ready(client)
        assert client.get("/readyz").json()["profiles"] == len(ids)
        assert _top(client, ids["Mlékárna Vzor s.r.o."]) == expected
    assert "index snapshot unusable, rebuilding" in caplog.text
    assert "index rebuilt from stored vectors" in caplog.text


def test_snapshot_of_another_model_is_not_used(
    settings: Settings, embedder: SentenceTransformerEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    with admin_client(settings, embedder) as client:
        wait_ready(client)
        _load(client)
    original = embedder.model_id
    caplog.set_level(logging.INFO, logger="service.engine")
    try:
        embedder.model_id = "another/model"
        with admin_client(settings, embedder) as client:
            wait_ready(client)
            # every profile was embedded again for the "new" model before ready
            assert client.get("/readyz").json()["profiles"] == len(RESEARCH) + len(COMPANIES)
    finally:
        embedder.model_id = original
    assert "index snapshot is for sentence-transformers/all-MiniLM-L6-v2" in caplog.text
    assert "embedded 7 profiles with another/model" in caplog.text


@pytest.mark.parametrize("same_code", [True, False])
def test_a_restart_loads_the_snapshot_with_its_entries_unless_the_code_changed(
    settings: Settings,
    embedder: SentenceTransformerEmbedder,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    same_code: bool,
) -> None:
    with admin_client(settings, embedder) as client:
        wait_ready(client)
        ids = _load(client)
        expected = {name: _top(client, pid) for name, pid in ids.items()}
    if not same_code:  # e.g. a new taxonomy: entries are derived again
        monkeypatch.setattr(vector_store, "entries_fingerprint", lambda: "another")
    caplog.set_level(logging.INFO, logger="service.engine")
    with admin_client(settings, embedder) as client:
        wait_ready(client)
        assert client.get("/readyz").json()["profiles"] == len(ids)
        assert {name: _top(client, pid) for name, pid in ids.items()} == expected
    how = "from the snapshot" if same_code else "derived again from the database"
    assert f"entries {how}" in caplog.text
    assert "index rebuilt" not in caplog.text
