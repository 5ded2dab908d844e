"""The game's rules: from a rally, a team's state and an event, the outcome. Pure and deterministic.

Only the server applies them (server/game.py), with authority. The phone never runs them: it
shows the server's answers, and offline only measures distances and the "probably inside" hint
with markers.geofence, the same rule apply() uses. docs/rules.md explains them in prose.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from types import MappingProxyType

from markers.geo import LatLon, destination, distance_and_bearing, distance_m
from markers.geofence import ACCURACY_CAP_M, tolerance_m
from routes.model import OrderMode, Rally, Stop, Text
from routes.tasks import LetterOn, TaskAnswerError, TaskType


class Method(StrEnum):
    """How a marker was found: by a GPS fix, by scanning its QR code, or marked by an organiser."""

    GPS = "gps"
    QR = "qr"
    ASSIST = "assist"


class Rejection(StrEnum):
    """Why an event found nothing."""

    NOT_IN_RALLY = "not_in_rally"
    NOT_OPEN = "not_open"
    ALREADY_FOUND = "already_found"
    OUTSIDE = "outside"
    TELEPORT = "teleport"
    MOCK_LOCATION = "mock_location"
    NOT_FOUND = "not_found"
    """An answer for a stop whose marker the team has not found."""
    NO_TASK = "no_task"
    TASK_CLOSED = "task_closed"
    """An answer for a task already solved or with its attempts used up."""
    NO_HINT = "no_hint"
    """No hint left, or the stop is neither open nor found with its task still open."""
    BAD_ANSWER = "bad_answer"
    """An answer of the wrong form (routes.tasks.TaskAnswerError); it uses no attempt."""


class FlagKind(StrEnum):
    """What an organiser should look at."""

    TELEPORT = "teleport"
    MOCK_LOCATION = "mock_location"
    QR_FAR_FROM_MARKER = "qr_far_from_marker"
    ASSISTED = "assisted"
    BACKDATED = "backdated"


_DEFAULT_POINTS = MappingProxyType({Method.GPS: 100, Method.QR: 100, Method.ASSIST: 25})


@dataclass(frozen=True)
class RulesConfig:
    """The numbers behind the rules; organisers may tune them per event."""

    accuracy_cap_m: float = ACCURACY_CAP_M
    """A fix's reported accuracy is believed up to this many metres (markers.geofence)."""
    ar_radius_m: float = 150.0
    """Within this distance of an open marker the team gets its exact position for the AR view."""
    search_radius_m: float = 250.0
    """Radius of the search area shown while the team is farther away."""
    max_speed_mps: float = 25.0
    """90 km/h: moving faster between two fixes is a teleport."""
    qr_max_distance_m: float = 1000.0
    """A QR scan with a fix farther than this from its marker is flagged (a shared photo?)."""
    points: Mapping[Method, int] = field(default_factory=lambda: _DEFAULT_POINTS)
    completion_bonus: int = 200
    area_secret: bytes = b""
    """Keys the offset of each search area, so its centre does not give the marker away."""


@dataclass(frozen=True)
class Fix:
    """A GPS fix: position, reported accuracy (metres, 68 %), time it was taken (aware)."""

    position: LatLon
    accuracy_m: float
    at: datetime
    mock: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.at)


@dataclass(frozen=True)
class Find:
    marker_id: int
    at: datetime
    method: Method


@dataclass(frozen=True)
class StopProgress:
    """A team's progress on one stop's task and hints."""

    wrong: int = 0
    solved: bool = False
    points: int = 0
    """Points the task earned."""
    hints: int = 0
    """How many of the stop's hints the team has taken (always the first ones)."""


_NO_PROGRESS = StopProgress()


@dataclass(frozen=True)
class TeamState:
    """What the rules remember of a team: its start, its finds, its last trusted fix and its
    progress on tasks and hints."""

    found: tuple[Find, ...] = ()
    last_fix: Fix | None = None
    started_at: datetime | None = None
    """The finish time is measured from here."""
    progress: Mapping[int, StopProgress] = field(default_factory=lambda: MappingProxyType({}))
    """Marker id to the team's progress at that stop (absent: nothing yet)."""

    def stop_progress(self, marker_id: int) -> StopProgress:
        """The team's progress at the stop of marker_id (none yet: StopProgress())."""
        return self.progress.get(marker_id, _NO_PROGRESS)

    @property
    def found_ids(self) -> frozenset[int]:
        return frozenset(f.marker_id for f in self.found)


