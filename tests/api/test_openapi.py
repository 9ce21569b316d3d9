"""The OpenAPI description is served and tells the truth about errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

ENDPOINTS = {
    ("post", "/api/v1/organizations"),
    ("get", "/api/v1/organizations"),
    ("get", "/api/v1/organizations/{organization_id}"),
    ("patch", "/api/v1/organizations/{organization_id}"),
    ("delete", "/api/v1/organizations/{organization_id}"),
    ("post", "/api/v1/organizations/{organization_id}/profiles"),
    ("get", "/api/v1/profiles/{profile_id}"),
    ("patch", "/api/v1/profiles/{profile_id}"),
    ("delete", "/api/v1/profiles/{profile_id}"),
    ("post", "/api/v1/matches"),
    ("get", "/api/v1/fields"),
    ("get", "/api/v1/match-runs/{run_id}"),
    ("get", "/api/v1/match-runs"),
    ("post", "/api/v1/opportunities"),
    ("get", "/api/v1/opportunities"),
    ("get", "/api/v1/opportunities/{opportunity_id}"),
    ("patch", "/api/v1/opportunities/{opportunity_id}"),
    ("post", "/api/v1/opportunities/{opportunity_id}/notes"),
    ("get", "/api/v1/opportunities/{opportunity_id}/events"),
    ("get", "/api/v1/opportunities/export"),
    ("get", "/api/v1/stats/regions"),
    ("post", "/api/v1/alliances"),
    ("get", "/api/v1/alliance-runs/{run_id}"),
    ("get", "/api/v1/stats/regions/{code}"),
    ("post", "/api/v1/keys"),
    ("get", "/api/v1/keys"),
    ("delete", "/api/v1/keys/{key_id}"),
    ("get", "/api/v1/audit"),
    ("post", "/api/v1/erasures"),
    ("post", "/api/v1/imports"),
    ("get", "/api/v1/imports/template.csv"),
    ("get", "/api/v1/jobs/{job_id}"),
    ("delete", "/api/v1/jobs/{job_id}"),
    ("get", "/api/v1/match-runs/{run_id}/eoi"),
    ("post", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks"),
    ("get", "/api/v1/webhooks/{webhook_id}"),
    ("delete", "/api/v1/webhooks/{webhook_id}"),
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"),
    ("post", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"),
    ("post", "/api/v1/widget/search"),
    ("post", "/api/v1/widget/leads"),
    ("get", "/widget.js"),
    ("get", "/widget/demo"),
    ("get", "/healthz"),
    ("get", "/readyz"),
}


def test_openapi_lists_every_endpoint_with_problem_errors(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = {
        (method, path): operation
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert set(operations) == ENDPOINTS
    for operation in operations.values():
        assert operation.get("description") or operation.get("summary")
        for status, response in operation["responses"].items():
            if status >= "400":
                assert list(response["content"]) == ["application/problem+json"]
    assert client.get("/docs").status_code == 200
