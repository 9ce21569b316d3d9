"""The widget's script and demo page: public, small, and embedding the key given."""

from __future__ import annotations

import gzip
import re

from fastapi.testclient import TestClient

from matching.taxonomy import taxonomy
from tests.access_helpers import as_key, make_key

BUDGET = 30 * 1024  # gzipped bytes


def test_the_script_is_public_and_within_its_size_budget(client: TestClient) -> None:
    anonymous = as_key(client, None)
    response = anonymous.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["x-content-type-options"] == "nosniff"
    size = len(gzip.compress(response.content, compresslevel=9))
    assert size < BUDGET, f"widget.js is {size} bytes gzipped, over {BUDGET}"
    script = response.text
    assert "/*FIELDS*/" not in script, "the service writes the fields in"
    for field in taxonomy().fields.values():
        assert f'"id": "{field.id}"' in script
        assert field.label_cs in script
    assert "attachShadow" in script
    assert "/api/v1/widget/search" in script
    assert "/api/v1/widget/leads" in script
    assert not re.search(r"https?://(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}", script), (
        "no third-party address in the widget"
    )


def test_the_demo_page_embeds_the_widget_with_the_key(client: TestClient) -> None:
    key = make_key(client, "widget", allowed_origins=["http://testserver"])["key"]
    page = as_key(client, None).get(
        "/widget/demo", params={"key": key, "lang": "en", "region": "CZ064"}
    )
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'data-key="{key}"' in page.text
    assert 'data-lang="en"' in page.text
    assert 'data-region="CZ064"' in page.text
    assert "<div data-partnermatch></div>" in page.text
    assert 'src="http://testserver/widget.js"' in page.text
    for params in ({"key": "sk_secret"}, {"key": key, "lang": "de"}, {"key": key, "region": "<x>"}):
        assert as_key(client, None).get("/widget/demo", params=params).status_code == 422
