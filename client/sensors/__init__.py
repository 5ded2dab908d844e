"""Sensor providers: each has start(callback) / stop(), a real (phone) and a simulated version."""

from __future__ import annotations

from collections.abc import Callable
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
