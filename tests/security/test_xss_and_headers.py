"""Text is text everywhere, and every response carries the security headers.

Hostile team names (through the player API and the web join) and hostile curator texts are shown
in a real Chromium on the organiser live view, the curator editors, the play pages and the results
summary: no script runs, each is shown as the literal text. Every kind of response carries CSP
(pages), X-Frame-Options, nosniff, Referrer-Policy and Permissions-Policy; the main pages load
without a single CSP violation; another origin cannot frame a page.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from server.maps import tile_source
from tests.conftest import browser_page
from tests.live import StubServer
from tests.server.helpers import iso
from tests.server.organiser_helpers import PASSWORD, login, make_user

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
SVG = '"><svg onload=window.__pwned=1>'
HOSTILE = (IMG, SCRIPT, SVG)
TILE_HOST = "tile.openstreetmap.org"
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f6c7a90000000049454e44ae426082"
)
WATCH_CSP = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""
INJECTED = "img[src='x'], svg[onload], [onerror], [onload], body script:not([src]):not([type])"


@pytest.fixture
def app(make_app):
    return make_app(LIVE_POLL_SECONDS=1)


@pytest.fixture
def world(app, demo):
    """The demo rally with hostile texts on its first stop's marker and in its intro, an admin
    (ada, who may use every staff page), and the stops' positions and QR URLs."""
    from server import game, models
    from server.extensions import db

    make_user(app, "ada", "admin")
    with app.app_context():
        rally = db.session.get(models.Rally, demo[1])
        marker = rally.stops[0].marker
        marker.set_text("title", {"de": IMG, "en": IMG})
        marker.set_text("clue", {"de": SCRIPT, "en": SCRIPT})
        marker.set_text("story", {"de": SVG, "en": SVG})
        rally.set_text("intro", {"de": SCRIPT, "en": SCRIPT})
        db.session.commit()
        stops = [
            ((s.marker.lat, s.marker.lon), game.qr_url_for(rally.id, s.marker.id))
            for s in rally.stops
        ]
        return rally.slug, rally.id, stops


def post(base: str, path: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def hostile_teams(base: str, slug: str, stops: list, names: tuple[str, ...] = HOSTILE) -> None:
    """One team per name through the player API, each with a fix at a stop of its own."""
    for name, ((lat, lon), _url) in zip(names, stops, strict=False):
        token = post(base, f"/api/v1/rallies/{slug}/teams", {"name": name, "language": "en"})[
            "token"
        ]
        fix = {
            "lat": lat,
            "lon": lon,
            "accuracy_m": 8,
            "recorded_at": iso(datetime.now(UTC)),
            "client_event_id": str(uuid.uuid4()),
        }
        post(base, "/api/v1/team/checkins", fix, token)


def prepare(page: Page) -> None:
    """Tiles answered locally, CSP violations recorded in window.__violations."""
    page.route(
        re.compile(rf"https://{re.escape(TILE_HOST)}/.*"),
        lambda route: route.fulfill(body=PNG_1X1, content_type="image/png"),
    )
    page.add_init_script(WATCH_CSP)


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login?lang=en")
    page.fill("#username", "ada")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).not_to_have_url(re.compile(r"/login"))


def assert_inert(page: Page) -> None:
    """No injected script ran, no injected element exists, no CSP violation, no script error."""
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator(INJECTED).count() == 0
    assert page.evaluate("window.__violations") == []
    assert page.script_errors == []


