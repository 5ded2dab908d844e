"""markers.geo against pyproj's geodesic, on real venues and by property."""

from __future__ import annotations

import json
import math
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod

from markers.geo import (
    CoordinateError,
    LatLon,
    LocalPlane,
    bbox,
    bearing_deg,
    centroid,
    check_latlon,
    destination,
    distance_and_bearing,
    distance_m,
)
from tests.conftest import ASSETS

GEOD = Geod(ellps="WGS84")
VENUES = [
    (v["name"], LatLon(v["lat"], v["lon"]))
    for v in json.loads((ASSETS / "kaiserslautern_venues.json").read_text(encoding="utf-8"))
]
PAIRS = list(combinations(VENUES, 2))

lats = st.floats(-90, 90)
lons = st.floats(-180, 180)
points = st.builds(LatLon, lats, lons)
inner_points = st.builds(LatLon, st.floats(-89, 89), lons)
bearings = st.floats(0, 360, exclude_max=True)


def angle_diff(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def test_there_are_venues_to_compare():
    assert len(VENUES) >= 10


@pytest.mark.parametrize(("a", "b"), PAIRS, ids=[f"{a[0][:20]}-{b[0][:20]}" for a, b in PAIRS])
def test_venue_distances_and_bearings_agree_with_pyproj(a, b):
    (_, p), (_, q) = a, b
    azimuth, _, expected = GEOD.inv(p.lon, p.lat, q.lon, q.lat)
    assert distance_m(p, q) == pytest.approx(expected, abs=0.5)
    assert distance_m(q, p) == pytest.approx(expected, abs=0.5)
    assert angle_diff(bearing_deg(p, q), azimuth) < 1e-6
    assert distance_and_bearing(p, q) == (distance_m(p, q), bearing_deg(p, q))


def test_a_known_distance():
    # Hauptbahnhof to Fruchthalle: about 1 km across the city centre.
    hbf, fruchthalle = LatLon(49.435903, 7.768819), LatLon(49.4447, 7.7690)
    assert 950 < distance_m(hbf, fruchthalle) < 1000
    assert angle_diff(bearing_deg(hbf, fruchthalle), 0.0) < 2


@given(points, points)
def test_distance_is_symmetric_and_non_negative(a, b):
    d = distance_m(a, b)
    assert d >= 0
    assert d == pytest.approx(distance_m(b, a), abs=1e-6)
    assert d <= 20_003_932  # half a meridian, the longest geodesic on WGS84


@given(points)
def test_distance_to_itself_is_zero(a):
    assert distance_m(a, a) == 0


@given(inner_points, bearings, st.floats(1, 10_000_000))
def test_destination_round_trips(start, bearing, d):
    end = destination(start, bearing, d)
    assert -90 <= end.lat <= 90 and -180 <= end.lon < 180
    assert distance_m(start, end) == pytest.approx(d, rel=1e-9, abs=1e-6)
    assert angle_diff(bearing_deg(start, end), bearing) < 1e-6


@given(lats, lons)
def test_check_latlon_accepts_numbers_in_range(lat, lon):
    assert check_latlon(lat, lon) == (lat, lon)
    assert check_latlon(int(lat), int(lon)) == (float(int(lat)), float(int(lon)))
    assert isinstance(check_latlon(int(lat), int(lon)).lat, float)


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not abs(x) <= 90),
        st.booleans(),
        st.text(),
        st.none(),
        st.just([49.4]),
        st.just(1e400),
    )
)
def test_check_latlon_rejects_bad_latitudes(lat):
    with pytest.raises(CoordinateError, match="lat"):
        check_latlon(lat, 7.77)


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        (91, 7.7, "lat"),
        (-90.001, 7.7, "lat"),
        (49.4, 180.5, "lon"),
        (math.nan, 7.7, "lat"),
        (49.4, math.inf, "lon"),
        ("49.4", 7.7, "lat"),
        (49.4, "7.7", "lon"),
        (True, 7.7, "lat"),
        (49.4, False, "lon"),
        (None, 7.7, "lat"),
    ],
)
def test_check_latlon_names_the_bad_field(lat, lon, field):
    with pytest.raises(CoordinateError, match=field):
        check_latlon(lat, lon)
    assert issubclass(CoordinateError, ValueError)


def test_centroid_and_bbox_of_the_venues():
    pts = [p for _, p in VENUES]
    lat0, lon0, lat1, lon1 = bbox(pts)
    c = centroid(pts)
    assert lat0 <= c.lat <= lat1 and lon0 <= c.lon <= lon1
    assert 49.3 < c.lat < 49.6 and 7.6 < c.lon < 7.9
    for empty in (centroid, bbox):
        with pytest.raises(ValueError, match="no points"):
            empty([])


@given(st.builds(LatLon, st.floats(-80, 80), lons), bearings, st.floats(0, 3000))
def test_local_plane_round_trips_and_measures_metres(origin, bearing, d):
    plane = LocalPlane(origin)
    p = destination(origin, bearing, d)
    x, y = plane.to_xy(p)
    back = plane.to_latlon(x, y)
    assert back.lat == pytest.approx(p.lat, abs=1e-9)
    assert angle_diff(back.lon, p.lon) < 1e-9
    assert math.hypot(x, y) == pytest.approx(d, rel=2e-3, abs=1e-6)


def test_local_plane_axes_point_east_and_north():
    origin = VENUES[0][1]
    plane = LocalPlane(origin)
    assert plane.to_xy(origin) == (0.0, 0.0)
    x, y = plane.to_xy(destination(origin, 90.0, 1000.0))
    assert x == pytest.approx(1000.0, rel=1e-3) and abs(y) < 1.0
    x, y = plane.to_xy(destination(origin, 0.0, 1000.0))
    assert y == pytest.approx(1000.0, rel=1e-3) and abs(x) < 1e-6
