"""The curator editor in a real browser: place, drag and edit a marker, build, check, reorder,
try and publish a rally; no request to a foreign host; markers even without tiles."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import browser_page, readme_image
from tests.live import serve

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
TILE_HOST = "tile.openstreetmap.org"
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5f6c7a90000000049454e44ae426082"
)


@pytest.fixture
def curator_world(app):
    """Venues, a curator (anna) and three of her markers: two overlap, the third is far off."""
    from routes import rallyfile
    from server import seed
    from server.auth import create_user
    from server.extensions import db
    from server.models import Marker, Role

    with app.app_context():
        seed.import_venues(rallyfile.load_venues())
        anna = create_user("anna", PASSWORD, Role.CURATOR, language="en")
        spots = {
            "Fruchthalle": (49.445667, 7.770361),
            "Fruchthalle Ost": (49.445667, 7.770620),
            "Stiftskirche": (49.444444, 7.770833),
            "Rathaus": (49.446667, 7.767778),
        }
        ids = {}
        for name, (lat, lon) in spots.items():
            m = Marker(lat=lat, lon=lon, radius_m=20.0, owner_id=anna.id)
            m.set_text("title", {"de": name, "en": name})
            m.set_text("clue", {"de": f"Hinweis {name}", "en": f"Clue {name}"})
            m.set_text("story", {"de": f"Geschichte {name}", "en": f"Story of {name}"})
            db.session.add(m)
            db.session.flush()
            ids[name] = m.id
        db.session.commit()
        return ids


def serve_tiles(page: Page) -> None:
    """Answer tile requests with a blank tile, so no test depends on the network."""
    page.route(
        re.compile(rf"https://{re.escape(TILE_HOST)}/.*"),
        lambda route: route.fulfill(body=PNG_1X1, content_type="image/png"),
    )


def log_in(page: Page, base: str, username: str = "anna") -> None:
    page.goto(f"{base}/login?lang=en")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/curator/$"))
    page.wait_for_load_state("load")


EMPTY_POINT = """() => {
  const r = document.getElementById("map").getBoundingClientRect();
  const taken = ".leaflet-interactive, .leaflet-marker-icon, .map-help, .leaflet-control";
  for (const fy of [0.8, 0.7, 0.6, 0.3, 0.2]) {
    for (const fx of [0.2, 0.3, 0.7, 0.8]) {
      const x = r.left + r.width * fx, y = r.top + r.height * fy;
      const near = [[0, 0], [30, 0], [-30, 0], [0, 30], [0, -30]].some(([dx, dy]) => {
        const e = document.elementFromPoint(x + dx, y + dy);
        return !e || e.closest(taken);
      });
      if (!near) { return [x, y]; }
    }
  }
  return null;
}"""


def empty_map_point(page: Page) -> tuple[float, float]:
    """A point of the map with no marker, venue or control near it."""
    point = page.evaluate(EMPTY_POINT)
    assert point is not None
    return point[0], point[1]


def only_app_and_tiles(page: Page, base: str) -> None:
    """No request went to a host but the app's and the tile server's, and no script failed."""
    assert page.script_errors == []
    allowed = {urlsplit(base).netloc, TILE_HOST}
    foreign = [
        u
        for u in page.requests_seen
        if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc not in allowed
    ]
    assert foreign == []


def marker_row(app, marker_id: int):
    from server.extensions import db
    from server.models import Marker

    with app.app_context():
        m = db.session.get(Marker, marker_id)
        return None if m is None else (m.lat, m.lon, m.radius_m, m.text("title"), m.text("story"))


def test_place_drag_edit_marker_and_see_it_after_reload(
    app, live_server, page, curator_world, artifacts
):
    serve_tiles(page)
    log_in(page, live_server)
    page.click("text=Open the map")
    expect(page.locator("#marker-editor[data-ready=true]")).to_have_count(1)
    before = {
        int(x)
        for x in page.locator(".leaflet-marker-icon[data-marker-id]").evaluate_all(
            "els => els.map(e => e.dataset.markerId)"
        )
    }

    page.mouse.click(*empty_map_point(page))
    expect(page.locator("#marker-form-section")).to_be_visible()
    icons = page.locator(".leaflet-marker-icon[data-marker-id]")
    expect(icons).to_have_count(len(before) + 1)
    new_id = next(
        i
        for i in (int(x) for x in icons.evaluate_all("els => els.map(e => e.dataset.markerId)"))
        if i not in before
    )
    placed = marker_row(app, new_id)
    assert placed is not None and placed[3] == {"de": "", "en": ""}

    pin = page.locator(f'.leaflet-marker-icon[data-marker-id="{new_id}"]')
    pin_box = pin.bounding_box()
    x, y = pin_box["x"] + pin_box["width"] / 2, pin_box["y"] + pin_box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 12 * step, y - 8 * step)
    page.mouse.up()
    expect(page.locator("#status")).to_contain_text("moved")
    moved = marker_row(app, new_id)
    assert moved[0] > placed[0] and moved[1] > placed[1]

    page.fill("#m-title-en", "Fountain of light")
    page.fill("#m-title-de", "Lichtbrunnen")
    page.fill("#m-story-en", "Water and light since 1991.")
    page.fill("#m-story-de", "Wasser und Licht seit 1991.")
    page.fill("#m-radius", "35")
    circle = page.locator(f"path.geofence-{new_id}")
    expect(circle).to_have_count(1)
    page.click("#m-save")
    expect(page.locator("#status")).to_contain_text("Saved")
    saved = marker_row(app, new_id)
    assert saved[:2] == moved[:2]
    assert saved[2] == 35 and saved[3] == {"de": "Lichtbrunnen", "en": "Fountain of light"}
    page.screenshot(path=str(artifacts / "curator-markers.png"))

    page.reload()
    expect(page.locator("#marker-editor[data-ready=true]")).to_have_count(1)
    expect(page.locator("#m-title-en")).to_have_value("Fountain of light")
    assert float(page.input_value("#m-lat")) == pytest.approx(moved[0], abs=1e-6)
    assert float(page.input_value("#m-lon")) == pytest.approx(moved[1], abs=1e-6)
    assert page.input_value("#m-radius") == "35"
    only_app_and_tiles(page, live_server)


def rally_row(app, slug: str):
    from sqlalchemy import select

    from server.extensions import db
    from server.models import Rally

    with app.app_context():
        r = db.session.scalar(select(Rally).filter_by(slug=slug))
        return None if r is None else (r.status.value, [s.marker_id for s in r.stops])


def add_stop(page: Page, title: str) -> None:
    count = page.locator("#stops > li[data-marker-id]").count()
    page.select_option("#add-stop-marker", label=title)
    page.click("#add-stop button[type=submit]")
    expect(page.locator("#stops > li[data-marker-id]")).to_have_count(count + 1)


def test_build_check_reorder_and_publish_a_rally(app, live_server, page, curator_world, artifacts):
    ids = curator_world
    serve_tiles(page)
    log_in(page, live_server)
    page.fill("#new-title-en", "Evening walk")
    page.fill("#new-title-de", "Abendspaziergang")
    expect(page.locator("#new-slug")).to_have_value("abendspaziergang")
    page.click("#new-rally button[type=submit]")
    expect(page.locator("#rally-editor[data-ready=true]")).to_have_count(1)
    expect(page.locator("#rally-heading")).to_have_text("Evening walk")
    expect(page.locator("#rally-findings li[data-code=empty_rally]")).to_have_count(1)

    add_stop(page, "Fruchthalle")
    add_stop(page, "Stiftskirche")
    expect(page.locator("li[data-code=geofences_overlap]")).to_have_count(0)
    add_stop(page, "Fruchthalle Ost")
    overlap = page.locator("#stop-findings-0 li[data-code=geofences_overlap]")
    expect(overlap).to_have_count(1)
    expect(overlap).to_contain_text("overlap")
    expect(page.locator("#stop-findings-2 li[data-code=geofences_overlap]")).to_have_count(1)
    expect(page.locator("#rally-findings li[data-code=empty_rally]")).to_have_count(0)
    expect(page.locator("path.route")).to_have_count(1)
    assert rally_row(app, "abendspaziergang") == (
        "draft",
        [ids["Fruchthalle"], ids["Stiftskirche"], ids["Fruchthalle Ost"]],
    )
    length_before = page.inner_text("#sum-length")

    page.click("#suggest")
    expect(page.locator("#suggestion")).to_be_visible()
    expect(page.locator("#suggestion-text")).to_contain_text(re.compile(r"saves \d+ m"))
    page.click("#suggestion-apply")
    expect(page.locator("#stops > li").nth(1)).to_contain_text("Fruchthalle Ost")
    assert rally_row(app, "abendspaziergang")[1] == [
        ids["Fruchthalle"],
        ids["Fruchthalle Ost"],
        ids["Stiftskirche"],
    ]
    assert page.inner_text("#sum-length") != length_before

    page.fill("#r-word", "ART")
    page.click("#r-save")
    expect(page.locator("#stops > li").nth(2).locator(".letter-badge")).to_have_text("T")
    page.locator(".editor-panel").evaluate("panel => { panel.scrollTop = 0; }")
    page.screenshot(path=str(artifacts / "curator-editor.png"))

    page.click("#publish")
    expect(page.locator("#rally-status")).to_have_text("Published")
    assert rally_row(app, "abendspaziergang")[0] == "published"
    expect(page.locator("#stop-findings-0 li[data-code=geofences_overlap]")).to_have_count(1)
    expect(page.locator("#add-stop")).to_be_hidden()
    only_app_and_tiles(page, live_server)
    readme_image(artifacts / "curator-editor.png", "curator-editor.png")


@pytest.fixture
def small_rally(app, curator_world):
    """Anna's draft: Fruchthalle, Stiftskirche, Rathaus, solution word ART; its id."""
    from server.extensions import db
    from server.models import Rally, RallyStop

    with app.app_context():
        r = Rally(slug="kurz", order_mode="fixed", solution_word="ART", owner_id=1)
        r.set_text("title", {"de": "Kurze Runde", "en": "Short round"})
        for i, name in enumerate(("Fruchthalle", "Stiftskirche", "Rathaus")):
            r.stops.append(RallyStop(marker_id=curator_world[name], position=i))
        db.session.add(r)
        db.session.commit()
        return r.id


