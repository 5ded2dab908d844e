"""The box's own map in a real browser: with a tile package installed, the curator editor, the
live view and the web player's map load every tile from /tiles/ on the box (asking none outside
the package, so no "tiles did not load" note), and no request leaves 127.0.0.1."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from markers.geo import LatLon
from tests.browser.test_play_map import as_team, new_team
from tests.conftest import browser_page, readme_image
from tests.server.tile_helpers import make_package

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
ZOOMS = range(12, 18)
LOADED = "img.leaflet-tile-loaded"


@pytest.fixture
def app(make_app, demo, tmp_path):
    """The demo rally with a package of drawn tiles of its play area installed, a curator
    (anna) and an organiser (olga)."""
    from server import models, tiles
    from server.auth import create_user
    from server.extensions import db

    app = make_app(TILES_FILE=str(tmp_path / "instance" / "tiles.mbtiles"))
    with app.app_context():
        create_user("anna", PASSWORD, models.Role.CURATOR, language="en")
        create_user("olga", PASSWORD, models.Role.ORGANISER, language="en")
        row = db.session.get(models.Rally, demo[1])
        for stop in row.stops:
            stop.task = None
        db.session.commit()
        box = tiles.play_box(row)
    make_package(tmp_path / "instance" / "tiles.mbtiles", box, ZOOMS)
    return app


def local_only(page: Page, base: str) -> list[str]:
    """Refuse (and note) every request that would leave the box."""
    away: list[str] = []

    def refuse(route) -> None:
        away.append(route.request.url)
        route.abort()

    page.route(re.compile(r"^(?!" + re.escape(base) + r"/).*"), refuse)
    return away


def box_tiles_only(page: Page, base: str, away: list[str]) -> list[str]:
    """Wait for the map's tiles: every loaded one comes from /tiles/ of the box."""
    expect(page.locator(LOADED).nth(3)).to_be_attached(timeout=20_000)
    page.wait_for_load_state("networkidle")
    sources = page.eval_on_selector_all(LOADED, "(imgs) => imgs.map((i) => i.src)")
    assert sources and all(
        re.fullmatch(rf"{re.escape(base)}/tiles/\d+/\d+/\d+\.png", s) for s in sources
    ), sources
    assert away == []
    expect(page.locator(".tiles-missing")).to_have_count(0)
    assert all(url.startswith(base + "/") for url in page.requests_seen)
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("© Testkarte contributors")
    assert page.script_errors == []
    return sources


def log_in(page: Page, base: str, username: str, next_: str) -> None:
    page.goto(f"{base}/login?lang=en&next={next_}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(next_) + "$"))


def test_the_curator_editor_and_the_live_view_use_the_box_tiles(
    app, demo, browser, live_server, artifacts
):
    slug, rally_id = demo
    with browser_page(browser) as page:
        away = local_only(page, live_server)
        log_in(page, live_server, "anna", f"/curator/rallies/{rally_id}")
        box_tiles_only(page, live_server, away)
        page.screenshot(path=str(artifacts / "curator-editor-box-tiles.png"))
    with browser_page(browser) as page:
        away = local_only(page, live_server)
        log_in(page, live_server, "olga", f"/organiser/{slug}/live")
        box_tiles_only(page, live_server, away)
        page.screenshot(path=str(artifacts / "live-view-box-tiles.png"))


def test_the_web_players_map_uses_the_box_tiles(app, demo, browser, live_server, artifacts):
    from server import models
    from server.extensions import db

    slug, rally_id = demo
    with app.app_context():
        row = db.session.get(models.Rally, rally_id)
        stops = [LatLon(s.marker.lat, s.marker.lon) for s in row.stops]
    world = {"slug": slug, "rally": rally_id, "stops": stops}
    token = new_team(app, world, "Offline-Karte", found=1)
    context = browser.new_context(
        locale="en-GB",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        page.requests_seen = []
        page.on("request", lambda r: page.requests_seen.append(r.url))
        page.script_errors = []
        page.on("pageerror", lambda exc: page.script_errors.append(str(exc)))
        away = local_only(page, live_server)
        as_team(page, live_server, world, token)
        page.goto(f"{live_server}/play/{slug}/team?lang=en")
        page.locator("#play-map").scroll_into_view_if_needed()
        box_tiles_only(page, live_server, away)
        shot = artifacts / "play-map-offline-tiles.png"
        page.locator("#play-map").screenshot(path=str(shot))
        readme_image(shot, "play-map-offline-tiles.png")
    finally:
        context.close()
