"""The whole game in the browser on a phone-sized Chromium: the team page's map and "I am here"
check-in with the browser's position (granted, denied, unavailable, timed out), the finish and
leaderboard pages, the closed state, and no sideways scrolling at 360 px, also with the text at
200 %. Screenshots go to the artifacts folder (three to the README's pictures)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from markers.geo import LatLon, destination
from tests.conftest import readme_image

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SMALL = {"width": 360, "height": 740}
TILES = re.compile(r"https://[^/]*tile\.openstreetmap\.org/.*")
LANGS = ("de", "en", "de-x-ls")


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def world(app, demo) -> dict:
    """The demo rally without its tasks (each letter comes with its find), with a finish text
    and a picture at stop 1: slug, rally id, the stops' positions."""
    from server import models
    from server.extensions import db

    slug, rally_id = demo
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        for stop in row.stops:
            stop.task = None
        row.set_text(
            "finish_text",
            {
                "de": "Holt euren Preis bis 23 Uhr am Stand in der Fruchthalle ab.\nDanke!",
                "en": "Collect your prize at the stand in the Fruchthalle until 11 pm.\nThank you!",
                "de-x-ls": "Euer Preis wartet am Stand in der Fruchthalle. Bis 23 Uhr.",
            },
        )
        db.session.commit()
        stops = [LatLon(s.marker.lat, s.marker.lon) for s in row.stops]
    return {"slug": slug, "rally": rally_id, "stops": stops}


def new_team(app, world: dict, name: str, found: int = 0, minutes: int = 20) -> str:
    """A team (started four hours ago) that found its first ``found`` stops by GPS,
    ``minutes`` apart; its device token."""
    from routes import rules
    from server import game, models, teams
    from server.extensions import db

    with app.app_context():
        rally = db.session.get(models.Rally, world["rally"])
        team, token = teams.create(rally, name, "de")
        start = team.started_at - timedelta(hours=4)
        team.started_at = start
        db.session.commit()
        for i, position in enumerate(world["stops"][:found]):
            fix = rules.Fix(position, 5.0, start + timedelta(minutes=minutes * (i + 1)))
            game.apply_event(
                team, None, "checkin", lambda t, r, f=fix: rules.GpsEvent(f), lambda *_: {}
            )
    return token


@pytest.fixture
def phone(browser, live_server) -> Iterator[Callable[..., Page]]:
    """Phones (390 x 844 unless asked otherwise) with the browser's location granted or not;
    map tiles never load (the maps work without them)."""
    contexts: list[BrowserContext] = []

    def make(viewport: dict = PHONE, geolocation: LatLon | None = None, lang: str = "en") -> Page:
        context = browser.new_context(
            locale="en-GB",
            viewport=viewport,
            device_scale_factor=1,
            is_mobile=True,
            has_touch=True,
            extra_http_headers={"Accept-Language": lang},
        )
        contexts.append(context)
        context.route(TILES, lambda route: route.abort())
        if geolocation is not None:
            context.grant_permissions(["geolocation"], origin=live_server)
            context.set_geolocation(
                {"latitude": geolocation[0], "longitude": geolocation[1], "accuracy": 14}
            )
        page = context.new_page()
        page.script_errors = []
        page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()


def as_team(page: Page, live_server: str, world: dict, token: str) -> None:
    page.context.add_cookies(
        [{"name": f"team_{world['rally']}", "value": token, "url": live_server}]
    )


def fits(page: Page) -> None:
    """No sideways scrolling: nothing wider than the screen (a phone's browser widens its
    layout viewport to wide content, so the screen's width is what counts)."""
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    screen = page.viewport_size["width"] if page.viewport_size else 0
    if width > screen:
        wide = page.evaluate(
            """(screen) => Array.from(document.querySelectorAll('body *'))
                .filter((e) => e.getBoundingClientRect().right > screen)
                .slice(0, 8).map((e) => e.tagName + '.' + e.className + ' ' +
                    Math.round(e.getBoundingClientRect().right))""",
            screen,
        )
        raise AssertionError(f"{page.url}: {width} px wide on a {screen} px screen: {wide}")


def map_data(page: Page) -> dict:
    return json.loads(page.locator("#play-map-data").text_content() or "{}")


