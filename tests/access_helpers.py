"""Helpers for access-control tests: keys of each role, made through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def make_key(client: TestClient, role: str, **fields: Any) -> dict[str, Any]:
    """Create a key as the admin; returns the API answer (with ``key``)."""
    body: dict[str, Any] = {"name": f"{role} key", "role": role, **fields}
    if role == "advisor":
        body.setdefault("regions", ["CZ064"])
    response = client.post("/api/v1/keys", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def bearer(key: str) -> dict[str, str]:
    """The Authorization header of a key."""
    return {"Authorization": f"Bearer {key}"}


def as_key(
    running: TestClient, key: str | None, headers: dict[str, str] | None = None, **options: Any
) -> TestClient:
    """A client of the same running app that sends ``key`` (or no key at all) and
    ``headers`` with every request."""
    sent = {} if key is None else bearer(key)
    return TestClient(running.app, headers={**sent, **(headers or {})}, **options)
