"""Forget for real: after FIX_RETENTION_HOURS no table holds anything a team's position could be
rebuilt from (stored answers included), a replayed event still counts once, and the forgetting
runs on its own while the server runs (on SQLite and PostgreSQL)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from markers.geo import LatLon, destination, distance_and_bearing, distance_m
from tests.server.helpers import backdate_team, checkin, create_team, demo_stops, get_team

RETENTION_S = 1.0
FAR_M = 2000.0
"""A stored pair of numbers this close to a fix that was sent gives the fix back."""
REBUILT_M = 5.0
"""A distance and bearing to a marker that lead this close to a fix give the fix back."""


def _numbers(value: Any) -> Iterator[float]:
    """Every number in a value, inside JSON and inside text too."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, str):
        if re.fullmatch(r"[0-9a-f]{32,}", value):
            return  # a hash (device tokens): its digits are noise, not numbers that were stored
        # numbers standing on their own, as in JSON or prose; not digits inside a code or token
        yield from (float(n) for n in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])", value))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _numbers(item)


def _every_row(app) -> Iterator[tuple[str, list[float]]]:
    """(table name, the numbers of one row) for every row of every table of the models."""
    from server.extensions import db

    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(select(table)).all():
                yield table.name, list(_numbers(list(row)))


def _leaks(app, far_fix: LatLon, near_fix: LatLon, markers: list[LatLon]) -> list[str]:
    """Where the database still gives either fix back."""
    found = []
    # the distance and bearing from the fix to each marker: a stored pair close to one of them
    # leads from the marker back to the fix (checked exactly with destination() below)
    seen_from_fix = [(m, *distance_and_bearing(near_fix, m)) for m in markers]
    for table, numbers in _every_row(app):
        distinct = sorted(set(numbers))
        for a in distinct:
            for b in distinct:
                on_earth = -90 <= a <= 90 and -180 <= b <= 180
                if on_earth and distance_m(LatLon(a, b), far_fix) < FAR_M:
                    found.append(f"{table}: ({a}, {b}) near the far fix")
                if not (0 < a < 10_000 and 0 <= b <= 360):
                    continue
                for m, d, bearing in seen_from_fix:
                    slack = math.degrees(2 * REBUILT_M / max(d, 1.0)) + 1.0
                    if abs(a - d) > 2 * REBUILT_M or _angle(b, bearing) > slack:
                        continue
                    if distance_m(destination(m, (b + 180) % 360, a), near_fix) < REBUILT_M:
                        found.append(f"{table}: distance {a} and bearing {b} give the fix")
    return found


def _angle(a: float, b: float) -> float:
    """The difference of two bearings in degrees (0 to 180)."""
    return abs((a - b + 180) % 360 - 180)


def _walk(app, client, demo) -> tuple[str, LatLon, LatLon, list[LatLon]]:
    """A team that sent a fix near its first marker and one far away; (token, fixes, markers)."""
    slug, rally_id = demo
    resp = create_team(client, slug, "Forgetful")
    token, team_id = resp.get_json()["token"], resp.get_json()["team"]["id"]
    start = backdate_team(app, team_id, 7200)
    stops = demo_stops(app, rally_id)
    first = stops[0]
    near = destination(first.position, 45.0, first.radius_m + 60)
    assert (
        checkin(client, token, near.lat, near.lon, at=start + timedelta(seconds=60)).status_code
        == 200
    )
    far = destination(first.position, 200.0, 30_000)
    assert (
        checkin(client, token, far.lat, far.lon, at=start + timedelta(seconds=3600)).status_code
        == 200
    )
    return token, near, far, [s.position for s in stops]


def _forget(app) -> None:
    from server import privacy

    with app.app_context():
        privacy.forget_old_fixes()


def test_after_the_retention_no_table_gives_a_fix_back(make_app, demo):
    app = make_app(FIX_RETENTION_HOURS=RETENTION_S / 3600)
    client = app.test_client()
    token, near, far, markers = _walk(app, client, demo)
    before = _leaks(app, far, near, markers)
    assert any("team" in leak for leak in before), "the detector must see the fresh fix"
    assert any("client_event" in leak for leak in before), "and the answers' distance, bearing"

    time.sleep(RETENTION_S + 0.2)
    _forget(app)
    assert _leaks(app, far, near, markers) == []
    assert get_team(client, token)["name"] == "Forgetful"


def test_a_replayed_event_after_the_retention_counts_once_and_stores_no_position(make_app, demo):
    from server import models
    from server.api.openapi import validator
    from server.extensions import db

    slug, rally_id = demo
    app = make_app(FIX_RETENTION_HOURS=RETENTION_S / 3600)
    client = app.test_client()
    resp = create_team(client, slug, "Replayers")
    token, team_id = resp.get_json()["token"], resp.get_json()["team"]["id"]
    start = backdate_team(app, team_id, 7200)
    first = demo_stops(app, rally_id)[0]
    at = start + timedelta(seconds=600)
    sent = checkin(client, token, first.position.lat, first.position.lon, at=at, event_id=None)
    assert sent.get_json()["result"] == "found"
    event_id = None
    with app.app_context():
        event_id = db.session.scalar(select(models.ClientEvent.client_event_id))
    time.sleep(RETENTION_S + 0.2)
    _forget(app)

    again = checkin(client, token, first.position.lat, first.position.lon, at=at, event_id=event_id)
    assert again.status_code == 200
    answer = again.get_json()
    assert answer["result"] == "found"
    assert [f["marker_id"] for f in answer["found_now"]] == [first.marker_id]
    assert not list(validator("EventResult").iter_errors(answer))
    assert answer["team"]["progress"]["found"] == 1
    with app.app_context():
        team = db.session.get(models.Team, team_id)
        assert (team.found_count, team.last_lat, team.last_lon) == (1, None, None)


def test_the_sweeper_forgets_on_its_own_and_stops(make_app, demo):
    from server import models
    from server.extensions import db

    app = make_app(
        TESTING=False, FIX_RETENTION_HOURS=RETENTION_S / 3600, PRIVACY_SWEEP_MINUTES=0.3 / 60
    )
    sweeper = app.extensions["privacy_sweeper"]
    try:
        client = app.test_client()
        _token, near, far, markers = _walk(app, client, demo)
        deadline = datetime.now(UTC) + timedelta(seconds=20)
        while _leaks(app, far, near, markers) and datetime.now(UTC) < deadline:
            time.sleep(0.2)
        assert _leaks(app, far, near, markers) == []
        assert sweeper.sweeps >= 1
        with app.app_context():
            assert db.session.scalar(select(models.Team.last_fix_at)) is None
            answers = db.session.scalars(select(models.ClientEvent.response)).all()
            assert len(answers) == 2 and all(a["forgotten"] for a in answers)
    finally:
        sweeper.stop()
    assert not sweeper.alive()


def test_no_sweeper_while_testing_or_when_turned_off(make_app):
    assert "privacy_sweeper" not in make_app().extensions
    assert "privacy_sweeper" not in make_app(TESTING=False, PRIVACY_SWEEP_MINUTES=0).extensions