def open_rally(page: Page, base: str, rally_id: int, lang: str = "en") -> None:
    page.goto(f"{base}/curator/rallies/{rally_id}?lang={lang}")
    expect(page.locator("#rally-editor[data-ready=true]")).to_have_count(1)


def stop_titles(page: Page) -> list[str]:
    return page.locator("#stops > li a").all_inner_texts()


def test_simulated_walk_fires_each_stop_with_the_players_reveal(
    app, live_server, page, small_rally
):
    from server.extensions import db
    from server.models import Discovery, Rally, StopProgress, Team

    with app.app_context():
        db.session.get(Rally, small_rally).stops[0].task = {
            "type": "number",
            "question": {"de": "Welches Jahr?", "en": "Which year?"},
            "answer": 1911,
            "points": 60,
        }
        db.session.commit()
    serve_tiles(page)
    log_in(page, live_server)
    open_rally(page, live_server, small_rally)
    page.select_option("#sim-speed", "0")
    page.click("#sim-start")
    expect(page.locator("#sim-log li.done")).to_have_count(1, timeout=30000)
    reveals = page.locator("#sim-log li.reveal")
    expect(reveals).to_have_count(3)
    expect(reveals.nth(0)).to_contain_text("Stop 1 found: Fruchthalle")
    expect(reveals.nth(0)).to_contain_text("Story of Fruchthalle")
    expect(reveals.nth(0)).to_contain_text("letter A")
    expect(reveals.nth(2)).to_contain_text("letter T")
    expect(reveals.nth(0).locator(".sim-task")).to_have_text(
        "Task answered right at once: +60 points"
    )
    expect(reveals.nth(1).locator(".sim-task")).to_have_text("No task at this stop.")
    expect(page.locator("#sim-word")).to_have_text("A R T")
    expect(page.locator("#sim-log li.done")).to_contain_text("60 of them from tasks")
    expect(page.locator("#sim-log li.done")).to_contain_text("Solution word: A R T")
    expect(page.locator(".sim-dot")).to_have_count(1)
    with app.app_context():
        assert db.session.query(Team).count() == 0
        assert db.session.query(Discovery).count() == 0
        assert db.session.query(StopProgress).count() == 0
    only_app_and_tiles(page, live_server)


