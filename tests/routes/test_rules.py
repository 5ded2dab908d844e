"""The game's rules, played on real Kaiserslautern venues."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.geo import LatLon, destination, distance_m
from routes.model import OrderMode
from routes.rules import (
    AssistEvent,
    Fix,
    FlagKind,
    GpsEvent,
    Method,
    QrEvent,
    Rejection,
    RulesConfig,
    TeamState,
    apply,
    rank_key,
    search_area,
    view,
)
from tests.routes.helpers import make_rally, venue

T0 = datetime(2026, 9, 12, 18, 0, tzinfo=UTC)
STOPS = ["Fruchthalle", "Stiftskirche", "Unionskirche", "Kaiserbrunnen", "Japanischer Garten"]


def fixed(**kw):
    return make_rally(STOPS, solution_word="KUNST", **kw)


def free():
    return make_rally(STOPS, solution_word="KUNST", order_mode=OrderMode.FREE)


def fix_at(where: str | LatLon, minutes: float, accuracy: float = 8.0, **kw) -> GpsEvent:
    pos = venue(where) if isinstance(where, str) else where
    return GpsEvent(Fix(pos, accuracy, T0 + timedelta(minutes=minutes), **kw))


def walk(rally):
    """Visit every stop in list order, ten minutes apart; return the outcomes."""
    state = TeamState()
    outcomes = []
    for i, stop in enumerate(rally.stops):
        out = apply(rally, state, fix_at(stop.marker.position, 10 * (i + 1)))
        outcomes.append(out)
        state = out.state
    return outcomes


def test_fixed_order_walk_finds_each_stop_and_reveals_the_next_clue():
    rally = fixed()
    outcomes = walk(rally)
    for i, out in enumerate(outcomes):
        assert out.rejection is None
        assert [f.marker_id for f in out.found] == [rally.stops[i].marker.id]
        found = out.found[0]
        assert found.story == rally.stops[i].marker.story
        assert found.letter == "KUNST"[i]
        assert found.method is Method.GPS
        if i + 1 < len(rally.stops):
            assert [o.index for o in out.view.open] == [i + 1]
            assert out.view.open[0].clue == rally.stops[i + 1].effective_clue
    last = outcomes[-1].view
    assert last.complete and last.open == ()
    assert last.letters == tuple("KUNST")
    assert last.score == 5 * 100 + 200
    assert last.finished_at == T0 + timedelta(minutes=50)


def test_fixed_order_a_later_stop_finds_nothing_and_reveals_nothing():
    rally = fixed()
    state = TeamState()
    out = apply(rally, state, fix_at("Unionskirche", 5))
    assert out.found == () and out.rejection is Rejection.OUTSIDE
    qr = apply(rally, state, QrEvent(rally.id, rally.stops[2].marker.id, T0))
    assert qr.found == () and qr.rejection is Rejection.NOT_OPEN
    assert qr.state.found == ()
    assert qr.view.letters == (None,) * 5


def test_free_order_any_stop_in_any_order():
    rally = free()
    state = TeamState()
    assert len(view(rally, state).open) == 5
    order = [4, 0, 3, 1, 2]
    for n, i in enumerate(order):
        out = apply(rally, state, fix_at(rally.stops[i].marker.position, 10 * (n + 1)))
        assert [f.index for f in out.found] == [i]
        state = out.state
    final = view(rally, state)
    assert final.complete
    assert final.letters == tuple("KUNST")


def test_qr_walk_in_fixed_order_and_a_repeat_counts_once():
    rally = fixed()
    state = TeamState()
    for i, stop in enumerate(rally.stops):
        out = apply(rally, state, QrEvent(rally.id, stop.marker.id, T0 + timedelta(minutes=i)))
        assert out.found[0].method is Method.QR
        state = out.state
        again = apply(rally, state, QrEvent(rally.id, stop.marker.id, T0 + timedelta(minutes=i)))
        assert again.rejection is Rejection.ALREADY_FOUND
        assert again.state == state
    assert view(rally, state).complete


def test_qr_of_another_rally_or_marker_finds_nothing():
    rally = fixed()
    foreign = apply(rally, TeamState(), QrEvent(rally.id + 1, rally.stops[0].marker.id, T0))
    unknown = apply(rally, TeamState(), QrEvent(rally.id, 999, T0))
    for out in (foreign, unknown):
        assert out.rejection is Rejection.NOT_IN_RALLY and out.found == ()


@pytest.mark.parametrize(
    ("offset", "accuracy", "found"),
    [
        (24.9, 0.0, True),  # inside the 25 m circle
        (26.0, 0.0, False),  # just outside, perfect fix
        (40.0, 15.0, True),  # outside by 15 m, accuracy 15 m
        (40.0, 14.0, False),
        (49.0, 300.0, True),  # accuracy believed only up to 25 m
        (51.0, 300.0, False),
    ],
)
def test_gps_find_takes_accuracy_into_account_up_to_the_cap(offset, accuracy, found):
    rally = fixed()
    marker = rally.stops[0].marker
    pos = destination(marker.position, 123.0, offset)
    out = apply(rally, TeamState(), fix_at(pos, 1, accuracy=accuracy))
    assert bool(out.found) is found


def test_teleport_is_flagged_finds_nothing_and_play_goes_on():
    rally = fixed()
    start = apply(rally, TeamState(), fix_at("Hauptbahnhof", 0)).state
    jump = apply(rally, start, fix_at("Fruchthalle", 0.1))  # ~1.1 km in 6 s
    assert jump.rejection is Rejection.TELEPORT
    assert jump.flags[0].kind is FlagKind.TELEPORT and jump.flags[0].detail["speed_mps"] > 25
    assert jump.found == ()
    assert jump.state.last_fix == start.last_fix
    later = apply(rally, jump.state, fix_at("Fruchthalle", 15))
    assert later.rejection is None and later.found[0].index == 0


def test_mock_location_is_flagged_and_finds_nothing():
    rally = fixed()
    out = apply(rally, TeamState(), fix_at("Fruchthalle", 1, mock=True))
    assert out.rejection is Rejection.MOCK_LOCATION
    assert [f.kind for f in out.flags] == [FlagKind.MOCK_LOCATION]
    assert out.found == () and out.state.last_fix is None


def test_qr_scanned_far_from_its_marker_counts_but_is_flagged():
    rally = fixed()
    far = Fix(venue("Gartenschau"), 10.0, T0)
    out = apply(rally, TeamState(), QrEvent(rally.id, rally.stops[0].marker.id, T0, far))
    assert out.found and [f.kind for f in out.flags] == [FlagKind.QR_FAR_FROM_MARKER]


def test_assist_marks_a_stop_found_with_its_reason():
    rally = fixed()
    out = apply(rally, TeamState(), AssistEvent(rally.stops[0].marker.id, T0, "gate closed"))
    assert out.found[0].method is Method.ASSIST
    assert out.flags[0].kind is FlagKind.ASSISTED and out.flags[0].detail["reason"] == "gate closed"
    assert out.view.score == 25


def test_nothing_is_revealed_before_a_find():
    rally = fixed()
    far_away = apply(rally, TeamState(), fix_at("Hauptbahnhof", 0))
    v = far_away.view
    assert v.found == () and v.letters == (None,) * 5
    (open_stop,) = v.open
    assert open_stop.nearby is None
    marker = rally.stops[0].marker
    area = open_stop.search_area
    assert area.center != marker.position
    assert distance_m(area.center, marker.position) < area.radius_m
    for value in (repr(open_stop), repr(v)):
        assert marker.story["en"] not in value and marker.story["de"] not in value


def test_the_exact_marker_is_given_only_near_it():
    rally = fixed()
    marker = rally.stops[0].marker
    near = destination(marker.position, 200.0, 140.0)
    out = apply(rally, TeamState(), fix_at(near, 1, accuracy=5.0))
    nearby = out.view.open[0].nearby
    assert nearby is not None and nearby.position == marker.position
    assert abs(nearby.distance_m - 140.0) < 0.01 and abs(nearby.bearing_deg - 20.0) < 0.1
    farther = destination(marker.position, 200.0, 190.0)
    assert apply(rally, TeamState(), fix_at(farther, 1, accuracy=5.0)).view.open[0].nearby is None


def test_search_area_is_deterministic_and_keyed():
    rally = fixed()
    a = search_area(rally, 0, RulesConfig(area_secret=b"one"))
    assert a == search_area(rally, 0, RulesConfig(area_secret=b"one"))
    assert a != search_area(rally, 0, RulesConfig(area_secret=b"two"))


def test_a_late_fix_does_not_replace_a_newer_one():
    rally = fixed()
    state = apply(rally, TeamState(), fix_at("Hauptbahnhof", 10)).state
    late = apply(rally, state, fix_at(destination(venue("Hauptbahnhof"), 0, 50), 9))
    assert late.state.last_fix == state.last_fix


def test_times_must_carry_a_zone():
    with pytest.raises(ValueError, match="time zone"):
        Fix(venue("Fruchthalle"), 5.0, datetime(2026, 9, 12, 18, 0))


def test_leaderboard_order():
    teams = {
        "slow but complete": rank_key(True, 700, 5400.0),
        "fast and complete": rank_key(True, 700, 4000.0),
        "assisted complete": rank_key(True, 625, 3000.0),
        "incomplete high": rank_key(False, 400, None),
    }
    assert sorted(teams, key=teams.get) == [
        "fast and complete",
        "slow but complete",
        "assisted complete",
        "incomplete high",
    ]


@settings(max_examples=60, deadline=None)
@given(
    order=st.permutations(range(5)),
    methods=st.lists(st.sampled_from(["gps", "qr"]), min_size=5, max_size=5),
)
def test_free_order_any_path_completes_with_the_same_score_and_is_deterministic(order, methods):
    rally = free()
    state = TeamState()
    for n, (i, method) in enumerate(zip(order, methods, strict=True)):
        marker = rally.stops[i].marker
        at = T0 + timedelta(minutes=10 * (n + 1))
        event = (
            GpsEvent(Fix(marker.position, 5.0, at))
            if method == "gps"
            else QrEvent(rally.id, marker.id, at)
        )
        first = apply(rally, state, event)
        assert first == apply(rally, state, event)
        assert len(first.found) == 1
        state = first.state
    final = view(rally, state)
    assert final.complete and final.score == 700
