"""markers.index: both backends give the brute-force answer.

The grid measures every answer with markers.geo.distance_m, so its metres are the brute force's to
the bit; the STRtree's metres come from projected metres (geodesics only where they decide) and
agree to within its bound (markers.index): the same markers in the same order, metres s within
s * (2e-8 + 2.1e-15 * s^2) + 1 µm.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.geo import CoordinateError, LatLon, destination, distance_m
from markers.index import MarkerIndex
from tests.conftest import ASSETS, ROOT

VENUES = {
    v["name"]: LatLon(v["lat"], v["lon"])
    for v in json.loads((ASSETS / "kaiserslautern_venues.json").read_text(encoding="utf-8"))
}
FRUCHTHALLE = LatLon(49.4447, 7.7690)
BACKENDS = ("strtree", "grid")


def brute_force(markers, p):
    order = {marker_id: n for n, marker_id in enumerate(markers)}
    found = [(marker_id, distance_m(p, q)) for marker_id, q in markers.items()]
    return sorted(found, key=lambda f: (f[1], order[f[0]]))


def agree(answer, expected):
    """The same markers in the same order, each at the brute force's distance (see above)."""
    assert [i for i, _ in answer] == [i for i, _ in expected]
    for (_, got), (_, want) in zip(answer, expected, strict=True):
        assert abs(got - want) <= want * (2e-8 + 2.1e-15 * want * want) + 1e-6, (got, want)
    return True


def both(markers, **kwargs):
    return [MarkerIndex(markers, backend=b, **kwargs) for b in BACKENDS]


def test_the_server_gets_the_strtree():
    index = MarkerIndex(VENUES)
    assert index.backend == "strtree"
    assert len(index) == len(VENUES)


@pytest.mark.parametrize("d", [0.0, 50.0, 150.0, 400.0, 1000.0, 5000.0, 15000.0])
@pytest.mark.parametrize("name", list(VENUES)[:6])
def test_within_real_venues(name, d):
    p = VENUES[name]
    expected = [f for f in brute_force(VENUES, p) if f[1] <= d]
    assert expected[0] == (name, 0.0)
    for index in both(VENUES):
        assert agree(index.within(p, d), expected)


@pytest.mark.parametrize("k", [0, 1, 3, 10, len(VENUES), len(VENUES) + 5])
def test_nearest_real_venues(k):
    p = destination(FRUCHTHALLE, 30.0, 120.0)
    expected = brute_force(VENUES, p)[:k]
    for index in both(VENUES):
        assert agree(index.nearest(p, k), expected)


def test_far_away_query():
    far = LatLon(-33.87, 151.21)  # Sydney
    expected = brute_force(VENUES, far)[:2]
    for index in both(VENUES):
        assert index.within(far, 1000.0) == []
        assert agree(index.nearest(far, 2), expected)


def test_ties_keep_insertion_order_and_ids_may_be_anything():
    markers = {"b": FRUCHTHALLE, 7: FRUCHTHALLE, ("a", 1): destination(FRUCHTHALLE, 0, 10)}
    for index in both(markers):
        assert index.within(FRUCHTHALLE, 5.0) == [("b", 0.0), (7, 0.0)]
        assert [i for i, _ in index.nearest(FRUCHTHALLE, 3)] == ["b", 7, ("a", 1)]


def test_empty_index():
    for backend in (None, *BACKENDS):
        index = MarkerIndex({}, backend=backend)
        assert len(index) == 0
        assert index.within(FRUCHTHALLE, 1000.0) == []
        assert index.nearest(FRUCHTHALLE, 3) == []


def test_bad_input_is_named():
    with pytest.raises(CoordinateError, match=r"marker 'x'.*lat"):
        MarkerIndex({"x": (95.0, 7.0)})
    index = MarkerIndex(VENUES)
    with pytest.raises(ValueError, match="distance"):
        index.within(FRUCHTHALLE, -1.0)
    with pytest.raises(ValueError, match="distance"):
        index.within(FRUCHTHALLE, float("nan"))
    with pytest.raises(ValueError, match="k must"):
        index.nearest(FRUCHTHALLE, -1)
    with pytest.raises(CoordinateError):
        index.within((91.0, 0.0), 10.0)
    with pytest.raises(ValueError, match="cell_m"):
        MarkerIndex(VENUES, "grid", cell_m=-5.0)
    with pytest.raises(ValueError, match="backend"):
        MarkerIndex(VENUES, backend="rtree")  # type: ignore[arg-type]


def test_markers_around_the_world_fall_back_to_the_grid():
    world = {
        "kaiserslautern": FRUCHTHALLE,
        "sydney": LatLon(-33.87, 151.21),
        "quito": LatLon(-0.18, -78.47),
        "fiji": LatLon(-17.7, 179.9),
        "samoa": LatLon(-13.8, -171.8),
        "svalbard": LatLon(78.2, 15.6),
        "pole": LatLon(90.0, 0.0),
    }
    assert MarkerIndex(world).backend == "grid"
    with pytest.raises(ValueError, match="too wide"):
        MarkerIndex(world, backend="strtree")
    index = MarkerIndex(world)
    for p in [*world.values(), LatLon(-16.0, -178.0), LatLon(-89.0, 45.0)]:
        assert agree(index.nearest(p, 7), brute_force(world, p))
        for d in (10.0, 1_000_000.0, 3_000_000.0, 20_000_000.0):
            assert agree(index.within(p, d), [f for f in brute_force(world, p) if f[1] <= d])


