"""The game's rules, played on real Kaiserslautern venues."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from markers.geo import LatLon, bearing_deg, destination, distance_m
from routes.model import OrderMode, text
from routes.rules import (
    AnswerEvent,
    AnswerResult,
    AssistEvent,
    Fix,
    FlagKind,
    GpsEvent,
    HintEvent,
    HintResult,
    Method,
    QrEvent,
    Rejection,
    RulesConfig,
    StopProgress,
    TaskView,
    TeamState,
    apply,
    finished_at,
    rank_key,
    route_s,
    search_area,
    view,
)
from routes.tasks import Hint, LetterOn, Task, TaskType
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


# Time that cannot be bent (docs/rules.md, "Time")

MAX_SPEED = RulesConfig().max_speed_mps


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_backdated_fix_is_checked_against_the_find_just_after_it():
    """Compared only with the newest fix it looked fine; the find after it in time says no."""
    rally = fixed()
    found = apply(rally, TeamState(started_at=T0), fix_at("Fruchthalle", 30)).state
    far_later = apply(rally, found, fix_at("Hauptbahnhof", 60)).state
    backdated = apply(rally, far_later, fix_at("Hauptbahnhof", 29.9))  # 1.1 km in 6 s
    assert backdated.rejection is Rejection.TELEPORT and backdated.found == ()
    assert backdated.flags[0].detail["from_marker_id"] == rally.stops[0].marker.id
    assert backdated.state.last_fix == far_later.last_fix


def test_two_qr_codes_800_m_apart_scanned_5_s_apart_are_a_teleport():
    rally = free()
    first, second = rally.stops[3].marker, rally.stops[4].marker  # Kaiserbrunnen, Garten
    assert 600 < distance_m(first.position, second.position) < 1000
    one = apply(rally, TeamState(started_at=T0), QrEvent(rally.id, first.id, at(10)))
    two = apply(rally, one.state, QrEvent(rally.id, second.id, at(10) + timedelta(seconds=5)))
    assert two.rejection is Rejection.TELEPORT and two.found == ()
    assert [f.kind for f in two.flags] == [FlagKind.TELEPORT]
    assert two.flags[0].marker_id == second.id
    walked = apply(rally, two.state, QrEvent(rally.id, second.id, at(20)))
    assert walked.found and walked.flags == ()


def test_a_devices_times_only_move_forward():
    rally = fixed()
    marker = rally.stops[0].marker
    state = TeamState(started_at=T0)
    back = apply(rally, state, fix_at(marker.position, 5), device_latest=at(9))
    assert [f.kind for f in back.flags] == [FlagKind.BACKDATED]
    assert back.at == at(9) and back.found[0].at == at(9)
    assert back.flags[0].detail["seconds"] == 240.0
    same = apply(rally, state, fix_at(marker.position, 9), device_latest=at(9))
    assert same.flags == () and same.at == at(9)


def test_an_event_a_little_before_the_start_keeps_its_time_but_the_finish_counts_from_it():
    """The server refuses times long before the start; one a little before (a phone's clock
    behind the server's) keeps its stamp, and the finish is never before the start's route."""
    rally = make_rally(STOPS[:1], start="Fruchthalle")
    out = apply(rally, TeamState(started_at=T0), fix_at(rally.stops[0].marker.position, -1))
    assert out.at == at(-1) and out.found[0].at == at(-1) and out.flags == ()
    assert out.view.finished_at == T0


def test_the_finish_is_never_sooner_than_the_route_at_max_speed():
    rally = make_rally(STOPS, start="Hauptbahnhof")
    state = TeamState(started_at=T0)
    for stop in rally.stops:
        state = apply(rally, state, AssistEvent(stop.marker.id, at(1))).state
    path = [venue("Hauptbahnhof")] + [s.marker.position for s in rally.stops]
    shortest = sum(distance_m(a, b) for a, b in itertools.pairwise(path)) / MAX_SPEED
    assert route_s(rally, state) == pytest.approx(shortest)
    assert finished_at(rally, state) == T0 + timedelta(seconds=route_s(rally, state))
    assert view(rally, state).finished_at == finished_at(rally, state)
    assert finished_at(rally, replace_start(state, None)) == at(1)


def replace_start(state: TeamState, started: datetime | None) -> TeamState:
    return TeamState(found=state.found, last_fix=state.last_fix, started_at=started)


def _slack(rally, find) -> float:
    """How far from its marker a team that made the find may have been (docs/rules.md)."""
    marker = next(s.marker for s in rally.stops if s.marker.id == find.marker_id)
    config = RulesConfig()
    near = config.accuracy_cap_m if find.method is Method.GPS else config.ar_radius_m
    return marker.geofence.reach_m() + near


_events = st.lists(
    st.tuples(
        st.sampled_from(["gps", "qr", "near"]),
        st.integers(0, len(STOPS) - 1),
        st.floats(0, 120),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(events=_events)
def test_no_sequence_of_events_finds_stops_faster_than_max_speed(events):
    """Whatever events arrive, in whatever order and with whatever stamps from up to three
    devices, consecutive GPS/QR finds are no faster than max speed (slack subtracted), and the
    finish is never sooner than the route at max speed."""
    rally = make_rally(STOPS, order_mode=OrderMode.FREE, start="Hauptbahnhof")
    state = TeamState(started_at=T0)
    latest: dict[int, datetime] = {}
    for kind, index, minutes, device in events:
        marker = rally.stops[index].marker
        when = at(minutes)
        if kind == "qr":
            event = QrEvent(rally.id, marker.id, when)
        else:
            offset = 0.0 if kind == "gps" else 400.0
            event = GpsEvent(Fix(destination(marker.position, 90, offset), 10.0, when))
        out = apply(rally, state, event, device_latest=latest.get(device))
        latest[device] = out.at
        state = out.state
    finds = sorted(state.found, key=lambda f: f.at)
    for a, b in itertools.pairwise(finds):
        moved = distance_m(
            rally.stops[rally.stop_index(a.marker_id)].marker.position,
            rally.stops[rally.stop_index(b.marker_id)].marker.position,
        )
        seconds = max((b.at - a.at).total_seconds(), 1.0)
        slack = _slack(rally, a) + _slack(rally, b)
        assert (moved - slack) / seconds <= MAX_SPEED + 1e-9
    done = finished_at(rally, state)
    if done is not None:
        assert (done - T0).total_seconds() >= route_s(rally, state) - 1e-6


@settings(max_examples=40, deadline=None)
@given(
    devices=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    noise=st.floats(0, 8),
    delays=st.lists(st.integers(0, 30), min_size=3, max_size=3),
)
def test_an_honest_walk_counts_in_full_however_its_phones_deliver(devices, seed, noise, delays):
    """A team walks the rally at 1.3 m/s with GPS noise within its accuracy; its phones take
    turns sending fixes, each phone's outbox delivers late by its own number of fixes but in
    order. Every stop is found, nothing is flagged, and the finish is the last find."""
    rally = fixed()
    rng = random.Random(seed)
    path = [venue("Hauptbahnhof")] + [s.marker.position for s in rally.stops]
    fixes = []
    when = at(5)
    for a, b in itertools.pairwise(path):
        legs = max(1, int(distance_m(a, b) // 26))
        for k in range(1, legs + 1):
            p = destination(a, bearing_deg(a, b), distance_m(a, b) * k / legs)
            when += timedelta(seconds=distance_m(a, b) / legs / 1.3)
            noisy = destination(p, rng.uniform(0, 360), rng.uniform(0, noise))
            fixes.append((len(fixes) % devices, GpsEvent(Fix(noisy, 10.0, when))))
    queues: dict[int, list[GpsEvent]] = {d: [] for d in range(devices)}
    arrivals = []
    for n, (device, event) in enumerate(fixes):
        queues[device].append(event)
        if n % (delays[device] + 1) == 0 or n == len(fixes) - 1:
            arrivals.extend((device, e) for e in queues[device])
            queues[device] = []
    for device in range(devices):
        arrivals.extend((device, e) for e in queues[device])
    state = TeamState(started_at=T0)
    latest: dict[int, datetime] = {}
    for device, event in arrivals:
        out = apply(rally, state, event, device_latest=latest.get(device))
        assert out.flags == (), out.flags
        latest[device] = out.at
        state = out.state
    assert len(state.found) == len(rally.stops)
    assert finished_at(rally, state) == max(f.at for f in state.found)


# --- tasks and hints ---------------------------------------------------------------------------

QUESTION = text(de="Wie viele Bögen?", en="How many arches?", ls="Wie viele Bögen?")
COLOURS = (text(de="Rot", en="Red"), text(de="Grün", en="Green"), text(de="Blau", en="Blue"))
HINTS = (Hint(text(de="Schau hoch.", en="Look up."), 10), Hint(text(de="Es sind drei."), 25))


def with_tasks(mode: OrderMode = OrderMode.FIXED, letter_on: LetterOn = LetterOn.FIND):
    """Five stops: a choice task and two hints at the first, a number task at the second
    (letter on answer), a text task at the third, hints but no task at the fourth."""
    base = make_rally(STOPS, solution_word="KUNST", order_mode=mode)
    stops = list(base.stops)
    stops[0] = replace(
        stops[0],
        task=Task(TaskType.CHOICE, QUESTION, COLOURS, 1, points=60, letter_on=letter_on),
        hints=HINTS,
    )
    stops[1] = replace(
        stops[1],
        task=Task(TaskType.NUMBER, QUESTION, (), 3.5, 0.25, points=40, letter_on=LetterOn.ANSWER),
    )
    stops[2] = replace(
        stops[2], task=Task(TaskType.TEXT, QUESTION, (), ("Kaiser", "Barbarossa"), attempts=1)
    )
    stops[3] = replace(stops[3], hints=HINTS[:1])
    return replace(base, stops=tuple(stops))


def found_first(rally) -> TeamState:
    return apply(rally, TeamState(started_at=T0), fix_at(rally.stops[0].marker.position, 5)).state


def answer(rally, state, index: int, given: object, minutes: float = 6, **kw):
    return apply(rally, state, AnswerEvent(rally.stops[index].marker.id, given, at(minutes)), **kw)


def hint(rally, state, index: int, minutes: float = 6, **kw):
    return apply(rally, state, HintEvent(rally.stops[index].marker.id, at(minutes)), **kw)


def test_a_right_answer_first_time_earns_all_points_and_closes_the_task():
    rally = with_tasks()
    state = found_first(rally)
    task = view(rally, state).found[0].task
    assert task == TaskView(TaskType.CHOICE, QUESTION, COLOURS, 3, False, False, 0, None, worth=60)
    out = answer(rally, state, 0, 1)
    assert out.rejection is None and out.found == () and out.flags == ()
    assert out.answer == AnswerResult(correct=True, points=60, attempts_left=0, closed=True)
    assert out.state.progress == {rally.stops[0].marker.id: StopProgress(0, True, 60, 0)}
    assert out.view.score == 100 + 60
    assert out.view.found[0].task == TaskView(
        TaskType.CHOICE, QUESTION, COLOURS, 0, True, True, 60, 1, worth=60
    )
    assert out.state.found == state.found and out.state.last_fix == state.last_fix


def test_wrong_answers_cost_points_and_the_last_attempt_closes_the_task():
    rally = with_tasks()
    state = found_first(rally)
    one = answer(rally, state, 0, 0)
    assert one.answer == AnswerResult(False, 0, 2, False)
    assert one.view.found[0].task.answer is None
    right = answer(rally, one.state, 0, 1, 7)
    assert right.answer == AnswerResult(True, 40, 0, True)  # 60 * 2 // 3
    two = answer(rally, one.state, 0, 2, 7)
    three = answer(rally, two.state, 0, 0, 8)
    assert three.answer == AnswerResult(False, 0, 0, True)
    assert three.view.found[0].task.answer == 1  # shown once closed
    assert three.view.score == 100
    late = answer(rally, three.state, 0, 1, 9)
    assert late.rejection is Rejection.TASK_CLOSED
    assert late.answer == AnswerResult(correct=False, points=0, attempts_left=0, closed=True)
    assert late.state == three.state
    again = answer(rally, right.state, 0, 1, 8)
    assert again.rejection is Rejection.TASK_CLOSED and again.answer.correct is False


@pytest.mark.parametrize("given", [True, "1", 1.0, None, [1], {"a": 1}, 3, -1, math.nan])
def test_an_answer_of_the_wrong_form_uses_no_attempt(given):
    rally = with_tasks()
    state = found_first(rally)
    out = answer(rally, state, 0, given)
    assert out.rejection is Rejection.BAD_ANSWER
    assert out.answer == AnswerResult(False, 0, 3, False)
    assert out.state == state


def test_number_and_text_answers_as_players_type_them():
    rally = with_tasks(OrderMode.FREE)
    state = TeamState(started_at=T0)
    for i in (1, 2):
        state = apply(rally, state, fix_at(rally.stops[i].marker.position, 5 * i)).state
    assert answer(rally, state, 1, "3,6", 20).answer.correct
    assert answer(rally, state, 1, " 3.25 ", 20).answer.correct
    assert answer(rally, state, 1, 3.8, 20).answer == AnswerResult(False, 0, 2, False)
    assert answer(rally, state, 1, "drei", 20).rejection is Rejection.BAD_ANSWER
    assert answer(rally, state, 1, "9" * 500, 20).rejection is Rejection.BAD_ANSWER
    assert answer(rally, state, 1, math.inf, 20).rejection is Rejection.BAD_ANSWER
    assert answer(rally, state, 2, "  BARBARÓSSA ", 20).answer == AnswerResult(True, 50, 0, True)
    assert answer(rally, state, 2, "x" * 201, 20).rejection is Rejection.BAD_ANSWER
    wrong = answer(rally, state, 2, "Karl", 20)
    assert wrong.answer == AnswerResult(False, 0, 0, True)
    assert wrong.view.found[1].task.answer == "Kaiser"


def test_answers_need_a_found_marker_a_task_and_a_stop_of_the_rally():
    rally = with_tasks(OrderMode.FREE)
    state = found_first(rally)
    assert answer(rally, state, 1, 3.5).rejection is Rejection.NOT_FOUND
    state = apply(rally, state, fix_at(rally.stops[3].marker.position, 30)).state
    assert answer(rally, state, 3, "x", 31).rejection is Rejection.NO_TASK
    out = apply(rally, state, AnswerEvent(999, 1, at(31)))
    assert out.rejection is Rejection.NOT_IN_RALLY and out.answer is None
    assert out.state == state


def test_hints_one_at_a_time_while_open_then_while_the_task_is_open():
    rally = with_tasks()
    state = TeamState(started_at=T0)
    opened = view(rally, state).open[0]
    assert (opened.hints, opened.hints_left, opened.next_hint_cost) == ((), 2, 10)
    first = hint(rally, state, 0, 1)
    assert first.hint == HintResult(1, HINTS[0].text, 10) and first.rejection is None
    assert first.view.open[0].hints == (HINTS[0].text,)
    assert (first.view.open[0].hints_left, first.view.open[0].next_hint_cost) == (1, 25)
    assert first.view.score == 0  # never below 0
    state = apply(rally, first.state, fix_at(rally.stops[0].marker.position, 5)).state
    assert view(rally, state).score == 100 - 10
    second = hint(rally, state, 0, 6)
    assert second.hint == HintResult(2, HINTS[1].text, 25)
    found = second.view.found[0]
    assert (found.hints, found.hints_left, found.next_hint_cost) == (
        (HINTS[0].text, HINTS[1].text),
        0,
        None,
    )
    assert hint(rally, second.state, 0, 7).rejection is Rejection.NO_HINT
    solved = answer(rally, second.state, 0, 1, 8)
    assert solved.view.score == 100 + 60 - 35
    assert solved.state.stop_progress(rally.stops[0].marker.id) == StopProgress(0, True, 60, 2)


def test_no_hint_for_a_stop_not_open_or_found_without_an_open_task():
    rally = with_tasks()
    state = TeamState(started_at=T0)
    later = hint(rally, state, 3, 1)
    assert later.rejection is Rejection.NO_HINT and later.hint is None and later.state == state
    assert view(rally, state).open[0].index == 0
    state = found_first(rally)
    state = answer(rally, state, 0, 1).state
    closed = hint(rally, state, 0, 7)
    assert closed.rejection is Rejection.NO_HINT and closed.view.found[0].hints_left == 0
    free_rally = with_tasks(OrderMode.FREE)
    state = apply(
        free_rally, TeamState(started_at=T0), fix_at(free_rally.stops[3].marker.position, 5)
    ).state
    assert hint(free_rally, state, 3).rejection is Rejection.NO_HINT  # found, no task
    assert hint(free_rally, state, 0).hint == HintResult(1, HINTS[0].text, 10)  # open
    assert hint(free_rally, state, 4).rejection is Rejection.NO_HINT  # no hints at all
    assert apply(free_rally, state, HintEvent(999, at(6))).rejection is Rejection.NOT_IN_RALLY


def test_the_letter_waits_for_the_task_when_it_says_so():
    rally = with_tasks(letter_on=LetterOn.ANSWER)
    state = found_first(rally)
    assert view(rally, state).found[0].letter is None
    assert view(rally, state).letters == (None,) * 5
    wrong = state
    for n in range(3):
        assert view(rally, wrong).letters[0] is None
        wrong = answer(rally, wrong, 0, 0, 6 + n).state
    assert view(rally, wrong).letters[0] == "K"  # closed: shown
    solved = answer(rally, state, 0, 1)
    assert solved.view.found[0].letter == "K" and solved.view.letters[0] == "K"
    on_find = found_first(with_tasks())
    assert view(with_tasks(), on_find).letters[0] == "K"


def test_completion_and_finish_do_not_wait_for_tasks():
    rally = with_tasks()
    outcomes = walk(rally)
    last = outcomes[-1].view
    assert last.complete and last.finished_at == T0 + timedelta(minutes=50)
    assert last.letters == ("K", None, "N", "S", "T")  # stop 2's letter waits for its answer
    assert last.score == 5 * 100 + 200


def test_answers_and_hints_keep_the_devices_time_order_but_not_the_teams_place():
    rally = with_tasks()
    state = found_first(rally)
    out = answer(rally, state, 0, 1, 3, device_latest=at(9))
    assert [f.kind for f in out.flags] == [FlagKind.BACKDATED] and out.at == at(9)
    assert out.answer.correct
    assert out.state.last_fix == state.last_fix and out.state.found == state.found
    h = hint(rally, state, 0, 3, device_latest=at(9))
    assert [f.kind for f in h.flags] == [FlagKind.BACKDATED] and h.at == at(9)
    with pytest.raises(ValueError, match="time zone"):
        AnswerEvent(1, 1, datetime(2026, 9, 12, 18, 0))
    with pytest.raises(ValueError, match="time zone"):
        HintEvent(1, datetime(2026, 9, 12, 18, 0))


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.sampled_from(["answer", "hint"]), st.integers(0, 3)),
        max_size=25,
    )
)
def test_the_score_is_never_negative_and_points_only_from_solved_tasks(events):
    rally = with_tasks(OrderMode.FREE)
    state = found_first(rally)
    for n, (i, kind, choice) in enumerate(events):
        event = (
            AnswerEvent(rally.stops[i].marker.id, choice, at(10 + n))
            if kind == "answer"
            else HintEvent(rally.stops[i].marker.id, at(10 + n))
        )
        out = apply(rally, state, event)
        assert out.view.score >= 0
        state = out.state
    for marker_id, p in state.progress.items():
        index = rally.stop_index(marker_id)
        assert p.hints <= len(rally.stops[index].hints)
        assert p.points == 0 or p.solved
