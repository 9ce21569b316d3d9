"""Bulk import: CSV, JSON Lines; per-row errors, upsert, idempotent re-import, jobs."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from matching.embedder import SentenceTransformerEmbedder
from service.config import Settings
from service.een import mapping as een
from service.imports.formats import COLUMNS
from tests.access_helpers import as_key, make_key
from tests.conftest import admin_client, wait_ready

HEADER = "kind;name;ico;country;region;nace;offers;needs;keywords;contact_name;contact_email"
GOOD = (
    "company;Slévárna Kovář s.r.o.;25596641;CZ;CZ080;24.53|25.50;"
    "Tlakové lití hliníku pro automobilový průmysl.;"
    "Hledáme partnera pro simulaci plnění forem.;lití|hliník;Petr Kovář;petr@kovar.cz"
)
ROWS = [
    GOOD,  # row 2
    "company;Bad IČO a.s.;12345678;CZ;CZ080;;Obrábění.;;;;",  # row 3
    "company;Nowhere s.r.o.;;CZ;CZ999;;Obrábění dílů.;;;;",  # row 4
    "company;Empty Texts s.r.o.;;CZ;CZ064;;;;;;",  # row 5
    GOOD,  # row 6: the same as row 2
    "research;Ústav laserové techniky;;CZ;CZ064;72.19;"
    "Laserové svařování a řezání kovů.;Hledáme firmy pro pilotní nasazení.;laser;;",  # row 7
]


def wait_job(client: TestClient, location: str, timeout: float = 180.0) -> dict[str, Any]:
    """Poll a job until it ends."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(location).json()
        if job["status"] in {"done", "failed", "cancelled"}:
            return dict(job)
        time.sleep(0.1)
    raise AssertionError(f"job still {job['status']} after {timeout}s: {job}")


def upload(
    client: TestClient, content: bytes, filename: str = "firms.csv", **form: str
) -> dict[str, Any]:
    """Import a file and wait for its job."""
    response = client.post("/api/v1/imports", files={"file": (filename, content)}, data=form)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return wait_job(client, response.headers["location"])