def test_stops_reorder_by_keyboard_and_by_dragging(app, live_server, page, small_rally):
    serve_tiles(page)
    log_in(page, live_server)
    open_rally(page, live_server, small_rally)
    assert stop_titles(page) == ["Fruchthalle", "Stiftskirche", "Rathaus"]
    expect(page.locator("#stops > li").nth(0).locator(".letter-badge")).to_have_text("A")

    down = page.get_by_role("button", name="Move stop 1 (Fruchthalle) down")
    down.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#stops > li").nth(1)).to_contain_text("Fruchthalle")
    assert stop_titles(page) == ["Stiftskirche", "Fruchthalle", "Rathaus"]
    expect(page.locator(":focus")).to_have_attribute("aria-label", "Move stop 2 (Fruchthalle) down")
    expect(page.locator("#stops > li").nth(0).locator(".letter-badge")).to_have_text("A")
    expect(page.locator("#status button", has_text="Undo")).to_have_count(1)

    page.locator("#stops > li").nth(2).drag_to(page.locator("#stops > li").nth(0))
    expect(page.locator("#stops > li").nth(0)).to_contain_text("Rathaus")
    assert stop_titles(page) == ["Rathaus", "Stiftskirche", "Fruchthalle"]

    page.click("#status button:has-text('Undo')")
    expect(page.locator("#stops > li").nth(0)).to_contain_text("Stiftskirche")
    assert stop_titles(page) == ["Stiftskirche", "Fruchthalle", "Rathaus"]
    only_app_and_tiles(page, live_server)