def test_i_am_here_on_a_phone_with_location_granted(app, world, phone, live_server, artifacts):
    slug = world["slug"]
    page = phone(geolocation=world["stops"][0])
    as_team(page, live_server, world, new_team(app, world, "Kartenlesen"))
    page.goto(f"{live_server}/play/{slug}/team?lang=en")
    expect(page.locator("#play-map")).to_be_visible()
    expect(page.locator("#play-map path.search-area")).to_have_count(1)
    expect(page.locator("#play-map")).to_have_class(re.compile("tiles-missing"))
    area = map_data(page)["areas"][0]

    # first from 400 m south of the search area: the way there, the position on the map
    away = destination(LatLon(area["lat"], area["lon"]), 180.0, area["radius_m"] + 400)
    page.context.set_geolocation({"latitude": away[0], "longitude": away[1], "accuracy": 14})
    with page.expect_navigation():
        page.get_by_role("button", name="I am here").click()
    expect(page).to_have_url(re.compile(r"/team\?done=[0-9a-f-]{36}#checkin$"))
    expect(page.locator("#checkin .result")).to_have_text(
        "Position taken (± 14 m). No marker here yet."
    )
    expect(page.locator(".way")).to_have_text("The search area is 400 m away, to the north.")
    expect(page.locator("#play-map path.team-position")).to_have_count(1)
    expect(page.locator(".position-line")).to_contain_text("accurate to ± 14 m")
    fits(page)
    page.locator("#stop-1").scroll_into_view_if_needed()
    shot = artifacts / "play-map.png"
    top = page.locator("#stop-1").bounding_box()
    bottom = page.locator("#checkin").bounding_box()
    assert top and bottom
    scroll = page.evaluate("() => window.scrollY")
    clip = {
        "x": 0,
        "y": top["y"] + scroll - 8,
        "width": PHONE["width"],
        "height": bottom["y"] + bottom["height"] - top["y"] + 16,
    }
    page.screenshot(path=str(shot), full_page=True, clip=clip)
    readme_image(shot, "play-map.png")

    # then at the marker: found by the browser's position, under the app's rules
    page.context.set_geolocation(
        {"latitude": world["stops"][0][0], "longitude": world["stops"][0][1], "accuracy": 6}
    )
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_timeout(0)
    from server import models
    from server.extensions import db
    from tests.server.helpers import let_time_pass

    with app.app_context():
        team_id = db.session.query(models.Team.id).filter_by(name="Kartenlesen").scalar()
    let_time_pass(app, team_id, 900)
    with page.expect_navigation():
        page.get_by_role("button", name="I am here").click()
    expect(page.locator("#checkin .result")).to_have_text("✓ Found where you stand: stop 1!")
    expect(page.locator("#stop-1")).to_have_attribute("open", "")
    expect(page.locator(".team-line")).to_contain_text("1 of 10 stops")
    expect(page.locator("#play-map path.found-marker")).to_have_count(1)
    fits(page)
    page.screenshot(path=str(artifacts / "play-map-found-en.png"), full_page=True)
    assert not page.script_errors


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (None, "Location is blocked for this page."),
        (2, "Your phone cannot find its position right now."),
        (3, "Finding your position took too long. Please try again."),
    ],
)
def test_a_position_the_browser_cannot_give_says_why(
    app, world, phone, live_server, artifacts, code, message
):
    page = phone()  # no permission granted: the browser refuses
    if code is not None:
        page.add_init_script(
            "navigator.geolocation.getCurrentPosition = function (ok, fail) {"
            f" setTimeout(function () {{ fail({{ code: {code}, message: 'x' }}); }}, 50); }};"
        )
    as_team(page, live_server, world, new_team(app, world, f"Ohne Ort {code}"))
    page.goto(f"{live_server}/play/{world['slug']}/team?lang=en")
    page.get_by_role("button", name="I am here").click()
    status = page.locator("#checkin-status")
    expect(status).to_contain_text(message)
    expect(status).to_have_class(re.compile("error"))
    expect(page.get_by_role("button", name="I am here")).to_be_enabled()
    assert "done=" not in page.url
    fits(page)
    if code is None:
        page.locator("#checkin").screenshot(path=str(artifacts / "play-geo-denied-en.png"))
    assert not page.script_errors


def test_on_a_plain_http_address_the_page_says_scan_instead(app, world, phone, live_server):
    """The box's LAN address is http: browsers give no position to such a page (no secure
    context), so the button would only fail; the page says to scan or type the code instead."""
    page = phone(geolocation=world["stops"][0])
    page.add_init_script("Object.defineProperty(window, 'isSecureContext', { value: false });")
    as_team(page, live_server, world, new_team(app, world, "Ohne https"))
    page.goto(f"{live_server}/play/{world['slug']}/team?lang=de")
    expect(page.locator("#checkin-status")).to_contain_text("ohne https")
    expect(page.locator("#here")).to_be_hidden()
    expect(page.locator("#play-map")).to_be_visible()
    expect(page.locator(".clue .small").first).to_contain_text(re.compile(r"49,\d{5}, 7,\d{5}"))
    fits(page)
    assert not page.script_errors