def csv_bytes(rows: list[str], encoding: str = "utf-8", header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def _index_changes(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM index_change")).scalar_one()
    engine.dispose()
    return int(count)


def test_broken_rows_are_reported_exactly_and_good_rows_stored(
    client: TestClient, database_url: str
) -> None:
    job = upload(client, csv_bytes(ROWS))
    assert job["status"] == "done"
    counts = {k: job[k] for k in ("total", "done", "created", "updated", "unchanged", "failed")}
    assert counts == {
        "total": 6,
        "done": 6,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "failed": 4,
    }
    assert job["errors"] == [
        {"row": 3, "field": "ico", "message": "IČO 12345678 has a wrong check digit (expected 9)"},
        {
            "row": 4,
            "field": "region",
            "message": "unknown region code 'CZ999': not a Czech NUTS 3 region",
        },
        {
            "row": 5,
            "field": "offers",
            "message": "a profile needs text in 'offers' or 'needs' (or both)",
        },
        {"row": 6, "field": None, "message": "the same as row 2"},
    ]
    stored = client.get("/api/v1/organizations", params={"limit": 200}).json()["items"]
    by_name = {item["name"]: item for item in stored}
    assert set(by_name) == {"Slévárna Kovář s.r.o.", "Ústav laserové techniky"}
    foundry = by_name["Slévárna Kovář s.r.o."]
    assert foundry["nace"] == ["24.53", "25.50"]
    assert foundry["contacts"][0]["email"] == "petr@kovar.cz"
    assert foundry["profiles"][0]["keywords"] == ["lití", "hliník"]
    assert foundry["profiles"][0]["source"] == "import"
    # the stored profiles are embedded and matchable
    run = client.post(
        "/api/v1/matches",
        json={"profile_id": foundry["profiles"][0]["id"], "min_score": 0},
    ).json()
    assert [r["organization"]["name"] for r in run["results"]] == ["Ústav laserové techniky"]

    before = _index_changes(database_url)
    again = upload(client, csv_bytes(ROWS))
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (0, 0, 2, 4)
    assert again["errors"] == job["errors"]
    assert _index_changes(database_url) == before  # nothing embedded or re-indexed
    assert len(client.get("/api/v1/organizations").json()["items"]) == 2


def test_a_changed_row_updates_only_what_changed(client: TestClient) -> None:
    upload(client, csv_bytes([GOOD]))
    changed = GOOD.replace(
        "Hledáme partnera pro simulaci plnění forem.", "Hledáme laserové svařování."
    )
    job = upload(client, csv_bytes([changed]))
    assert (job["created"], job["updated"], job["unchanged"]) == (0, 1, 0)
    [firm] = client.get("/api/v1/organizations").json()["items"]
    assert firm["profiles"][0]["needs"] == "Hledáme laserové svařování."
    assert firm["profiles"][0]["version"] == 2
    assert firm["version"] == 1  # the organisation itself did not change
    fields = {
        (e["object_type"], e["action"]): e["fields"]
        for e in client.get("/api/v1/audit").json()["items"]
    }
    assert fields[("profile", "update")] == ["needs"]


def test_windows_1250_with_commas_and_a_broken_utf8_row(client: TestClient) -> None:
    header = HEADER.replace(";", ",")
    row = GOOD.replace(";", ",").replace("24.53|25.50", "24.53")
    job = upload(client, csv_bytes([row], encoding="cp1250", header=header))
    assert (job["created"], job["failed"]) == (1, 0), job["errors"]
    [firm] = client.get("/api/v1/organizations").json()["items"]
    assert firm["name"] == "Slévárna Kovář s.r.o."
    broken = csv_bytes([ROWS[-1]]).replace("Laserové".encode(), b"Laserov\xe9", 1)
    job = upload(
        client, csv_bytes([GOOD.replace("25596641", "27074358")]) + broken.split(b"\n", 1)[1]
    )
    assert job["created"] == 1
    assert job["errors"] == [
        {"row": 3, "field": "offers", "message": "text in neither UTF-8 nor Windows-1250 encoding"}
    ]


def test_json_lines_import_reports_json_pointers(client: TestClient) -> None:
    lines = [
        '{"kind": "research", "name": "Lab", "profiles": [{"offers": "Laser welding."}]}',
        "{not json",
        '{"kind": "company", "name": "No texts", "profiles": [{"offers": ""}]}',
        '{"kind": "company", "name": "Wrong", "ico": 123}',
    ]
    job = upload(client, "\n".join(lines).encode(), filename="orgs.jsonl")
    assert (job["created"], job["failed"]) == (1, 3)
    assert [(e["row"], e["field"]) for e in job["errors"]] == [
        (2, None),
        (3, "#/profiles/0"),
        (4, "#/ico"),
    ]
    assert job["errors"][0]["message"].startswith("not JSON")


def test_the_template_lists_every_column_and_imports(client: TestClient) -> None:
    response = client.get("/api/v1/imports/template.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert tuple(rows[0]) == COLUMNS
    job = upload(client, response.content, filename="template.csv")
    assert (job["created"], job["failed"]) == (1, 0), job["errors"]


def test_an_advisor_imports_only_into_its_regions(client: TestClient) -> None:
    advisor = as_key(client, make_key(client, "advisor", regions=["CZ064"])["key"])
    job = upload(advisor, csv_bytes([*ROWS[-1:], GOOD]))
    assert (job["created"], job["failed"]) == (1, 1)
    assert job["errors"][0]["row"] == 3
    assert job["errors"][0]["field"] == "region"
    assert "CZ080" in job["errors"][0]["message"]
    other = as_key(client, make_key(client, "integration")["key"])
    assert other.get(f"/api/v1/jobs/{job['id']}").status_code == 404  # a job is its maker's


def test_bad_uploads_are_refused_before_any_job(client: TestClient) -> None:
    assert client.post("/api/v1/imports").status_code == 422
    empty = client.post("/api/v1/imports", files={"file": ("x.csv", b"  \n")})
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["pointer"] == "#/file"
    wrong = client.post(
        "/api/v1/imports", files={"file": ("x.csv", b"a;b\n")}, data={"format": "xlsx"}
    )
    assert wrong.status_code == 422
    no_columns = upload(client, b"name;colour\nx;red\n")
    assert no_columns["status"] == "failed"
    assert "unknown columns: colour" in no_columns["message"]
    assert "missing columns: kind" in no_columns["message"]


def test_a_file_over_the_import_limit_gets_413(
    settings: Settings, embedder: SentenceTransformerEmbedder
) -> None:
    small = settings.model_copy(update={"max_import_bytes": 4096})
    with admin_client(small, embedder) as client:
        wait_ready(client)
        big = csv_bytes([GOOD] * 40)
        assert len(big) > 4096
        response = client.post("/api/v1/imports", files={"file": ("big.csv", big)})
        assert response.status_code == 413


def test_cancel_a_queued_job_and_not_a_finished_one(client: TestClient) -> None:
    client.app.state.job_worker.stop()  # type: ignore[attr-defined]  # nothing runs now
    response = client.post("/api/v1/imports", files={"file": ("a.csv", csv_bytes([GOOD]))})
    location = response.headers["location"]
    cancelled = client.delete(location)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert client.get(location).json()["status"] == "cancelled"
    assert client.delete(location).status_code == 409
    assert client.get("/api/v1/organizations").json()["items"] == []


@pytest.mark.parametrize("role", ["widget"])
def test_a_widget_key_cannot_import(client: TestClient, role: str) -> None:
    widget = as_key(client, make_key(client, role)["key"])
    response = widget.post("/api/v1/imports", files={"file": ("a.csv", csv_bytes([GOOD]))})
    assert response.status_code == 403


EEN_SAMPLES = Path(__file__).parents[1] / "data" / "een" / "sample_profiles.json"
EEN_BROKEN = Path(__file__).parents[1] / "data" / "een" / "broken_profiles.json"
PAST = {"TOPL20230615004", "UKTR20150103001", "BONL20220310009"}  # expired, archived


def _een_file() -> tuple[bytes, list[dict[str, Any]]]:
    """The sample profiles, the published ones made current (their dates age)."""
    items = json.loads(EEN_SAMPLES.read_text(encoding="utf-8"))
    items = items["profiles"] if isinstance(items, dict) else items
    next_year = (datetime.now(UTC) + timedelta(days=365)).date().isoformat()
    for item in items:
        if item["reference"] not in PAST:
            item["expires_at"] = next_year
            item.pop("deadline", None)
    return json.dumps(items, ensure_ascii=False).encode(), items


def test_een_profiles_round_trip_and_expired_ones_are_never_matched(client: TestClient) -> None:
    content, items = _een_file()
    job = upload(client, content, filename="een.json")
    assert (job["format"], job["created"], job["failed"]) == ("een", len(items), 0), job["errors"]
    stored = {
        p["external_ref"]: (org, p)
        for org in client.get("/api/v1/organizations", params={"limit": 200}).json()["items"]
        for p in org["profiles"]
    }
    assert set(stored) == {item["reference"] for item in items}
    for item in items:
        org, stored_profile = stored[item["reference"]]
        assert stored_profile["source"] == "een"
        assert stored_profile["title"] == item["title"][:256] or item["title"].startswith(
            stored_profile["title"]
        )
        assert set(item) <= set(stored_profile["details"])  # every field kept
        codes = [*(item.get("technology_keywords") or []), *(item.get("market_keywords") or [])]
        assert set(codes) <= set(stored_profile["keywords"])  # strings, leading zeros kept
        assert org["country"] == {"UK": "GB"}.get(item["owner_country"], item["owner_country"])
    assert stored["UKTR20150103001"][0]["country"] == "GB"  # EEN says UK
    again = upload(client, content, filename="een.json")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, len(items))

    archived = stored["BONL20220310009"][1]
    active = stored["TODE20250114007"][1]
    found = {
        r["profile_id"]
        for text_ in (archived["offers"], active["offers"])
        for r in client.post(
            "/api/v1/matches",
            json={"text": text_[:2000], "target": "company", "limit": 50, "min_score": 0},
        ).json()["results"]
    } | {
        r["profile_id"]
        for text_ in (archived["offers"], active["offers"])
        for r in client.post(
            "/api/v1/matches",
            json={"text": text_[:2000], "target": "research", "limit": 50, "min_score": 0},
        ).json()["results"]
    }
    assert active["id"] in found
    assert not {stored[ref][1]["id"] for ref in PAST} & found


def test_een_owner_shows_as_country_type_and_size_outside_its_partner(client: TestClient) -> None:
    _, items = _een_file()
    items[0]["owner_contact"] = "Dr. Anna Schmidt, anna@example.de"  # not an EEN field
    partner = as_key(client, make_key(client, "integration")["key"])
    upload(partner, json.dumps(items).encode(), filename="een.json")
    mine = partner.get("/api/v1/organizations", params={"limit": 200}).json()["items"]
    profile_id = next(
        p["id"] for o in mine for p in o["profiles"] if p["external_ref"] == items[0]["reference"]
    )
    assert partner.get(f"/api/v1/profiles/{profile_id}").json()["details"]["owner_contact"]
    widget = as_key(client, make_key(client, "widget")["key"])
    public = widget.get(f"/api/v1/profiles/{profile_id}").json()["details"]
    assert "owner_contact" not in public
    assert {k for k in public if k.startswith("owner_")} == {
        "owner_country",
        "owner_type",
        "owner_size",
    }


def test_broken_een_profiles_are_reported_by_field(client: TestClient) -> None:
    items = een.parse_file(EEN_BROKEN.read_bytes())
    expected, bad = [], 0
    for row, item in enumerate(items, start=1):
        try:
            een.map_profile(item, now=datetime.now(UTC))
        except een.EenProfileError as problem:
            bad += 1
            expected += [
                {"row": row, "field": field or None, "message": message}
                for field, message in problem.errors
            ]
    job = upload(client, EEN_BROKEN.read_bytes(), filename="broken.json", format="een")
    assert (job["status"], job["created"], job["failed"]) == ("done", len(items) - bad, bad)
    assert bad >= 4
    assert job["errors"] == expected
    assert {e["field"] for e in expected} >= {"reference", "owner_country", "title"}


def test_an_een_profiles_matches_export_as_eoi_drafts(client: TestClient) -> None:
    content, _ = _een_file()
    upload(client, content, filename="een.json")
    lab = client.post(
        "/api/v1/organizations",
        json={
            "kind": "research",
            "name": "Ústav strojového vidění",
            "ico": "27074358",
            "region": "CZ064",
            "profiles": [
                {
                    "offers": "We build machine vision systems for automated optical inspection "
                    "and defect detection in aluminium castings.",
                }
            ],
        },
    ).json()
    seeker = next(
        p
        for o in client.get("/api/v1/organizations", params={"limit": 200}).json()["items"]
        for p in o["profiles"]
        if p["external_ref"] == "TRAT20250210003"
    )
    run = client.post(
        "/api/v1/matches",
        json={"profile_id": seeker["id"], "target": "research", "min_score": 0},
    ).json()
    rank = next(r["rank"] for r in run["results"] if r["organization"]["id"] == lab["id"])
    drafts = client.get(f"/api/v1/match-runs/{run['run_id']}/eoi", params={"rank": rank})
    assert drafts.status_code == 200, drafts.text
    [draft] = drafts.json()["drafts"]
    dumped = json.dumps(draft, ensure_ascii=False)
    assert "TRAT20250210003" in dumped
    assert "Ústav strojového vidění" in dumped
    assert "27074358" in dumped
    text_ = client.get(
        f"/api/v1/match-runs/{run['run_id']}/eoi", params={"rank": rank, "format": "text"}
    )
    assert text_.headers["content-type"].startswith("text/plain")
    for part in ("TRAT20250210003", "Ústav strojového vidění", "[TO COMPLETE:"):
        assert part in text_.text
    ordinary = client.post(
        "/api/v1/matches", json={"profile_id": lab["profiles"][0]["id"], "min_score": 0}
    ).json()
    refused = client.get(f"/api/v1/match-runs/{ordinary['run_id']}/eoi")
    assert refused.status_code == 422  # not an EEN profile's run
    free = client.post("/api/v1/matches", json={"text": "casting simulation"}).json()
    assert client.get(f"/api/v1/match-runs/{free['run_id']}/eoi").status_code == 422
    assert client.get(f"/api/v1/match-runs/{run['run_id']}/eoi?rank=99").status_code == 404