@dataclass(frozen=True)
class GpsEvent:
    fix: Fix


@dataclass(frozen=True)
class QrEvent:
    """A verified QR token (markers.tokens checked the signature) naming rally and marker."""

    rally_id: int
    marker_id: int
    at: datetime
    fix: Fix | None = None

    def __post_init__(self) -> None:
        _require_aware(self.at)


@dataclass(frozen=True)
class AssistEvent:
    """An organiser marks a stop found for a stuck team; the reason is kept with the flag."""

    marker_id: int
    at: datetime
    reason: str = ""

    def __post_init__(self) -> None:
        _require_aware(self.at)


@dataclass(frozen=True)
class AnswerEvent:
    """An answer to the task of the stop of marker_id, as the player gave it (any JSON value)."""

    marker_id: int
    answer: object
    at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.at)


@dataclass(frozen=True)
class HintEvent:
    """The team asks for the next hint of the stop of marker_id."""

    marker_id: int
    at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.at)


Event = GpsEvent | QrEvent | AssistEvent | AnswerEvent | HintEvent


@dataclass(frozen=True)
class Flag:
    kind: FlagKind
    at: datetime
    marker_id: int | None = None
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchArea:
    """A circle that holds the marker somewhere inside, not at its centre."""

    center: LatLon
    radius_m: float


@dataclass(frozen=True)
class Nearby:
    """An open marker close enough for the AR view: exact position, distance, bearing."""

    position: LatLon
    radius_m: float
    distance_m: float
    bearing_deg: float


@dataclass(frozen=True)
class OpenStop:
    """A stop the team may look for now: its clue and search area, its marker when near, the
    hints it took and what the next one costs."""

    index: int
    marker_id: int
    clue: Text
    search_area: SearchArea
    nearby: Nearby | None = None
    hints: tuple[Text, ...] = ()
    hints_left: int = 0
    next_hint_cost: int | None = None


@dataclass(frozen=True)
class TaskView:
    """A found stop's task as the team sees it; ``answer`` only once it is solved or closed."""

    type: TaskType
    question: Text
    options: tuple[Text, ...]
    attempts_left: int
    solved: bool
    closed: bool
    points: int
    """Won so far."""
    answer: int | float | str | None = None
    worth: int = 0
    """What a right answer at the first attempt wins."""


@dataclass(frozen=True)
class FoundStop:
    """A found stop with everything it reveals; its letter waits for its task when the task
    says so (LetterOn.ANSWER)."""

    index: int
    marker_id: int
    title: Text
    story: Text
    letter: str | None
    position: LatLon
    at: datetime
    method: Method
    task: TaskView | None = None
    hints: tuple[Text, ...] = ()
    hints_left: int = 0
    next_hint_cost: int | None = None


@dataclass(frozen=True)
class AnswerResult:
    """What an answer did: right or not, the points it earned, attempts left, task closed."""

    correct: bool
    points: int
    attempts_left: int
    closed: bool


@dataclass(frozen=True)
class HintResult:
    """The hint just taken: its number at its stop (from 1), its text and its cost."""

    number: int
    text: Text
    cost: int


@dataclass(frozen=True)
class TeamView:
    """All a team may see: open stops, found stops, the solution word so far, score."""

    open: tuple[OpenStop, ...]
    found: tuple[FoundStop, ...]
    letters: tuple[str | None, ...]
    score: int
    complete: bool
    finished_at: datetime | None
    total: int


@dataclass(frozen=True)
class Outcome:
    """The answer to one event: the new state, what was found now, flags, the new view, and
    the time the rules took for the event (never before the device's latest)."""

    state: TeamState
    found: tuple[FoundStop, ...]
    flags: tuple[Flag, ...]
    rejection: Rejection | None
    view: TeamView
    at: datetime
    answer: AnswerResult | None = None
    hint: HintResult | None = None


@dataclass(frozen=True)
class _Anchor:
    """Where the team was known to be, give or take ``slack_m``, at a time."""

    position: LatLon
    slack_m: float
    at: datetime
    marker_id: int | None = None


