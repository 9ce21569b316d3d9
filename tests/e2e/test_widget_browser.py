"""The export-advisor widget in a real browser (headless Chromium), embedded in a host
page served from another origin than the service."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from service.models import MatchRun, Opportunity, Organization
from tests.e2e.conftest import Service, screenshot_path
from tests.e2e.harness import HostSite, host_page

pytestmark = pytest.mark.browser

NEED_CS = "Potřebujeme automatickou optickou kontrolu obrobených dílů strojovým viděním."
NEED_EN = "We need automated optical inspection of machined parts with machine vision."
CONNECT = {
    "cs": "Požádat exportního poradce o propojení",
    "en": "Ask the export advisor to connect us",
}
RESULTS = "ul[data-results] > li"

# The worst a host page may do: universal resets with !important, and rules aimed at
# the widget's element and at every kind of element the widget uses.
HOSTILE_CSS = """
* { all: unset !important; box-sizing: content-box !important; }
html, body { display: block !important; font: italic 40px/3 serif !important;
  color: #f0f !important; background: #ff0 !important; letter-spacing: 6px !important;
  text-transform: uppercase !important; direction: rtl !important; }
div { display: block !important; padding: 40px !important; margin: 30px !important;
  border: 7px dashed red !important; width: 150px !important; }
div[data-partnermatch] { font-size: 30px !important; color: lime !important;
  line-height: 4 !important; transform: rotate(3deg) !important; }
textarea, input, select, button { display: none !important; }
li, ul, p, h2, form, label { display: inline !important; font-size: 8px !important;
  color: white !important; background: black !important; }
"""

# What a page's CSS would change in the widget's look.
STYLE_PROPERTIES = [
    "display",
    "visibility",
    "font-size",
    "font-family",
    "font-style",
    "font-weight",
    "line-height",
    "letter-spacing",
    "text-transform",
    "direction",
    "color",
    "background-color",
    "border-top-width",
    "border-top-style",
    "padding-top",
    "margin-top",
    "width",
    "height",
]
WIDGET_PARTS = ["h2", "textarea[name=need]", "select", "button[type=submit]", "li", "li button"]


def _publish(site: HostSite, path: str, html: str) -> None:
    site.pages[path] = html


def _open(browser: Browser, url: str, width: int = 800) -> Page:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(url)
    expect(page.locator("textarea[name=need]")).to_be_visible()
    return page


def _focused(page: Page) -> dict[str, Any]:
    """The element focused inside the widget: its tag, name and text."""
    return dict(
        page.evaluate(
            """() => {
              const el = document.querySelector('[data-partnermatch]').shadowRoot.activeElement;
              return el ? {tag: el.tagName.toLowerCase(), name: el.getAttribute('name'),
                           text: el.textContent} : {};
            }"""
        )
    )


def _tab_until(page: Page, wanted: dict[str, str], presses: int = 20) -> None:
    """Press Tab until the focused widget element has the wanted tag/name/text."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if all(focused.get(key) == value for key, value in wanted.items()):
            return
    raise AssertionError(f"Tab never reached {wanted}; last focus {_focused(page)}")


def _search(page: Page, need: str) -> None:
    page.locator("textarea[name=need]").fill(need)
    page.locator("textarea[name=need]").press("Enter")
    expect(page.locator("[aria-live=polite]")).to_have_attribute("aria-busy", "false")


