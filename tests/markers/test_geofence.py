"""The one "inside" rule, at its edges and by property."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from markers.geo import LatLon, destination, distance_m
from markers.geofence import ACCURACY_CAP_M, Geofence, tolerance_m

FRUCHTHALLE = LatLon(49.4447, 7.7690)
EAST = 90.0


def at(d: float, bearing: float = EAST) -> LatLon:
    return destination(FRUCHTHALLE, bearing, d)


def square(half_side_m: float) -> tuple[LatLon, ...]:
    """A square around the Fruchthalle whose corners lie half_side_m east/west and north/south."""
    corner = half_side_m * math.sqrt(2)
    return tuple(at(corner, b) for b in (45.0, 135.0, 225.0, 315.0))


@pytest.mark.parametrize(
    ("accuracy", "expected"),
    [
        (None, 0.0),
        (-5.0, 0.0),
        (0.0, 0.0),
        (math.nan, 0.0),
        (math.inf, 0.0),
        (-math.inf, 0.0),
        (7.5, 7.5),
        (ACCURACY_CAP_M, ACCURACY_CAP_M),
        (ACCURACY_CAP_M + 0.1, ACCURACY_CAP_M),
        (5000.0, ACCURACY_CAP_M),
    ],
)
def test_tolerance_is_accuracy_clamped_to_the_cap(accuracy, expected):
    assert tolerance_m(accuracy) == expected


def test_tolerance_respects_a_custom_cap():
    assert tolerance_m(40.0, cap_m=50.0) == 40.0
    assert tolerance_m(80.0, cap_m=50.0) == 50.0
    assert tolerance_m(80.0, cap_m=0.0) == 0.0


def test_exactly_at_the_radius_is_inside():
    p = at(20.0)
    r = distance_m(FRUCHTHALLE, p)
    assert Geofence(FRUCHTHALLE, r).contains(p)
    assert not Geofence(FRUCHTHALLE, math.nextafter(r, 0.0)).contains(p)
    assert Geofence(FRUCHTHALLE, r).distance_outside_m(p) == 0.0


def test_radius_plus_accuracy_is_the_edge():
    fence = Geofence(FRUCHTHALLE, 20.0)
    p = at(32.0)
    outside = fence.distance_outside_m(p)
    assert outside == pytest.approx(12.0, abs=1e-6)
    assert fence.contains(p, outside)
    assert not fence.contains(p, math.nextafter(outside, 0.0))
    assert not fence.contains(p)


def test_accuracy_above_the_cap_counts_only_up_to_the_cap():
    fence = Geofence(FRUCHTHALLE, 20.0)
    assert fence.contains(at(20.0 + ACCURACY_CAP_M - 0.5), accuracy_m=500.0)
    assert not fence.contains(at(20.0 + ACCURACY_CAP_M + 0.5), accuracy_m=500.0)
    assert fence.contains(at(20.0 + ACCURACY_CAP_M + 0.5), accuracy_m=500.0, cap_m=30.0)


@pytest.mark.parametrize("accuracy", [None, -10.0, math.nan, math.inf])
def test_unusable_accuracy_gives_no_tolerance(accuracy):
    fence = Geofence(FRUCHTHALLE, 20.0)
    assert fence.contains(at(19.99), accuracy)
    assert not fence.contains(at(20.01), accuracy)


@pytest.mark.parametrize("radius", [0.0, -1.0, math.nan, math.inf])
def test_a_fence_needs_a_positive_radius(radius):
    with pytest.raises(ValueError, match="radius"):
        Geofence(FRUCHTHALLE, radius)


def test_a_polygon_needs_three_corners():
    with pytest.raises(ValueError, match="three corners"):
        Geofence(FRUCHTHALLE, 20.0, (at(10.0), at(10.0, 0.0)))


def test_polygon_fence_inside_outside_and_near_an_edge():
    fence = Geofence(FRUCHTHALLE, 10.0, square(50.0))
    assert fence.contains(FRUCHTHALLE)
    assert fence.contains(at(45.0))  # beyond the 10 m radius, inside the polygon
    assert fence.contains(at(60.0, 45.0))  # towards a corner
    assert not fence.contains(at(200.0))
    near = at(60.0)  # 10 m east of the east edge
    assert fence.distance_outside_m(near) == pytest.approx(10.0, abs=0.1)
    assert fence.contains(near, accuracy_m=15.0)
    assert not fence.contains(near, accuracy_m=5.0)
    assert not fence.contains(near)
    beyond_corner = at(50.0 * math.sqrt(2) + 10.0, 45.0)
    assert fence.distance_outside_m(beyond_corner) == pytest.approx(10.0, abs=0.1)


def test_reach_covers_the_fence():
    assert Geofence(FRUCHTHALLE, 20.0).reach_m() == 20.0
    reach = Geofence(FRUCHTHALLE, 10.0, square(50.0)).reach_m()
    assert reach == pytest.approx(50.0 * math.sqrt(2), abs=1e-6)


distances = st.floats(0, 300)
radii = st.floats(5, 500)
accuracies = st.one_of(st.none(), st.floats(-10, 100))


@given(st.floats(0, 360), distances, radii, radii, accuracies)
def test_inside_is_monotonic_in_radius(bearing, d, r1, r2, accuracy):
    r1, r2 = sorted((r1, r2))
    p = at(d, bearing)
    if Geofence(FRUCHTHALLE, r1).contains(p, accuracy):
        assert Geofence(FRUCHTHALLE, r2).contains(p, accuracy)


@given(st.floats(0, 360), distances, radii, st.floats(-10, 100), st.floats(-10, 100))
def test_inside_is_monotonic_in_accuracy(bearing, d, r, a1, a2):
    a1, a2 = sorted((a1, a2))
    fence = Geofence(FRUCHTHALLE, r)
    p = at(d, bearing)
    if fence.contains(p, a1):
        assert fence.contains(p, a2)
    # No accuracy is never better than some accuracy.
    if fence.contains(p, None):
        assert fence.contains(p, a1)


@given(st.floats(0, 360), distances, st.floats(10, 100), accuracies)
def test_polygon_inside_is_monotonic_in_accuracy(bearing, d, half_side, accuracy):
    fence = Geofence(FRUCHTHALLE, 10.0, square(half_side))
    p = at(d, bearing)
    if fence.contains(p, accuracy):
        assert fence.contains(p, (accuracy or 0.0) + 5.0)
