"""--autoplay in the app: client.autoplay walks the route on a thread while the screens follow
it, and the app exits 0 when the server says the rally is complete (1 otherwise)."""

from __future__ import annotations

import argparse
import threading
from typing import Any, Protocol

from kivy.clock import Clock, mainthread

from client.autoplay import AUTOPLAY_SPEEDUP, Autoplay
from client.screens.tour import Tour
from client.sensors.camera import FramesFromFiles
from client.sensors.location import SimulatedLocation


class Host(Protocol):
    """What the driver needs of the app (client.app.ArtCachingApp), without importing it."""

    session: Any
    current: str

    def bind(self, **handlers: Any) -> None: ...
    def enter_game(self) -> None: ...
    def finish(self, message: str) -> None: ...
    def fail(self, message: str) -> None: ...


class AutoplayDriver:
    """--autoplay: client.autoplay walks the route on a thread while the screens follow it;
    with --screenshot-dir each screen is saved once on the way."""

    def __init__(self, app: Host, options: argparse.Namespace) -> None:
        self.app = app
        self.cli = options
        self.autoplay: Any = None
        self.tour = Tour(app, options.screenshot_dir) if options.screenshot_dir else None
        self._shot_ar = False
        self._shot_reveal = False
        self._stopped = threading.Event()

    def start(self) -> None:
        Clock.schedule_once(self._timeout, self.cli.timeout)
        if self.tour is not None:
            self.tour.shoot(["start"], self._begin, settle_s=2.0)
        else:
            self._begin()

    def stop(self) -> None:
        self._stopped.set()
        if self.autoplay is not None:
            self.autoplay.stop()

    def _begin(self) -> None:
        self.app.bind(snapshot=self._on_snapshot)
        threading.Thread(target=self._run, name="autoplay-driver", daemon=True).start()

    def _run(self) -> None:
        o, session = self.cli, self.app.session
        try:
            if o.join_code:
                session.join_team(o.rally, o.join_code).result(60)
            else:  # --team: a new team, never a saved one
                session.start_rally(o.rally, o.team, o.lang).result(60)
            location = SimulatedLocation(o.simulate_gpx, speedup=o.speedup or AUTOPLAY_SPEEDUP)
            frames = FramesFromFiles(o.frames) if o.frames else None
            self.autoplay = Autoplay(
                session, location, frames=frames, pace_s=None, answers=o.answers
            )
            self._joined()
            if self._stopped.is_set():
                return
            result = self.autoplay.run()
        except Exception as exc:
            self._end(None, session.describe_error(exc))
            return
        self._end(result, "")

    @mainthread
    def _joined(self) -> None:
        self.app.enter_game()

    def _on_snapshot(self, _app: Any, snap: Any) -> None:
        if self.tour is None or snap is None:
            return
        if (
            not self._shot_ar
            and snap.heading_deg is not None
            and snap.position is not None
            and any(t.marker is not None for t in snap.targets)
        ):
            self._shot_ar = True
            self.tour.shoot(["arview", "map", "scan", "clue"])
        if not self._shot_reveal and snap.last_reveal is not None and self.app.current == "reveal":
            self._shot_reveal = True
            self.tour.shoot(["reveal", "clue"], settle_s=1.5)

    @mainthread
    def _end(self, result: Any, error: str) -> None:
        if result is None:
            self.app.fail(f"autoplay failed: {error}")
            return
        found, total = self.app.session.snapshot.progress
        if not result.finished:
            detail = "; ".join(result.errors[-3:]) or "the walk ended first"
            if (self.cli.speedup or 1.0) > 1 and "future" in detail:
                detail += (
                    " - a sped-up walk stamps its fixes ahead of the clock: start the "
                    "server with MAX_CLOCK_SKEW_S above the walk's length, e.g. 3600"
                )
            self.app.fail(f"autoplay ended with {found}/{total} stops found ({detail})")
            return
        message = (
            f"rally complete: {found}/{total} stops, {len(result.qr_stops)} by QR code "
            f"{list(result.qr_stops)}, {result.fixes} fixes"
        )
        if self.tour is not None:
            self.tour.shoot(["progress"], lambda: self.app.finish(message), settle_s=1.5)
        else:
            self.app.finish(message)

    def _timeout(self, *_: Any) -> None:
        found, total = self.app.session.snapshot.progress if self.app.session else (0, 0)
        self.app.fail(
            f"autoplay did not complete the rally within {self.cli.timeout:g} s "
            f"({found}/{total} stops found)"
        )