def test_finish_and_leaderboard_on_a_phone(app, world, phone, live_server, artifacts):
    slug = world["slug"]
    new_team(app, world, "Die Schnellen", found=10, minutes=15)
    new_team(app, world, "Halbe Strecke", found=4)
    new_team(app, world, "Gerade los")
    page = phone(lang="en")
    as_team(page, live_server, world, new_team(app, world, "Spürnasen", found=10))
    page.goto(f"{live_server}/play/{slug}/team?lang=en")
    page.get_by_role("link", name="Your result").click()
    expect(page.locator("h1")).to_have_text("You made it!")
    expect(page.locator(".facts")).to_contain_text("2 of 4")
    expect(page.locator(".facts")).to_contain_text("3 hrs 20 mins")
    expect(page.locator(".word span")).to_have_count(10)
    expect(page.locator(".finish-text")).to_contain_text("Collect your prize at the stand")
    fits(page)
    page.screenshot(path=str(artifacts / "play-finish.png"), full_page=True)
    readme_image(artifacts / "play-finish.png", "play-finish.png")

    page.get_by_role("link", name="Leaderboard").click()
    rows = page.locator(".board li")
    expect(rows).to_have_count(4)
    expect(rows.nth(0)).to_contain_text("Die Schnellen")
    expect(rows.nth(1)).to_contain_text("Spürnasen (your team)")
    expect(rows.nth(1)).to_have_attribute("aria-current", "true")
    expect(rows.nth(2)).to_contain_text("4 of 10 stops")
    fits(page)
    page.screenshot(path=str(artifacts / "play-leaderboard.png"), full_page=True)
    readme_image(artifacts / "play-leaderboard.png", "play-leaderboard.png")
    assert not page.script_errors


def test_a_closed_rally_on_a_phone(app, world, phone, live_server, artifacts):
    from server import models
    from server.extensions import db

    token = new_team(app, world, "Zu spät", found=2)
    with app.app_context():
        db.session.get(models.Rally, world["rally"]).status = models.RallyStatus.CLOSED
        db.session.commit()
    for lang, title in (
        ("de", "Die Rallye ist vorbei"),
        ("en", "The rally is over"),
        ("de-x-ls", "Die Rallye ist vorbei."),
    ):
        page = phone(lang=lang)
        as_team(page, live_server, world, token)
        page.goto(f"{live_server}/play/{world['slug']}/team?lang={lang}")
        expect(page.locator("#closed h2")).to_have_text(title)
        expect(page.locator("#checkin-form")).to_have_count(0)
        expect(page.locator(".clue")).to_have_count(0)
        fits(page)
        page.screenshot(path=str(artifacts / f"play-closed-{lang}.png"), full_page=True)
        assert not page.script_errors


@pytest.mark.parametrize("lang", LANGS)
def test_player_pages_fit_360_px_with_text_at_200_percent(
    app, world, phone, live_server, lang, artifacts
):
    """Every player page at 360 px, the browser's text at 200 %: no sideways scrolling."""
    slug = world["slug"]
    page = phone(viewport=SMALL, lang=lang)
    token = new_team(app, world, "Ein ziemlich langer Teamname mit Ausdauer", found=10)
    new_team(app, world, "Halbzeit", found=5)
    paths = [
        "/",
        f"/play/{slug}",
        f"/play/{slug}/leaderboard",
    ]
    for path in paths:
        _check_large(page, f"{live_server}{path}?lang={lang}")
    as_team(page, live_server, world, new_team(app, world, "Unterwegs", found=2))
    _check_large(page, f"{live_server}/play/{slug}/team?lang={lang}")
    page.screenshot(path=str(artifacts / f"play-team-360-200-{lang}.png"), full_page=True)
    as_team(page, live_server, world, token)
    for path in (f"/play/{slug}/team", f"/play/{slug}/finish", f"/play/{slug}/leaderboard"):
        _check_large(page, f"{live_server}{path}?lang={lang}")
        name = path.rsplit("/", 1)[-1]
        page.screenshot(path=str(artifacts / f"play-{name}-360-200-{lang}.png"), full_page=True)
    assert not page.script_errors


def _check_large(page: Page, url: str) -> None:
    page.goto(url)
    fits(page)
    page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
    page.wait_for_timeout(50)
    fits(page)
