"""Every page of the app, in each state that shows something of its own, passes axe-core's WCAG
2.1 A and AA rules with no violation at all: player pages on a phone, staff pages on a desktop,
each in every language it exists in.

A page is one line of SCREENS: a name, the path (with the world's ids filled in) and how to bring
the page into its state. test_every_html_page_is_checked fails when a GET route that answers
with HTML is in no line and not in NOT_PAGES.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect
from werkzeug.exceptions import HTTPException

from markers.geo import LatLon
from markers.i18n import LANGUAGES, PLAYER_LANGUAGES
from tests import databases
from tests.browser.test_curator_editor import empty_map_point
from tests.live import serve

pytestmark = pytest.mark.browser

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
"""The axe-core tags of the WCAG 2.0 and 2.1 success criteria of levels A and AA."""

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
TILE_HOST = "tile.openstreetmap.org"
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f6c7a90000000049454e44ae426082"
)

AXE = Axe()
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}

PLAYER = "player"
"""No account: a phone that opened a printed code. The staff: curator, organiser, admin."""


@dataclass
class World:
    """The demo rally (published, with teams that found nothing, some or all of it), a curator's
    draft rally, a curator, an organiser and an admin, audit entries; served at url."""

    url: str
    app: Any
    ids: dict[str, Any]

    def team(self, found: int) -> str:
        """A new team of the demo rally that found its first ``found`` stops (by GPS, twenty
        minutes apart); its device token."""
        from routes import rules
        from server import game, models, teams
        from server.extensions import db

        with self.app.app_context():
            rally = db.session.get(models.Rally, self.ids["rally"])
            number = db.session.query(models.Team).count() + 1
            team, token = teams.create(rally, f"Team {number}", "de")
            start = datetime.now(UTC) - timedelta(hours=4)
            team.started_at = start
            db.session.commit()
            for i, stop in enumerate(rally.stops[:found]):
                fix = rules.Fix(
                    LatLon(stop.marker.lat, stop.marker.lon),
                    5.0,
                    start + timedelta(minutes=20 * (i + 1)),
                )
                game.apply_event(
                    team, None, "checkin", lambda t, r, f=fix: rules.GpsEvent(f), _no_body
                )
            return token


def _no_body(*_: object) -> dict[str, Any]:
    return {}


Setup = Callable[[Page, World, str], None]
"""Brings a page into its state: gets the page, the world and the page's full URL; without one
the URL is simply opened."""


@dataclass(frozen=True)
class Screen:
    """A page in one state: name, path ({slug}, {rally}, {draft}, {marker}, {qr} filled in from
    World.ids), setup, and who looks at it (PLAYER or a staff role)."""

    name: str
    path: str
    setup: Setup | None = None
    who: str = PLAYER


def as_team(found: int) -> Setup:
    """The page opened by a phone whose team (new for this screen) found ``found`` stops."""

    def setup(page: Page, world: World, url: str) -> None:
        token = world.team(found)
        cookie = {"name": f"team_{world.ids['rally']}", "value": token, "url": world.url}
        page.context.add_cookies([cookie])
        page.goto(url)

    return setup


def as_stranger(page: Page, world: World, url: str) -> None:
    """The page opened by a phone that belongs to no team."""
    page.context.clear_cookies(name=f"team_{world.ids['rally']}")
    page.goto(url)


def submit(form: str, **fields: str) -> Setup:
    """The page after its form ``form`` was sent with these fields (to show its errors)."""

    def setup(page: Page, world: World, url: str) -> None:
        as_stranger(page, world, url)
        for name, value in fields.items():
            page.fill(f"{form} [name={name}]", value)
        with page.expect_navigation():
            page.click(f"{form} button[type=submit]")

    return setup


def ready(selector: str) -> Setup:
    """The page once its script has drawn it (``selector`` appears)."""

    def setup(page: Page, world: World, url: str) -> None:
        page.goto(url)
        expect(page.locator(selector)).to_have_count(1)

    return setup


def marker_form(page: Page, world: World, url: str) -> None:
    """The markers editor with a marker's form open (a fresh load: the form opens from the
    address's #marker-N on load)."""
    page.goto("about:blank")
    ready("#marker-form-section:visible")(page, world, url)


