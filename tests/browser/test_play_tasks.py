"""A team plays the no-app web player on a phone-sized Chromium: joins by the first stop's QR
page, answers its question wrong (and in the wrong form) and then right, takes a hint at the
next stop, and sees the score change; in English and in Leichte Sprache. Screenshots go to the
artifacts folder (one to the README's pictures)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import readme_image

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
HINT = {
    "text": {
        "de": "Geht durch die Fußgängerzone nach Westen.",
        "en": "Walk west through the pedestrian zone.",
        "de-x-ls": "Geht durch die Fußgänger-Zone. Geht nach Westen.",
    },
    "cost": 10,
}


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def rally(app, demo):
    """The demo rally with a hint at stop 2 and step-free known for the first stops' venues
    (stop 1 without steps, stop 2 with); slug, domain rally and each stop's QR path."""
    from server import game, models
    from server.extensions import db

    slug, rally_id = demo
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        row.stops[1].hints = [HINT]
        row.stops[0].marker.venue.step_free = True
        row.stops[1].marker.venue.step_free = False
        db.session.commit()
        domain = game.domain_rally(row)
        paths = [
            "/" + game.qr_url_for(rally_id, s.marker.id).split("/", 3)[3] for s in domain.stops
        ]
    return slug, domain, paths


@pytest.fixture
def phone(browser, live_server) -> Iterator[Page]:
    """A fresh page the size of a phone (390 x 844 CSS pixels, touch)."""
    context = browser.new_context(
        locale="en-GB", viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    page.set_default_timeout(15000)
    try:
        yield page
    finally:
        context.close()


def fits_the_phone(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width


def team_line(page: Page) -> str:
    return page.locator(".team-line").inner_text()


def test_a_team_answers_wrong_then_right_and_takes_a_hint_on_a_phone(
    phone, live_server, rally, artifacts
):
    page = phone
    slug, domain, paths = rally
    page.goto(f"{live_server}/play/{slug}?lang=en")
    expect(page.locator(".access.steps")).to_contain_text("There are steps at these stops: 2")

    page.goto(f"{live_server}{paths[0]}?lang=en")
    page.fill("#name", "Quizzers")
    page.click("form[action$='/join'] button[type=submit]")
    reveal = page.locator(".reveal")
    expect(reveal.locator(".question")).to_have_text(domain.stops[0].task.question["en"])
    expect(reveal.locator(".access.step-free")).to_have_text("♿ Step-free")
    expect(reveal.locator(".letter-wait")).to_have_text("Answer the question to get the letter.")
    expect(reveal.get_by_label("Your answer (a number)")).to_have_attribute("inputmode", "decimal")
    expect(reveal.locator("button.speak").first).to_be_visible()  # read aloud, as elsewhere
    fits_the_phone(page)
    page.screenshot(path=str(artifacts / "play-task-en.png"), full_page=True)

    # letters for a number: a form error, no attempt used
    reveal.get_by_label("Your answer (a number)").fill("eighteen ninety-two")
    reveal.get_by_role("button", name="Answer").click()
    error = page.locator("#answer-1-error")
    expect(error).to_have_text(re.compile("Please write a number"))
    expect(page.get_by_label("Your answer (a number)")).to_have_value("eighteen ninety-two")
    expect(page.locator("#stop-1 .answer-form .small")).to_contain_text("Attempts left: 3")
    assert "100 points" in team_line(page)

    page.get_by_label("Your answer (a number)").fill("1900")
    page.get_by_role("button", name="Answer").click()
    expect(page).to_have_url(re.compile(r"/team\?done=[0-9a-f-]{36}#stop-1$"))
    result = page.locator("#stop-1 .result")
    expect(result).to_have_text("✗ Not right. Attempts left: 2.")
    expect(result).to_have_attribute("role", "status")
    fits_the_phone(page)
    page.screenshot(path=str(artifacts / "play-task-wrong-en.png"), full_page=True)
    top = page.locator("#stop-1 .letter-wait").bounding_box()
    bottom = page.locator("#stop-1").bounding_box()
    assert top and bottom
    scroll = page.evaluate("() => window.scrollY")
    y = top["y"] + scroll - 16
    clip = {
        "x": 0,
        "y": y,
        "width": PHONE["width"],
        "height": bottom["y"] + scroll + bottom["height"] + 16 - y,
    }
    page.screenshot(path=str(artifacts / "play-task.png"), full_page=True, clip=clip)
    readme_image(artifacts / "play-task.png", "play-task.png")

    page.get_by_label("Your answer (a number)").fill("1892,0")
    page.get_by_role("button", name="Answer").click()
    expect(page.locator("#stop-1 .result")).to_have_text("✓ Right! You won 33 points.")
    expect(page.locator("#stop-1 .answer")).to_have_text("The right answer: 1892")
    assert "133 points" in team_line(page)
    expect(page.locator(".word span:not(.visually-hidden)").first).to_have_text("B")

    # a hint at stop 2: a second step asks first, then the hint shows and costs
    stop_2 = page.locator("#stop-2")
    expect(stop_2.locator(".access.steps")).to_have_text("⚠ Not step-free: there are steps")
    confirm = stop_2.get_by_role("button", name="Yes, show the hint")
    expect(confirm).to_be_hidden()
    stop_2.locator("summary", has_text="Hint (costs 10 points)").click()
    expect(stop_2.get_by_text("A hint takes 10 points off your score.")).to_be_visible()
    confirm.click()
    stop_2 = page.locator("#stop-2")
    expect(stop_2.locator(".result")).to_have_text("Hint 1 taken: 10 points off your score.")
    expect(stop_2.locator(".hint")).to_have_text(HINT["text"]["en"])
    assert "123 points" in team_line(page)
    expect(stop_2.locator("details.take-hint")).to_have_count(0)
    fits_the_phone(page)
    page.screenshot(path=str(artifacts / "play-hint-en.png"), full_page=True)

    # a reload shows the same page, and takes nothing twice
    page.reload()
    assert "123 points" in team_line(page)

    page.goto(f"{live_server}/play/{slug}/team?lang=de-x-ls")
    expect(page.locator("#stop-2 .hint")).to_have_text(HINT["text"]["de-x-ls"])
    page.locator("#stop-1 summary").click()
    expect(page.locator("#stop-1 .question")).to_have_text(domain.stops[0].task.question["de-x-ls"])
    expect(page.locator("#stop-1 .answer")).to_have_text("Die richtige Antwort ist: 1892")
    expect(page.locator("#stop-2 .access.steps")).to_have_text("⚠ Hier gibt es Stufen.")
    fits_the_phone(page)
    page.screenshot(path=str(artifacts / "play-task-de-x-ls.png"), full_page=True)
    assert not page.script_errors


def test_a_fresh_task_in_leichte_sprache_on_a_phone(phone, live_server, rally, artifacts):
    page = phone
    _slug, domain, paths = rally
    page.goto(f"{live_server}{paths[0]}?lang=de-x-ls")
    page.fill("#name", "Leicht")
    page.click("form[action$='/join'] button[type=submit]")
    reveal = page.locator(".reveal")
    expect(reveal.locator(".question")).to_have_text(domain.stops[0].task.question["de-x-ls"])
    expect(reveal.locator(".letter-wait")).to_have_text(
        "Beantwortet die Frage. Dann bekommt ihr den Buchstaben."
    )
    expect(reveal.get_by_label("Eure Antwort. Schreibt eine Zahl.")).to_be_visible()
    expect(reveal.locator("summary", has_text="Tipp. Der Tipp kostet 10 Punkte.")).to_be_visible()
    fits_the_phone(page)
    page.screenshot(path=str(artifacts / "play-reveal-de-x-ls.png"), full_page=True)
    assert not page.script_errors
