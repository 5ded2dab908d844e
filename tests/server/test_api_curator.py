"""The curator API: roles, the ownership rule, coordinates, rallies, findings, publishing, the
simulated walk and the audit log; every answer checked against the OpenAPI document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from server.api.openapi import document
from tests.server.helpers import API as PUBLIC_API
from tests.server.helpers import (
    assert_error,
    backdate_team,
    bearer,
    checkin,
    count_rows,
    demo_stops,
    get_team,
    new_event_id,
    new_team,
    staff_client,
)
from tests.server.test_openapi import check, openapi_path

API = f"{PUBLIC_API}/curator"
PASSWORD = "correct horse battery"
FRUCHTHALLE = (49.445667, 7.770361)
STIFTSKIRCHE = (49.444444, 7.770833)
RATHAUS = (49.446667, 7.767778)


@dataclass
class World:
    """Who and what the tests work with: user ids, markers and a draft rally of anna's."""

    users: dict[str, int]
    anna_markers: list[int]
    ben_marker: int
    demo_marker: int
    demo_rally: int
    demo_slug: str
    draft: int
    unplaced_venue: int


@pytest.fixture(scope="module")
def password_hash() -> str:
    from server.auth import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def world(app, demo, password_hash) -> World:
    from server.extensions import db
    from server.models import Marker, Rally, RallyStop, Role, User, Venue

    slug, demo_id = demo
    with app.app_context():
        users = {}
        for name, role in [
            ("anna", Role.CURATOR),
            ("ben", Role.CURATOR),
            ("olga", Role.ORGANISER),
            ("ada", Role.ADMIN),
        ]:
            user = User(username=name, password_hash=password_hash, role=role, language="en")
            db.session.add(user)
            db.session.flush()
            users[name] = user.id
        anna = []
        for lat, lon, title in [
            (*FRUCHTHALLE, "Fruchthalle"),
            (*STIFTSKIRCHE, "Stiftskirche"),
            (*RATHAUS, "Rathaus"),
        ]:
            m = Marker(lat=lat, lon=lon, radius_m=20, owner_id=users["anna"])
            for name in ("title", "clue", "story"):
                m.set_text(name, {"de": f"{title} {name}", "en": f"{title} {name}"})
            db.session.add(m)
            db.session.flush()
            anna.append(m.id)
        ben = Marker(lat=49.4441, lon=7.7716, radius_m=15, owner_id=users["ben"])
        db.session.add(ben)
        draft = Rally(
            slug="annas-walk", owner_id=users["anna"], order_mode="fixed", solution_word="ART"
        )
        draft.set_text("title", {"de": "Annas Runde", "en": "Anna's walk"})
        draft.stops = [RallyStop(marker_id=m, position=i) for i, m in enumerate(anna)]
        db.session.add(draft)
        db.session.commit()
        demo_marker = db.session.get(Rally, demo_id).stops[0].marker_id
        venue = db.session.scalar(select(Venue).filter_by(name="Museum Pfalzgalerie"))
        return World(users, anna, ben.id, demo_marker, demo_id, slug, draft.id, venue.id)


@pytest.fixture
def anna(app, world):
    return staff_client(app, world.users["anna"])


@pytest.fixture
def ben(app, world):
    return staff_client(app, world.users["ben"])


@pytest.fixture
def ada(app, world):
    return staff_client(app, world.users["ada"])


@pytest.fixture
def spec(app) -> dict[str, Any]:
    """The OpenAPI document of a made app (making it registers the curator's paths)."""
    return document()