def test_live_view_shows_hostile_team_names_as_text(page, live_server, world):
    slug, _rally_id, stops = world
    hostile_teams(live_server, slug, stops)
    prepare(page)
    log_in(page, live_server)
    page.goto(f"{live_server}/organiser/{slug}/live?lang=en")
    names = page.locator("#live-teams td.team-name")
    expect(names).to_have_count(3)
    assert sorted(names.all_inner_texts()) == sorted(HOSTILE)

    dots = page.locator("path.team-marker")
    expect(dots).to_have_count(3)
    shown = []
    for k in range(3):
        dots.nth(k).hover()
        tip = page.locator(".leaflet-tooltip:not(.stop-number)")
        expect(tip).to_have_count(1)
        shown.append(tip.inner_text())
        dots.nth(k).click()
        page.mouse.move(5, 5)
        expect(tip).to_have_count(0)
    for name in HOSTILE:
        assert any(text.startswith(name + " · ") for text in shown), (name, shown)

    page.locator("path.stop-marker").first.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text(f"Stop 1: {IMG}")
    page.locator("#team-filter").fill("<")
    expect(names).to_have_count(3)
    assert_inert(page)


def test_curator_editors_show_hostile_marker_texts_as_text(page, live_server, world):
    _slug, rally_id, _stops = world
    prepare(page)
    log_in(page, live_server)
    page.goto(f"{live_server}/curator/markers?lang=en")
    page.locator("button.link", has_text=IMG).click()
    expect(page.locator("#marker-form-title")).to_contain_text(IMG)
    expect(page.get_by_title(IMG, exact=True).first).to_be_attached()
    assert_inert(page)

    page.goto(f"{live_server}/curator/rallies/{rally_id}?lang=en")
    expect(page.locator("body")).to_contain_text(IMG)
    page.locator(".leaflet-marker-icon").first.click()
    expect(page.locator(".leaflet-popup-content")).to_contain_text(IMG)
    assert_inert(page)


def test_play_pages_and_results_show_hostile_names_as_text(page, live_server, world):
    slug, _rally_id, stops = world
    hostile_teams(live_server, slug, stops[1:], (IMG, SCRIPT))
    prepare(page)
    page.goto(f"{live_server}/play/{slug}?lang=en")
    expect(page.locator("body")).to_contain_text(SCRIPT)
    page.fill("#name", SVG)
    page.click("form[action$='/join'] button[type=submit]")
    expect(page).to_have_url(re.compile(rf"/play/{slug}/team"))
    expect(page.locator("body")).to_contain_text(SVG)
    assert_inert(page)
    page.goto(stops[0][1].replace("https://artcaching.example.org", live_server))
    expect(page.locator("body")).to_contain_text(IMG)
    expect(page.locator("body")).to_contain_text(SVG)
    assert_inert(page)

    log_in(page, live_server)
    page.goto(f"{live_server}/organiser/{slug}/results?lang=en")
    board = page.locator("#summary-leaderboard")
    for name in HOSTILE:
        expect(board).to_contain_text(name)
    expect(page.locator("#summary-stops")).to_contain_text(IMG)
    assert_inert(page)
    download = page.request.get(f"{live_server}/organiser/{slug}/export/results")
    assert download.ok
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["x-content-type-options"] == "nosniff"
    rows = list(csv.reader(io.StringIO(download.text().lstrip("\ufeff"))))
    assert sorted(row[1] for row in rows[1:]) == sorted(HOSTILE)


def check_common(resp, path: str) -> None:
    """The headers every response carries."""
    headers = resp.headers
    assert headers["X-Frame-Options"] == "DENY", path
    assert headers["X-Content-Type-Options"] == "nosniff", path
    expected = "no-referrer" if path.startswith("/q/") else "strict-origin-when-cross-origin"
    assert headers["Referrer-Policy"] == expected, path
    permissions = {p.strip() for p in headers["Permissions-Policy"].split(",")}
    assert {"camera=(self)", "geolocation=(self)", "microphone=()", "payment=()"} <= permissions


