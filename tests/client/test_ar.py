"""AR math: worked examples with the arithmetic in the docstrings, and properties."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client import ar
from client.ar import Band, Edge, View
from markers.geo import LatLon, destination, distance_m
from tests.conftest import ROOT

PHONE = View(1080, 1920, h_fov_deg=60)
"""A portrait phone: 1080 x 1920 px, 60 degrees across."""

FRUCHTHALLE = LatLon(49.44398, 7.76938)


def apart(a: float, b: float) -> float:
    """Degrees between two directions, the short way round."""
    return abs((a - b + 180) % 360 - 180)


def test_ar_imports_no_kivy():
    code = "import sys, client.ar; print('kivy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


@pytest.mark.parametrize(
    ("target", "heading", "expected"),
    [
        (10, 350, 20),  # across north: 10 - 350 = -340 -> -340 + 360 = +20
        (350, 10, -20),  # 350 - 10 = 340 -> 340 - 360 = -20
        (90, 0, 90),
        (180, 0, 180),  # straight behind is +180, not -180
        (0, 180, 180),
        (270, 0, -90),
        (45.5, 45.5, 0),
    ],
)
def test_relative_bearing_worked_examples(target, heading, expected):
    assert ar.relative_bearing(target, heading) == pytest.approx(expected)


@given(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4))
def test_relative_bearing_lies_in_half_open_range(target, heading):
    rel = ar.relative_bearing(target, heading)
    assert -180 < rel <= 180
    assert apart(heading + rel, target) < 1e-6


def test_project_across_north():
    """Heading 350, target bearing 10, fov 60, width 1080: relative +20,
    x = 540 + 20/60 * 1080 = 540 + 360 = 900; on the horizon with the phone level,
    y = 1920 / 2 = 960."""
    p = ar.project(ar.relative_bearing(10, 350), 50, PHONE)
    assert p.x == pytest.approx(900)
    assert p.y == pytest.approx(960)
    assert p.visible and p.edge is None and not p.behind


def test_project_to_the_left():
    """Heading 100, target bearing 85: relative -15, x = 540 - 15/60 * 1080 = 540 - 270 = 270."""
    p = ar.project(ar.relative_bearing(85, 100), 50, PHONE)
    assert p.x == pytest.approx(270)
    assert p.visible


def test_project_with_pitch():
    """Vertical fov for 1080 x 1920 at 60 across: 2 atan(tan 30 * 1920/1080)
    = 2 atan(0.57735 * 1.77778) = 2 atan(1.02640) = 91.49 degrees.
    Camera pitched up 10: a marker on the horizon is 10 below the axis,
    y = 960 + (0 - 10) / 91.49 * 1920 = 960 - 209.9 = 750.1 (Kivy's y grows upwards)."""
    assert PHONE.vertical_fov == pytest.approx(91.49, abs=0.01)
    p = ar.project(0, 50, PHONE, pitch_deg=10)
    assert p.y == pytest.approx(960 - 10 / PHONE.vertical_fov * 1920)
    assert p.y == pytest.approx(750.1, abs=0.1)
    assert p.visible


def test_project_behind_goes_to_an_edge():
    """Heading 0, target bearing 200: relative -160, outside +-30: an arrow on the left edge,
    x clamped to half the marker's size."""
    p = ar.project(ar.relative_bearing(200, 0), 80, PHONE)
    assert not p.visible
    assert p.edge is Edge.LEFT
    assert p.behind
    assert p.x == pytest.approx(p.size / 2)
    right = ar.project(ar.relative_bearing(40, 0), 80, PHONE)
    assert right.edge is Edge.RIGHT and not right.behind
    assert right.x == pytest.approx(1080 - right.size / 2)


def test_project_just_inside_and_outside_the_field():
    assert ar.project(30, 20, PHONE).visible
    assert ar.project(30.01, 20, PHONE).edge is Edge.RIGHT


def test_project_phone_pointed_at_the_ground():
    """Pitch -60: the horizon is 60 above the axis, beyond half the vertical fov (45.7):
    in view sideways but off the top edge."""
    p = ar.project(0, 50, PHONE, pitch_deg=-60)
    assert not p.visible and p.edge is Edge.TOP
    assert p.y == pytest.approx(1920 - p.size / 2)


def test_marker_size_by_distance():
    """A 2 m marker at 10 m spans 2 atan(1 / 10) = 11.42 degrees: 11.42 / 60 * 1080 = 205.6 px.
    At 100 m: 1.146 degrees -> 20.6 px, below the minimum 6 % of 1080 = 64.8 px."""
    assert ar.marker_size(10, PHONE) == pytest.approx(205.6, abs=0.1)
    assert ar.marker_size(100, PHONE) == pytest.approx(64.8)
    assert ar.marker_size(0.5, PHONE) == pytest.approx(1080 * 0.6)
    sizes = [ar.marker_size(d, PHONE) for d in (2, 5, 10, 20, 40)]
    assert sizes == sorted(sizes, reverse=True)


def test_project_target_from_positions():
    """A marker 30 m due east of the player looking north-east (45): relative +45: off to the
    right; turning to 80 brings it to 540 + 10/60 * 1080 = 720."""
    marker = destination(FRUCHTHALLE, 90, 30)
    assert ar.project_target(FRUCHTHALLE, marker, 45, PHONE).edge is Edge.RIGHT
    p = ar.project_target(FRUCHTHALLE, marker, 80, PHONE)
    assert p.visible
    assert p.x == pytest.approx(720, abs=0.5)
    assert p.distance_m == pytest.approx(30, abs=0.01)


def test_view_rejects_nonsense():
    with pytest.raises(ValueError, match="h_fov_deg"):
        View(1080, 1920, h_fov_deg=0)
    with pytest.raises(ValueError, match="positive"):
        View(0, 1920)


@pytest.mark.parametrize(
    ("distance", "radius", "band"),
    [
        (20, 25, Band.HERE),  # inside the fence
        (25, 25, Band.HERE),
        (60, 25, Band.WARMER),  # 35 m beyond the fence (<= 50)
        (75, 25, Band.WARMER),  # exactly 50 beyond
        (200, 25, Band.WARM),  # 175 beyond (<= 250)
        (276, 25, Band.COLD),  # 251 beyond
    ],
)
def test_distance_bands(distance, radius, band):
    assert ar.distance_band(distance, radius) is band


def test_circular_mean_across_north():
    """350 and 10 average to 0 (the arithmetic mean, 180, would point backwards);
    350, 10 and 20 give atan2(sum sin, sum cos) = atan2(-0.1736 + 0.1736 + 0.3420,
    0.9848 + 0.9848 + 0.9397) = atan2(0.3420, 2.9093) = 6.70 degrees."""
    assert apart(ar.circular_mean([350, 10]), 0) < 1e-9
    assert ar.circular_mean([350, 10, 20]) == pytest.approx(6.70, abs=0.01)
    assert ar.circular_mean([90, 180], weights=[3, 1]) == pytest.approx(
        math.degrees(math.atan2(3, -1))
    )
    with pytest.raises(ValueError, match="cancel"):
        ar.circular_mean([0, 180])


def test_heading_smoother_wraps_through_north():
    """From 359 a reading of 1 moves the estimate by alpha = 0.5 along the short way:
    the mean of the unit vectors of 359 and 1 points to 0, not to 180."""
    s = ar.HeadingSmoother(alpha=0.5)
    assert s.update(359) == pytest.approx(359)
    assert apart(s.update(1), 0) < 1e-9
    for _ in range(20):
        s.update(1)
    assert s.value == pytest.approx(1, abs=0.01)


def test_heading_smoother_damps_jitter():
    """Readings jumping 10 around a true heading of 5 (so across north): the output swings
    much less than the input and stays near 5."""
    s = ar.HeadingSmoother(alpha=0.2)
    outputs = [s.update(5 + (10 if i % 2 else -10)) for i in range(60)]
    assert max(apart(o, 5) for o in outputs[20:]) < 3


def test_heading_smoother_with_time_constant():
    """With timestamps: k = 1 - exp(-dt / tau). tau 0.4 s, dt 0.4 s: k = 1 - e^-1 = 0.632;
    from 0 to a reading of 90 the unit vector moves to (0.632, 0.368):
    atan2(0.632, 0.368) = 59.8 degrees."""
    s = ar.HeadingSmoother(time_constant_s=0.4)
    s.update(0, at_s=10.0)
    assert s.update(90, at_s=10.4) == pytest.approx(59.8, abs=0.1)


def test_position_smoother_weights_by_accuracy():
    """Estimate at A with 5 m accuracy; one second later a fix 50 m east with 20 m accuracy.
    Variance grows by (1.5 m/s * 1 s)^2: 25 + 2.25 = 27.25; gain = 27.25 / (27.25 + 400)
    = 0.0638: the estimate moves 3.19 m towards the bad fix; a 3 m fix instead gives
    27.25 / 36.25 = 0.752: 37.6 m."""
    t0 = datetime(2026, 9, 12, 18, 0, tzinfo=UTC)
    east = destination(FRUCHTHALLE, 90, 50)
    for accuracy, moved in ((20, 3.19), (3, 37.6)):
        s = ar.PositionSmoother()
        s.update(FRUCHTHALLE, 5, t0)
        est = s.update(east, accuracy, t0 + timedelta(seconds=1))
        assert distance_m(FRUCHTHALLE, est.position) == pytest.approx(moved, abs=0.05)
        assert est.accuracy_m < min(accuracy, math.sqrt(27.25))


def test_position_smoother_restarts_after_a_jump():
    s = ar.PositionSmoother(reset_m=300)
    s.update(FRUCHTHALLE, 5)
    far = destination(FRUCHTHALLE, 0, 1000)
    est = s.update(far, 10)
    assert est.position == far and est.accuracy_m == 10


@given(
    st.lists(
        st.tuples(st.floats(-100, 100), st.floats(-100, 100), st.floats(1, 60)),
        min_size=1,
        max_size=30,
    )
)
def test_position_smoother_stays_within_the_fixes(offsets):
    """The estimate is a weighted average: it never leaves the box around the fixes."""
    s = ar.PositionSmoother(reset_m=10_000)
    t0 = datetime(2026, 9, 12, 18, 0, tzinfo=UTC)
    points = []
    for i, (dx, dy, acc) in enumerate(offsets):
        p = LatLon(FRUCHTHALLE.lat + dy * 1e-5, FRUCHTHALLE.lon + dx * 1e-5)
        points.append(p)
        est = s.update(p, acc, t0 + timedelta(seconds=i))
    lats, lons = [p.lat for p in points], [p.lon for p in points]
    assert min(lats) - 1e-9 <= est.position.lat <= max(lats) + 1e-9
    assert min(lons) - 1e-9 <= est.position.lon <= max(lons) + 1e-9