def ok(spec, resp, status: int = 200) -> dict[str, Any]:
    """The answer has this status and the shape the OpenAPI document gives it."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:400])
    return check(spec, documented_path(resp.request.path), resp.request.method.lower(), resp)


def documented_path(path: str) -> str:
    """/api/v1/curator/rallies/7/stops -> /curator/rallies/{rally_id}/stops."""
    for name, key in (("markers", "marker_id"), ("rallies", "rally_id"), ("venues", "venue_id")):
        path = re.sub(rf"/{name}/\d+", f"/{name}/{{{key}}}", path)
    return path[len(PUBLIC_API) :]


def audit_entries(app, action: str | None = None) -> list[tuple[str, str, int | None, int | None]]:
    """(action, object type, object id, user id) of every audit entry, oldest first."""
    from server.extensions import db
    from server.models import AuditEntry

    with app.app_context():
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.filter_by(action=action)
        return [
            (e.action, e.object_type, e.object_id, e.user_id) for e in db.session.scalars(query)
        ]


def routes(world: World) -> list[tuple[str, str, dict[str, Any] | None]]:
    """One request per curator route (method, URL, JSON body): what the role tests send."""
    m, r, v = world.anna_markers[0], world.draft, world.unplaced_venue
    return [
        ("GET", f"{API}/venues", None),
        ("PATCH", f"{API}/venues/{v}", {"lat": 49.4426, "lon": 7.7749}),
        ("DELETE", f"{API}/venues/{v}/position", None),
        ("GET", f"{API}/markers", None),
        ("POST", f"{API}/markers", {"lat": 49.44, "lon": 7.77}),
        ("GET", f"{API}/markers/{m}", None),
        ("PATCH", f"{API}/markers/{m}", {"radius_m": 30}),
        ("DELETE", f"{API}/markers/{m}", None),
        ("PUT", f"{API}/markers/{m}/image", None),
        ("DELETE", f"{API}/markers/{m}/image", None),
        ("GET", f"{API}/rallies", None),
        ("POST", f"{API}/rallies", {"slug": "new-one"}),
        ("GET", f"{API}/rallies/{r}", None),
        ("PATCH", f"{API}/rallies/{r}", {"title": {"de": "X", "en": "X"}}),
        ("DELETE", f"{API}/rallies/{r}", None),
        ("PUT", f"{API}/rallies/{r}/stops", {"stops": []}),
        ("GET", f"{API}/rallies/{r}/findings", None),
        ("POST", f"{API}/rallies/{r}/copy", {"slug": "copied"}),
        ("GET", f"{API}/rallies/{r}/order-suggestion", None),
        ("PUT", f"{API}/rallies/{r}/status", {"status": "published"}),
        ("POST", f"{API}/rallies/{r}/simulate", {"lat": 49.44, "lon": 7.77}),
        ("POST", f"{API}/rallies/{r}/simulate/walk", {}),
    ]


def send(client, method: str, url: str, body: dict[str, Any] | None, **kwargs):
    return client.open(url, method=method, json=body, **kwargs)


def test_the_role_tests_cover_every_curator_route(app, world):
    documented = {
        (method, openapi_path(re.sub(r"/\d+", "/<int:x>", url)).replace("{x}", "*"))
        for method, url, _ in routes(world)
    }
    served = {
        (method, openapi_path(re.sub(r"<int:\w+>", "<int:x>", rule.rule)).replace("{x}", "*"))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert documented == served


def test_anonymous_player_and_organiser_requests_are_refused(app, world, spec):
    player = new_team(app.test_client(), world.demo_slug, "Players")
    anonymous = app.test_client()
    organiser = staff_client(app, world.users["olga"])
    for method, url, body in routes(world):
        for client, headers, status, code in [
            (anonymous, {}, 401, "login_required"),
            (anonymous, bearer(player), 401, "login_required"),
            (organiser, {}, 403, "forbidden"),
        ]:
            resp = send(client, method, url, body, headers=headers)
            assert_error(resp, status, code)
            check(spec, documented_path(resp.request.path), method.lower(), resp)
    assert audit_entries(app) == []


def test_a_curator_reads_everything_but_changes_only_their_own(app, world, anna, ben, spec):
    markers = ok(spec, ben.get(f"{API}/markers"))["markers"]
    by_id = {m["id"]: m for m in markers}
    assert by_id[world.anna_markers[0]]["editable"] is False
    assert by_id[world.anna_markers[0]]["owner"]["username"] == "anna"
    assert by_id[world.ben_marker]["editable"] is True
    assert by_id[world.demo_marker]["owner"] is None
    assert by_id[world.demo_marker]["rallies"] == [
        {"id": world.demo_rally, "slug": world.demo_slug, "status": "published"}
    ]
    rally = ok(spec, ben.get(f"{API}/rallies/{world.draft}"))
    assert rally["editable"] is False
    assert not any(rally["can"][k] for k in ("edit", "edit_stops", "publish", "delete"))
    assert rally["can"]["simulate"] is True

    refusals = [
        ("PATCH", f"{API}/markers/{world.anna_markers[0]}", {"radius_m": 30}, "marker_not_yours"),
        ("DELETE", f"{API}/markers/{world.anna_markers[0]}", None, "marker_not_yours"),
        ("DELETE", f"{API}/markers/{world.anna_markers[0]}/image", None, "marker_not_yours"),
        ("PATCH", f"{API}/markers/{world.demo_marker}", {"radius_m": 30}, "marker_not_yours"),
        (
            "PATCH",
            f"{API}/rallies/{world.draft}",
            {"title": {"de": "B", "en": "B"}},
            "rally_not_yours",
        ),
        ("PUT", f"{API}/rallies/{world.draft}/stops", {"stops": []}, "rally_not_yours"),
        ("PUT", f"{API}/rallies/{world.draft}/status", {"status": "published"}, "rally_not_yours"),
        ("DELETE", f"{API}/rallies/{world.draft}", None, "rally_not_yours"),
        (
            "PATCH",
            f"{API}/rallies/{world.demo_rally}",
            {"title": {"de": "B", "en": "B"}},
            "rally_not_yours",
        ),
    ]
    for method, url, body, code in refusals:
        error = assert_error(
            send(ben, method, url, body, headers={"Accept-Language": "en"}), 403, code
        )
        assert "only its owner and admins" in error["message"]
    resp = ben.put(
        f"{API}/markers/{world.anna_markers[0]}/image",
        data={"image": (b"x", "a.png")},
        content_type="multipart/form-data",
    )
    assert_error(resp, 403, "marker_not_yours")
    assert audit_entries(app) == []
    assert ok(spec, ben.patch(f"{API}/markers/{world.ben_marker}", json={"radius_m": 18}))


def test_an_admin_changes_what_belongs_to_others(app, world, ada, spec):
    marker = ok(spec, ada.patch(f"{API}/markers/{world.anna_markers[0]}", json={"radius_m": 22}))
    assert marker["radius_m"] == 22 and marker["editable"] is True
    assert ok(spec, ada.patch(f"{API}/markers/{world.demo_marker}", json={"radius_m": 33}))
    rally = ok(
        spec,
        ada.patch(f"{API}/rallies/{world.draft}", json={"title": {"de": "Admin", "en": "Admin"}}),
    )
    assert rally["title"] == {"de": "Admin", "en": "Admin"} and rally["can"]["edit_stops"]
    assert [(a, t, i, u) for a, t, i, u in audit_entries(app)] == [
        ("marker.update", "marker", world.anna_markers[0], world.users["ada"]),
        ("marker.update", "marker", world.demo_marker, world.users["ada"]),
        ("rally.update", "rally", world.draft, world.users["ada"]),
    ]


def test_markers_are_created_moved_edited_and_deleted_with_audit(app, world, anna, spec):
    created = ok(
        spec,
        anna.post(
            f"{API}/markers",
            json={
                "lat": 49.4431,
                "lon": 7.7722,
                "radius_m": 12,
                "venue_id": world.unplaced_venue,
                "title": {"de": "Brunnen", "en": "Fountain"},
            },
        ),
        201,
    )
    assert created["owner"]["username"] == "anna" and created["editable"]
    assert created["venue"] == "Museum Pfalzgalerie" and created["rallies"] == []
    mid = created["id"]
    moved = ok(spec, anna.patch(f"{API}/markers/{mid}", json={"lat": 49.4432, "lon": 7.7723}))
    assert (moved["lat"], moved["lon"]) == (49.4432, 7.7723)
    edited = ok(
        spec,
        anna.patch(
            f"{API}/markers/{mid}",
            json={"story": {"de": "Wasser", "en": "Water"}, "venue_id": None, "radius_m": 40},
        ),
    )
    assert edited["story"] == {"de": "Wasser", "en": "Water"} and edited["venue_id"] is None
    assert ok(spec, anna.get(f"{API}/markers/{mid}"))["radius_m"] == 40
    unchanged = anna.patch(f"{API}/markers/{mid}", json={"radius_m": 40})
    assert ok(spec, unchanged) == ok(spec, anna.get(f"{API}/markers/{mid}"))
    assert ok(spec, anna.delete(f"{API}/markers/{mid}")) == {"deleted": True, "id": mid}
    assert_error(anna.get(f"{API}/markers/{mid}"), 404, "marker_not_found")
    assert [a for a, _, i, _ in audit_entries(app) if i == mid] == [
        "marker.create",
        "marker.update",
        "marker.update",
        "marker.delete",
    ]

    from server.extensions import db
    from server.models import AuditEntry

    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).filter_by(object_id=mid).order_by(AuditEntry.id)
        ).all()
        assert entries[1].detail["position"] == {
            "before": [49.4431, 7.7722],
            "after": [49.4432, 7.7723],
        }
        assert entries[2].detail["story"] == ["de", "en"]
        assert entries[2].detail["radius_m"] == {"before": 12, "after": 40}


@pytest.mark.parametrize(
    ("body", "status", "field", "says"),
    [
        ({"lat": 91, "lon": 7.7}, 422, "lat", "at most 90"),
        ({"lat": -90.5, "lon": 7.7}, 422, "lat", "at least -90"),
        ({"lat": 49.4, "lon": 180.01}, 422, "lon", "at most 180"),
        ({"lat": "49.4", "lon": 7.7}, 422, "lat", "must be a number"),
        ({"lat": True, "lon": 7.7}, 422, "lat", "must be a number"),
        ({"lat": None, "lon": 7.7}, 422, "lat", "must be a number"),
        ({"lon": 7.7}, 422, "lat", "required"),
        ({"lat": 49.4, "lon": 7.7, "radius_m": 2}, 422, "radius_m", "at least 5"),
        ({"lat": 49.4, "lon": 7.7, "radius_m": 501}, 422, "radius_m", "at most 500"),
        ({"lat": 49.4, "lon": 7.7, "venue_id": 99999}, 422, "venue_id", "99999"),
        ({"lat": 49.4, "lon": 7.7, "title": {"de": "x"}}, 422, "title.en", "required"),
        ({"lat": 49.4, "lon": 7.7, "colour": "red"}, 422, "colour", "not a known field"),
    ],
)
def test_bad_marker_fields_get_a_clear_error(app, world, anna, spec, body, status, field, says):
    resp = anna.post(f"{API}/markers", json=body, headers={"Accept-Language": "en"})
    error = assert_error(resp, status)
    check(spec, "/curator/markers", "post", resp)
    assert error["field"] == field
    assert says in error["message"]
    assert audit_entries(app) == []


@pytest.mark.parametrize(
    "raw",
    [
        '{"lat": NaN, "lon": 7.7}',
        '{"lat": Infinity, "lon": 7.7}',
        '{"lat": 49.4, "lon": 7.7',
        "lat=49",
    ],
)
def test_nan_infinity_and_broken_json_are_400(app, world, anna, raw):
    for method, url in [
        ("POST", f"{API}/markers"),
        ("PATCH", f"{API}/markers/{world.anna_markers[0]}"),
        ("PATCH", f"{API}/venues/{world.unplaced_venue}"),
    ]:
        resp = anna.open(url, method=method, data=raw, content_type="application/json")
        assert_error(resp, 400, "invalid_json")


def test_a_moved_marker_needs_both_coordinates(world, anna):
    resp = anna.patch(f"{API}/markers/{world.anna_markers[0]}", json={"lat": 49.44})
    assert assert_error(resp, 422, "invalid_field")["field"] == "lon"
    resp = anna.patch(f"{API}/markers/{world.anna_markers[0]}", json={"lat": 49.44, "lon": "7"})
    assert assert_error(resp, 422, "invalid_field")["field"] == "lon"


def test_a_marker_used_by_a_rally_cannot_be_deleted(app, world, anna, ada):
    for client in (anna, ada):
        error = assert_error(
            client.delete(
                f"{API}/markers/{world.anna_markers[1]}", headers={"Accept-Language": "en"}
            ),
            409,
            "marker_in_use",
        )
        assert "annas-walk" in error["message"] and "Remove it there first" in error["message"]
    error = assert_error(ada.delete(f"{API}/markers/{world.demo_marker}"), 409, "marker_in_use")
    assert world.demo_slug in error["message"]
    assert count_rows(app, "Marker", id=world.anna_markers[1]) == 1
    assert audit_entries(app) == []


def test_venues_are_placed_by_anyone_then_moved_or_taken_back_by_their_placer_or_admins(
    app, world, anna, ben, ada, spec
):
    venues = ok(spec, anna.get(f"{API}/venues"))["venues"]
    unplaced = [v for v in venues if not v["placed"]]
    assert [v["name"] for v in unplaced] == ["Museum Pfalzgalerie"]
    assert unplaced[0]["lat"] is None and unplaced[0]["editable"] is True
    assert unplaced[0]["step_free"] is None and unplaced[0]["placed_by"] is None
    assert not any(v["editable"] for v in venues if v["placed"])
    url = f"{API}/venues/{world.unplaced_venue}"
    error = assert_error(anna.patch(url, json={"lat": 91, "lon": 7.77}), 422, "invalid_field")
    assert error["field"] == "lat"
    placed = ok(spec, anna.patch(url, json={"lat": 49.4426, "lon": 7.7749}))
    assert placed["placed"] and (placed["lat"], placed["lon"]) == (49.4426, 7.7749)
    assert placed["editable"] is True and placed["placed_by"]["username"] == "anna"
    as_ben = {v["id"]: v for v in ok(spec, ben.get(f"{API}/venues"))["venues"]}
    assert as_ben[world.unplaced_venue]["editable"] is False
    assert as_ben[world.unplaced_venue]["placed_by"]["username"] == "anna"
    for method, body in [
        ("PATCH", {"lat": 49.4427, "lon": 7.7749}),
        ("PATCH", {"step_free": True}),
        ("DELETE", None),
    ]:
        target = url if method == "PATCH" else f"{url}/position"
        error = assert_error(
            send(ben, method, target, body, headers={"Accept-Language": "en"}),
            403,
            "venue_not_yours",
        )
        assert "only they and admins" in error["message"]
    moved = ok(spec, anna.patch(url, json={"lat": 49.4427, "lon": 7.7750, "step_free": False}))
    assert (moved["lat"], moved["lon"], moved["step_free"]) == (49.4427, 7.7750, False)
    assert ok(spec, ada.patch(url, json={"lat": 49.4428, "lon": 7.7750}))["lat"] == 49.4428
    assert ok(spec, anna.patch(url, json={"step_free": None}))["step_free"] is None
    undone = ok(spec, anna.delete(f"{url}/position"))
    assert undone["placed"] is False and undone["lat"] is None and undone["placed_by"] is None
    again = ok(spec, ben.patch(url, json={"lat": 49.4426, "lon": 7.7749}))
    assert again["placed_by"]["username"] == "ben" and again["editable"] is True
    assert_error(anna.patch(url, json={"lat": 49.4, "lon": 7.7}), 403, "venue_not_yours")
    assert_error(
        anna.patch(f"{API}/venues/99999", json={"lat": 1, "lon": 1}), 404, "venue_not_found"
    )
    assert_error(anna.delete(f"{API}/venues/99999/position"), 404, "venue_not_found")
    assert [(a, u) for a, _, _, u in audit_entries(app)] == [
        ("venue.place", world.users["anna"]),
        ("venue.place", world.users["anna"]),
        ("venue.update", world.users["anna"]),
        ("venue.place", world.users["ada"]),
        ("venue.update", world.users["anna"]),
        ("venue.unplace", world.users["anna"]),
        ("venue.place", world.users["ben"]),
    ]
    assert ok(spec, ada.delete(f"{url}/position"))["placed"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"lat": 49.44}, "lon"),
        ({"step_free": "yes"}, "step_free"),
        ({"step_free": 1}, "step_free"),
        ({"name": "<script>alert(1)</script>"}, "name"),
    ],
)
def test_bad_venue_changes_get_a_clear_error(app, world, anna, body, field):
    resp = anna.patch(f"{API}/venues/{world.unplaced_venue}", json=body)
    error = assert_error(resp, 422)
    assert error.get("field") == field
    assert audit_entries(app) == []


def test_a_venue_name_with_html_stays_text(app, world, anna, spec):
    from server.extensions import db
    from server.models import Venue

    with app.app_context():
        db.session.get(Venue, world.unplaced_venue).name = "<img src=x onerror=alert(1)>"
        db.session.commit()
    placed = ok(spec, anna.patch(f"{API}/venues/{world.unplaced_venue}", json={"step_free": True}))
    assert placed["name"] == "<img src=x onerror=alert(1)>" and placed["step_free"] is True
    page = anna.get("/curator/markers?lang=en").get_data(as_text=True)
    assert "<img src=x" not in page


SQUARE = [[49.44685, 7.76750], [49.44685, 7.76805], [49.44648, 7.76805], [49.44648, 7.76750]]
"""About 40 m by 40 m around the Rathaus marker."""


def test_a_marker_gets_a_polygon_fence_that_the_findings_and_exports_use(app, world, anna, spec):
    rathaus = world.anna_markers[2]
    marker = ok(spec, anna.patch(f"{API}/markers/{rathaus}", json={"polygon": SQUARE}))
    assert marker["polygon"] == SQUARE
    closed = ok(
        spec, anna.patch(f"{API}/markers/{rathaus}", json={"polygon": [*SQUARE, SQUARE[0]]})
    )
    assert closed["polygon"] == SQUARE
    rally = ok(spec, anna.get(f"{API}/rallies/{world.draft}"))
    assert rally["stops"][2]["marker"]["polygon"] == SQUARE
    moved = ok(
        spec,
        anna.patch(
            f"{API}/markers/{rathaus}",
            json={"lat": 49.4470, "lon": 7.7678, "polygon": [[a + 0.0003, b] for a, b in SQUARE]},
        ),
    )
    assert moved["polygon"][0] == pytest.approx([49.44715, 7.76750])
    error = assert_error(
        anna.patch(f"{API}/markers/{rathaus}", json={"lat": 49.4490, "lon": 7.7678}),
        422,
        "polygon_far_from_marker",
    )
    assert error["field"] == "polygon"
    assert (
        ok(spec, anna.patch(f"{API}/markers/{rathaus}", json={"polygon": None}))["polygon"] is None
    )
    created = ok(
        spec,
        anna.post(f"{API}/markers", json={"lat": RATHAUS[0], "lon": RATHAUS[1], "polygon": SQUARE}),
        201,
    )
    assert created["polygon"] == SQUARE
    actions = [a for a, *_ in audit_entries(app)]
    assert actions == ["marker.update"] * 3 + ["marker.create"]


def far_square(dlat: float) -> list[list[float]]:
    return [[a + dlat, b] for a, b in SQUARE]


@pytest.mark.parametrize(
    ("polygon", "code", "says"),
    [
        (SQUARE[:2], "polygon_corners", "3 to 50 corners"),
        ([[49.4467, 7.7677]] * 10_000, None, None),
        ([[49.4467 + i * 1e-6, 7.7677] for i in range(51)], "polygon_corners", "3 to 50"),
        ([[91, 7.7677], *SQUARE[1:]], "polygon_corners", "between -90 and 90"),
        ([[49.4467, 181], *SQUARE[1:]], "polygon_corners", "3 to 50"),
        ([[49.4467], *SQUARE[1:]], "polygon_corners", "3 to 50"),
        ([["49.4467", 7.7677], *SQUARE[1:]], "polygon_corners", "3 to 50"),
        ("a square", "polygon_corners", "3 to 50"),
        ([SQUARE[0], SQUARE[2], SQUARE[1], SQUARE[3]], "polygon_not_simple", "crosses"),
        ([SQUARE[0], SQUARE[1], [49.44685, 7.7690]], "polygon_not_simple", "no area"),
        ([SQUARE[0], SQUARE[0], SQUARE[0]], "polygon_corners", "3 to 50"),
        (far_square(0.01), "polygon_far_from_marker", "outside its polygon"),
        (far_square(-1.5), "polygon_far_from_marker", "outside its polygon"),
        (
            [[49.44, 7.76], [49.44, 7.78], [49.45, 7.78], [49.45, 7.76]],
            "polygon_too_large",
            "up to 500 m",
        ),
    ],
)
def test_bad_polygons_get_a_clear_error(app, world, anna, spec, polygon, code, says):
    url = f"{API}/markers/{world.anna_markers[2]}"
    resp = anna.patch(url, json={"polygon": polygon}, headers={"Accept-Language": "en"})
    if code is None:
        assert resp.status_code in (413, 422), resp.status_code
    else:
        error = assert_error(resp, 422, code)
        check(spec, "/curator/markers/{marker_id}", "patch", resp)
        assert error["field"] == "polygon"
        assert says in error["message"]
    resp = anna.post(
        f"{API}/markers", json={"lat": RATHAUS[0], "lon": RATHAUS[1], "polygon": polygon}
    )
    assert 400 <= resp.status_code < 500
    assert audit_entries(app) == []


def test_nan_in_a_polygon_is_400(app, world, anna):
    raw = '{"polygon": [[NaN, 7.7677], [49.4468, 7.768], [49.4465, 7.768]]}'
    resp = anna.patch(
        f"{API}/markers/{world.anna_markers[2]}", data=raw, content_type="application/json"
    )
    assert_error(resp, 400, "invalid_json")


def test_another_curators_marker_gets_no_polygon(app, world, ben):
    resp = ben.patch(f"{API}/markers/{world.anna_markers[2]}", json={"polygon": SQUARE})
    assert_error(resp, 403, "marker_not_yours")


def test_a_rally_finish_is_set_moved_cleared_and_ends_the_route_and_exports(
    app, world, anna, ben, spec
):
    url = f"{API}/rallies/{world.draft}"
    before = ok(spec, anna.get(url))
    assert before["finish"] is None
    finish = {"lat": 49.4440, "lon": 7.7690}
    rally = ok(spec, anna.patch(url, json={"finish": finish}))
    assert rally["finish"] == finish
    assert rally["route"][-1] == [finish["lat"], finish["lon"]]
    assert len(rally["route"]) == len(before["route"]) + 1
    assert rally["summary"]["length_m"] > before["summary"]["length_m"]
    moved = ok(spec, anna.patch(url, json={"finish": {"lat": 49.4441, "lon": 7.7691}}))
    assert moved["finish"] == {"lat": 49.4441, "lon": 7.7691}
    for bad, field in [
        ({"finish": {"lat": 91, "lon": 7.7}}, "finish.lat"),
        ({"finish": {"lat": 49.4}}, "finish.lon"),
        ({"finish": [49.4, 7.7]}, "finish"),
        ({"finish": {"lat": 49.4, "lon": 7.7, "name": "<b>x</b>"}}, "finish.name"),
    ]:
        error = assert_error(anna.patch(url, json=bad), 422)
        assert error["field"] == field, bad
    assert_error(ben.patch(url, json={"finish": finish}), 403, "rally_not_yours")
    cleared = ok(spec, anna.patch(url, json={"finish": None}))
    assert cleared["finish"] is None and cleared["route"] == before["route"]
    updates = [e for e in audit_entries(app, "rally.update") if e[2] == world.draft]
    assert len(updates) == 3


def test_the_finish_and_polygon_fences_reach_the_gpx_and_geojson_exports(app, world, anna):
    import json

    anna.patch(f"{API}/rallies/{world.draft}", json={"finish": {"lat": 49.444, "lon": 7.769}})
    anna.patch(f"{API}/markers/{world.anna_markers[2]}", json={"polygon": SQUARE})
    olga = staff_client(app, world.users["olga"])
    base = "/organiser/annas-walk/export/route"
    gpx = olga.get(f"{base}?format=gpx&lang=en").get_data(as_text=True)
    assert '<wpt lat="49.444" lon="7.769">' in gpx and "<type>finish</type>" in gpx
    doc = json.loads(olga.get(f"{base}?format=geojson&lang=en").get_data(as_text=True))
    finish = [f for f in doc["features"] if f["properties"].get("kind") == "finish"]
    assert [f["geometry"]["coordinates"] for f in finish] == [[7.769, 49.444]]
    fences = [f for f in doc["features"] if f["geometry"]["type"] == "Polygon"]
    assert len(fences) == 1 and len(fences[0]["geometry"]["coordinates"][0]) == 5


def stops_body(ids: list[int]) -> dict[str, Any]:
    return {"stops": [{"marker_id": i} for i in ids]}


def test_building_a_rally_shows_findings_route_and_letters(app, world, anna, spec):
    created = ok(
        spec,
        anna.post(
            f"{API}/rallies", json={"slug": "evening", "title": {"de": "Abend", "en": "Evening"}}
        ),
        201,
    )
    rid = created["id"]
    assert created["status"] == "draft" and created["owner"]["username"] == "anna"
    # the title has no Leichte Sprache yet: an info finding that does not block publishing
    assert [f["code"] for f in created["findings"]] == ["empty_rally", "missing_easy_german"]
    assert created["publishable"] is False and created["route"] == []

    near = ok(
        spec,
        anna.post(
            f"{API}/markers",
            json={
                "lat": 49.445667,
                "lon": 7.77062,
                "radius_m": 20,
                "title": {"de": "Ost", "en": "East"},
            },
        ),
        201,
    )["id"]
    first, second, _ = world.anna_markers
    rally = ok(spec, anna.put(f"{API}/rallies/{rid}/stops", json=stops_body([first, second, near])))
    assert [s["marker_id"] for s in rally["stops"]] == [first, second, near]
    overlap = [f for f in rally["findings"] if f["code"] == "geofences_overlap"]
    assert len(overlap) == 1
    assert (overlap[0]["stop_index"], overlap[0]["other_stop_index"]) == (0, 2)
    assert overlap[0]["severity"] == "warning" and "overlap" in overlap[0]["message"]["en"]
    assert rally["summary"]["stops"] == 3 and rally["summary"]["length_m"] > 100
    assert len(rally["route"]) == 3
    assert ok(spec, anna.get(f"{API}/rallies/{rid}/findings")) == {
        k: rally[k] for k in ("findings", "publishable", "summary", "route")
    }

    rally = ok(
        spec,
        anna.patch(
            f"{API}/rallies/{rid}",
            json={
                "solution_word": " ART ",
                "start": {"lat": 49.4359, "lon": 7.7688, "name": "Bahnhof"},
            },
        ),
    )
    assert rally["solution_word"] == "ART"
    assert [s["letter"] for s in rally["stops"]] == ["A", "R", "T"]
    assert rally["start"] == {"lat": 49.4359, "lon": 7.7688, "name": "Bahnhof"}
    assert len(rally["route"]) == 4
    rally = ok(
        spec, anna.patch(f"{API}/rallies/{rid}", json={"start": None, "solution_word": "ARTS"})
    )
    assert rally["start"] is None
    assert [s["letter"] for s in rally["stops"]] == ["A", "R", "T"]
    assert "solution_word_length" in {f["code"] for f in rally["findings"]}
    assert rally["publishable"] is False
    actions = [a for a, _, i, _ in audit_entries(app) if i == rid]
    assert actions == ["rally.create", "rally.stops", "rally.update", "rally.update"]


def test_suggested_order_saves_metres_and_is_applied_through_the_stops(app, world, anna, spec):
    first, second, third = world.anna_markers
    zigzag = [first, third, second]
    ok(spec, anna.put(f"{API}/rallies/{world.draft}/stops", json=stops_body(zigzag)))
    before = ok(spec, anna.get(f"{API}/rallies/{world.draft}/findings"))["summary"]["length_m"]
    s = ok(spec, anna.get(f"{API}/rallies/{world.draft}/order-suggestion"))
    assert s["changed"] and s["order"][0] == 0
    assert s["marker_ids"] == [zigzag[i] for i in s["order"]]
    assert s["saving_m"] > 50
    assert s["original_length_m"] == pytest.approx(before, abs=0.1)
    assert s["length_m"] == pytest.approx(before - s["saving_m"], abs=0.2)
    rally = ok(
        spec, anna.put(f"{API}/rallies/{world.draft}/stops", json=stops_body(s["marker_ids"]))
    )
    assert rally["summary"]["length_m"] == pytest.approx(s["length_m"], abs=0.2)
    assert not ok(spec, anna.get(f"{API}/rallies/{world.draft}/order-suggestion"))["changed"]


def test_stop_overrides_survive_reordering_and_bad_stop_lists_are_refused(app, world, anna):
    first, second, third = world.anna_markers
    clue = {"de": "Sonderhinweis", "en": "Special clue"}
    resp = anna.put(
        f"{API}/rallies/{world.draft}/stops",
        json={
            "stops": [
                {"marker_id": first},
                {"marker_id": second, "clue": clue},
                {"marker_id": third},
            ]
        },
    )
    assert resp.get_json()["stops"][1]["clue"] == clue
    resp = anna.put(f"{API}/rallies/{world.draft}/stops", json=stops_body([second, first, third]))
    assert resp.get_json()["stops"][0]["clue"] == clue
    error = assert_error(
        anna.put(f"{API}/rallies/{world.draft}/stops", json=stops_body([first, first])),
        422,
        "stop_duplicate",
    )
    assert error["field"] == "stops.1.marker_id"
    error = assert_error(
        anna.put(f"{API}/rallies/{world.draft}/stops", json=stops_body([first, 99999])),
        422,
        "stop_marker_unknown",
    )
    assert error["field"] == "stops.1.marker_id"
    assert_error(
        anna.put(f"{API}/rallies/{world.draft}/stops", json=stops_body([0])), 422, "invalid_field"
    )
    assert [
        s["marker_id"] for s in anna.get(f"{API}/rallies/{world.draft}").get_json()["stops"]
    ] == [second, first, third]


@pytest.mark.parametrize(
    "slug", ["", "Big", "two words", "-lead", "trail-", "a--b", "ä", "x" * 81, 5]
)
def test_bad_slugs_get_one_clear_message(world, anna, slug):
    error = assert_error(
        anna.post(f"{API}/rallies", json={"slug": slug}, headers={"Accept-Language": "en"}),
        422,
        "slug_invalid",
    )
    assert error["field"] == "slug" and "lowercase letters" in error["message"]


def test_slugs_are_unique(app, world, anna, spec):
    assert_error(anna.post(f"{API}/rallies", json={"slug": "annas-walk"}), 409, "slug_taken")
    assert_error(anna.post(f"{API}/rallies", json={"slug": world.demo_slug}), 409, "slug_taken")
    other = ok(spec, anna.post(f"{API}/rallies", json={"slug": "second"}), 201)["id"]
    error = assert_error(
        anna.patch(f"{API}/rallies/{other}", json={"slug": "annas-walk"}), 409, "slug_taken"
    )
    assert error["field"] == "slug"
    assert ok(spec, anna.patch(f"{API}/rallies/{other}", json={"slug": "third"}))["slug"] == "third"


def test_publishing_is_refused_while_a_finding_is_an_error(app, world, anna, spec):
    url = f"{API}/rallies/{world.draft}"
    ok(spec, anna.patch(url, json={"solution_word": "ART!"}))
    resp = anna.put(
        f"{url}/status", json={"status": "published"}, headers={"Accept-Language": "en"}
    )
    error = assert_error(resp, 409, "rally_has_errors")
    check(spec, "/curator/rallies/{rally_id}/status", "put", resp)
    assert "letters only" in error["message"] and "ART!" in error["message"]
    assert anna.get(url).get_json()["status"] == "draft"
    ok(spec, anna.put(f"{url}/stops", json=stops_body([])))
    error = assert_error(
        anna.put(f"{url}/status", json={"status": "published"}, headers={"Accept-Language": "de"}),
        409,
        "rally_has_errors",
    )
    assert "keine Stationen" in error["message"]
    assert audit_entries(app, "rally.publish") == []


def test_a_published_rally_keeps_its_stops_and_stays_published_once_teams_play(
    app, world, anna, spec
):
    url = f"{API}/rallies/{world.draft}"
    rally = ok(spec, anna.put(f"{url}/status", json={"status": "published"}))
    assert rally["status"] == "published" and rally["published_at"]
    assert rally["can"] == {
        "edit": True,
        "edit_stops": False,
        "publish": False,
        "unpublish": True,
        "delete": False,
        "simulate": True,
    }
    listed = app.test_client().get(f"{PUBLIC_API}/rallies").get_json()["rallies"]
    assert "annas-walk" in {r["slug"] for r in listed}
    first, second, third = world.anna_markers
    for method, suffix, body, field in [
        ("PUT", "/stops", stops_body([second, first, third]), "stops"),
        ("PUT", "/stops", stops_body([first, second]), "stops"),
        ("PATCH", "", {"solution_word": "TRA"}, "solution_word"),
        ("PATCH", "", {"order_mode": "free"}, "order_mode"),
        ("PATCH", "", {"slug": "renamed"}, "slug"),
    ]:
        error = assert_error(send(anna, method, url + suffix, body), 409, "rally_published")
        assert error["field"] == field
    assert_error(anna.delete(url), 409, "rally_published")
    fixed = ok(
        spec,
        anna.patch(
            url,
            json={
                "title": {"de": "Neu", "en": "New"},
                "solution_word": "ART",
                "order_mode": "fixed",
            },
        ),
    )
    assert fixed["title"] == {"de": "Neu", "en": "New"}
    moved = ok(spec, anna.patch(f"{API}/markers/{first}", json={"lat": 49.44568, "lon": 7.77037}))
    assert moved["lat"] == 49.44568

    assert ok(spec, anna.put(f"{url}/status", json={"status": "draft"}))["status"] == "draft"
    ok(spec, anna.put(f"{url}/status", json={"status": "published"}))
    new_team(app.test_client(), "annas-walk", "Early birds")
    rally = ok(spec, anna.get(url))
    assert rally["teams"] == 1 and rally["can"]["unpublish"] is False
    assert_error(anna.put(f"{url}/status", json={"status": "draft"}), 409, "rally_has_teams")
    assert anna.get(url).get_json()["status"] == "published"
    assert [a for a, _, i, _ in audit_entries(app) if i == world.draft] == [
        "rally.publish",
        "rally.update",
        "rally.unpublish",
        "rally.publish",
    ]


def test_a_closed_rally_is_read_only_here(app, world, ada, spec):
    from server.models import RallyStatus
    from tests.server.helpers import update_rally

    update_rally(app, world.draft, status=RallyStatus.CLOSED)
    url = f"{API}/rallies/{world.draft}"
    assert ok(spec, ada.get(url))["can"]["edit"] is False
    for method, suffix, body in [
        ("PATCH", "", {"title": {"de": "x", "en": "x"}}),
        ("PUT", "/stops", stops_body([])),
        ("PUT", "/status", {"status": "published"}),
        ("PUT", "/status", {"status": "draft"}),
        ("DELETE", "", None),
    ]:
        assert_error(send(ada, method, url + suffix, body), 409, "rally_closed_readonly")


def test_drafts_are_deleted_with_their_stops_but_not_their_markers(app, world, anna, spec):
    assert ok(spec, anna.delete(f"{API}/rallies/{world.draft}")) == {
        "deleted": True,
        "id": world.draft,
    }
    assert_error(anna.get(f"{API}/rallies/{world.draft}"), 404, "curator_rally_not_found")
    assert count_rows(app, "RallyStop", rally_id=world.draft) == 0
    assert count_rows(app, "Marker", owner_id=world.users["anna"]) == 3
    assert ok(spec, anna.delete(f"{API}/markers/{world.anna_markers[0]}"))["deleted"]
    assert audit_entries(app)[0][:3] == ("rally.delete", "rally", world.draft)


def test_lists_of_rallies_show_owner_and_rights(world, anna, spec):
    rallies = {r["slug"]: r for r in ok(spec, anna.get(f"{API}/rallies"))["rallies"]}
    assert rallies["annas-walk"]["editable"] and rallies["annas-walk"]["stops"] == 3
    assert rallies[world.demo_slug]["owner"] is None
    assert rallies[world.demo_slug]["editable"] is False
    assert rallies[world.demo_slug]["status"] == "published"


def test_unknown_objects_are_404(world, anna):
    for method, url, code in [
        ("GET", f"{API}/markers/99999", "marker_not_found"),
        ("PATCH", f"{API}/markers/99999", "marker_not_found"),
        ("GET", f"{API}/rallies/99999", "curator_rally_not_found"),
        ("GET", f"{API}/rallies/99999/findings", "curator_rally_not_found"),
        ("POST", f"{API}/rallies/99999/simulate", "curator_rally_not_found"),
    ]:
        body = (
            {"radius_m": 10}
            if method == "PATCH"
            else ({"lat": 1, "lon": 1} if method == "POST" else None)
        )
        error = assert_error(
            send(anna, method, url, body, headers={"Accept-Language": "en"}), 404, code
        )
        assert "99999" in error["message"]


def test_csrf_is_enforced_for_the_curator_api(make_app, password_hash, spec):
    from server.extensions import db
    from server.models import Role, User

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.session.add(User(username="anna", password_hash=password_hash, role=Role.CURATOR))
        db.session.commit()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post(
        "/login", data={"csrf_token": token, "username": "anna", "password": PASSWORD}
    )
    assert resp.status_code == 302
    body = {"lat": 49.44, "lon": 7.77}
    assert_error(client.post(f"{API}/markers", json=body), 400, "csrf_failed")
    assert_error(
        client.post(f"{API}/markers", json=body, headers={"X-CSRFToken": "forged"}),
        400,
        "csrf_failed",
    )
    assert client.get(f"{API}/markers").status_code == 200
    csrf = client.get(f"{PUBLIC_API}/session").get_json()["csrf_token"]
    created = ok(spec, client.post(f"{API}/markers", json=body, headers={"X-CSRFToken": csrf}), 201)
    url = f"{API}/markers/{created['id']}"
    assert_error(client.patch(url, json={"radius_m": 9}), 400, "csrf_failed")
    assert_error(client.delete(url), 400, "csrf_failed")
    assert_error(
        client.put(
            f"{url}/image", data={"image": (b"x", "a.png")}, content_type="multipart/form-data"
        ),
        400,
        "csrf_failed",
    )
    page_token = re.search(
        r'<meta name="csrf-token" content="([^"]+)"',
        client.get("/curator/markers").get_data(as_text=True),
    ).group(1)
    assert ok(spec, client.delete(url, headers={"X-CSRFToken": page_token}))["deleted"]
    assert [a for a, *_ in audit_entries(app)] == ["marker.create", "marker.delete"]


# --- the simulated walk ------------------------------------------------------------------


def simulate(client, rally_id: int, **body):
    return client.post(
        f"{API}/rallies/{rally_id}/simulate", json=body, headers={"Accept-Language": "en"}
    )


def test_the_simulated_walk_reveals_what_a_player_gets_and_writes_nothing(app, world, anna, spec):
    from datetime import UTC, datetime, timedelta

    stops = demo_stops(app, world.demo_rally)
    answers = right_answers(app, world.demo_rally)
    assert len(answers) == 3, "the demo rally has tasks at stops 1, 7 and 10"
    player = new_team(app.test_client(), world.demo_slug, "Real team")
    backdate_team(app, get_team(app.test_client(), player)["id"], 3 * 3600)
    teams_before = count_rows(app, "Team")
    state = None
    at = datetime.now(UTC) - timedelta(hours=2)
    for stop in stops:
        at += timedelta(minutes=10)
        body = {
            "lat": stop.position.lat,
            "lon": stop.position.lon,
            "accuracy_m": 5,
            "at": at.isoformat(),
            "language": "en",
        }
        if state:
            body["state"] = state
        step = ok(spec, simulate(anna, world.demo_rally, **body))
        state = step["state"]
        real = checkin(
            app.test_client(), player, stop.position.lat, stop.position.lon, 5.0, at=at
        ).get_json()
        sim = step["event"]
        assert sim["result"] == real["result"] == "found"
        # The pretend team answers each task at once and right; the real one does the same.
        right = answers.get(stop.marker_id)
        assert step["tasks"] == (
            []
            if right is None
            else [
                {"stop": stop.index + 1, "marker_id": stop.marker_id, "correct": True, "points": 50}
            ]
        )
        if right is not None:
            body = {"stop": stop.index + 1, "answer": right, "client_event_id": new_event_id()}
            real = (
                app.test_client()
                .post(f"{PUBLIC_API}/team/answers", json=body, headers=bearer(player))
                .get_json()
            )
            assert real["correct"] is True
        strip = ("found_at",)
        real_now = [f for f in real["team"]["found"] if f["marker_id"] == stop.marker_id]
        assert [{k: v for k, v in f.items() if k not in strip} for f in sim["found_now"]] == [
            {k: v for k, v in f.items() if k not in strip} for f in real_now
        ]
        assert sim["found_now"][0]["letter"] == stop.letter
        assert sim["found_now"][0]["story"] == stop.story["en"]
        assert sim["team"]["open"] == real["team"]["open"]
        assert sim["team"]["solution"] == real["team"]["solution"]
    assert sim["team"]["finished"] is True
    assert sim["team"]["solution"] == " ".join("BARBAROSSA")
    assert sim["team"]["score"] == real["team"]["score"] == 10 * 100 + 200 + 3 * 50
    assert step["task_points"] == 150
    assert count_rows(app, "Team") == teams_before
    assert count_rows(app, "Discovery") == len(stops)
    assert count_rows(app, "ClientEvent") == len(stops) + len(answers)


def test_a_draft_can_be_tried_and_a_qr_scan_simulated(app, world, anna, ben, spec):
    from datetime import UTC, datetime, timedelta

    first, second, _ = world.anna_markers
    at_start = datetime.now(UTC)
    start = ok(spec, simulate(anna, world.draft, lat=49.4359, lon=7.7688, accuracy_m=5))
    assert start["event"]["result"] == "outside"
    assert start["event"]["team"]["open"][0]["clue"] == "Fruchthalle clue"
    assert start["event"]["team"]["solution"] == "_ _ _"
    not_open = ok(spec, simulate(anna, world.draft, marker_id=second, state=start["state"]))
    assert not_open["event"]["result"] == "not_open"
    walked = (at_start + timedelta(minutes=20)).isoformat()
    scanned = ok(
        spec, simulate(anna, world.draft, marker_id=first, state=not_open["state"], at=walked)
    )
    assert scanned["event"]["result"] == "found"
    assert scanned["event"]["found_now"][0]["method"] == "qr"
    assert scanned["event"]["found_now"][0]["letter"] == "A"
    assert ok(spec, simulate(ben, world.draft, lat=49.4, lon=7.7))["event"]["result"] == "outside"
    assert app.test_client().get(f"{PUBLIC_API}/rallies/annas-walk").status_code == 404


def right_answers(app, rally_id: int) -> dict[int, Any]:
    """Marker id -> an answer right for its stop's task, for the stops with one."""
    from server.extensions import db
    from server.models import Rally

    with app.app_context():
        out = {}
        for s in db.session.get(Rally, rally_id).stops:
            if s.task:
                answer = s.task["answer"]
                out[s.marker_id] = answer[0] if isinstance(answer, list) else answer
        return out


