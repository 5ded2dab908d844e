"""Staff pages on a phone (390 px wide): no page scrolls sideways or fails axe-core, the
navigation folds into a menu that still reaches logout and the language switch, the live view
reads as a list, and an admin manages accounts there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from markers.i18n import LANGUAGES
from tests.browser import test_accessibility as a11y
from tests.browser.test_accessibility import (
    AXE,
    AXE_OPTIONS,
    DESKTOP,
    PASSWORD,
    PHONE,
    STAFF,
    World,
    violations_text,
)

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
  const classes = e => typeof e.className === 'string' && e.className
    ? '.' + e.className.trim().split(/\\s+/).join('.') : '';
  const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + classes(e);
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
def test_no_page_scrolls_sideways_nor_fails_axe(name, path, who, lang, world, phones, artifacts):
    page = phones(who, lang)
    page.goto(world.url + path.format(**world.ids))
    if name in READY:
        expect(page.locator(READY[name])).to_have_count(1)
    wide = too_wide(page)
    if wide is not None:
        page.screenshot(path=str(artifacts / f"phone-{name}-{lang}.png"), full_page=True)
    assert wide is None, f"{name} ({lang}) is too wide: {wide}"
    no_violations(page, f"{name} ({lang}) on a phone")
    assert not page.script_errors, page.script_errors


def no_violations(page: Page, what: str) -> None:
    """axe-core finds nothing on the page as it is now (WCAG 2.1 A and AA)."""
    violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, f"{what}:\n{violations_text(violations)}"


@pytest.fixture(scope="module")
def menu_admin(world: World) -> str:
    """An admin of its own for the tests that log out (logout ends every session of an account)."""
    from server import models
    from server.auth import create_user

    with world.app.app_context():
        create_user("menu-admin", PASSWORD, models.Role.ADMIN)
    return "menu-admin"


def test_the_menu_folds_on_a_phone_and_reaches_languages_and_logout(browser, world, menu_admin):
    context = browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        context.add_cookies([{"name": "lang", "value": "de", "url": world.url}])
        log_in(page, world, menu_admin)
        page.goto(world.url + "/staff/accounts")
        summary = page.locator("#menu > summary")
        logout = page.locator("#menu .areas button.link")
        english = page.locator('#menu .langs a[hreflang="en"]')
        expect(summary).to_have_text("Menü")
        expect(logout).to_be_hidden()
        expect(english).to_be_hidden()

        summary.click()
        for item in (logout, english, page.locator('#menu .areas a[href="/organiser/"]')):
            expect(item).to_be_visible()
            box = item.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert too_wide(page) is None
        no_violations(page, "the open menu")
        page.keyboard.press("Escape")
        expect(logout).to_be_hidden()
        assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

        summary.click()
        with page.expect_navigation():
            english.click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Accounts")
        expect(logout).to_be_hidden()
        page.locator("#menu > summary").click()
        with page.expect_navigation():
            logout.click()
        assert urlsplit(page.url).path == "/login"
        expect(page.locator("#menu")).to_have_count(0)
        assert too_wide(page) is None
    finally:
        context.close()


def test_the_menu_is_a_row_on_a_desktop(browser, world):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        log_in(page, world, STAFF["admin"])
        page.goto(world.url + "/staff/accounts")
        expect(page.locator("#menu > summary")).to_be_hidden()
        expect(page.locator("#menu .areas button.link")).to_be_visible()
        expect(page.locator("#menu .langs")).to_be_visible()
        bar = page.locator("header.bar").bounding_box()
        assert bar is not None and bar["height"] < 70, "one line"
    finally:
        context.close()


def test_the_live_view_is_a_list_of_teams_on_a_phone(world, phones):
    page = phones("organiser", "en")
    a11y.live(page, world, f"{world.url}/organiser/{world.ids['slug']}/live")
    expect(page.locator("#live-map")).to_be_hidden()
    row = page.locator("#live-teams tbody tr").first
    expect(row.locator('td[data-label="Team"]')).to_contain_text("Team")
    expect(row.locator("td.found")).to_have_text("2/10")
    expect(row.locator("td.found")).to_have_attribute("data-label", "found")
    expect(page.locator("#live-teams")).to_have_attribute("role", "table")
    box = row.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    teams = page.locator("#live-teams").bounding_box()
    assert teams is not None and teams["y"] < 1400, "the teams come right after the counts"
    assert too_wide(page) is None
    no_violations(page, "the live list")

    toggle = page.locator("#map-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle).to_have_text("Hide the map")
    expect(page.locator("#live-map")).to_be_visible()
    expect(page.locator("#live-map path.stop-marker")).to_have_count(10)
    shown = page.locator("#live-map").bounding_box()
    assert shown is not None and shown["height"] > 200 and shown["width"] <= PHONE["width"]
    assert too_wide(page) is None
    no_violations(page, "the live view with its map")
    toggle.click()
    expect(page.locator("#live-map")).to_be_hidden()

    row.locator('button[data-action="assist"]').click()
    dialog = page.locator("#assist-dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    dialog.locator("button[data-close]").click()
    expect(dialog).to_be_hidden()


def test_the_live_view_shows_its_map_on_a_desktop(browser, world):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    try:
        log_in(page, world, STAFF["organiser"])
        a11y.live(page, world, f"{world.url}/organiser/{world.ids['slug']}/live")
        expect(page.locator("#map-toggle")).to_be_hidden()
        expect(page.locator("#live-map")).to_be_visible()
        expect(page.locator("#live-teams thead")).to_be_visible()
    finally:
        context.close()


def test_an_admin_manages_an_account_on_a_phone(world, phones):
    page = phones("admin", "en")
    page.goto(world.url + "/staff/accounts")
    form = page.locator("#new-account")
    form.locator("#new-username").fill("Pia <Phone>")
    form.locator("#new-role").select_option("organiser")
    form.locator("#new-password").fill("too short")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("#new-password-error")).to_have_text(
        "The password must have at least 10 characters."
    )
    expect(page.locator("#new-password")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#new-username")).to_have_value("Pia <Phone>")
    expect(page.locator("#new-role")).to_have_value("organiser")
    assert too_wide(page) is None
    no_violations(page, "the new-account form with an error")

    page.locator("#new-password").fill("a long enough password")
    with page.expect_navigation():
        page.locator("#new-account button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Account Pia <Phone> is created")
    row = page.locator("tr", has=page.locator("td.account-name", has_text="Pia <Phone>"))
    expect(row.locator("select[name=role]")).to_have_value("organiser")

    row.locator("select[name=role]").select_option("curator")
    with page.expect_navigation():
        row.locator("form.account-role button").click()
    expect(page.locator(".flash")).to_contain_text("now has the role Curator")

    row.locator("details.reset summary").click()
    row.locator("input[name=password]").fill("another long password")
    assert too_wide(page) is None
    no_violations(page, "a password reset unfolded")
    with page.expect_navigation():
        row.locator("details.reset button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("has a new password")

    with page.expect_navigation():
        row.locator("form.inline button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("is deactivated")
    expect(row).to_contain_text("deactivated")
    assert not page.script_errors, page.script_errors
