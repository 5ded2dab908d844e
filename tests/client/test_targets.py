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
    Target,
    make_targets,
    wants_checkin,
)
from markers.geo import LatLon, destination

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


def test_uncertain_state_counts_as_near():
    """Answers pending (offline): the next stop may be open already, so every 5 s."""
    far = destination(MARKER, 0, 5000)
    last = at(far, 0)
    assert not wants_checkin(at(far, NEAR_INTERVAL_S), last, (TARGET,))
    assert wants_checkin(at(far, NEAR_INTERVAL_S), last, (TARGET,), uncertain=True)


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