def test_the_simulated_team_answers_each_task_right_at_once(app, world, anna, spec):
    from datetime import UTC, datetime, timedelta

    from server.extensions import db
    from server.models import Rally

    with app.app_context():
        stops = db.session.get(Rally, world.draft).stops
        stops[0].task = {
            "type": "choice",
            "question": {"de": "Welche Farbe?", "en": "Which colour?"},
            "options": [{"de": "Rot", "en": "Red"}, {"de": "Blau", "en": "Blue"}],
            "answer": 1,
            "points": 60,
            "letter": "answer",
        }
        stops[0].hints = [{"text": {"de": "Oben", "en": "Up"}, "cost": 5}]
        stops[1].task = {
            "type": "text",
            "question": {"de": "Wer?", "en": "Who?"},
            "answer": ["Barbarossa", "Friedrich I."],
            "points": 30,
        }
        db.session.commit()
    first, second, third = world.anna_markers
    at = datetime.now(UTC)
    start = ok(spec, simulate(anna, world.draft, lat=49.4359, lon=7.7688, accuracy_m=5))
    assert (start["tasks"], start["task_points"]) == ([], 0)
    steps = [start]
    for k, marker in enumerate((first, second, third), 1):
        when = (at + timedelta(minutes=20 * k)).isoformat()
        steps.append(
            ok(
                spec,
                simulate(anna, world.draft, marker_id=marker, state=steps[-1]["state"], at=when),
            )
        )
    one, two, three = steps[1:]
    assert one["tasks"] == [{"stop": 1, "marker_id": first, "correct": True, "points": 60}]
    found = one["event"]["found_now"][0]
    assert found["letter"] == "A", "the letter waiting for the answer shows at once"
    assert found["task"]["solved"] is True and found["task"]["points_won"] == 60
    assert found["task"]["answer"] == 1
    assert one["event"]["team"]["score"] == 100 + 60
    assert two["tasks"] == [{"stop": 2, "marker_id": second, "correct": True, "points": 30}]
    assert two["task_points"] == 90, "the progress travels in the signed state"
    assert three["tasks"] == [] and three["task_points"] == 90
    assert three["event"]["team"]["finished"] is True
    assert three["event"]["team"]["score"] == 3 * 100 + 200 + 90
    assert count_rows(app, "StopProgress") == 0