def test_venue_without_position_is_placed_by_typing_coordinates(
    app, live_server, page, curator_world
):
    from sqlalchemy import select

    from server.extensions import db
    from server.models import Venue

    serve_tiles(page)
    log_in(page, live_server)
    page.goto(f"{live_server}/curator/markers")
    expect(page.locator("#marker-editor[data-ready=true]")).to_have_count(1)
    row = page.locator("#unplaced li", has_text="Museum Pfalzgalerie")
    expect(row).to_have_count(1)
    lat, lon = row.get_by_label("Latitude"), row.get_by_label("Longitude")
    lat.fill("91")
    lon.fill("7.7749")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".field-error")).to_have_text("The latitude must lie between -90 and 90.")
    assert lat.get_attribute("aria-invalid") == "true"
    lat.fill("49,4426")
    lon.fill("east")
    row.get_by_role("button", name="Save").click()
    expect(row.locator(".field-error")).to_contain_text("The longitude must be a number")
    lon.fill("7.7749")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#unplaced li", has_text="Museum Pfalzgalerie")).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("Museum Pfalzgalerie")
    with app.app_context():
        venue = db.session.scalar(select(Venue).filter_by(name="Museum Pfalzgalerie"))
        assert (venue.lat, venue.lon) == (49.4426, 7.7749)
    expect(page.locator(f"path.venue-{venue.id}")).to_have_count(1)

    page.fill("#add-lat", "49.4427")
    page.fill("#add-lon", "7.7750")
    page.click("#add-form button[type=submit]")
    expect(page.locator("#marker-form-section")).to_be_visible()
    assert float(page.input_value("#m-lat")) == pytest.approx(49.4427)
    only_app_and_tiles(page, live_server)


def test_german_interface_and_read_only_rally_of_another_curator(
    app, live_server, page, small_rally
):
    from server.auth import create_user
    from server.models import Role

    with app.app_context():
        create_user("ben", PASSWORD, Role.CURATOR)
    serve_tiles(page)
    log_in(page, live_server, "ben")
    open_rally(page, live_server, small_rally, lang="de")
    expect(page.locator("#rally-status")).to_have_text("Entwurf")
    expect(page.locator("#rally-readonly")).to_contain_text("gehört jemand anderem")
    expect(page.locator("#publish")).to_be_disabled()
    expect(page.locator("#add-stop")).to_be_hidden()
    expect(page.locator("#r-save")).to_be_disabled()
    expect(page.locator("#stops .stop-tools")).to_have_count(0)
    expect(page.locator("#stops > li").nth(1).locator(".letter-badge")).to_have_attribute(
        "aria-label", "verrät den Buchstaben R"
    )
    expect(page.locator("#sum-length")).to_contain_text(re.compile(r"^\d+ m$"))
    expect(page.locator("#sim-start")).to_be_enabled()
    only_app_and_tiles(page, live_server)


def test_deleting_a_marker_used_by_a_rally_is_refused_with_a_clear_message(
    app, live_server, page, small_rally, curator_world
):
    serve_tiles(page)
    log_in(page, live_server)
    page.goto(f"{live_server}/curator/markers#marker-{curator_world['Rathaus']}")
    expect(page.locator("#m-title-en")).to_have_value("Rathaus")
    expect(page.locator("#marker-rallies")).to_contain_text("kurz")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#m-delete")
    expect(page.locator("#m-form-error")).to_contain_text("kurz")
    expect(page.locator("#m-form-error")).to_contain_text("cannot be deleted")
    assert marker_row(app, curator_world["Rathaus"]) is not None
    only_app_and_tiles(page, live_server)


