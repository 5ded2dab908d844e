"""Words, times and numbers in a real browser: the audit log in sentences, the live view's times
in the event's zone (not the browser's) and numbers in the reader's language, and the simulated
walk in one request, run twice within a minute with rate limits on, its errors beside its button."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_curator_editor import curator_world, open_rally, serve_tiles, small_rally

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
_fixtures = (curator_world, small_rally)


@pytest.fixture
def app(make_app):
    """Rate limits on, with the defaults a real server has."""
    return make_app(RATELIMIT_ENABLED=True, LIVE_POLL_SECONDS=1)


@pytest.fixture
def far_page(browser, live_server):
    """A German page in a browser whose own zone is Los Angeles: times must still be Berlin's."""
    context = browser.new_context(
        locale="de-DE", timezone_id="America/Los_Angeles", viewport={"width": 1280, "height": 860}
    )
    page = context.new_page()
    page.script_errors = []
    page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
    page.set_default_timeout(15000)
    yield page
    context.close()


def log_in(page: Page, base: str, username: str, lang: str = "en") -> None:
    page.goto(f"{base}/login?lang={lang}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login"))


def test_the_walk_runs_twice_within_a_minute_in_one_request_each(
    app, live_server, page, small_rally
):
    walks = []
    page.on("request", lambda r: walks.append(r.url) if "/simulate" in r.url else None)
    serve_tiles(page)
    log_in(page, live_server, "anna")
    open_rally(page, live_server, small_rally)
    page.select_option("#sim-speed", "0")
    for run in (1, 2):
        page.click("#sim-start")
        expect(page.locator("#sim-section")).to_have_attribute("data-walks", str(run))
        expect(page.locator("#sim-log li.done")).to_have_count(1)
        expect(page.locator("#sim-log li.reveal")).to_have_count(3)
        expect(page.locator("#sim-word")).to_have_text("A R T")
        expect(page.locator("#sim-error")).to_be_hidden()
        expect(page.locator("#sim-start")).to_be_enabled()
    assert [w.rsplit("/", 2)[-2:] for w in walks] == [["simulate", "walk"]] * 2
    assert page.script_errors == []


def test_a_failed_walk_says_why_beside_its_button(app, live_server, page, small_rally):
    serve_tiles(page)
    log_in(page, live_server, "anna")
    open_rally(page, live_server, small_rally)
    message = "Too many simulated walks in a short time. Please try again in 1 minutes."
    page.route(
        re.compile(r".*/simulate/walk$"),
        lambda route: route.fulfill(
            status=429,
            content_type="application/json",
            body=json.dumps({"error": {"code": "simulation_limited", "message": message}}),
        ),
    )
    page.click("#sim-start")
    error = page.locator("#sim-section #sim-error")
    expect(error).to_have_text(message)
    expect(error).to_have_attribute("role", "alert")
    expect(page.locator("#sim-start")).to_be_enabled()
    expect(page.locator("#status .msg.error")).to_have_count(0)
    page.unroute(re.compile(r".*/simulate/walk$"))
    page.click("#sim-start")
    expect(page.locator("#sim-log li.done")).to_have_count(1, timeout=30000)
    expect(error).to_be_hidden()


def test_the_audit_log_reads_as_sentences_in_german(app, live_server, far_page, small_rally):
    from server.auth import create_user
    from server.extensions import db
    from server.models import AuditEntry, Role

    with app.app_context():
        ada = create_user("ada", PASSWORD, Role.ADMIN)
        db.session.add(
            AuditEntry(
                user_id=ada.id,
                action="rally.update",
                object_type="rally",
                object_id=small_rally,
                detail={"solution_word": {"before": "ART", "after": "<b>OLD</b>"}},
                at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            )
        )
        db.session.commit()
    log_in(far_page, live_server, "ada", "de")
    far_page.goto(f"{live_server}/curator/audit?lang=de")
    row = far_page.locator("tr[data-action='rally.update']")
    expect(row.locator("td.says")).to_contain_text("ada hat die Rallye »")
    expect(row.locator("td.says")).to_contain_text("« geändert")
    expect(row.locator("td.detail div")).to_have_text("Lösungswort: ART → <b>OLD</b>")
    expect(row.locator("time")).to_have_text("29.03.2026, 01:30:00")
    expect(far_page.locator("th").first).to_have_text("Wann (Europe/Berlin)")
    assert far_page.script_errors == []


def test_live_view_times_in_the_event_zone_and_numbers_in_german(app, demo, live_server, far_page):
    from server import models
    from server.auth import create_user
    from server.extensions import db

    slug, rally_id = demo
    at = datetime(2026, 7, 1, 16, 5, tzinfo=UTC)
    with app.app_context():
        create_user("olga", PASSWORD, models.Role.ORGANISER)
        team = models.Team(rally_id=rally_id, name="Nachtfalter", join_code="WORDS001")
        db.session.add(team)
        db.session.flush()
        db.session.add(
            models.TeamFlag(team_id=team.id, kind="teleport", at=at, detail={"speed_mps": 756.7})
        )
        db.session.commit()
    log_in(far_page, live_server, "olga", "de")
    far_page.goto(f"{live_server}/organiser/{slug}/live?lang=de")
    flag = far_page.locator("#live-flags li.flag-teleport")
    expect(flag).to_contain_text("756,7 m/s")
    expect(flag.locator("time")).to_have_text("18:05")
    assert far_page.evaluate("Staff.zone") == "Europe/Berlin"
    assert far_page.evaluate("Staff.when('2026-01-15T18:00:00Z')") == "15.01.2026, 19:00"
    assert far_page.evaluate("Staff.number(1234.5)") == "1.234,5"
    assert far_page.script_errors == []