def open_indices(rally: Rally, state: TeamState) -> list[int]:
    """Indices of the stops the team may find now: the next unfound one, or all unfound (FREE)."""
    found = state.found_ids
    unfound = [i for i, s in enumerate(rally.stops) if s.marker.id not in found]
    if rally.order_mode is OrderMode.FIXED:
        return unfound[:1]
    return unfound


def search_area(rally: Rally, index: int, config: RulesConfig) -> SearchArea:
    """The search area of stop ``index``: its centre offset from the marker by a keyed hash."""
    marker = rally.stops[index].marker
    digest = hmac.new(
        config.area_secret, f"{rally.id}:{marker.id}".encode(), hashlib.sha256
    ).digest()
    bearing = int.from_bytes(digest[:4], "big") / 2**32 * 360.0
    fraction = 0.2 + 0.4 * int.from_bytes(digest[4:8], "big") / 2**32
    center = destination(marker.position, bearing, fraction * config.search_radius_m)
    return SearchArea(center, config.search_radius_m)


def score(rally: Rally, state: TeamState, config: RulesConfig = RulesConfig()) -> int:
    """Points for each find by its method, the bonus once every stop is found, and the points of
    solved tasks, less the cost of the hints taken; never below 0."""
    ids = {s.marker.id for s in rally.stops}
    points = sum(config.points.get(f.method, 0) for f in state.found if f.marker_id in ids)
    bonus = config.completion_bonus if is_complete(rally, state) else 0
    tasks = sum(state.stop_progress(i).points for i in ids)
    costs = sum(_hint_costs(s, state.stop_progress(s.marker.id)) for s in _unique_stops(rally))
    return max(0, points + bonus + tasks - costs)


def task_closed(stop: Stop, progress: StopProgress) -> bool:
    """Whether the stop's task takes no more answers: solved, or its attempts used up."""
    return stop.task is not None and (progress.solved or progress.wrong >= stop.task.attempts)


def hint_allowed(rally: Rally, state: TeamState, index: int) -> bool:
    """Whether the team may take a hint at stop ``index`` now (hints left aside): the stop is
    open, or found with its task still open."""
    stop = rally.stops[index]
    if stop.marker.id in state.found_ids:
        return stop.task is not None and not task_closed(stop, state.stop_progress(stop.marker.id))
    return index in open_indices(rally, state)


def is_complete(rally: Rally, state: TeamState) -> bool:
    return bool(rally.stops) and {s.marker.id for s in rally.stops} <= state.found_ids


def finished_at(
    rally: Rally, state: TeamState, config: RulesConfig = RulesConfig()
) -> datetime | None:
    """When the last stop was found, once the rally is complete; never sooner after the start
    than the found stops' path (from the rally's start point, in order found) at max speed."""
    if not is_complete(rally, state):
        return None
    ids = {s.marker.id for s in rally.stops}
    last = max(f.at for f in state.found if f.marker_id in ids)
    if state.started_at is None:
        return last
    floor = state.started_at + timedelta(seconds=route_s(rally, state, config))
    return max(last, floor)


def route_s(rally: Rally, state: TeamState, config: RulesConfig = RulesConfig()) -> float:
    """Seconds the found stops' path takes at max speed: from the rally's start point (when
    set) through every found stop in the order found."""
    positions = {s.marker.id: s.marker.position for s in rally.stops}
    path = [positions[f.marker_id] for f in _by_time(state.found) if f.marker_id in positions]
    if rally.start is not None:
        path.insert(0, rally.start)
    metres = sum(distance_m(a, b) for a, b in pairwise(path))
    return metres / config.max_speed_mps


def view(rally: Rally, state: TeamState, config: RulesConfig = RulesConfig()) -> TeamView:
    """What the team may see in this state."""
    fix = state.last_fix
    open_stops = []
    for i in open_indices(rally, state):
        marker = rally.stops[i].marker
        nearby = None
        if fix is not None:
            d, b = distance_and_bearing(fix.position, marker.position)
            if d - tolerance_m(fix.accuracy_m, config.accuracy_cap_m) <= config.ar_radius_m:
                nearby = Nearby(marker.position, marker.radius_m, d, b)
        open_stops.append(
            OpenStop(
                i,
                marker.id,
                rally.stops[i].effective_clue,
                search_area(rally, i, config),
                nearby,
                *_hint_view(rally, state, i),
            )
        )
    finds = {f.marker_id: f for f in state.found}
    found = tuple(
        _found_stop(rally, state, i, finds[s.marker.id])
        for i, s in enumerate(rally.stops)
        if s.marker.id in finds
    )
    letters = tuple(_letter(rally, state, i) for i in range(len(rally.stops)))
    return TeamView(
        open=tuple(open_stops),
        found=found,
        letters=letters,
        score=score(rally, state, config),
        complete=is_complete(rally, state),
        finished_at=finished_at(rally, state, config),
        total=len(rally.stops),
    )