@pytest.fixture
def tileless(make_app):
    """An app whose tile server does not answer (port 9), served like live_server: (app, URL)."""
    app = make_app(TILE_URL="http://127.0.0.1:9/{z}/{x}/{y}.png")
    with serve(app) as url:
        yield app, url


def test_without_tiles_markers_circles_and_route_still_show(browser, tileless, demo, artifacts):
    from server.auth import create_user
    from server.models import Role

    app, base = tileless
    rally_id = demo[1]
    with app.app_context():
        create_user("anna", PASSWORD, Role.CURATOR)
    with browser_page(browser) as page:
        log_in(page, base)
        page.goto(f"{base}/curator/markers")
        expect(page.locator("#marker-editor[data-ready=true]")).to_have_count(1)
        expect(page.locator("#map.tiles-missing")).to_have_count(1)
        expect(page.locator(".leaflet-marker-icon[data-marker-id]")).to_have_count(10)
        expect(page.locator("path.geofence")).to_have_count(10)
        expect(page.locator("path.venue")).to_have_count(21)
        page.goto(f"{base}/curator/rallies/{rally_id}")
        expect(page.locator("#rally-editor[data-ready=true]")).to_have_count(1)
        expect(page.locator("#map.tiles-missing")).to_have_count(1)
        expect(page.locator(".leaflet-marker-icon .pin.stop")).to_have_count(10)
        expect(page.locator("path.geofence")).to_have_count(10)
        expect(page.locator("path.route")).to_have_count(1)
        page.screenshot(path=str(artifacts / "curator-no-tiles.png"))
        assert any(u.startswith("http://127.0.0.1:9/") for u in page.requests_seen)
        allowed = {urlsplit(base).netloc, "127.0.0.1:9"}
        assert {
            urlsplit(u).netloc
            for u in page.requests_seen
            if urlsplit(u).scheme in ("http", "https")
        } <= allowed
        assert page.script_errors == []


def test_an_image_is_uploaded_shown_and_removed_from_the_form(
    app, live_server, page, curator_world, tmp_path
):
    import io

    from PIL import Image

    photo = tmp_path / "photo.jpg"
    out = io.BytesIO()
    Image.new("RGB", (2000, 1000), (200, 30, 30)).save(out, "JPEG")
    photo.write_bytes(out.getvalue())
    not_image = tmp_path / "notes.txt"
    not_image.write_text("these are not pixels")

    serve_tiles(page)
    log_in(page, live_server)
    page.goto(f"{live_server}/curator/markers#marker-{curator_world['Stiftskirche']}")
    expect(page.locator("#m-title-en")).to_have_value("Stiftskirche")
    page.set_input_files("#m-image-file", str(not_image))
    page.click("#m-image-upload")
    expect(page.locator("#m-image-error")).to_have_text("JPEG or PNG images only.")
    page.set_input_files(
        "#m-image-file",
        {"name": "notes.jpg", "mimeType": "image/jpeg", "buffer": b"these are not pixels either"},
    )
    page.click("#m-image-upload")
    expect(page.locator("#m-image-error")).to_have_text("This is not a JPEG or PNG image.")
    page.set_input_files("#m-image-file", str(photo))
    page.click("#m-image-upload")
    expect(page.locator("#status")).to_contain_text("Image saved")
    image = page.locator("#m-image")
    expect(image).to_be_visible()
    assert re.fullmatch(r"/media/[A-Za-z0-9_-]{32}\.jpg", image.get_attribute("src"))
    assert page.evaluate("document.getElementById('m-image').naturalWidth") == 1600
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#m-image-remove")
    expect(page.locator("#status")).to_contain_text("Image removed")
    expect(image).to_be_hidden()
    only_app_and_tiles(page, live_server)


def marker_polygon(app, marker_id: int):
    from server.extensions import db
    from server.models import Marker

    with app.app_context():
        return db.session.get(Marker, marker_id).polygon


def save(page: Page, button: str) -> None:
    """Press the save button and wait for this save's "Saved." (not an earlier one's)."""
    page.locator("#status").evaluate("box => box.replaceChildren()")
    page.click(button)
    expect(page.locator("#status")).to_contain_text("Saved")


