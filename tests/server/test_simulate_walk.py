"""The simulated walk in one request: the whole rally walked by a pretend team on the server,
every fix and what the rules answered, nothing written, counted per curator and not against the
address limit players share."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from markers.geo import LatLon, distance_m
from server.curator.simulate import WALK_MAX_STEPS, WALK_STEP_M, route_fixes
from tests.server import test_api_curator as base
from tests.server.helpers import assert_error, count_rows, staff_client

password_hash, world, spec = base.password_hash, base.world, base.spec
anna, ben = base.anna, base.ben
API = base.API


def walk(client, rally_id: int, **body):
    return client.post(
        f"{API}/rallies/{rally_id}/simulate/walk", json=body, headers={"Accept-Language": "en"}
    )


def test_the_demo_rally_is_walked_to_the_end_in_one_request(app, world, anna, spec):
    before = {m: count_rows(app, m) for m in ("Team", "Discovery", "StopProgress", "AuditEntry")}
    answer = base.ok(spec, walk(anna, world.demo_rally, language="de"))
    assert answer["finished"] is True
    assert (answer["found"], answer["total"]) == (10, 10)
    assert answer["score"] == 10 * 100 + 200 + 3 * 50
    assert answer["task_points"] == 150
    steps = answer["steps"]
    assert steps[0]["event"]["team"]["open"][0]["clue"], "the first clue shows at the start"
    reveals = [s for s in steps if s["result"] == "found"]
    assert [len(s["event"]["found_now"]) for s in reveals] == [1] * 10
    assert "".join(s["event"]["found_now"][0]["letter"] for s in reveals) == "BARBAROSSA"
    assert [t["points"] for s in reveals for t in s["tasks"]] == [50, 50, 50]
    assert steps[-1]["event"]["team"]["finished"] is True
    assert all("event" not in s for s in steps[1:] if s["result"] != "found")
    times = [datetime.fromisoformat(s["at"].replace("Z", "+00:00")) for s in steps]
    assert times == sorted(times)
    assert {m: count_rows(app, m) for m in before} == before


def test_a_draft_is_walked_with_a_given_start_time_in_english(app, world, anna, spec):
    answer = base.ok(spec, walk(anna, world.draft, at="2026-11-29T18:00:00+01:00", language="en"))
    assert answer["finished"] is True
    assert answer["steps"][0]["at"] == "2026-11-29T17:00:00Z"
    found = [s["event"]["found_now"][0] for s in answer["steps"] if s["result"] == "found"]
    assert [f["letter"] for f in found] == ["A", "R", "T"]


def test_any_curator_may_walk_but_not_organisers_and_bad_input_is_a_clear_4xx(
    app, world, anna, ben
):
    assert walk(ben, world.draft).status_code == 200
    assert_error(walk(staff_client(app, world.users["olga"]), world.draft), 403, "forbidden")
    assert_error(walk(anna, 99999), 404, "curator_rally_not_found")
    assert_error(walk(anna, world.draft, at="yesterday"), 422, "invalid_field")
    assert_error(walk(anna, world.draft, language="<b>x</b>"), 422)
    assert_error(walk(anna, world.draft, lat=49.4), 422)
    assert_error(walk(anna, world.draft, at="2026-11-29T18:00:00\x00+01:00"), 422)
    assert_error(walk(anna, world.draft, language="de\x00"), 422)
    assert_error(walk(anna, world.draft, at="9" * 10_000), 422)
    resp = anna.post(
        f"{API}/rallies/{world.draft}/simulate/walk", data="\x00", content_type="application/json"
    )
    assert 400 <= resp.status_code < 500


def test_a_rally_without_stops_says_there_is_nothing_to_walk(app, world, anna):
    resp = anna.post(f"{API}/rallies", json={"slug": "empty-walk", "title": {"de": "L", "en": "E"}})
    assert resp.status_code == 201, resp.get_json()
    error = assert_error(walk(anna, resp.get_json()["id"]), 409, "simulation_no_route")
    assert "no stops" in error["message"]


@pytest.fixture
def limited_app(make_app, demo, password_hash):
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_DEFAULT="3 per minute",
        RATELIMIT_SIMULATE_WALK="4 per minute",
    )
    return app, demo[1]


def test_walks_do_not_count_against_the_address_limit_but_have_their_own(limited_app):
    from server.auth import create_user
    from server.models import Role

    app, rally_id = limited_app
    with app.app_context():
        curators = [create_user(n, "correct horse battery", Role.CURATOR).id for n in ("cy", "cz")]
    cy, cz = (staff_client(app, c) for c in curators)
    for _ in range(4):
        assert walk(cy, rally_id).status_code == 200, "twice (and more) within a minute"
    refused = walk(cy, rally_id)
    error = assert_error(refused, 429, "simulation_limited")
    assert "simulated walks" in error["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert walk(cz, rally_id).status_code == 200, "each curator has their own count"
    player = app.test_client()
    assert player.get("/api/v1/rallies").status_code == 200, "the players' limit is untouched"


def test_route_fixes_are_close_together_and_end_at_each_corner():
    a, b, c = LatLon(49.4456, 7.7703), LatLon(49.4444, 7.7708), LatLon(49.4467, 7.7677)
    start = datetime(2026, 11, 29, 18, tzinfo=UTC)
    fixes = route_fixes([a, b, c], 1.2, start)
    points = [p for p, _ in fixes]
    assert points[0] == a and b in points and points[-1] == c
    gaps = [distance_m(p, q) for p, q in itertools.pairwise(points)]
    assert max(gaps) <= WALK_STEP_M + 0.01
    walked = sum(gaps)
    assert (fixes[-1][1] - start).total_seconds() == pytest.approx(walked / 1.2, rel=1e-3)
    far = route_fixes([a, LatLon(52.52, 13.40)], 1.2, start)
    assert len(far) <= WALK_MAX_STEPS + 1
