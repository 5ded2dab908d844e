"""routes.order: suggested walking orders are permutations, never longer, near the optimum."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.geo import CoordinateError, LatLon, destination, distance_m
from routes.geometry import length_m
from routes.model import text
from routes.order import OrderSuggestion, apply_order, suggest_order
from tests.routes.helpers import make_rally, venue, venues

SHUFFLED = [
    "Kaiserbrunnen",
    "Fruchthalle",
    "Marienkirche",
    "Rathaus",
    "Stiftskirche",
    "Japanischer Garten",
    "St. Martinskirche",
    "Apostelkirche",
    "Unionskirche",
    "Pfalztheater",
]
"""Ten old-town venues in a poor walking order."""

kl_point = st.builds(LatLon, st.floats(49.43, 49.45), st.floats(7.74, 7.79))


def walk(points, order, start=None, finish=None) -> float:
    return length_m(
        ([start] if start else []) + [points[i] for i in order] + ([finish] if finish else [])
    )


def brute_force(points, start=None, finish=None, fixed_first=True) -> float:
    """The shortest walk over every order, from a distance matrix."""
    n = len(points)
    nodes = [*points, start, finish]
    d = [[0.0 if p is None or q is None else distance_m(p, q) for q in nodes] for p in nodes]
    keep_first = start is None and fixed_first
    rest = range(1, n) if keep_first else range(n)
    head = [0] if keep_first else []
    return min(
        sum(d[a][b] for a, b in itertools.pairwise([n, *head, *p, n + 1]))
        for p in itertools.permutations(rest)
    )


def test_small_cases():
    fh, sk, hbf = venue("Fruchthalle"), venue("Stiftskirche"), venue("Hauptbahnhof")
    assert suggest_order([]) == OrderSuggestion([], 0.0, 0.0, 0.0)
    assert suggest_order([fh]).order == [0]
    assert suggest_order([fh], start=hbf).length_m == pytest.approx(1091.7, abs=0.5)
    assert suggest_order([fh, sk]).order == [0, 1]
    # From the station the church comes first: it lies on the way to the market hall.
    s = suggest_order([fh, sk], start=hbf)
    assert s.order == [1, 0]
    assert s.saving_m > 0
    assert s.changed
    assert suggest_order([fh, sk], fixed_first=False, finish=hbf).order == [0, 1]
    assert suggest_order([sk, fh], fixed_first=False, finish=hbf).order == [1, 0]


def test_two_opt_uncrosses_a_crossing_route():
    sw = venue("Fruchthalle")
    se = destination(sw, 90.0, 300.0)
    ne = destination(se, 0.0, 300.0)
    nw = destination(sw, 0.0, 300.0)
    crossing = [sw, ne, se, nw]  # SW -> NE -> SE -> NW: the two diagonals cross
    s = suggest_order(crossing)
    assert s.original_length_m == pytest.approx(300 + 2 * 300 * 2**0.5, abs=1.0)
    assert s.length_m == pytest.approx(900.0, abs=1.0)
    assert s.order in ([0, 2, 1, 3], [0, 3, 1, 2])
    assert s.saving_m == pytest.approx(s.original_length_m - s.length_m)


def test_an_optimal_order_is_kept():
    ordered = ["Stiftskirche", "Fruchthalle", "Unionskirche", "St. Martinskirche"]
    s = suggest_order(make_rally(ordered, start="Hauptbahnhof"))
    assert s.original_length_m == pytest.approx(
        brute_force([venue(n) for n in ordered], venue("Hauptbahnhof")), abs=1e-6
    )
    assert s.order == [0, 1, 2, 3]
    assert not s.changed
    assert s.saving_m == 0.0


def test_real_venues_from_the_station():
    rally = make_rally(
        SHUFFLED, start="Hauptbahnhof", finish="Fruchthalle", solution_word="KUNSTWERKE"
    )
    s = suggest_order(rally)
    assert sorted(s.order) == list(range(10))
    assert s.original_length_m == pytest.approx(length_m(rally), abs=1e-6)
    assert s.length_m < 0.6 * s.original_length_m
    better = apply_order(rally, s.order)
    assert length_m(better) == pytest.approx(s.length_m, abs=1e-6)
    assert suggest_order(better).order == list(range(10))


def test_the_finish_stays_last():
    points = [venue(n) for n in SHUFFLED[:6]]
    finish = venue("Altenwoogbrunnen")
    s = suggest_order(points, start=venue("Hauptbahnhof"), finish=finish)
    assert s.length_m == pytest.approx(walk(points, s.order, venue("Hauptbahnhof"), finish))
    assert s.length_m == pytest.approx(brute_force(points, venue("Hauptbahnhof"), finish), rel=0.10)


def test_same_input_same_answer():
    points = [venue(n) for n in SHUFFLED]
    assert suggest_order(points) == suggest_order(list(points))
    assert suggest_order(points, fixed_first=False) == suggest_order(points, fixed_first=False)


def test_bad_points_are_named():
    with pytest.raises(CoordinateError, match=r"stop 2: lat must lie between -90 and 90"):
        suggest_order([venue("Fruchthalle"), (95.0, 7.7)])
    with pytest.raises(CoordinateError, match=r"start: expected \(lat, lon\)"):
        suggest_order([venue("Fruchthalle")], start=(49.4,))


def test_apply_order_moves_stops_and_nothing_else():
    rally = make_rally(
        ["Fruchthalle", "Stiftskirche", "Rathaus"],
        start="Hauptbahnhof",
        finish="Pfalztheater",
        solution_word="ART",
        title=text(de="T", en="T"),
    )
    moved = apply_order(rally, [2, 0, 1])
    assert [s.marker.id for s in moved.stops] == [3, 1, 2]
    assert (moved.start, moved.finish, moved.solution_word) == (rally.start, rally.finish, "ART")
    assert [moved.letter(i) for i in range(3)] == ["A", "R", "T"]
    assert (moved.id, moved.slug, moved.title) == (rally.id, rally.slug, rally.title)


@pytest.mark.parametrize("order", [[0, 1], [0, 1, 1], [0, 1, 3], [2, 1, 0, 3]])
def test_apply_order_rejects_what_is_not_a_permutation(order):
    rally = make_rally(["Fruchthalle", "Stiftskirche", "Rathaus"])
    with pytest.raises(ValueError, match=r"each stop index 0\.\.2 exactly once"):
        apply_order(rally, order)


@settings(max_examples=60, deadline=None)
@given(st.lists(kl_point, max_size=12), st.none() | kl_point, st.none() | kl_point, st.booleans())
def test_never_longer_and_a_permutation(points, start, finish, fixed_first):
    s = suggest_order(points, start=start, finish=finish, fixed_first=fixed_first)
    assert sorted(s.order) == list(range(len(points)))
    assert s.length_m <= s.original_length_m
    assert s.saving_m == s.original_length_m - s.length_m >= 0
    assert s.original_length_m == pytest.approx(walk(points, range(len(points)), start, finish))
    assert s.length_m == pytest.approx(walk(points, s.order, start, finish))
    if points and start is None and fixed_first:
        assert s.order[0] == 0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(kl_point, min_size=2, max_size=7),
    st.none() | kl_point,
    st.none() | kl_point,
    st.booleans(),
)
def test_within_ten_percent_of_the_optimum(points, start, finish, fixed_first):
    s = suggest_order(points, start=start, finish=finish, fixed_first=fixed_first)
    best = brute_force(points, start, finish, fixed_first)
    assert best - 1e-6 <= s.length_m <= 1.10 * best + 1e-6
    movable = len(points) - (1 if start is None and fixed_first else 0)
    if movable <= 3:
        # With three movable stops or fewer, every order is one 2-opt or or-opt move away.
        assert s.length_m == pytest.approx(best, abs=1e-6)


def test_every_venue_in_file_order_gets_shorter():
    rally = make_rally(list(venues()))
    s = suggest_order(rally)
    assert s.order[0] == 0
    assert s.length_m < s.original_length_m