def test_the_phone_gets_the_grid_without_shapely_and_pyproj():
    code = (
        "import sys; sys.modules['shapely'] = sys.modules['pyproj'] = None\n"
        "from markers.index import MarkerIndex\n"
        "import markers.geo, markers.geofence, markers.tokens\n"
        "index = MarkerIndex({1: (49.4447, 7.769), 2: (49.4359, 7.7688)})\n"
        "print(index.backend, [i for i, _ in index.nearest((49.436, 7.769), 2)])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["grid", "[2,", "1]"]


cities = st.sampled_from(
    [
        FRUCHTHALLE,
        LatLon(60.39, 5.32),
        LatLon(-33.87, 151.21),
        LatLon(0.0, 179.99),
        LatLon(83.0, 20.0),
    ]
)
offsets = st.tuples(st.floats(0, 360), st.floats(0, 3000) | st.just(0.0))


@settings(max_examples=60, deadline=None)
@given(
    cities,
    st.lists(offsets, max_size=60),
    offsets,
    st.floats(0, 4000),
    st.integers(0, 70),
    st.none() | st.floats(1, 2000),
)
def test_backends_agree_with_brute_force(centre, spots, query, d, k, cell_m):
    markers = {n: destination(centre, b, r) for n, (b, r) in enumerate(spots)}
    p = destination(centre, *query)
    expected = brute_force(markers, p)
    indexes = [MarkerIndex(markers, cell_m=cell_m), MarkerIndex(markers, "grid", cell_m)]
    if markers and centre.lon < 179:  # the centroid of points around the antimeridian is not
        assert indexes[0].backend == "strtree"
    for index in indexes:
        assert agree(index.within(p, d), [f for f in expected if f[1] <= d])
        assert agree(index.nearest(p, k), expected[:k])
        if expected:  # exactly at a marker's distance
            edge = expected[min(k, len(expected) - 1)][1]
            assert agree(index.within(p, edge), [f for f in expected if f[1] <= edge])


@pytest.mark.parametrize("lat", [0.0, 49.4, -60.0, 84.0])
@pytest.mark.parametrize("bearing", [0.0, 45.0, 90.0, 180.0, 270.0])
@pytest.mark.parametrize("lon", [7.77, 179.995])
def test_a_marker_exactly_at_the_distance_is_found_with_fine_cells(lat, lon, bearing):
    p = LatLon(lat, lon)
    markers = {"there": destination(p, bearing, 1000.0), "far": destination(p, 0.0, 9000.0)}
    d = distance_m(p, markers["there"])
    fine = MarkerIndex(markers, "grid", cell_m=0.5)
    for index in [fine, MarkerIndex(markers), MarkerIndex(markers, "grid")]:
        assert agree(index.within(p, d), [("there", d)])
        assert agree(index.nearest(p, 1), [("there", d)])


def test_nearest_looks_past_the_first_candidates():
    # The grid's first search (a few cells) holds marker 0, yet marker 1 in the next cell is nearer.
    markers = {0: FRUCHTHALLE, 1: destination(FRUCHTHALLE, 0.0, 43.0)}
    p = destination(FRUCHTHALLE, 0.0, 22.0)
    for index in [MarkerIndex(markers, "grid", cell_m=50.0), *both(markers)]:
        assert [i for i, _ in index.nearest(p, 1)] == [1]


places = st.sampled_from(
    [
        FRUCHTHALLE,
        LatLon(60.39, 5.32),  # Bergen: UTM 32 widened for Norway
        LatLon(-54.8, -68.3),
        LatLon(83.5, 20.0),  # the last UTM latitudes
        LatLon(86.0, 40.0),  # polar stereographic
        LatLon(-12.0, 179.996),  # 430 m from the antimeridian: queries reach across it
    ]
)


@settings(max_examples=80, deadline=None)
@given(
    places,
    st.lists(offsets, min_size=1, max_size=200),
    st.integers(0, 4),
    offsets,
    st.integers(1, 40),
    st.sampled_from([0.0, -1.0, 1.0, 1e-9, -1e-9]),
    st.floats(0, 5000),
)
def test_strtree_agrees_with_brute_force_near_the_radius(place, spots, copies, query, k, nudge, d):
    """Dense and repeated markers, radii exactly at (or a hair off) a marker's distance."""
    points = [destination(place, b, r / 10) for b, r in spots]
    points += points[:copies]  # markers sharing a position: ties in insertion order
    markers = {n: q for n, q in enumerate(points)}
    index = MarkerIndex(markers)
    assert index.backend == "strtree"
    p = destination(place, query[0], query[1] / 10)
    expected = brute_force(markers, p)
    assert agree(index.nearest(p, k), expected[:k])
    assert agree(index.within(p, d), [f for f in expected if f[1] <= d])
    edge = expected[min(k, len(expected)) - 1][1]
    for radius in (edge, math.nextafter(edge, math.inf), math.nextafter(edge, 0.0)):
        radius = max(radius + nudge * 1e-6, 0.0) if nudge else radius
        assert agree(index.within(p, radius), [f for f in expected if f[1] <= radius])


def test_the_strtree_measures_only_what_decides(monkeypatch):
    """Near the markers a query measures a handful of geodesics, not every candidate."""
    import markers.index as module

    calls = []
    monkeypatch.setattr(module, "distance_m", lambda a, b: calls.append(1) or distance_m(a, b))
    markers = {n: destination(FRUCHTHALLE, n * 0.37 % 360, (n * 7.3) % 2000) for n in range(2000)}
    index = MarkerIndex(markers)
    for n in range(20):
        p = destination(FRUCHTHALLE, n * 18.0, n * 60.0)
        assert len(index.within(p, 500.0)) > 10
        assert len(index.nearest(p, 10)) == 10
    assert len(calls) <= 20