def test_a_state_from_before_tasks_still_works_and_bad_progress_is_refused(app, world, anna, spec):
    """A walk started before the state carried task progress goes on without it; progress of
    the wrong shape (signed, so only a bug could make it) is a 422, never a 500."""
    from server.curator import simulate as sim

    token = simulate(anna, world.draft, lat=49.4359, lon=7.7688).get_json()["state"]
    with app.test_request_context():
        data = sim._serializer().loads(token)
        assert data.pop("p") == []
        old = sim._serializer().dumps(data)
        bad = [sim._serializer().dumps({**data, "p": p}) for p in ([["x"]], [[1, 2]], 5, [None])]
    step = ok(spec, simulate(anna, world.draft, lat=49.4359, lon=7.7688, state=old))
    assert step["task_points"] == 0
    for token in bad:
        assert_error(
            simulate(anna, world.draft, lat=49.44, lon=7.77, state=token),
            422,
            "simulation_state_invalid",
        )


def test_simulation_state_is_checked(app, world, anna, ben):
    step = simulate(anna, world.draft, lat=49.4359, lon=7.7688).get_json()
    for token, client, rally in [
        ("forged", anna, world.draft),
        (step["state"][:-2] + "xx", anna, world.draft),
        (step["state"], ben, world.draft),
        (step["state"], anna, world.demo_rally),
    ]:
        error = assert_error(
            simulate(client, rally, lat=49.44, lon=7.77, state=token),
            422,
            "simulation_state_invalid",
        )
        assert error["field"] == "state"
    assert_error(simulate(anna, world.draft), 422, "invalid_field")
    assert_error(simulate(anna, world.draft, lat=91, lon=7), 422, "invalid_field")
    error = assert_error(
        simulate(anna, world.draft, lat=49.4, lon=7.7, at="yesterday"), 422, "invalid_field"
    )
    assert error["field"] == "at"
    assert count_rows(app, "AuditEntry") == 0


