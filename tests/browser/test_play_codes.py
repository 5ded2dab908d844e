"""The short code under a QR code typed on a phone-sized Chromium (issue 11): from the team page
it finds the stop as the QR code would; from the rally page, without a team, it asks to join
first and then finds it; a wrong code shows the form again with the message, in English, German
and Leichte Sprache; nothing wider than the phone, also with text at 200 %."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from markers import shortcodes
from server.i18n import t

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def codes(app, demo) -> list[str]:
    """The printed form of each stop's short code, in stop order."""
    from server import models
    from server.extensions import db

    with app.app_context():
        return [shortcodes.display(s.code) for s in db.session.get(models.Rally, demo[1]).stops]


def phone_page(browser, locale: str) -> Iterator[Page]:
    context = browser.new_context(
        locale=locale, viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def phone(browser, live_server) -> Iterator[Page]:
    yield from phone_page(browser, "en-GB")


def fits_the_phone(page: Page) -> None:
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], width


def join(page: Page, url: str, slug: str, name: str) -> None:
    page.goto(f"{url}/play/{slug}")
    page.fill("#name", name)
    with page.expect_navigation():
        page.click("form[action$='/join'] button[type=submit]")


def type_code(page: Page, code: str) -> None:
    page.fill("#stop_code", code)
    with page.expect_navigation():
        page.click("form[action$='/stop-code'] button[type=submit]")


def test_a_team_types_the_code_and_finds_the_stop(phone, live_server, demo, codes):
    slug, _ = demo
    join(phone, live_server, slug, "Tippende")
    expect(phone.locator("#stop-code h2")).to_have_text("Type the stop's code")
    fits_the_phone(phone)
    type_code(phone, codes[0].lower().replace("-", " "))
    assert "/q/" in phone.url
    expect(phone.locator(".reveal .badge")).to_have_text(t("play.found_now", "en"))
    phone.goto(f"{live_server}/play/{slug}/team")
    expect(phone.locator(".team-line")).to_contain_text("1")


def test_without_a_team_the_code_asks_to_join_first(phone, live_server, demo, codes):
    slug, _ = demo
    phone.goto(f"{live_server}/play/{slug}")
    type_code(phone, codes[1])
    expect(phone.locator(".badge")).to_have_text(t("play.scanned_join", "en"))
    phone.fill("#name", "Erst dann")
    with phone.expect_navigation():
        phone.click("form[action$='/join'] button[type=submit]")
    expect(phone.locator(".reveal, h1")).not_to_have_count(0)
    assert "/q/" in phone.url


@pytest.mark.parametrize(
    ("locale", "lang"), [("en-GB", "en"), ("de-DE", "de"), ("de-DE", "de-x-ls")]
)
def test_a_wrong_code_shows_the_form_again_with_the_message(
    browser, live_server, demo, locale, lang
):
    slug, _ = demo
    for page in phone_page(browser, locale):
        if lang == "de-x-ls":
            page.goto(f"{live_server}/play/{slug}?lang=de-x-ls")
        page.goto(f"{live_server}/play/{slug}")
        type_code(page, "<b>ZZZ-ZZZ</b>")
        alert = page.locator("#stop_code_error")
        expect(alert).to_have_text(t("errors.short_code_unknown", lang))
        expect(page.locator("#stop_code")).to_have_value("<b>ZZZ-ZZZ</b>")
        expect(page.locator("#stop_code")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("a.button")).to_have_attribute("href", f"/play/{slug}")
        fits_the_phone(page)


def test_large_text_on_a_small_phone_stays_inside(browser, live_server, demo):
    """At 360 px with the text at 200 %: the code page has no sideways scrolling, and on the team
    page the code form stays inside the screen (the rest of that page is the player pages')."""
    slug, _ = demo
    context = browser.new_context(locale="de-DE", viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.goto(f"{live_server}/stop-code")
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
        width = page.evaluate("() => document.scrollingElement.scrollWidth")
        assert width <= 360, width
        join(page, live_server, slug, "Großschrift")
        page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
        for part in ("#stop-code", "#stop_code", "form[action$='/stop-code'] button"):
            box = page.locator(part).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360, (part, box)
        inside = page.evaluate(
            "() => { const s = document.getElementById('stop-code'); "
            "return s.scrollWidth <= s.clientWidth; }"
        )
        assert inside
    finally:
        context.close()
