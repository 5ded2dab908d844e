"""markers.projection: the CRS for a place, and metres in it."""

from __future__ import annotations

import json
import math
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from markers.geo import CoordinateError, LatLon, destination, distance_m
from markers.projection import Projector, projector, projector_for, utm_epsg, utm_zone
from tests.conftest import ASSETS

VENUES = [
    LatLon(v["lat"], v["lon"])
    for v in json.loads((ASSETS / "kaiserslautern_venues.json").read_text(encoding="utf-8"))
]


@pytest.mark.parametrize(
    ("place", "lat", "lon", "epsg"),
    [
        ("Kaiserslautern", 49.4447, 7.7690, 25832),
        ("Lisbon", 38.72, -9.14, 25829),
        ("Athens", 37.98, 23.73, 25834),
        ("Bergen (Norway's wide zone 32)", 60.39, 5.32, 25832),
        ("Longyearbyen (Svalbard's zone 33)", 78.22, 15.65, 25833),
        ("Reykjavik (zone 27, outside ETRS89's zones)", 64.15, -21.94, 32627),
        ("Moscow (outside ETRS89)", 55.75, 37.62, 32637),
        ("Rabat (Africa)", 34.02, -6.84, 32629),
        ("New York", 40.71, -74.01, 32618),
        ("Sydney", -33.87, 151.21, 32756),
        ("Quito (just south)", -0.18, -78.47, 32717),
        ("antimeridian", 10.0, 180.0, 32660),
        ("North Pole", 89.0, 0.0, 32661),
        ("South Pole", -85.0, 0.0, 32761),
    ],
)
def test_utm_epsg(place, lat, lon, epsg):
    assert utm_epsg(lat, lon) == epsg, place


def test_utm_zone_exceptions():
    assert utm_zone(49.4, 7.7) == 32
    assert utm_zone(60.0, 4.0) == 32  # would be 31 without Norway's exception
    assert utm_zone(55.0, 4.0) == 31
    assert [utm_zone(78.0, lon) for lon in (5.0, 10.0, 20.0, 30.0, 40.0)] == [31, 33, 33, 35, 37]
    assert utm_zone(0.0, -180.0) == 1 and utm_zone(0.0, 180.0) == 60


def test_utm_epsg_rejects_bad_coordinates():
    with pytest.raises(CoordinateError, match="lat"):
        utm_epsg(95.0, 7.0)


def test_projector_for_kaiserslautern_is_etrs89_utm_32():
    assert projector_for(VENUES).epsg == 25832
    assert projector_for(VENUES) is projector(25832)


def test_the_central_meridian_maps_to_the_false_easting():
    proj = Projector(25832)
    x, y = proj.to_xy(LatLon(0.0, 9.0))
    assert x == pytest.approx(500_000.0, abs=1e-6) and y == pytest.approx(0.0, abs=1e-6)
    x, y = proj.to_xy(LatLon(49.4447, 9.0))
    assert x == pytest.approx(500_000.0, abs=1e-6)
    assert proj.scale(LatLon(49.4447, 9.0)) == pytest.approx(0.9996, abs=1e-9)


def test_planar_distances_between_venues_match_geodesic_up_to_the_scale():
    proj = projector_for(VENUES)
    for a, b in combinations(VENUES, 2):
        (xa, ya), (xb, yb) = proj.to_xy(a), proj.to_xy(b)
        ratio = math.hypot(xb - xa, yb - ya) / distance_m(a, b)
        assert ratio == pytest.approx(proj.scale(a), abs=1e-5)


@given(st.floats(0, 360), st.floats(0, 20_000))
def test_round_trip_near_kaiserslautern(bearing, d):
    proj = projector(25832)
    p = destination(VENUES[0], bearing, d)
    back = proj.to_latlon(*proj.to_xy(p))
    assert back.lat == pytest.approx(p.lat, abs=1e-9) and back.lon == pytest.approx(p.lon, abs=1e-9)


def test_array_variants_agree_with_single_points():
    proj = projector(25832)
    xs, ys = proj.to_xy_many(VENUES)
    assert [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)] == [
        proj.to_xy(p) for p in VENUES
    ]
    back = proj.to_latlon_many(xs, ys)
    assert all(
        abs(a.lat - b.lat) < 1e-9 and abs(a.lon - b.lon) < 1e-9
        for a, b in zip(back, VENUES, strict=True)
    )
    assert list(proj.scales(VENUES)) == [proj.scale(p) for p in VENUES]


def test_outside_the_domain_is_a_clear_error():
    proj = projector(25832)
    with pytest.raises(ValueError, match="cannot be projected to EPSG:25832"):
        proj.to_xy(LatLon(0.0, 100.0))
    assert not proj.scale(LatLon(0.0, 100.0)) < 2


def test_only_metric_projected_crs():
    with pytest.raises(ValueError, match="not a projected CRS"):
        Projector(4326)