# --- pages -------------------------------------------------------------------------------


def test_curator_pages_open_for_curators_in_both_languages(app, world, anna):
    pages = ["/curator/", "/curator/markers", f"/curator/rallies/{world.draft}"]
    for path in pages:
        de = anna.get(path + "?lang=de").get_data(as_text=True)
        en = anna.get(path + "?lang=en").get_data(as_text=True)
        assert '<html lang="de">' in de and '<html lang="en">' in en
    home = anna.get("/curator/?lang=en").get_data(as_text=True)
    assert "Your rallies" in home and "annas-walk" in home
    assert "Venues without a position: 1" in home
    assert "Rallyes anderer" in anna.get("/curator/?lang=de").get_data(as_text=True)
    editor = anna.get(f"/curator/rallies/{world.draft}?lang=de").get_data(as_text=True)
    texts = re.search(
        r'<script id="staff-texts" type="application/json">(.*?)</script>', editor, re.S
    ).group(1)
    assert '"undo": "Rückgängig"' in texts
    assert "cdn" not in editor.lower() and "https://" not in editor.split("map-settings")[0]
    assert anna.get("/curator/rallies/99999").status_code == 404


def test_curator_pages_need_the_curator_role(app, world):
    assert app.test_client().get("/curator/markers").status_code == 302
    organiser = staff_client(app, world.users["olga"])
    for path in [
        "/curator/",
        "/curator/markers",
        f"/curator/rallies/{world.draft}",
        "/curator/audit",
    ]:
        assert organiser.get(path).status_code == 403
    assert staff_client(app, world.users["anna"]).get("/curator/audit").status_code == 403


def test_the_audit_page_lists_who_did_what_when_for_admins_paginated(app, world, anna, ada):
    for i in range(55):
        anna.patch(f"{API}/markers/{world.anna_markers[0]}", json={"radius_m": 10 + i})
    anna.put(f"{API}/rallies/{world.draft}/status", json={"status": "published"})
    first = ada.get("/curator/audit?lang=en").get_data(as_text=True)
    assert "Entries: 56 · page 1 of 2" in first
    assert first.count("<tr data-action=") == 50
    assert "anna published the rally »" in first
    assert f'href="/curator/rallies/{world.draft}"' in first
    assert "When (Europe/Berlin)" in first
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = ada.get("/curator/audit?page=2&lang=en").get_data(as_text=True)
    assert second.count("<tr data-action=") == 6 and 'rel="prev"' in second
    assert "anna changed the marker »" in second and "Radius: 10 m → 11 m" in second
    only_rallies = ada.get("/curator/audit?type=rally&lang=en").get_data(as_text=True)
    assert "Entries: 1 · page 1 of 1" in only_rallies
    assert ada.get("/curator/audit?page=nonsense").status_code == 200
