"""The organiser's live view in a real browser while teams play through the player API in a
background thread: the table, counts, flags and team markers update by themselves."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import readme_image

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
TILE_HOST = "tile.openstreetmap.org"


@pytest.fixture
def app(make_app):
    return make_app(LIVE_POLL_SECONDS=1)


@pytest.fixture
def event(app, demo):
    """The demo rally, published, an organiser (olga), and the stops' positions and QR URLs."""
    from server import game, models
    from server.auth import create_user
    from server.extensions import db

    with app.app_context():
        create_user("olga", PASSWORD, models.Role.ORGANISER, language="en")
        row = db.session.get(models.Rally, demo[1])
        stops = [
            ((s.marker.lat, s.marker.lon), game.qr_url_for(row.id, s.marker.id)) for s in row.stops
        ]
        return row.slug, row.id, stops


def tile_png() -> bytes:
    """A pale 256 px tile with a faint grid, so that the map has a background offline."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (256, 256), (238, 234, 226))
    draw = ImageDraw.Draw(image)
    for k in range(0, 256, 64):
        draw.line([(k, 0), (k, 255)], fill=(226, 221, 211))
        draw.line([(0, k), (255, k)], fill=(226, 221, 211))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def prepare(page: Page) -> None:
    """Tiles answered locally, so no test depends on the network."""
    png = tile_png()
    page.route(
        re.compile(rf"https://{re.escape(TILE_HOST)}/.*"),
        lambda route: route.fulfill(body=png, content_type="image/png"),
    )


def log_in(page: Page, base: str, slug: str) -> None:
    page.goto(f"{base}/login?lang=en&next=/organiser/{slug}/live")
    page.fill("#username", "olga")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/organiser/{slug}/live$"))


def post(base: str, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def simulate(base: str, slug: str, stops: list, errors: list[str]) -> None:
    """Four teams play, one event every 0.4 s: Zebras walk to stops 1-3 (GPS) and answer the
    task of stop 1 right, Füchse scan the codes of stops 1 and 2 and take both hints of stop 1
    before a wrong answer, Eulen find stop 1, Otter send a fix away from it and a mock one."""
    try:
        tokens = {}
        for name in ("Zebras", "Füchse", "Eulen", "Otter"):
            tokens[name] = post(
                base, f"/api/v1/rallies/{slug}/teams", {"name": name, "language": "de"}
            )["token"]
            time.sleep(0.2)
        t0 = datetime.now(UTC) - timedelta(seconds=110)

        def checkin(name: str, lat: float, lon: float, at: datetime, **extra) -> str:
            time.sleep(0.4)
            body = {
                "lat": lat,
                "lon": lon,
                "accuracy_m": 8,
                "recorded_at": iso(at),
                "client_event_id": str(uuid.uuid4()),
                **extra,
            }
            return post(base, "/api/v1/team/checkins", body, tokens[name])["result"]

        def scan(name: str, url: str) -> str:
            time.sleep(0.4)
            body = {"token": url, "client_event_id": str(uuid.uuid4())}
            return post(base, "/api/v1/team/scans", body, tokens[name])["result"]

        def answer(name: str, stop: int, value: object) -> str:
            time.sleep(0.4)
            body = {"stop": stop, "answer": value, "client_event_id": str(uuid.uuid4())}
            return post(base, "/api/v1/team/answers", body, tokens[name])["result"]

        def hint(name: str, stop: int) -> str:
            time.sleep(0.4)
            body = {"stop": stop, "client_event_id": str(uuid.uuid4())}
            return post(base, "/api/v1/team/hints", body, tokens[name])["result"]

        results = [
            checkin("Zebras", *stops[0][0], t0),
            scan("Füchse", stops[0][1]),
            checkin("Eulen", *stops[0][0], t0 + timedelta(seconds=20)),
            answer("Zebras", 1, 1892),
            hint("Füchse", 1),
            hint("Füchse", 1),
            answer("Füchse", 1, 1900),
            checkin("Zebras", *stops[1][0], t0 + timedelta(seconds=50)),
            scan("Füchse", stops[1][1]),
            checkin("Otter", stops[0][0][0] + 0.004, stops[0][0][1], t0 + timedelta(seconds=60)),
            checkin("Zebras", *stops[2][0], t0 + timedelta(seconds=100)),
            checkin(
                "Otter",
                stops[0][0][0] + 0.004,
                stops[0][0][1] + 0.001,
                t0 + timedelta(seconds=105),
                mock_location=True,
            ),
        ]
        expected = ["found"] * 3 + ["correct", "hint", "hint", "wrong"]
        expected += ["found"] * 2 + ["outside", "found", "mock_location"]
        if results != expected:
            errors.append(f"unexpected results {results}")
    except Exception as exc:  # reported to the test, which fails with it
        errors.append(repr(exc))


def row(page: Page, name: str):
    return page.locator("#live-teams tbody tr", has=page.locator("td.team-name", has_text=name))


def test_live_view_follows_a_simulated_game(page, live_server, event, app, artifacts):
    slug, rally_id, stops = event
    prepare(page)
    log_in(page, live_server, slug)
    expect(page.locator("#live-teams tbody")).to_contain_text("No team yet.")
    expect(page.locator("path.stop-marker")).to_have_count(10)
    expect(page.locator("#live-updated")).to_contain_text("Updated at")

    errors: list[str] = []
    player = threading.Thread(target=simulate, args=(live_server, slug, stops, errors))
    player.start()
    # While the teams play, the page keeps polling and shows what happened so far.
    expect(page.locator("#live-teams tbody tr")).to_have_count(4, timeout=20000)
    expect(row(page, "Zebras").locator("td.found")).to_have_text("1/10", timeout=20000)
    player.join(timeout=60)
    assert not player.is_alive()
    assert not errors, errors

    expect(row(page, "Zebras").locator("td.found")).to_have_text("3/10")
    expect(row(page, "Füchse").locator("td.found")).to_have_text("2/10")
    expect(row(page, "Eulen").locator("td.found")).to_have_text("1/10")
    expect(row(page, "Otter").locator("td.found")).to_have_text("0/10")
    expect(page.locator("#live-teams tbody tr").first).to_contain_text("Zebras")
    expect(row(page, "Füchse").locator(".dot.found-qr")).to_have_count(2)
    expect(row(page, "Zebras").locator(".dot.found-gps")).to_have_count(3)
    expect(page.locator('#live-counts [data-count="finds"]')).to_have_text("6")
    expect(page.locator('#live-counts [data-count="teams"]')).to_have_text("4")
    expect(page.locator("#live-flags")).to_contain_text("mock location")
    expect(page.locator("#live-flags")).to_contain_text("Otter")
    # Zebras, Eulen and Otter sent fixes (Otter's mock fix is not trusted); Füchse only scanned.
    expect(page.locator("path.team-marker")).to_have_count(3)
    # Tasks and hints: the Zebras' task points, the Füchse's hints and what they cost.
    expect(row(page, "Zebras").locator("td.tasks")).to_have_text("50 pts · 1 of 1 solved")
    expect(row(page, "Zebras").locator("td.hints")).to_have_text("–")
    expect(row(page, "Füchse").locator("td.tasks")).to_have_text("0 pts · 0 of 1 solved")
    expect(row(page, "Füchse").locator("td.hints")).to_have_text("2 (−30 pts)")
    expect(row(page, "Eulen").locator("td.tasks")).to_have_text("–")
    expect(page.locator('#live-counts [data-count="tasks_solved"]')).to_have_text("1")
    expect(page.locator('#live-counts [data-count="hints"]')).to_have_text("2")
    page.locator("path.stop-marker").first.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text(
        "found by 3 teams · task solved by 1, answered by 2 · hints taken by 1"
    )
    expect(page.locator(".leaflet-popup")).to_have_css("opacity", "1")

    page.screenshot(path=str(artifacts / "organiser-live.png"), full_page=True)
    readme_image(artifacts / "organiser-live.png", "organiser-live.png")

    # Help the stuck Otter: stop 1 marked found, with the reason.
    row(page, "Otter").locator('button[data-action="assist"]').click()
    expect(page.locator("#assist-dialog")).to_be_visible()
    expect(page.locator("#assist-stop")).to_have_value(str(_marker_id(app, rally_id, 0)))
    page.fill("#assist-reason", "Handy-Akku leer, Foto der Tafel gezeigt")
    page.locator("#assist-form button[type=submit]").click()
    expect(page.locator("#assist-dialog")).to_be_hidden()
    expect(row(page, "Otter").locator("td.found")).to_have_text("1/10")
    expect(row(page, "Otter").locator(".dot.found-assist")).to_have_count(1)
    expect(page.locator("#live-flags li").first).to_contain_text("assisted")
    expect(page.locator("#live-flags li").first).to_contain_text("Handy-Akku leer")

    # Rename a team; a taken name is refused in the dialog.
    row(page, "Eulen").locator('button[data-action="rename"]').click()
    page.fill("#rename-name", "Zebras")
    page.locator("#rename-form button[type=submit]").click()
    expect(page.locator("#rename-error")).to_contain_text("already taken")
    page.fill("#rename-name", "Nachteulen")
    page.locator("#rename-form button[type=submit]").click()
    expect(row(page, "Nachteulen")).to_have_count(1)

    # Filter the table by name.
    page.fill("#team-filter", "füch")
    expect(page.locator("#live-teams tbody tr")).to_have_count(1)
    page.fill("#team-filter", "")

    assert not page.script_errors, page.script_errors
    hosts = {urlsplit(u).hostname for u in page.requests_seen}
    assert hosts <= {"127.0.0.1", TILE_HOST}, hosts
    assert int(page.locator("#live").get_attribute("data-polls")) >= 5


def _marker_id(app, rally_id: int, index: int) -> int:
    from server import models
    from server.extensions import db

    with app.app_context():
        return db.session.get(models.Rally, rally_id).stops[index].marker_id


def test_after_close_and_purge_the_view_shows_no_positions_and_no_names(
    page, live_server, event, artifacts
):
    slug, _, stops = event
    prepare(page)
    token = post(live_server, f"/api/v1/rallies/{slug}/teams", {"name": "Spätzünder"})["token"]
    post(
        live_server,
        "/api/v1/team/checkins",
        {
            "lat": stops[0][0][0],
            "lon": stops[0][0][1],
            "accuracy_m": 5,
            "recorded_at": iso(datetime.now(UTC)),
            "client_event_id": str(uuid.uuid4()),
        },
        token,
    )
    log_in(page, live_server, slug)
    expect(page.locator("path.team-marker")).to_have_count(1)

    page.goto(f"{live_server}/organiser/{slug}/")
    page.screenshot(path=str(artifacts / "organiser-rally.png"), full_page=True)
    readme_image(artifacts / "organiser-rally.png", "organiser-rally.png")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#close-button")
    expect(page.locator("#purge-form")).to_be_visible()
    page.fill("#purge-confirm", slug)
    page.locator("#purge-form button[type=submit]").click()
    expect(page.locator("#purge")).to_contain_text("Personal data purged on")

    page.goto(f"{live_server}/organiser/{slug}/live")
    expect(page.locator("#live-updated")).to_contain_text("no positions")
    expect(page.locator("#live-teams tbody tr")).to_have_count(1)
    expect(page.locator("#live-teams tbody")).to_contain_text("Team no.")
    expect(page.locator("#live-teams tbody")).not_to_contain_text("Spätzünder")
    expect(page.locator("#live-teams button")).to_have_count(0)
    expect(page.locator("path.team-marker")).to_have_count(0)
    assert not page.script_errors, page.script_errors
