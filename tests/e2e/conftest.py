"""Browser fixtures: Debian's Chromium driven by Playwright, the service on a real port,
and a host site on a second origin.

Without Chromium the browser tests are skipped with a reason, except under CI
(``CI`` set), where a missing browser is a failure: `make browser` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from matching.embedder import SentenceTransformerEmbedder
from service.app import create_app
from service.config import Settings
from tests.conftest import ADMIN_KEY, fresh_database
from tests.e2e.harness import HostSite, serve_app
from tests.factories import COMPANIES, RESEARCH

CHROMIUM = Path(os.environ.get("PARTNERMATCH_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(
    os.environ.get(
        "PARTNERMATCH_SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "build" / "screenshots"
    )
)
# Quiet, local-only Chromium: no updates, sync or other calls home during a test.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
taken: list[Path] = []


@dataclass
class Service:
    """The running service: its URL, database and an admin HTTP client."""

    url: str
    database_url: str
    admin: httpx.Client


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Headless Chromium, launched once."""
    if not CHROMIUM.exists():
        message = f"no Chromium at {CHROMIUM}: `make browser` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def service(
    _database_template: str,
    tmp_path_factory: pytest.TempPathFactory,
    embedder: SentenceTransformerEmbedder,
) -> Iterator[Service]:
    """The service on a real port (uvicorn in a thread), with the factories' organisations."""
    folder = tmp_path_factory.mktemp("e2e")
    settings = Settings(
        data_dir=folder / "data",
        database_url=fresh_database(_database_template, folder),
        bootstrap_admin_key=ADMIN_KEY,
        rate_limit_per_minute=1_000_000,
    )
    with (
        serve_app(create_app(settings, embedder=embedder)) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=120
        ) as admin,
    ):
        for body in RESEARCH + COMPANIES:
            stored = admin.post("/api/v1/organizations", json=body)
            assert stored.status_code == 201, stored.text
        yield Service(url, settings.database_url, admin)


@pytest.fixture(scope="module")
def site() -> Iterator[HostSite]:
    """The region's web site, on an origin other than the service's."""
    with HostSite() as running:
        yield running


@pytest.fixture(scope="module")
def widget_key(service: Service, site: HostSite) -> str:
    """A widget key for the site's ``localhost`` origin, its leads going to CZ064."""
    made = service.admin.post(
        "/api/v1/keys",
        json={
            "name": "Jihomoravský kraj web",
            "role": "widget",
            "regions": ["CZ064"],
            "allowed_origins": [site.origin],
        },
    )
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


def screenshot_path(name: str) -> Path:
    """Where a test saves a screenshot (listed at the end of the run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    taken.append(path)
    return path


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the screenshots are."""
    saved = [path for path in taken if path.exists()]
    if saved:
        terminalreporter.section("widget screenshots")
        for path in saved:
            terminalreporter.write_line(str(path))
