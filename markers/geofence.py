"""Geofences and the one rule that decides whether a GPS fix is inside one.

The rule: a fix counts as inside when its distance to the fence is at most its reported accuracy,
and that accuracy is believed only up to a cap (``ACCURACY_CAP_M`` by default). So a fix 30 m from
a 20 m circle with 15 m accuracy is inside; one with 500 m accuracy is believed only up to the cap.
Pure Python, no shapely: the phone applies the same rule offline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markers.geo import LatLon, LocalPlane, distance_m

ACCURACY_CAP_M = 25.0
MIN_RADIUS_M = 5.0
MAX_RADIUS_M = 500.0


def tolerance_m(accuracy_m: float | None, cap_m: float = ACCURACY_CAP_M) -> float:
    """How far outside a fence a fix may lie and still count: its accuracy, clamped to [0, cap]."""
    if accuracy_m is None or not math.isfinite(accuracy_m) or accuracy_m <= 0:
        return 0.0
    return min(accuracy_m, cap_m)


@dataclass(frozen=True)
class Geofence:
    """A circle of ``radius_m`` around ``center``, or, when ``polygon`` is given, that polygon."""

    center: LatLon
    radius_m: float
    polygon: tuple[LatLon, ...] | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.radius_m) and self.radius_m > 0):
            raise ValueError(f"radius must be a positive number of metres, got {self.radius_m}")
        if self.polygon is not None and len(self.polygon) < 3:
            raise ValueError("a polygon geofence needs at least three corners")

    def distance_outside_m(self, p: LatLon) -> float:
        """Metres from p to the fence; 0 when p is inside it."""
        if self.polygon is None:
            return max(0.0, distance_m(self.center, p) - self.radius_m)
        return _polygon_distance_m(self.polygon, p)

    def contains(
        self, p: LatLon, accuracy_m: float | None = None, cap_m: float = ACCURACY_CAP_M
    ) -> bool:
        """True when a fix at p with the given accuracy counts as inside (the module's rule)."""
        return self.distance_outside_m(p) <= tolerance_m(accuracy_m, cap_m)

    def reach_m(self) -> float:
        """Radius of the smallest circle around center that holds the whole fence."""
        if self.polygon is None:
            return self.radius_m
        return max(distance_m(self.center, c) for c in self.polygon)


def _polygon_distance_m(polygon: Sequence[LatLon], p: LatLon) -> float:
    plane = LocalPlane(p)
    pts = [plane.to_xy(c) for c in polygon]
    if _point_in_ring(pts, 0.0, 0.0):
        return 0.0
    return min(_segment_distance(pts[i], pts[(i + 1) % len(pts)]) for i in range(len(pts)))


def _point_in_ring(ring: list[tuple[float, float]], x: float, y: float) -> bool:
    inside = False
    j = len(ring) - 1
    for i, (xi, yi) in enumerate(ring):
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _segment_distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from the origin to segment ab."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length2))
    return math.hypot(ax + t * dx, ay + t * dy)