def drag(page: Page, locator, dx: float, dy: float) -> None:
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + dx * step / 10, y + dy * step / 10)
    page.mouse.up()


def test_draw_a_polygon_fence_drag_a_corner_and_go_back_to_the_circle(
    app, live_server, page, curator_world, artifacts
):
    rathaus = curator_world["Rathaus"]
    serve_tiles(page)
    log_in(page, live_server)
    page.goto(f"{live_server}/curator/markers#marker-{rathaus}")
    expect(page.locator("#m-title-en")).to_have_value("Rathaus")
    expect(page.locator("#m-fence-info")).to_have_text("A circle of 20 m radius.")
    expect(page.locator("#m-fence-circle")).to_be_disabled()
    page.click("#m-fence-draw")
    expect(page.locator("#map-mode")).to_contain_text("corners of the geofence")
    # measured after the click, which may scroll the page to bring the button into view
    box = page.locator(f'.leaflet-marker-icon[data-marker-id="{rathaus}"]').bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"]
    for dx, dy in [(-60, -45), (50, -55), (70, 35), (-5, 60), (-65, 25)]:
        page.mouse.click(x + dx, y + dy)
    expect(page.locator(".fence-vertex")).to_have_count(5)
    expect(page.locator("#m-fence-info")).to_contain_text("Drawing: 5 corner(s)")
    expect(page.locator(f"path.geofence-{rathaus}")).to_have_count(0)
    page.locator(".fence-vertex.first").click()
    expect(page.locator("#map-mode")).to_be_hidden()
    expect(page.locator("#m-fence-info")).to_have_text("A polygon with 5 corners.")
    expect(page.locator("path.fence-draft")).to_have_count(1)
    drag(page, page.locator('.fence-vertex[data-corner="3"]'), 40, 20)
    save(page, "#m-save")
    polygon = marker_polygon(app, rathaus)
    assert len(polygon) == 5
    assert polygon[2][1] > polygon[1][1] and polygon[2][0] < polygon[1][0]
    page.screenshot(path=str(artifacts / "curator-polygon-fence.png"))
    readme_image(artifacts / "curator-polygon-fence.png", "curator-polygon-fence.png")

    page.click("#m-fence-clear")
    for dx, dy in [(-50, -50), (50, 50), (50, -50), (-50, 50)]:
        page.mouse.click(x + dx, y + dy)
    page.click("#m-fence-close")
    page.click("#m-save")
    expect(page.locator("#m-fence-msg")).to_contain_text("crosses or touches itself")
    assert marker_polygon(app, rathaus) == polygon

    page.click("#m-fence-draw")
    page.mouse.click(x - 50, y - 50)
    page.mouse.click(x + 50, y - 50)
    page.click("#m-fence-close")
    expect(page.locator("#m-fence-msg")).to_have_text("A polygon needs at least 3 corners.")

    page.click("#m-fence-circle")
    expect(page.locator(".fence-vertex")).to_have_count(0)
    save(page, "#m-save")
    assert marker_polygon(app, rathaus) is None
    expect(page.locator(f"path.geofence-{rathaus}")).to_have_count(1)
    only_app_and_tiles(page, live_server)


def rally_finish(app, rally_id: int):
    from server.extensions import db
    from server.models import Rally

    with app.app_context():
        r = db.session.get(Rally, rally_id)
        return None if r.finish_lat is None else (r.finish_lat, r.finish_lon)


def test_set_drag_and_clear_the_finish_point(app, live_server, page, small_rally, artifacts):
    serve_tiles(page)
    log_in(page, live_server)
    open_rally(page, live_server, small_rally)
    finish_pin = page.locator(".leaflet-marker-icon[data-point=finish]")
    expect(finish_pin).to_have_count(0)
    length = page.inner_text("#sum-length")

    page.click("#finish-pick")
    expect(page.locator("#map-mode")).to_contain_text("where the rally ends")
    page.mouse.click(*empty_map_point(page))
    expect(page.locator("#status")).to_contain_text("Finish point picked")
    expect(page.locator(".pin.finish.preview")).to_have_count(1)
    save(page, "#r-save")
    first = rally_finish(app, small_rally)
    assert first is not None
    expect(finish_pin).to_have_count(1)
    expect(page.locator("#sum-length")).not_to_have_text(length)

    drag(page, finish_pin, 40, 30)
    expect(page.locator("#status")).to_contain_text("Finish point picked")
    save(page, "#r-save")
    second = rally_finish(app, small_rally)
    assert second[0] < first[0] and second[1] > first[1]
    page.locator(".editor-panel").evaluate("panel => { panel.scrollTop = 0; }")
    page.screenshot(path=str(artifacts / "curator-finish.png"))

    page.click("#finish-clear")
    save(page, "#r-save")
    assert rally_finish(app, small_rally) is None
    expect(finish_pin).to_have_count(0)
    expect(page.locator("#sum-length")).to_have_text(length)
    only_app_and_tiles(page, live_server)


