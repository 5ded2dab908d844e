"""Staff pages on a phone (390 px wide): no page scrolls sideways, the navigation folds into a
menu that still reaches logout and the language switch, and the live view reads as a list."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from markers.i18n import LANGUAGES
from tests.browser import test_accessibility as a11y
from tests.browser.test_accessibility import PASSWORD, PHONE, STAFF, World, live

pytestmark = pytest.mark.browser

world = a11y.world
"""The accessibility tests' world: the demo rally, a draft, a curator, organiser and admin."""

PAGES: list[tuple[str, str, str]] = [
    ("login", "/login", a11y.PLAYER),
    ("curator", "/curator/", "curator"),
    ("curator-markers", "/curator/markers", "curator"),
    ("curator-rally", "/curator/rallies/{draft}", "curator"),
    ("curator-published-rally", "/curator/rallies/{rally}", "curator"),
    ("curator-audit", "/curator/audit", "admin"),
    ("organiser", "/organiser/", "organiser"),
    ("organiser-rally", "/organiser/{slug}/", "organiser"),
    ("organiser-live", "/organiser/{slug}/live", "organiser"),
    ("organiser-results", "/organiser/{slug}/results", "organiser"),
    ("accounts", "/staff/accounts", "admin"),
]
"""(name, path, who): every staff page, opened by the role that works on it."""

READY = {
    "curator-markers": "#marker-editor[data-ready=true]",
    "curator-rally": "#rally-editor[data-ready=true]",
    "curator-published-rally": "#rally-editor[data-ready=true]",
    "organiser-live": "#live[data-polls]",
}
"""A selector that appears once the page's script has drawn it."""

SCROLLS_ITSELF = ".table-wrap, .leaflet-container, .phone-preview, .sim-log, .flags-card"
"""Boxes that may scroll sideways inside themselves: a wide table, a map, the phone preview."""

OVERFLOW = """(allowed) => {
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
    + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/).join('.') : '');
  const sideways = [...document.querySelectorAll('body, body *')].filter(e => {
    const x = getComputedStyle(e).overflowX;
    return (x === 'auto' || x === 'scroll') && e.scrollWidth > e.clientWidth + 1
      && !e.closest(allowed);
  }).map(e => `${name(e)} ${e.scrollWidth}>${e.clientWidth}`);
  const wide = [...document.querySelectorAll('body *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > innerWidth + 1 && !e.closest(allowed);
  }).slice(0, 6).map(e => `${name(e)} ${Math.round(e.getBoundingClientRect().right)}`);
  return {scroll: document.scrollingElement.scrollWidth, inner: innerWidth, sideways, wide};
}"""
"""The page's scroll width and the viewport's, the boxes that scroll sideways inside the page
(but for SCROLLS_ITSELF) and the first elements that stick out (for the failure message)."""


def too_wide(page: Page) -> dict | None:
    """What makes the page wider than the screen, or None."""
    measured = page.evaluate(OVERFLOW, SCROLLS_ITSELF)
    if measured["scroll"] > measured["inner"] or measured["sideways"]:
        return measured
    return None


@pytest.fixture(scope="module")
def phones(browser, world: World) -> Iterator[Callable[[str, str], Page]]:
    """One phone-sized page for each audience, logged in with its role, in the language asked."""
    made: dict[str, Page] = {}

    def get(who: str, lang: str) -> Page:
        if who not in made:
            context = browser.new_context(viewport=PHONE, has_touch=True)
            page = context.new_page()
            page.set_default_timeout(15000)
            page.script_errors = []
            page.on("pageerror", lambda exc, p=page: p.script_errors.append(str(exc)))
            if who != a11y.PLAYER:
                log_in(page, world, STAFF[who])
            made[who] = page
        page = made[who]
        page.context.add_cookies([{"name": "lang", "value": lang, "url": world.url}])
        page.script_errors.clear()
        return page

    yield get
    for page in made.values():
        page.context.close()


def log_in(page: Page, world: World, username: str) -> None:
    """Log in through the login form, as a phone would."""
    page.goto(f"{world.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert urlsplit(page.url).path != "/login", f"{username} could not log in"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize(("name", "path", "who"), PAGES, ids=[p[0] for p in PAGES])
def test_no_page_scrolls_sideways(name, path, who, lang, world, phones, artifacts):
    page = phones(who, lang)
    page.goto(world.url + path.format(**world.ids))
    if name in READY:
        expect(page.locator(READY[name])).to_have_count(1)
    wide = too_wide(page)
    if wide is not None:
        page.screenshot(path=str(artifacts / f"phone-{name}-{lang}.png"), full_page=True)
    assert wide is None, f"{name} ({lang}) is too wide: {wide}"
    assert not page.script_errors, page.script_errors
