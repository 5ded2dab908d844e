"""What the view shows of the open stops (targets), and the check-in policy that follows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from client.ar import Band
from client.sensors import Fix
from client.targets import (
    AREA_INTERVAL_S,
    FAR_INTERVAL_S,
    NEAR_INTERVAL_S,
    UNSURE_MOVE_M,
    Target,
    closeness,
    make_targets,
    wants_checkin,
)
from markers.geo import LatLon, destination, distance_and_bearing
from markers.geofence import Geofence

T0 = datetime(2026, 9, 12, 18, 0, tzinfo=UTC)
MARKER = LatLon(49.44398, 7.76938)
AREA = destination(MARKER, 30, 100)
TARGET = Target(
    stop=2, marker_id=7, clue="Where the market hall stands", area=AREA, area_radius_m=250.0
)
NEAR = Target(**{**TARGET.__dict__, "marker": MARKER, "marker_radius_m": 25.0})


def at(position: LatLon, seconds: float, accuracy: float = 5.0, start: datetime = T0) -> Fix:
    return Fix(position.lat, position.lon, accuracy, start + timedelta(seconds=seconds))


# --- the check-in policy ----------------------------------------------------------------------


def test_first_fix_is_always_sent():
    far = destination(MARKER, 0, 5000)
    assert wants_checkin(at(far, 0), None, (TARGET,))


def test_far_away_needs_time_and_distance():
    """5 km from the area: a check-in only after 30 s AND 25 m. 40 s standing still: no;
    20 s and 30 m: no; 31 s and 30 m: yes."""
    far = destination(MARKER, 0, 5000)
    last = at(far, 0)
    assert not wants_checkin(at(far, 40), last, (TARGET,))
    assert not wants_checkin(at(destination(far, 90, 30), 20), last, (TARGET,))
    assert wants_checkin(at(destination(far, 90, 30), FAR_INTERVAL_S + 1), last, (TARGET,))


def test_inside_the_search_area_every_ten_seconds():
    """At the area's centre (the marker not yet opened): 9 s after the last: no; 10 s: yes,
    standing still included."""
    last = at(AREA, 0)
    assert not wants_checkin(at(AREA, AREA_INTERVAL_S - 1), last, (TARGET,))
    assert wants_checkin(at(AREA, AREA_INTERVAL_S), last, (TARGET,))


def test_near_an_opened_marker_every_five_seconds():
    """70 m from a marker with a 25 m fence: 70 <= 25 + 60 + 5 (accuracy): near."""
    here = destination(MARKER, 200, 70)
    last = at(here, 0)
    assert not wants_checkin(at(here, NEAR_INTERVAL_S - 1), last, (NEAR,))
    assert wants_checkin(at(here, NEAR_INTERVAL_S), last, (NEAR,))


def test_offline_a_search_area_counts_as_near():
    """Events waiting (offline): in an open stop's search area every 5 s, not every 10 s: the
    marker may be anywhere in it, and the phone cannot learn where until the server answers."""
    last = at(AREA, 0)
    assert not wants_checkin(at(AREA, NEAR_INTERVAL_S), last, (TARGET,))
    assert wants_checkin(at(AREA, NEAR_INTERVAL_S), last, (TARGET,), uncertain=True)
    assert not wants_checkin(at(AREA, NEAR_INTERVAL_S - 1), last, (TARGET,), uncertain=True)


def test_offline_far_away_a_fix_once_moved_far_enough_or_somewhere_new():
    """Events waiting, 5 km from the area: 5 s and 25 m, or 30 s and beyond the accuracy;
    standing still: never."""
    far = destination(MARKER, 0, 5000)
    last = at(far, 0)
    assert not wants_checkin(at(far, NEAR_INTERVAL_S), last, (TARGET,), uncertain=True)
    assert not wants_checkin(at(far, 600), last, (TARGET,), uncertain=True)
    on = destination(far, 90, UNSURE_MOVE_M)
    assert wants_checkin(at(on, NEAR_INTERVAL_S), last, (TARGET,), uncertain=True)
    assert not wants_checkin(at(on, NEAR_INTERVAL_S - 1), last, (TARGET,), uncertain=True)
    a_little = destination(far, 90, 12)
    assert not wants_checkin(at(a_little, FAR_INTERVAL_S - 1), last, (TARGET,), uncertain=True)
    assert wants_checkin(at(a_little, FAR_INTERVAL_S), last, (TARGET,), uncertain=True)
    assert not wants_checkin(
        at(a_little, FAR_INTERVAL_S, accuracy=15), last, (TARGET,), uncertain=True
    ), "within the fix's accuracy: GPS noise, not a new place"


def _legs(points: list[tuple[LatLon, float]], step_s: float = 5.0, speed: float = 1.3):
    """Positions every step_s along straight legs to each point, standing there its seconds."""
    here = points[0][0]
    out = [here]
    for target, stand_s in points[1:]:
        length, heading = distance_and_bearing(here, target)
        walked = speed * step_s
        while walked < length:
            out.append(destination(here, heading, walked))
            walked += speed * step_s
        out.append(target)
        out.extend([target] * int(stand_s // step_s))
        here = target
    return out


def test_an_offline_walk_keeps_few_fixes_but_every_one_in_a_fence():
    """3.5 km walked offline, a fix every 5 s (the old policy kept each one): through the fence
    of a stop opened meanwhile that the phone does not know of, through the search area of the
    open stop and past its opened marker, to the edge of a second unknown fence, where the player
    stands a minute. Every fix in the known area is kept; each fence holds a kept fix."""
    marker = LatLon(49.44398, 7.76938)
    known = Target(
        stop=2,
        marker_id=7,
        clue="",
        area=destination(marker, 30, 60),
        area_radius_m=120.0,
        marker=marker,
        marker_radius_m=25.0,
    )
    unknown = [
        Geofence(destination(marker, 180, 1700), 20.0),
        Geofence(destination(marker, 90, 900), 20.0),
    ]
    end = destination(unknown[1].center, 270, 14)
    start = destination(marker, 180, 2600)
    path = _legs([(start, 0), (marker, 20), (end, 60)])
    fixes = [at(p, 5.0 * i) for i, p in enumerate(path)]
    kept: list[Fix] = []
    for fix in fixes:
        if wants_checkin(fix, kept[-1] if kept else None, (known,), uncertain=True):
            kept.append(fix)
    assert len(fixes) > 500
    assert len(kept) < len(fixes) / 3, (len(kept), len(fixes))
    in_area = [f for f in fixes if closeness(f, (known,)) != "far"]
    assert in_area and all(f in kept for f in in_area), "every fix near the open stop is kept"
    for fence in [Geofence(marker, 25.0), *unknown]:
        assert any(fence.contains(f.position, f.accuracy_m) for f in fixes)
        assert any(fence.contains(f.position, f.accuracy_m) for f in kept), fence


# --- targets --------------------------------------------------------------------------------


TEAM = {
    "id": 1,
    "name": "T",
    "started_at": "2026-09-12T18:00:00Z",
    "finished": False,
    "finished_at": None,
    "found": [],
    "solution": "_ _ _",
    "progress": {"found": 0, "total": 3},
    "open": [
        {
            "marker_id": 7,
            "stop": 2,
            "clue": "Market hall",
            "search_area": {"lat": AREA.lat, "lon": AREA.lon, "radius_m": 250},
            "marker": {
                "lat": MARKER.lat,
                "lon": MARKER.lon,
                "radius_m": 25,
                "distance_m": 1,
                "bearing_deg": 0,
            },
        },
        {
            "marker_id": 9,
            "stop": 3,
            "clue": "Theatre",
            "search_area": {"lat": 49.45, "lon": 7.77, "radius_m": 250},
            "marker": None,
        },
    ],
}


def test_targets_measure_from_the_position():
    me = destination(MARKER, 180, 40)
    [near, far] = make_targets(TEAM, at(me, 0, accuracy=20), me)
    assert near.marker == MARKER and near.distance_m == pytest.approx(40, abs=0.01)
    assert abs((near.bearing_deg + 180) % 360 - 180) < 0.01, "due north"
    assert near.band is Band.WARMER
    assert near.inside_hint, "40 m from a 25 m fence, accuracy 20: 15 <= 20"
    assert far.marker is None and far.band is Band.COLD and not far.inside_hint
    assert make_targets(TEAM, None, None)[0].distance_m is None
