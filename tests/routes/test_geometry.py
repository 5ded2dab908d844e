"""routes.geometry: legs, length, duration and bounding box of real Kaiserslautern routes."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod

from markers.geo import LatLon, destination, distance_m
from routes.geometry import (
    RouteSummary,
    bounding_box,
    leg_lengths_m,
    length_m,
    route_line,
    summarize,
    walking_duration_s,
)
from tests.routes.helpers import make_rally, venue

GEOD = Geod(ellps="WGS84")

points_near_kl = st.lists(
    st.builds(LatLon, st.floats(49.40, 49.48), st.floats(7.70, 7.82)), max_size=8
)


def geod_length(points: list[LatLon]) -> float:
    return sum(GEOD.inv(a.lon, a.lat, b.lon, b.lat)[2] for a, b in pairwise(points))


def test_length_of_station_to_market_hall_to_church_agrees_with_pyproj():
    points = [venue("Hauptbahnhof"), venue("Fruchthalle"), venue("Stiftskirche")]
    legs = leg_lengths_m(points)
    assert len(legs) == 2
    assert legs[0] == pytest.approx(1091.7, abs=0.5)
    assert legs[1] == pytest.approx(140.3, abs=0.5)
    assert length_m(points) == pytest.approx(geod_length(points), abs=0.5)
    rally = make_rally(["Fruchthalle", "Stiftskirche"], start="Hauptbahnhof")
    assert length_m(rally) == pytest.approx(geod_length(points), abs=0.5)


def test_route_line_runs_start_stops_finish():
    rally = make_rally(
        ["Fruchthalle", "Stiftskirche", "Rathaus"], start="Hauptbahnhof", finish="Pfalztheater"
    )
    assert route_line(rally) == [
        venue("Hauptbahnhof"),
        venue("Fruchthalle"),
        venue("Stiftskirche"),
        venue("Rathaus"),
        venue("Pfalztheater"),
    ]
    assert route_line(make_rally(["Rathaus"])) == [venue("Rathaus")]


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_points_have_no_legs(n):
    points = [venue("Fruchthalle")] * n
    assert leg_lengths_m(points) == []
    assert length_m(points) == 0.0


def test_duration_is_walking_time_plus_dwell_per_stop():
    a = venue("Fruchthalle")
    b = destination(a, 90.0, 1200.0)
    rally = make_rally([a, b], walking_speed_mps=1.2, dwell_s=300.0)
    s = summarize(rally)
    assert s.length_m == pytest.approx(1200.0, abs=1e-6)
    assert s.walking_s == pytest.approx(1000.0, abs=1e-6)
    assert s.dwell_s == 600.0
    assert s.duration_s == pytest.approx(1600.0, abs=1e-6)
    assert walking_duration_s(rally) == pytest.approx(1600.0, abs=1e-6)


def test_start_and_finish_are_walked_but_not_dwelt_at():
    rally = make_rally(
        ["Fruchthalle", "Stiftskirche"],
        start="Hauptbahnhof",
        finish="Albrechtsbrunnen",
        walking_speed_mps=1.0,
        dwell_s=600.0,
    )
    s = summarize(rally)
    expected = geod_length(rally.waypoints())
    assert len(s.legs) == 3
    assert s.length_m == pytest.approx(expected, abs=0.5)
    assert s.dwell_s == 1200.0
    assert s.duration_s == pytest.approx(expected + 1200.0, abs=0.5)


def test_summary_of_a_real_rally():
    rally = make_rally(
        ["Fruchthalle", "Stiftskirche", "St. Martinskirche", "Unionskirche"], start="Hauptbahnhof"
    )
    s = summarize(rally)
    assert isinstance(s, RouteSummary)
    assert s.legs == tuple(leg_lengths_m(rally.waypoints()))
    assert s.length_m == pytest.approx(sum(s.legs))
    assert s.walking_s == pytest.approx(s.length_m / 1.2)
    assert s.dwell_s == 4 * 300.0
    assert s.bbox == bounding_box(rally)


def test_bounding_box_of_real_venues():
    rally = make_rally(
        ["Fruchthalle", "Gartenschau"], start="Hauptbahnhof", finish="Friedenskapelle"
    )
    # Hauptbahnhof is southmost, Friedenskapelle eastmost, Gartenschau west- and northmost.
    assert bounding_box(rally) == (49.435903, 7.748472, 49.449333, 7.78401)


def test_empty_rally_has_no_bounding_box():
    rally = make_rally([], slug="leer")
    with pytest.raises(ValueError, match="'leer' has no stops"):
        bounding_box(rally)
    s = summarize(rally)
    assert (s.length_m, s.duration_s, s.bbox, s.legs) == (0.0, 0.0, None, ())


@given(points_near_kl)
def test_length_is_the_sum_of_legs_and_agrees_with_pyproj(points):
    legs = leg_lengths_m(points)
    assert len(legs) == max(0, len(points) - 1)
    assert all(x >= 0 for x in legs)
    assert length_m(points) == pytest.approx(geod_length(points), abs=0.5)


@given(points_near_kl)
def test_length_is_the_same_backwards_and_at_least_the_direct_distance(points):
    assert length_m(points[::-1]) == pytest.approx(length_m(points), abs=1e-6)
    if points:
        assert length_m(points) >= distance_m(points[0], points[-1]) - 1e-6


@given(points_near_kl, st.floats(0.3, 3.0), st.floats(0, 3600))
def test_duration_grows_with_length_and_dwell(points, speed, dwell):
    rally = make_rally(points, walking_speed_mps=speed, dwell_s=dwell)
    s = summarize(rally)
    assert math.isclose(
        s.duration_s, length_m(points) / speed + dwell * len(points), rel_tol=1e-9, abs_tol=1e-6
    )