def after_walk(page: Page, world: World, url: str) -> None:
    """The rally editor after its simulated walk ran to the end."""
    ready("#rally-editor[data-ready=true]")(page, world, url)
    page.select_option("#sim-speed", "0")
    page.click("#sim-start")
    expect(page.locator("#sim-log li.done")).to_have_count(1, timeout=30000)


def walk_refused(page: Page, world: World, url: str) -> None:
    """The rally editor with a refused simulated walk: the message beside its button."""
    ready("#rally-editor[data-ready=true]")(page, world, url)
    page.route(
        re.compile(r".*/simulate/walk$"),
        lambda route: route.fulfill(
            status=429,
            content_type="application/json",
            body='{"error": {"code": "simulation_limited", "message": "Too many walks."}}',
        ),
    )
    page.click("#sim-start")
    expect(page.locator("#sim-error")).to_be_visible()


def live(page: Page, world: World, url: str) -> None:
    """The live view after its first poll filled the table."""
    page.goto(url)
    expect(page.locator("#live[data-polls]")).to_have_count(1)
    expect(page.locator("#live-teams tbody tr").first).to_be_visible()


def assist_dialog(page: Page, world: World, url: str) -> None:
    """The live view with the dialog to mark a stop found for a team open."""
    live(page, world, url)
    page.locator('#live-teams button[data-action="assist"]').first.click()
    expect(page.locator("#assist-dialog")).to_be_visible()


def fence_drawn(page: Page, world: World, url: str) -> None:
    """The marker form after a polygon geofence was drawn around the marker on the map."""
    marker_form(page, world, url)
    icon = page.locator(f'.leaflet-marker-icon[data-marker-id="{world.ids["own_marker"]}"]')
    box = icon.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"]
    page.click("#m-fence-draw")
    expect(page.locator("#m-fence-close")).to_be_enabled()
    for dx, dy in [(-60, -45), (50, -55), (70, 35), (-5, 60)]:
        page.mouse.click(x + dx, y + dy)
    expect(page.locator(".fence-vertex")).to_have_count(4)
    page.locator(".fence-vertex.first").click()
    expect(page.locator("path.fence-draft")).to_have_count(1)


def venue_confirm(page: Page, world: World, url: str) -> None:
    """The markers editor asking to confirm where an unplaced venue goes."""
    ready("#marker-editor[data-ready=true]")(page, world, url)
    page.locator("#unplaced li button").first.click()
    page.mouse.click(*empty_map_point(page))
    expect(page.locator("#venue-confirm")).to_be_visible()


def answered_wrong(page: Page, world: World, url: str) -> None:
    """The team page after stop 1's question got a wrong answer (its verdict and form show)."""
    as_team(1)(page, world, url)
    page.fill("#answer-1", "1")
    with page.expect_navigation():
        page.click("#stop-1 .answer-form button[type=submit]")


def hint_offered(page: Page, world: World, url: str) -> None:
    """The team page with the offer of a hint unfolded (its cost and the button to take it)."""
    as_team(0)(page, world, url)
    page.click("details.take-hint summary")


def hint_taken(page: Page, world: World, url: str) -> None:
    """The team page after a hint was taken."""
    hint_offered(page, world, url)
    with page.expect_navigation():
        page.click("details.take-hint button[type=submit]")


