"""Sensor providers: each has start(callback) / stop(), a real (phone) and a simulated version."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from markers.geo import LatLon


@dataclass(frozen=True)
class Fix:
    """One location fix: WGS84 position, accuracy radius (m, 68 %), UTC time it was taken."""

    lat: float
    lon: float
    accuracy_m: float
    at: datetime
    mock: bool = False
    """Android says a mock location app made this fix (the server will not count it)."""

    @property
    def position(self) -> LatLon:
        return LatLon(self.lat, self.lon)


@dataclass(frozen=True)
class Orientation:
    """Where the camera looks: heading (deg from true north, clockwise) and pitch (deg, up > 0)."""

    heading_deg: float
    pitch_deg: float = 0.0


class Provider(Protocol):
    """A sensor: start(callback) begins delivering readings (from any thread); stop() ends it."""

    def start(self, callback: Callable[[Any], None]) -> None: ...

    def stop(self) -> None: ...


class Replay:
    """Delivers the items of an iterable on a daemon thread, one every interval_s, until stop()."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(
        self, items: Iterable[Any], callback: Callable[[Any], None], interval_s: float
    ) -> None:
        self._stop.clear()

        def run() -> None:
            for item in items:
                if self._stop.is_set():
                    return
                callback(item)
                if self._stop.wait(interval_s):
                    return

        self._thread = threading.Thread(target=run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None
