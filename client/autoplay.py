"""Autoplay: walks a simulated route with a GameSession until the server says the rally is done.

Headless (no Kivy): the end-to-end tests use it, and the app's --autoplay runs it on a thread.
The fixes carry the simulated walk's times, which run ahead of the wall clock when the walk is
replayed faster than walking: the server must then allow that clock skew (MAX_CLOCK_SKEW_S),
or the walk must be replayed in real time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from client.api import ApiError, NetworkError
from client.sensors.camera import FramesFromFiles
from client.sensors.location import SimulatedLocation
from client.session import GameSession
from markers.geo import LatLon, bearing_deg
from routes.gpx import export_track

log = logging.getLogger(__name__)

AUTOPLAY_SPEEDUP = 20.0
"""How many times faster than walking --autoplay replays the route unless --speedup says."""


def route_gpx(points: Sequence[LatLon], name: str = "") -> str:
    """A GPX track through points (e.g. a rally's start, stops and finish) to walk."""
    return export_track([(p, None) for p in points], name=name)


def ensure_team(
    session: GameSession, slug: str, name: str, lang: str | None = None, timeout_s: float = 30.0
) -> dict[str, Any]:
    """Resume the team saved for slug, else create one named name; the team JSON."""
    if session.settings.rally_slug == slug and session.resume():
        with contextlib.suppress(NetworkError, ApiError):
            session.sync_now().result(timeout_s)
        return session.snapshot.team or {}
    return session.start_rally(slug, name, lang).result(timeout_s)


@dataclass(frozen=True)
class AutoplayResult:
    """How the walk ended: finished (the server says so), the team's last JSON, what was done."""

    finished: bool
    team: dict[str, Any] | None
    fixes: int
    qr_stops: tuple[int, ...] = ()
    """Stops found by scanning a frame's QR code."""
    most_pending: int = 0
    """The most events that waited in the outbox at once (while the server was away)."""
    errors: tuple[str, ...] = field(default_factory=tuple)
    """The last (up to 20) sync errors met on the way, e.g. while the server was down."""


class Autoplay:
    """Feeds a session the fixes of a SimulatedLocation, and (when frames are given) shows the
    camera frames to the session once at each stop whose marker the server has opened.

    pace_s: wall seconds between fixes; None takes the walk's interval_s / speedup, 0 no wait.
    After the walk it keeps syncing (the server may be down) for up to settle_s.

    answers: stop number -> the answer to give to that stop's task once it is found (the app does
    not know the right answers; whoever runs it may). Each is given once; stops not in it stay
    unanswered.
    """

    def __init__(
        self,
        session: GameSession,
        location: SimulatedLocation,
        *,
        frames: FramesFromFiles | None = None,
        pace_s: float | None = 0.0,
        settle_s: float = 120.0,
        on_step: Callable[[int], None] | None = None,
        answers: Mapping[int, object] | None = None,
    ) -> None:
        self.session = session
        self.location = location
        self.frames = frames
        self.pace_s = location.interval_s / location.speedup if pace_s is None else pace_s
        self.settle_s = settle_s
        self.on_step = on_step
        self.answers = dict(answers or {})
        self._answered: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._now: datetime | None = None
        self._errors: list[str] = []

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def start(self, on_done: Callable[[AutoplayResult], None]) -> None:
        """Run on a daemon thread; on_done gets the result (from that thread)."""
        self._thread = threading.Thread(
            target=lambda: on_done(self.run()), name="autoplay", daemon=True
        )
        self._thread.start()

    def run(self) -> AutoplayResult:
        """Walk until the rally is complete or the walk ends; then settle the outbox."""
        session = self.session
        if not session.snapshot.joined:
            raise RuntimeError("autoplay needs a team: start_rally or join_team first")
        device = session.server_clock.device
        session.clock = lambda: self._now or device()
        tried: set[int] = set()
        qr_stops: list[int] = []
        count = most_pending = tried_with = 0
        previous: LatLon | None = None
        for fix in self.location.fixes():
            if self._stop.is_set() or session.snapshot.finished:
                break
            self._now = fix.at
            session.handle_fix(fix)
            if previous is not None and previous != fix.position:
                session.handle_heading(self._heading(previous, fix.position))
            previous = fix.position
            count += 1
            pending = session.snapshot.pending
            most_pending = max(most_pending, pending)
            if pending and pending != tried_with:
                tried_with = 0 if self._sync() else pending
            if self.frames is not None:
                qr_stops.extend(self._scan_at_open_markers(self.frames, tried))
            self._answer_tasks()
            if self.on_step is not None:
                self.on_step(count)
            if self.pace_s > 0 and self._stop.wait(self.pace_s):
                break
        finished = self._settle()
        snap = session.snapshot
        errors = self._errors
        if not finished:
            refused = [e.error for e in session.outbox.answered(200) if e.error]
            errors = [
                *errors,
                *(f"{refused.count(r)} events refused: {r}" for r in dict.fromkeys(refused)),
            ][-20:]
        return AutoplayResult(
            finished, snap.team, count, tuple(qr_stops), most_pending, tuple(errors)
        )

    def _heading(self, previous: LatLon, here: LatLon) -> float:
        """Look at the nearest opened marker, else where the walk goes."""
        opened = [
            (t.distance_m or 0.0, t.marker)
            for t in self.session.snapshot.targets
            if t.marker is not None
        ]
        if opened:
            return bearing_deg(here, min(opened, key=lambda o: o[0])[1])
        return bearing_deg(previous, here)

    def _scan_at_open_markers(self, frames: FramesFromFiles, tried: set[int]) -> list[int]:
        """Hold the frames up once at each stop whose marker is open; stops found so."""
        found = []
        for target in self.session.snapshot.targets:
            if target.marker is None or target.stop in tried:
                continue
            tried.add(target.stop)
            for frame in islice(frames.frames(), len(frames)):
                future = None
                while future is None and not self._stop.is_set():
                    future = self.session.handle_frame(frame)
                    if future is None:
                        time.sleep(0.01)
                if future is not None:
                    future.result()
            self._sync()
            if any(
                int(f["stop"]) == target.stop and f.get("method") == "qr"
                for f in self.session.snapshot.found
            ):
                found.append(target.stop)
        return found

    def _answer_tasks(self) -> None:
        """Give the answer from the table to each found stop's open task, once."""
        for found in self.session.snapshot.found:
            stop = int(found["stop"])
            if stop in self.answers and stop not in self._answered and found.get("task"):
                self._answered.add(stop)
                self.session.handle_answer(stop, self.answers[stop])

    def _sync(self) -> bool:
        try:
            self.session.sync_now().result(timeout=60)
            return True
        except (NetworkError, ApiError) as exc:
            self._errors = [*self._errors[-19:], str(exc)]
            return False

    def _settle(self) -> bool:
        """Sync (answering the tasks found meanwhile) until nothing waits and the server's answer
        is in (or settle_s is over)."""
        deadline = time.monotonic() + self.settle_s
        delay = 0.2
        while not self._stop.is_set():
            if self._sync():
                self._answer_tasks()
                if self.session.snapshot.pending == 0:
                    return self.session.snapshot.finished
            if time.monotonic() + delay > deadline:
                break
            self._stop.wait(delay)
            delay = min(delay * 2, 5.0)
        return self.session.snapshot.finished