def checked_in(page: Page, world: World, url: str) -> None:
    """The team page after "I am here" from 300 m north of the first stop: the verdict, the
    position on the map and the way to the search area."""
    as_team(0)(page, world, url)
    expect(page.locator("#play-map path.search-area")).to_have_count(1)
    lat, lon = world.ids["first_stop"]
    fields = {"checkin-lat": lat + 0.0027, "checkin-lon": lon, "checkin-accuracy": 15}
    with page.expect_navigation():
        page.evaluate(
            """(fields) => {
                for (const [id, value] of Object.entries(fields)) {
                    document.getElementById(id).value = String(value);
                }
                document.getElementById('checkin-form').submit();
            }""",
            fields,
        )
    expect(page.locator("#play-map path.team-position")).to_have_count(1)


def location_denied(page: Page, world: World, url: str) -> None:
    """The team page after "I am here" where the browser refuses the position."""
    as_team(0)(page, world, url)
    page.click("#here")
    expect(page.locator("#checkin-status.error")).to_be_visible()


def closed_team(page: Page, world: World, url: str) -> None:
    """The page opened by the team of the closed rally."""
    cookie = {"name": f"team_{world.ids['closed_id']}", "value": world.ids["closed_token"]}
    page.context.add_cookies([{**cookie, "url": world.url}])
    page.goto(url)


def stop_details(page: Page, world: World, url: str) -> None:
    """The rally editor with the first stop's clue, task and hints unfolded, and the phone
    preview of it open after "found"."""
    ready("#rally-editor[data-ready=true]")(page, world, url)
    page.locator("details.stop-more summary").first.click()
    page.locator("button.preview-stop").first.click()
    page.click("#preview-step-found")


def new_rally_error(page: Page, world: World, url: str) -> None:
    """The curator's start page after a new rally was asked for without a slug."""
    page.goto(url)
    page.click("#new-rally button[type=submit]")
    expect(page.locator("#new-rally-error")).to_be_visible()


def loud_address(page: Page, world: World, url: str) -> None:
    """The organiser's rally page warning that phones cannot reach the printed address."""
    config = world.app.config
    saved = config["PUBLIC_BASE_URL"]
    config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5301"
    try:
        page.goto(url)
    finally:
        config["PUBLIC_BASE_URL"] = saved
    expect(page.locator("#print-address[role=alert]")).to_have_count(1)


def poster_error(page: Page, world: World, url: str) -> None:
    """The poster look form after a file that is no image was sent as the logo."""
    page.goto(url)
    page.set_input_files(
        "#poster-logo", files=[{"name": "logo.png", "mimeType": "image/png", "buffer": b"<svg>"}]
    )
    with page.expect_navigation():
        page.click("#poster button[type=submit]")
    expect(page.locator("#poster-error")).to_have_count(1)


def wifi_note(page: Page, world: World, url: str) -> None:
    """The organiser's rally page saying the start poster carries the event's Wi-Fi code."""
    config = world.app.config
    config["EVENT_WIFI_SSID"] = "Kulturnacht"
    try:
        page.goto(url)
    finally:
        config["EVENT_WIFI_SSID"] = ""
    expect(page.locator("#start-wifi")).to_contain_text("Kulturnacht")


def reset_unfolded(page: Page, world: World, url: str) -> None:
    """The accounts page with an account's password reset form unfolded."""
    page.goto(url)
    page.locator("details.reset summary").first.click()