def apply(
    rally: Rally,
    state: TeamState,
    event: Event,
    config: RulesConfig = RulesConfig(),
    device_latest: datetime | None = None,
) -> Outcome:
    """Apply one event to a team's state.

    ``device_latest`` is the latest time the sending device stamped on an earlier event: an
    event stamped before it counts at that time and is flagged ``backdated``.
    """
    flags: list[Flag] = []
    found_now: list[Find] = []
    rejection: Rejection | None = None
    event, backdated = _in_order(event, device_latest)
    if backdated is not None:
        flags.append(backdated)
    at = _event_at(event)
    if isinstance(event, AnswerEvent | HintEvent):
        return _task_or_hint(rally, state, event, config, flags)
    anchors = _anchors(rally, state, config)
    fix: Fix | None = getattr(event, "fix", None)
    trusted_fix = state.last_fix
    fix_flag = None if fix is None else _check_fix(anchors, fix, config)

    if fix is not None:
        if fix_flag is not None:
            flags.append(fix_flag)
        else:
            trusted_fix = _newer(state.last_fix, fix)

    if isinstance(event, GpsEvent):
        if fix_flag is not None:
            rejection = Rejection(fix_flag.kind.value)
        else:
            gps = event.fix
            for i in open_indices(rally, state):
                marker = rally.stops[i].marker
                if marker.geofence.contains(gps.position, gps.accuracy_m, config.accuracy_cap_m):
                    found_now.append(Find(marker.id, gps.at, Method.GPS))
            if not found_now:
                rejection = Rejection.OUTSIDE
    else:
        method = Method.QR if isinstance(event, QrEvent) else Method.ASSIST
        index = rally.stop_index(event.marker_id)
        if index is None or (isinstance(event, QrEvent) and event.rally_id != rally.id):
            rejection = Rejection.NOT_IN_RALLY
        elif event.marker_id in state.found_ids:
            rejection = Rejection.ALREADY_FOUND
        elif method is Method.QR and index not in open_indices(rally, state):
            rejection = Rejection.NOT_OPEN
        elif method is Method.QR and (
            too_fast := _too_fast(
                anchors, _marker_anchor(rally, index, at, Method.QR, config), config
            )
        ):
            flags.append(too_fast)
            rejection = Rejection.TELEPORT
        else:
            found_now.append(Find(event.marker_id, event.at, method))
            flags.extend(_find_flags(rally, index, event, config))

    new_state = replace(state, found=state.found + tuple(found_now), last_fix=trusted_fix)
    new_view = view(rally, new_state, config)
    found_ids = {f.marker_id for f in found_now}
    return Outcome(
        state=new_state,
        found=tuple(f for f in new_view.found if f.marker_id in found_ids),
        flags=tuple(flags),
        rejection=rejection,
        view=new_view,
        at=at,
    )


def _task_or_hint(
    rally: Rally,
    state: TeamState,
    event: AnswerEvent | HintEvent,
    config: RulesConfig,
    flags: list[Flag],
) -> Outcome:
    """An answer or a hint request: changes the stop's progress only, never where the team is."""
    index = rally.stop_index(event.marker_id)
    rejection: Rejection | None = None
    answer: AnswerResult | None = None
    hint: HintResult | None = None
    progress = state.stop_progress(event.marker_id)
    new_progress = progress
    if index is None:
        rejection = Rejection.NOT_IN_RALLY
    elif isinstance(event, AnswerEvent):
        rejection, answer, new_progress = _answer(rally.stops[index], state, progress, event)
    else:
        stop = rally.stops[index]
        if progress.hints >= len(stop.hints) or not hint_allowed(rally, state, index):
            rejection = Rejection.NO_HINT
        else:
            taken = stop.hints[progress.hints]
            hint = HintResult(progress.hints + 1, taken.text, taken.cost)
            new_progress = replace(progress, hints=progress.hints + 1)
    new_state = state
    if new_progress != progress:
        progress_map = {**state.progress, event.marker_id: new_progress}
        new_state = replace(state, progress=MappingProxyType(progress_map))
    return Outcome(
        state=new_state,
        found=(),
        flags=tuple(flags),
        rejection=rejection,
        view=view(rally, new_state, config),
        at=event.at,
        answer=answer,
        hint=hint,
    )