def _leads(database_url: str) -> list[tuple[Opportunity, list[str]]]:
    """The widget's opportunities with the names of their organisations."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            found = []
            for opportunity in session.exec(
                select(Opportunity).where(Opportunity.source == "widget")
            ):
                names = session.exec(
                    select(Organization.name).where(
                        Organization.id.in_(  # type: ignore[union-attr]
                            [int(part) for part in opportunity.pair_key.split(",")]
                        )
                    )
                ).all()
                found.append((opportunity, sorted(names)))
            return found
    finally:
        engine.dispose()


def test_a_visitor_finds_partners_in_czech_and_asks_for_an_introduction_by_keyboard(
    chromium: Browser, service: Service, site: HostSite, widget_key: str
) -> None:
    _publish(site, "/cs", host_page(service.url, widget_key, "cs"))
    page = _open(chromium, f"{site.origin}/cs", width=320)
    _tab_until(page, {"tag": "textarea", "name": "need"})
    page.keyboard.type(NEED_CS)
    page.keyboard.press("Enter")

    results = page.locator(f"[aria-live=polite] {RESULTS}")
    expect(results.first).to_be_visible()
    expect(results.first).to_contain_text("Centre for Machine Vision")
    expect(results.first).to_contain_text("Jihomoravský kraj")  # the region, in Czech
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, "no sideways scroll"

    _tab_until(page, {"tag": "button", "text": CONNECT["cs"]})
    page.keyboard.press("Enter")
    assert _focused(page)["name"] == "company_name", "the form takes the focus"
    page.keyboard.type("Přesné díly s.r.o.")
    for value in ("25596641", "jana@presnedily.cz", "Jana Malá"):  # IČO, e-mail, contact
        page.keyboard.press("Tab")
        page.keyboard.type(value)
    page.keyboard.press("Tab")
    assert _focused(page)["name"] == "consent"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    confirmation = page.locator("p[data-confirmation]")
    expect(confirmation).to_have_text("Děkujeme, exportní poradce se vám ozve.")
    page.screenshot(path=screenshot_path("widget-cs.png"), full_page=True)
    page.close()

    [(lead, names)] = _leads(service.database_url)
    assert (lead.status, lead.region) == ("new", "CZ064")
    assert names == ["Centre for Machine Vision", "Přesné díly s.r.o."]


def test_an_english_page_shows_english_texts_filters_by_field_and_says_when_nothing_fits(
    chromium: Browser, service: Service, site: HostSite, widget_key: str
) -> None:
    _publish(site, "/en", host_page(service.url, widget_key, "en"))
    page = _open(chromium, f"{site.origin}/en")
    expect(page.get_by_label("What does your company need?")).to_be_visible()
    _search(page, NEED_EN)
    expect(page.locator(RESULTS).first).to_contain_text("Centre for Machine Vision")
    expect(page.locator(RESULTS).first).to_contain_text("South Moravian Region")
    expect(page.locator(RESULTS).first.get_by_role("button")).to_have_text(CONNECT["en"])
    page.screenshot(path=screenshot_path("widget-en.png"), full_page=True)

    fields = page.get_by_label("Field (optional)")
    fields.select_option(label="Agriculture and food")
    _search(page, NEED_EN)
    expect(page.locator(RESULTS).filter(has_text="Centre for Machine Vision")).to_have_count(0)
    fields.select_option(label="Digital technologies")
    _search(page, NEED_EN)
    expect(page.locator(RESULTS).first).to_contain_text("Centre for Machine Vision")

    fields.select_option(value="")
    _search(page, "Choreography of a classical ballet for the village theatre festival.")
    expect(page.locator(RESULTS)).to_have_count(0)
    expect(page.locator("p[data-message]")).to_have_text(
        "No organisation matches well enough. Try describing the need differently."
    )
    page.close()


def test_a_site_not_among_the_keys_origins_is_refused(
    chromium: Browser, service: Service, site: HostSite, widget_key: str
) -> None:
    _publish(site, "/cs-copied", host_page(service.url, widget_key, "cs"))
    runs_before = _count_runs(service.database_url)
    page = _open(chromium, f"{site.other_origin}/cs-copied")
    _search(page, NEED_CS)
    expect(page.locator("p[role=alert][data-error]")).not_to_be_empty()
    expect(page.locator(RESULTS)).to_have_count(0)
    page.close()
    assert _count_runs(service.database_url) == runs_before, "the server ran no search"
    preflight = httpx.options(
        f"{service.url}/api/v1/widget/search",
        headers={
            "Origin": site.other_origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers


def _count_runs(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return len(session.exec(select(MatchRun.id)).all())
    finally:
        engine.dispose()


def _styles(page: Page, parts: list[str], *, in_widget: bool) -> dict[str, Any]:
    """Computed styles and sizes of elements of the widget, or of the host page."""
    return dict(
        page.evaluate(
            """([parts, properties, inWidget]) => {
              const root = inWidget
                ? document.querySelector('[data-partnermatch]').shadowRoot : document;
              const styles = {};
              for (const part of parts) {
                const el = root.querySelector(part);
                if (!el) { styles[part] = null; continue; }
                const computed = getComputedStyle(el);
                const box = el.getBoundingClientRect();
                styles[part] = Object.fromEntries(properties.map(p => [p, computed[p]]));
                styles[part].box = [Math.round(box.width), Math.round(box.height)];
              }
              return styles;
            }""",
            [parts, STYLE_PROPERTIES, in_widget],
        )
    )


def test_the_host_pages_css_does_not_change_the_widget_nor_the_widget_the_page(
    chromium: Browser, service: Service, site: HostSite, widget_key: str
) -> None:
    # The same room for the widget on both pages: the hostile reset drops body margins.
    _publish(site, "/plain", host_page(service.url, widget_key, "en", css="body{margin:0}"))
    _publish(site, "/hostile", host_page(service.url, widget_key, "en", css=HOSTILE_CSS))
    _publish(site, "/without", host_page(service.url, None, "en", css="body{margin:0}"))
    looks = {}
    for name in ("plain", "hostile"):
        page = _open(chromium, f"{site.origin}/{name}")
        _search(page, NEED_EN)
        expect(page.locator(RESULTS).first).to_be_visible()
        looks[name] = _styles(page, WIDGET_PARTS, in_widget=True)
        page.close()
    assert all(looks["plain"].values()), looks["plain"]
    for part in WIDGET_PARTS:
        assert looks["hostile"][part] == looks["plain"][part], part

    page_with, page_without = (
        chromium.new_page(viewport={"width": 800, "height": 900}) for _ in range(2)
    )
    requests: list[str] = []
    page_with.on("request", lambda request: requests.append(request.url))
    page_with.goto(f"{site.origin}/plain")
    expect(page_with.locator("textarea[name=need]")).to_be_visible()
    page_without.goto(f"{site.origin}/without")
    host_parts = ["h1", "#host-list li", "#host-text", "#host-button"]
    assert _styles(page_with, host_parts, in_widget=False) == _styles(
        page_without, host_parts, in_widget=False
    ), "the widget's CSS stays in the widget"
    globals_with = set(page_with.evaluate("Object.keys(window)"))
    globals_without = set(page_without.evaluate("Object.keys(window)"))
    assert globals_with - globals_without == {"Partnermatch"}
    assert {url.split("/")[2] for url in requests} <= {
        site.origin.split("/")[2],
        service.url.split("/")[2],
    }, "no third-party requests"
    page_with.close()
    page_without.close()