SCREENS: list[Screen] = [
    # The web player, on a phone, without an account.
    Screen("rallies", "/"),
    Screen("rally", "/play/{slug}", as_stranger),
    Screen("rally-join-error", "/play/{slug}", submit("form[action$='/join']", name="   ")),
    Screen("rally-code-error", "/play/{slug}", submit("form[action$='/code']", join_code="ZZZZZZ")),
    Screen("scan-to-join", "/q/{qr}", as_stranger),
    Screen("scan-found", "/q/{qr}", as_team(0)),
    Screen("scan-not-yet", "/q/{qr3}", as_team(0)),
    Screen("scan-invalid", "/q/not-a-code"),
    Screen("team-start", "/play/{slug}/team", as_team(0)),
    Screen("team-some-found", "/play/{slug}/team", as_team(3)),
    Screen("team-finished", "/play/{slug}/team", as_team(10)),
    Screen("team-task-answered-wrong", "/play/{slug}/team", answered_wrong),
    Screen("team-hint-offered", "/play/{slug}/team", hint_offered),
    Screen("team-hint-taken", "/play/{slug}/team", hint_taken),
    Screen("team-checked-in", "/play/{slug}/team", checked_in),
    Screen("team-location-denied", "/play/{slug}/team", location_denied),
    Screen("team-closed", "/play/{closed}/team", closed_team),
    Screen("leaderboard", "/play/{slug}/leaderboard", as_team(2)),
    Screen("leaderboard-stranger", "/play/{slug}/leaderboard", as_stranger),
    Screen("finish", "/play/{slug}/finish", as_team(10)),
    Screen("finish-closed", "/play/{closed}/finish", closed_team),
    Screen("stop-code", "/stop-code"),
    Screen("stop-code-error", "/stop-code", submit("form[action$='/stop-code']", code="ZZZ-ZZZ")),
    Screen("not-found", "/no-such-page"),
    Screen("login", "/login"),
    Screen("login-error", "/login", submit("form", username="nobody", password="wrong")),
    # The staff, on a desktop, logged in.
    Screen("curator", "/curator/", who="curator"),
    Screen("curator-new-rally-error", "/curator/", new_rally_error, "curator"),
    Screen(
        "curator-markers", "/curator/markers", ready("#marker-editor[data-ready=true]"), "curator"
    ),
    Screen(
        "curator-marker-form",
        "/curator/markers#marker-{marker}",
        marker_form,
        "curator",
    ),
    Screen("curator-marker-fence", "/curator/markers#marker-{own_marker}", fence_drawn, "curator"),
    Screen("curator-venue-confirm", "/curator/markers", venue_confirm, "curator"),
    Screen(
        "curator-rally",
        "/curator/rallies/{draft}",
        ready("#rally-editor[data-ready=true]"),
        "curator",
    ),
    Screen(
        "curator-published-rally",
        "/curator/rallies/{rally}",
        ready("#rally-editor[data-ready=true]"),
        "curator",
    ),
    Screen("curator-rally-walked", "/curator/rallies/{draft}", after_walk, "curator"),
    Screen("curator-rally-stop-preview", "/curator/rallies/{draft}", stop_details, "curator"),
    Screen("curator-audit", "/curator/audit", who="curator"),
    Screen("organiser", "/organiser/", who="organiser"),
    Screen("organiser-rally", "/organiser/{slug}/", who="organiser"),
    Screen("organiser-results", "/organiser/{slug}/results", who="organiser"),
    Screen("organiser-live", "/organiser/{slug}/live", live, "organiser"),
    Screen("organiser-live-assist", "/organiser/{slug}/live", assist_dialog, "organiser"),
    Screen("accounts", "/staff/accounts", who="admin"),
    Screen("curator-rally-walk-refused", "/curator/rallies/{draft}", walk_refused, "curator"),
    Screen("organiser-rally-address-warning", "/organiser/{slug}/", loud_address, "organiser"),
    Screen("organiser-rally-poster-error", "/organiser/{slug}/", poster_error, "organiser"),
    Screen("organiser-rally-wifi", "/organiser/{slug}/", wifi_note, "organiser"),
    Screen(
        "accounts-create-error",
        "/staff/accounts",
        submit("#new-account", username="x", password="short"),
        "admin",
    ),
    Screen("accounts-reset-unfolded", "/staff/accounts", reset_unfolded, "admin"),
]

NOT_PAGES = {
    "static": "CSS, scripts",
    "leaflet": "Leaflet's own files",
    "tile": "map tiles of the box's package (PNG)",
    "play.media": "marker images",
    "organiser.export_qr": "a PDF or ZIP download",
    "organiser.export_route": "a GPX or KML download",
    "organiser.export_results": "a CSV download",
}
"""GET routes that answer with no HTML page (besides the JSON API under /api/)."""


