"""A rally's walking line: its legs, length, estimated duration and bounding box.

The line runs start -> each stop's marker -> finish (``Rally.waypoints``); distances are geodesic
(``markers.geo.distance_m``), so this runs on the phone as well as on the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from markers.geo import LatLon, bbox, distance_m
from routes.model import Rally

BBox = tuple[float, float, float, float]
"""(min_lat, min_lon, max_lat, max_lon)."""


@dataclass(frozen=True)
class RouteSummary:
    """A rally's route in numbers: metres, seconds, bounding box and each leg's length."""

    length_m: float
    duration_s: float
    """walking_s + dwell_s: the estimated time to play the rally."""
    walking_s: float
    dwell_s: float
    bbox: BBox | None
    """None for a rally without any point."""
    legs: tuple[float, ...]
    """Length of each leg in metres; leg i runs from waypoint i to waypoint i + 1."""


def route_line(rally: Rally) -> list[LatLon]:
    """The walking line's corners: start, each stop's marker, finish."""
    return rally.waypoints()


def leg_lengths_m(points: Sequence[LatLon]) -> list[float]:
    """Geodesic length in metres of each leg between consecutive points."""
    return [distance_m(a, b) for a, b in pairwise(points)]


def length_m(route: Rally | Sequence[LatLon]) -> float:
    """Length in metres of a rally's walking line, or of the line through the given points."""
    points = route.waypoints() if isinstance(route, Rally) else route
    return sum(leg_lengths_m(points))


def summarize(rally: Rally) -> RouteSummary:
    """Length, walking time at ``rally.walking_speed_mps``, ``rally.dwell_s`` per stop, bbox."""
    points = rally.waypoints()
    legs = tuple(leg_lengths_m(points))
    length = sum(legs)
    walking = length / rally.walking_speed_mps
    dwell = rally.dwell_s * len(rally.stops)
    return RouteSummary(
        length_m=length,
        duration_s=walking + dwell,
        walking_s=walking,
        dwell_s=dwell,
        bbox=bbox(points) if points else None,
        legs=legs,
    )


def walking_duration_s(rally: Rally) -> float:
    """Estimated seconds to play the rally: walking its line plus the dwell time at each stop."""
    return summarize(rally).duration_s


def bounding_box(rally: Rally) -> BBox:
    """(min_lat, min_lon, max_lat, max_lon) of the walking line; ValueError for an empty rally."""
    points = rally.waypoints()
    if not points:
        raise ValueError(f"rally {rally.slug!r} has no stops, start or finish: no bounding box")
    return bbox(points)