def _answer(
    stop: Stop, state: TeamState, progress: StopProgress, event: AnswerEvent
) -> tuple[Rejection | None, AnswerResult | None, StopProgress]:
    task = stop.task
    if stop.marker.id not in state.found_ids:
        return Rejection.NOT_FOUND, None, progress
    if task is None:
        return Rejection.NO_TASK, None, progress
    if task_closed(stop, progress):
        return Rejection.TASK_CLOSED, AnswerResult(False, 0, 0, True), progress
    left = task.attempts - progress.wrong
    try:
        correct = task.check(event.answer)
    except TaskAnswerError:
        return Rejection.BAD_ANSWER, AnswerResult(False, 0, left, False), progress
    if correct:
        points = task.points_for(progress.wrong)
        done = replace(progress, solved=True, points=points)
        return None, AnswerResult(True, points, 0, True), done
    wrong = replace(progress, wrong=progress.wrong + 1)
    return None, AnswerResult(False, 0, left - 1, left - 1 <= 0), wrong


def rank_key(complete: bool, score: int, duration_s: float | None) -> tuple:
    """Leaderboard order: complete teams first, then higher score, then shorter time."""
    return (not complete, -score, duration_s if duration_s is not None else math.inf)


def _check_fix(anchors: list[_Anchor], fix: Fix, config: RulesConfig) -> Flag | None:
    """A flag when the fix cannot be trusted: a mock location, or a teleport from the team's
    known place just before it or to the one just after it."""
    if fix.mock:
        return Flag(FlagKind.MOCK_LOCATION, fix.at)
    return _too_fast(
        anchors,
        _Anchor(fix.position, tolerance_m(fix.accuracy_m, config.accuracy_cap_m), fix.at),
        config,
    )


def _too_fast(anchors: list[_Anchor], here: _Anchor, config: RulesConfig) -> Flag | None:
    """A teleport flag when reaching ``here`` from the anchor just before it, or the anchor just
    after it from ``here``, needs more than the max speed (both slacks subtracted)."""
    before = [a for a in anchors if a.at <= here.at]
    after = [a for a in anchors if a.at > here.at]
    neighbours = ([before[-1]] if before else []) + ([after[0]] if after else [])
    for other in neighbours:
        seconds = max(abs((here.at - other.at).total_seconds()), 1.0)
        moved = distance_m(other.position, here.position)
        speed = max(0.0, moved - here.slack_m - other.slack_m) / seconds
        if speed > config.max_speed_mps:
            detail: dict[str, object] = {
                "speed_mps": round(speed, 1),
                "distance_m": round(moved, 1),
                "seconds": seconds,
            }
            if other.marker_id is not None:
                detail["from_marker_id"] = other.marker_id
            return Flag(FlagKind.TELEPORT, here.at, here.marker_id, detail)
    return None


def _anchors(rally: Rally, state: TeamState, config: RulesConfig) -> list[_Anchor]:
    """Where the team is known to have been, oldest first: at each stop it found by GPS or QR
    (an assist proves no place), and at its last trusted fix."""
    anchors = [
        _marker_anchor(rally, index, f.at, f.method, config)
        for f in state.found
        if f.method is not Method.ASSIST and (index := rally.stop_index(f.marker_id)) is not None
    ]
    fix = state.last_fix
    if fix is not None:
        anchors.append(
            _Anchor(fix.position, tolerance_m(fix.accuracy_m, config.accuracy_cap_m), fix.at)
        )
    return sorted(anchors, key=lambda a: a.at)


def _marker_anchor(
    rally: Rally, index: int, at: datetime, method: Method, config: RulesConfig
) -> _Anchor:
    """Being at a stop's marker: for a GPS find, anywhere a fix inside its geofence could have
    come from; for a QR scan, anywhere the team may see the marker from (``ar_radius_m``), as
    the poster may hang anywhere at the venue."""
    marker = rally.stops[index].marker
    near = config.accuracy_cap_m if method is Method.GPS else config.ar_radius_m
    return _Anchor(marker.position, marker.geofence.reach_m() + near, at, marker.id)