def _cases() -> list[Any]:
    """Each screen in each language its audience has."""
    return [
        pytest.param(screen, lang, id=f"{screen.name}-{lang}")
        for screen in SCREENS
        for lang in (PLAYER_LANGUAGES if screen.who == PLAYER else LANGUAGES)
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Iterator[World]:
    """The app on a copy of the demo database, with the accounts and rallies the screens need,
    served for the whole module; passwords hashed lightly, as conftest does for each test."""
    from argon2 import PasswordHasher

    from server import auth

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
        yield from _serve_world(tmp_path_factory.mktemp("a11y"))


def _serve_world(folder: Path) -> Iterator[World]:
    from server import create_app, game, models
    from server.auth import create_user
    from server.extensions import db

    app = create_app(
        {
            **databases.TEST_SETTINGS,
            "SQLALCHEMY_DATABASE_URI": databases.sqlite_copy(folder / "a11y.sqlite3", "demo"),
            "MEDIA_DIR": str(folder / "media"),
        }
    )
    demo = databases.templates().sqlite.demo
    with app.app_context():
        anna = create_user("anna", PASSWORD, models.Role.CURATOR)
        create_user("olga", PASSWORD, models.Role.ORGANISER)
        create_user("ada", PASSWORD, models.Role.ADMIN)
        rally = db.session.get(models.Rally, demo.rally_id)
        stops = [s.marker_id for s in rally.stops]
        draft = models.Rally(slug="kurz", order_mode="fixed", solution_word="ART", owner_id=anna.id)
        draft.set_text("title", {"de": "Kurze Runde", "en": "Short round"})
        for i, marker_id in enumerate(stops[:3]):
            draft.stops.append(models.RallyStop(marker_id=marker_id, position=i))
        db.session.add(draft)
        own = models.Marker(lat=49.4446, lon=7.7690, radius_m=20, owner_id=anna.id)
        own.set_text("title", {"de": "Eigener Marker", "en": "Own marker"})
        db.session.add(own)
        db.session.flush()
        for action, kind, row_id in (
            ("rally.create", "rally", draft.id),
            ("user.deactivate", "user", 1),
        ):
            db.session.add(
                models.AuditEntry(
                    user_id=anna.id, action=action, object_type=kind, object_id=row_id, detail={}
                )
            )
        db.session.commit()
        closed, closed_token = _closed_rally(stops)
        ids = {
            "slug": demo.slug,
            "rally": demo.rally_id,
            "draft": draft.id,
            "marker": stops[0],
            "own_marker": own.id,
            "qr": _token(game.qr_url_for(demo.rally_id, stops[0])),
            "qr3": _token(game.qr_url_for(demo.rally_id, stops[2])),
            "first_stop": (rally.stops[0].marker.lat, rally.stops[0].marker.lon),
            "closed": closed.slug,
            "closed_id": closed.id,
            "closed_token": closed_token,
        }
    with serve(app) as url:
        world = World(url, app, ids)
        world.team(2)  # the organiser's pages show a team with finds and a position
        yield world
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _closed_rally(stops: list[int]) -> tuple[Any, str]:
    """A closed rally of three stops with a team that found one; the rally and its token."""
    from routes import rules
    from server import game, models, teams
    from server.extensions import db

    row = models.Rally(slug="vorbei", order_mode="fixed", status=models.RallyStatus.PUBLISHED)
    row.set_text("title", {"de": "Vorbei", "en": "Over"})
    row.stops = [models.RallyStop(marker_id=m, position=i) for i, m in enumerate(stops[:3])]
    db.session.add(row)
    db.session.commit()
    team, token = teams.create(row, "Zu spät", "de")
    marker = row.stops[0].marker
    fix = rules.Fix(LatLon(marker.lat, marker.lon), 5.0, datetime.now(UTC))
    game.apply_event(team, None, "checkin", lambda t, r: rules.GpsEvent(fix), _no_body)
    row = db.session.get(models.Rally, row.id)
    row.status = models.RallyStatus.CLOSED
    db.session.commit()
    return row, token


def _token(qr_url: str) -> str:
    """The token part of a printed code's URL (after /q/)."""
    return urlsplit(qr_url).path.removeprefix("/q/")


@pytest.fixture(scope="module")
def pages(browser, world) -> Iterator[Callable[[str, str], Page]]:
    """One browser page for each audience (PLAYER on a phone, each staff role logged in once),
    reused by the screens, in the language asked for; tiles answered locally; the scripts'
    errors since the page was last handed out in ``page.script_errors``."""
    made: dict[str, Page] = {}

    def get(who: str, lang: str) -> Page:
        if who not in made:
            context = browser.new_context(viewport=PHONE if who == PLAYER else DESKTOP)
            context.route(
                re.compile(rf"https://{re.escape(TILE_HOST)}/.*"),
                lambda route: route.fulfill(body=PNG_1X1, content_type="image/png"),
            )
            page = context.new_page()
            page.set_default_timeout(15000)
            page.script_errors = []
            page.on("pageerror", lambda exc, p=page: p.script_errors.append(str(exc)))
            if who != PLAYER:
                _log_in(page, world, STAFF[who])
            made[who] = page
        page = made[who]
        page.context.add_cookies([{"name": "lang", "value": lang, "url": world.url}])
        page.context.set_extra_http_headers({"Accept-Language": lang})
        page.script_errors.clear()
        return page

    yield get
    for page in made.values():
        page.context.close()


STAFF = {"curator": "anna", "organiser": "olga", "admin": "ada"}
"""The account each staff role logs in with."""


def _log_in(page: Page, world: World, username: str) -> None:
    page.goto(f"{world.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert urlsplit(page.url).path != "/login", f"{username} could not log in"


def violations_text(violations: list[dict[str, Any]]) -> str:
    """One line a violation: rule id, impact, what the rule wants, where it failed."""
    lines = []
    for v in violations:
        targets = "; ".join(" ".join(map(str, n["target"])) for n in v["nodes"])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} at {targets}")
    return "\n".join(lines)


def _open(page: Page, world: World, url: str) -> None:
    page.goto(url)


@pytest.mark.parametrize(("screen", "lang"), _cases())
def test_page_has_no_wcag_violation(screen: Screen, lang: str, world, pages, artifacts):
    page = pages(screen.who, lang)
    (screen.setup or _open)(page, world, world.url + screen.path.format(**world.ids))
    shown = page.evaluate("document.documentElement.lang")
    assert shown.split("-")[0] == lang.split("-")[0], f"asked for {lang}, the page is in {shown}"
    violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    if violations:
        page.screenshot(path=str(artifacts / f"a11y-{screen.name}-{lang}.png"))
    assert not violations, f"{screen.name} ({lang}):\n{violations_text(violations)}"
    assert not page.script_errors, page.script_errors


def test_every_html_page_is_checked(world):
    """Every GET route but the JSON API and NOT_PAGES is the path of some screen."""
    adapter = world.app.url_map.bind("localhost")
    checked = set()
    for screen in SCREENS:
        path = urlsplit(screen.path.format(**world.ids)).path
        try:
            endpoint, _ = adapter.match(path, method="GET")
        except HTTPException:  # no route: the error page
            continue
        checked.add(endpoint)
    pages = {
        rule.endpoint
        for rule in world.app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.rule.startswith("/api/")
    }
    assert pages - checked - set(NOT_PAGES) == set(), "pages without an accessibility check"
    assert set(NOT_PAGES) <= pages, "NOT_PAGES names a route that is gone"
