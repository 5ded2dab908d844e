"""Geodesy on the WGS84 ellipsoid in pure Python: distance, bearing, destination.

Uses Karney's algorithms (geographiclib, pure Python), accurate to nanometres, so the phone gets
the same answers as the server without pyproj.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from geographiclib.geodesic import Geodesic

_WGS84 = Geodesic.WGS84
_DIST_AZI = Geodesic.DISTANCE | Geodesic.AZIMUTH
_LATLON = Geodesic.LATITUDE | Geodesic.LONGITUDE


class LatLon(NamedTuple):
    """A WGS84 position in decimal degrees."""

    lat: float
    lon: float


class CoordinateError(ValueError):
    """A latitude or longitude that is not a finite number in range."""


def check_latlon(lat: object, lon: object) -> LatLon:
    """Return a LatLon, or raise CoordinateError naming what is wrong."""
    for name, value, limit in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CoordinateError(f"{name} must be a number, got {value!r}")
        if not math.isfinite(value) or abs(value) > limit:
            raise CoordinateError(f"{name} must lie between -{limit:g} and {limit:g}, got {value}")
    return LatLon(float(lat), float(lon))  # type: ignore[arg-type]


def distance_m(a: LatLon, b: LatLon) -> float:
    """Geodesic distance in metres between two positions."""
    return _WGS84.Inverse(a[0], a[1], b[0], b[1], Geodesic.DISTANCE)["s12"]


def bearing_deg(a: LatLon, b: LatLon) -> float:
    """Initial bearing from a to b in degrees clockwise from true north, in [0, 360)."""
    azi = _WGS84.Inverse(a[0], a[1], b[0], b[1], _DIST_AZI)["azi1"]
    return azi % 360.0


def distance_and_bearing(a: LatLon, b: LatLon) -> tuple[float, float]:
    """Distance in metres and initial bearing in degrees from a to b, in one solution."""
    r = _WGS84.Inverse(a[0], a[1], b[0], b[1], _DIST_AZI)
    return r["s12"], r["azi1"] % 360.0


def destination(start: LatLon, bearing: float, distance: float) -> LatLon:
    """The position reached from start after distance metres on the given initial bearing."""
    r = _WGS84.Direct(start[0], start[1], bearing, distance, _LATLON)
    return LatLon(r["lat2"], (r["lon2"] + 180.0) % 360.0 - 180.0)


def centroid(points: list[LatLon]) -> LatLon:
    """Mean position of nearby points (fine for a city; not for points across the antimeridian)."""
    if not points:
        raise ValueError("centroid of no points")
    return LatLon(sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def bbox(points: list[LatLon]) -> tuple[float, float, float, float]:
    """(min_lat, min_lon, max_lat, max_lon) of the points."""
    if not points:
        raise ValueError("bounding box of no points")
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    return min(lats), min(lons), max(lats), max(lons)


class LocalPlane:
    """An equirectangular tangent plane around an origin: metres east and north, pure Python.

    Good to about 0.1 % within a few kilometres of the origin: enough for point-in-polygon tests and
    screen layout on the phone. Exact distances use distance_m.
    """

    def __init__(self, origin: LatLon) -> None:
        self.origin = LatLon(origin[0], origin[1])
        lat = math.radians(origin[0])
        # Radii of curvature of the WGS84 ellipsoid at the origin's latitude.
        a, f = 6378137.0, 1 / 298.257223563
        e2 = f * (2 - f)
        s = 1 - e2 * math.sin(lat) ** 2
        self._m_per_deg_lat = math.radians(a * (1 - e2) / s**1.5)
        self._m_per_deg_lon = math.radians(a / math.sqrt(s) * math.cos(lat))

    def to_xy(self, p: LatLon) -> tuple[float, float]:
        """Metres east and north of the origin."""
        dlon = (p[1] - self.origin[1] + 180.0) % 360.0 - 180.0
        return dlon * self._m_per_deg_lon, (p[0] - self.origin[0]) * self._m_per_deg_lat

    def to_latlon(self, x: float, y: float) -> LatLon:
        """The position x metres east and y metres north of the origin."""
        return LatLon(
            self.origin[0] + y / self._m_per_deg_lat, self.origin[1] + x / self._m_per_deg_lon
        )