def _in_order(event: Event, device_latest: datetime | None) -> tuple[Event, Flag | None]:
    """The event at a time no earlier than the device's latest, with a backdated flag when the
    device stepped back."""
    at = _event_at(event)
    if device_latest is None or at >= device_latest:
        return event, None
    flag = Flag(
        FlagKind.BACKDATED,
        device_latest,
        detail={
            "recorded_at": at.isoformat(),
            "device_latest": device_latest.isoformat(),
            "seconds": round((device_latest - at).total_seconds(), 1),
        },
    )
    return _at_time(event, device_latest), flag


def _event_at(event: Event) -> datetime:
    return event.fix.at if isinstance(event, GpsEvent) else event.at


def _at_time(event: Event, at: datetime) -> Event:
    if isinstance(event, GpsEvent):
        return GpsEvent(replace(event.fix, at=at))
    fix = getattr(event, "fix", None)
    if fix is not None:
        return replace(event, at=at, fix=replace(fix, at=at))
    return replace(event, at=at)


def _by_time(found: tuple[Find, ...]) -> list[Find]:
    return sorted(found, key=lambda f: f.at)


def _find_flags(
    rally: Rally, index: int, event: QrEvent | AssistEvent, config: RulesConfig
) -> list[Flag]:
    marker_id = rally.stops[index].marker.id
    if isinstance(event, AssistEvent):
        return [Flag(FlagKind.ASSISTED, event.at, marker_id, {"reason": event.reason})]
    if event.fix is None or event.fix.mock:
        return []
    d = distance_m(event.fix.position, rally.stops[index].marker.position)
    if d - tolerance_m(event.fix.accuracy_m, config.accuracy_cap_m) > config.qr_max_distance_m:
        return [Flag(FlagKind.QR_FAR_FROM_MARKER, event.at, marker_id, {"distance_m": round(d)})]
    return []


def _found_stop(rally: Rally, state: TeamState, index: int, find: Find) -> FoundStop:
    marker = rally.stops[index].marker
    return FoundStop(
        index,
        marker.id,
        marker.title,
        marker.story,
        _letter(rally, state, index),
        marker.position,
        find.at,
        find.method,
        _task_view(rally.stops[index], state.stop_progress(marker.id)),
        *_hint_view(rally, state, index),
    )


def _letter(rally: Rally, state: TeamState, index: int) -> str | None:
    """The letter stop ``index`` shows the team: once found, and when its task says so only
    once that task is solved or closed."""
    stop = rally.stops[index]
    if stop.marker.id not in state.found_ids:
        return None
    if (
        stop.task is not None
        and stop.task.letter_on is LetterOn.ANSWER
        and not task_closed(stop, state.stop_progress(stop.marker.id))
    ):
        return None
    return rally.letter(index)


def _task_view(stop: Stop, progress: StopProgress) -> TaskView | None:
    task = stop.task
    if task is None:
        return None
    closed = task_closed(stop, progress)
    return TaskView(
        type=task.type,
        question=task.question,
        options=task.options,
        attempts_left=0 if closed else task.attempts - progress.wrong,
        solved=progress.solved,
        closed=closed,
        points=progress.points,
        answer=task.shown_answer if closed else None,
        worth=task.points,
    )


def _hint_view(
    rally: Rally, state: TeamState, index: int
) -> tuple[tuple[Text, ...], int, int | None]:
    """The hints taken at stop ``index``, how many may still be taken now, the next one's cost."""
    stop = rally.stops[index]
    taken = min(state.stop_progress(stop.marker.id).hints, len(stop.hints))
    left = len(stop.hints) - taken if hint_allowed(rally, state, index) else 0
    return (
        tuple(h.text for h in stop.hints[:taken]),
        left,
        stop.hints[taken].cost if left else None,
    )


def _hint_costs(stop: Stop, progress: StopProgress) -> int:
    return sum(h.cost for h in stop.hints[: progress.hints])


def _unique_stops(rally: Rally) -> list[Stop]:
    """The stops, a marker used twice counted once (its progress is one)."""
    return list({s.marker.id: s for s in reversed(rally.stops)}.values())


def _newer(last: Fix | None, fix: Fix) -> Fix:
    return fix if last is None or fix.at >= last.at else last


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"time must carry a time zone, got {at.isoformat()}")