def venue_row(app, name: str):
    from sqlalchemy import select

    from server.extensions import db
    from server.models import Venue

    with app.app_context():
        v = db.session.scalar(select(Venue).filter_by(name=name))
        return v.id, v.lat, v.lon, v.step_free


def test_place_a_venue_with_confirmation_undo_place_again_and_move_it(
    app, live_server, page, curator_world, artifacts
):
    from sqlalchemy import select

    from server.extensions import db
    from server.models import AuditEntry

    name = "Museum Pfalzgalerie"
    serve_tiles(page)
    log_in(page, live_server)
    page.goto(f"{live_server}/curator/markers")
    expect(page.locator("#marker-editor[data-ready=true]")).to_have_count(1)
    venue_id = venue_row(app, name)[0]
    dot = page.locator(f"path.venue-{venue_id}")
    proposed = page.locator(f".leaflet-marker-icon[data-proposed-venue='{venue_id}']")
    confirm = page.locator("#venue-confirm")

    page.locator("#unplaced li", has_text=name).get_by_role("button", name="Place on map").click()
    expect(page.locator("#venue-title")).to_have_text(name)
    expect(page.locator("#venue-position")).to_have_text("No position yet.")
    page.mouse.click(*empty_map_point(page))
    expect(confirm).to_be_visible()
    expect(page.locator("#venue-confirm-text")).to_have_text(f"Place {name} here?")
    expect(proposed).to_have_count(1)
    assert venue_row(app, name)[1] is None
    page.click("#venue-confirm-no")
    expect(confirm).to_be_hidden()
    expect(proposed).to_have_count(0)

    page.click("#v-place")
    page.mouse.click(*empty_map_point(page))
    expect(confirm).to_be_visible()
    page.screenshot(path=str(artifacts / "curator-venue-confirm.png"))
    page.click("#venue-confirm-yes")
    expect(page.locator("#status")).to_contain_text(f"'{name}' now has a position.")
    assert None not in venue_row(app, name)[1:3]
    expect(dot).to_have_count(1)
    expect(page.locator("#unplaced li", has_text=name)).to_have_count(0)
    expect(page.locator("#venue-placer")).to_have_text("Placed by anna")
    position = re.compile(r"latitude 49\.\d+, longitude 7\.\d+")
    expect(page.locator("#venue-position")).to_contain_text(position)

    page.click("#status button:has-text('Undo')")
    expect(page.locator("#status")).to_contain_text(f"'{name}' has no position again.")
    assert venue_row(app, name)[1] is None
    expect(dot).to_have_count(0)
    expect(page.locator("#unplaced li", has_text=name)).to_have_count(1)

    page.click("#v-place")
    page.mouse.click(*empty_map_point(page))
    page.click("#venue-confirm-yes")
    expect(dot).to_have_count(1)
    placed = venue_row(app, name)[1:3]
    expect(page.locator("#v-place")).to_have_text("Change position")

    page.click("#v-place")
    page.mouse.click(*empty_map_point(page))
    expect(page.locator("#venue-confirm-text")).to_have_text(f"Move {name} here?")
    page.click("#venue-confirm-yes")
    expect(page.locator("#status")).to_contain_text(f"'{name}' moved.")
    moved = venue_row(app, name)[1:3]
    assert moved != placed and None not in moved

    page.select_option("#v-step-free", "true")
    expect(page.locator("#status")).to_contain_text("Saved")
    assert venue_row(app, name)[3] is True
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).filter_by(object_type="venue").order_by(AuditEntry.id)
        ).all()
    assert actions == ["venue.place", "venue.unplace", "venue.place", "venue.place", "venue.update"]
    only_app_and_tiles(page, live_server)
