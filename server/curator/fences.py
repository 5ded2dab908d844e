"""A polygon geofence a curator draws: the checks beyond its JSON schema.

The schema (server/curator/openapi.py) already holds 3 to 50 corners of numbers in range (the
latitude's tighter range is checked here). Here also:
the ring must be simple (it may not cross or touch itself, nor collapse to a line), no corner may
lie farther than MAX_RADIUS_M from the marker, and the marker must lie inside it or at most
MARKER_NEAR_M outside. Shapes are checked in metres on a plane around the marker (shapely), never
in degrees; "outside" is the game's own rule (markers.geofence).
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely

from markers.geo import LatLon, LocalPlane, distance_m
from markers.geofence import MAX_RADIUS_M, Geofence
from server.usererror import UserError

MIN_CORNERS = 3
MAX_CORNERS = 50
MARKER_NEAR_M = 25.0
"""How far outside its polygon the marker itself may lie (a pin on the pavement beside a
building drawn as the fence)."""
FIELD = "polygon"


def checked(polygon: Sequence[Sequence[float]], lat: float, lon: float) -> list[list[float]]:
    """The polygon as stored (a closing corner equal to the first is dropped), or a 422 naming
    the field "polygon"."""
    corners = [[float(p[0]), float(p[1])] for p in polygon]
    if len(corners) > 1 and corners[0] == corners[-1]:
        corners.pop()
    if not MIN_CORNERS <= len(corners) <= MAX_CORNERS or any(abs(p[0]) > 90 for p in corners):
        raise UserError(
            "polygon_corners", status=422, field=FIELD, min=MIN_CORNERS, max=MAX_CORNERS
        )
    marker = LatLon(lat, lon)
    points = [LatLon(p[0], p[1]) for p in corners]
    plane = LocalPlane(marker)
    shape = shapely.Polygon([plane.to_xy(p) for p in points])
    if not shape.is_valid or shape.area <= 0:
        raise UserError("polygon_not_simple", status=422, field=FIELD)
    outside = Geofence(marker, MAX_RADIUS_M, tuple(points)).distance_outside_m(marker)
    if outside > MARKER_NEAR_M:
        raise UserError(
            "polygon_far_from_marker",
            status=422,
            field=FIELD,
            distance=round(outside),
            max=round(MARKER_NEAR_M),
        )
    farthest = max(distance_m(marker, p) for p in points)
    if farthest > MAX_RADIUS_M:
        raise UserError(
            "polygon_too_large",
            status=422,
            field=FIELD,
            distance=round(farthest),
            max=round(MAX_RADIUS_M),
        )
    return corners