def csp(resp) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as directive -> sources."""
    policy = resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    return {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}


def check_page(resp, path: str, tiles: str = f"https://{TILE_HOST}") -> None:
    check_common(resp, path)
    policy = csp(resp)
    assert policy["default-src"] == ["'self'"], path
    assert policy["script-src"] == ["'self'"], path
    assert policy["style-src"] == ["'self'"], path
    assert policy["img-src"] == ["'self'", "data:", tiles], path
    assert policy["connect-src"] == ["'self'"], path
    assert policy["frame-ancestors"] == ["'none'"], path
    assert policy["base-uri"] == ["'self'"], path
    assert policy["form-action"] == ["'self'"], path
    assert policy["object-src"] == ["'none'"], path


def test_every_kind_of_response_carries_the_headers(app, client, world):
    slug, _rally_id, stops = world

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("boom")

    qr_path = stops[0][1].replace("https://artcaching.example.org", "")
    pages = {
        "/": 200,
        f"/play/{slug}": 200,
        qr_path: 200,
        "/q/not-a-token": 404,
        "/login": 200,
        "/no-such-page": 404,
        "/boom": 500,
    }
    for path, status in pages.items():
        resp = client.get(path)
        assert resp.status_code == status, path
        assert resp.mimetype == "text/html", path
        check_page(resp, path)
    others = {
        "/api/v1/openapi.json": 200,
        f"/api/v1/rallies/{slug}": 200,
        "/api/v1/no-such-thing": 404,
        "/api/v1/boom": 500,
        "/static/site.css": 200,
        "/vendor/leaflet/leaflet.js": 200,
        "/curator/": 302,
    }
    for path, status in others.items():
        resp = client.get(path)
        assert resp.status_code == status, path
        check_common(resp, path)

    login(client, app, "admin", "adele")
    for path in ("/curator/", "/curator/markers", "/organiser/", f"/organiser/{slug}/live"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        check_page(resp, path)
    resp = client.get(f"/organiser/{slug}/export/results")
    assert resp.status_code == 200
    check_common(resp, "csv")


def test_the_policy_names_the_configured_tile_host(make_app):
    app = make_app(TILE_URL="https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    check_page(app.test_client().get("/login"), "/login", "https://*.tiles.example.org")
    assert tile_source("http://192.168.4.1:8080/{z}/{x}/{y}.png") == "http://192.168.4.1:8080"
    assert tile_source("/tiles/{z}/{x}/{y}.png") is None


def test_main_pages_load_without_a_csp_violation(page, live_server, world):
    slug, rally_id, stops = world
    hostile_teams(live_server, slug, stops)
    prepare(page)
    visited = []

    def visit(path: str, ready: str) -> None:
        response = page.goto(live_server + path)
        assert response is not None
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_timeout(500)
        visited.append((path, page.evaluate("window.__violations")))

    visit("/?lang=en", "body")
    visit(f"/play/{slug}?lang=en", "#name")
    page.fill("#name", "Zebras")
    page.click("form[action$='/join'] button[type=submit]")
    visit(f"/play/{slug}/team", "body")
    visit(stops[0][1].replace("https://artcaching.example.org", ""), "body")
    log_in(page, live_server)
    visit("/curator/", "body")
    visit("/curator/markers", ".leaflet-marker-icon")
    visit(f"/curator/rallies/{rally_id}", ".leaflet-marker-icon")
    visit("/organiser/", "body")
    visit(f"/organiser/{slug}/", "body")
    visit(f"/organiser/{slug}/live", "path.team-marker")
    visit(f"/organiser/{slug}/results", "#summary-leaderboard")
    assert [v for v in visited if v[1]] == []
    assert page.script_errors == []


def test_another_origin_cannot_frame_a_page(browser, live_server, world):
    framer = f'<!doctype html><iframe id="f" src="{live_server}/login?lang=en"></iframe>'
    answer = (200, {"Content-Type": "text/html"}, framer.encode())
    with StubServer(lambda _path: answer) as stub, browser_page(browser) as page:
        refused = []
        page.on("console", lambda m: refused.append(m.text) if "frame" in m.text else None)
        page.goto(stub.url + "/")
        page.wait_for_timeout(1000)
        framed = [f for f in page.frames if f.parent_frame is not None]
        assert len(framed) == 1
        assert not framed[0].url.startswith(live_server)
        assert framed[0].locator("#username").count() == 0
        assert any("frame-ancestors" in text or "X-Frame-Options" in text for text in refused)
