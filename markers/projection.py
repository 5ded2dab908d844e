"""Projection to a metric CRS (pyproj, server side): ETRS89/UTM in Europe, WGS84/UTM elsewhere.

Geometry in metres (buffers, areas, the spatial index) happens in the UTM zone of the data's
centroid; positions enter and leave as WGS84 latitude/longitude.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np
from pyproj import CRS, Proj, Transformer

from markers.geo import LatLon, centroid, check_latlon

_WGS84 = 4326
_ETRS89 = 4258
_ETRS89_ZONES = range(28, 39)
# Svalbard's zones 31, 33, 35 and 37 are widened to 9, 12, 12 and 9 degrees.
_SVALBARD = ((9.0, 31), (21.0, 33), (33.0, 35), (42.0, 37))


def utm_zone(lat: float, lon: float) -> int:
    """The UTM zone number of a position, with the Norway and Svalbard exceptions."""
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        return 32
    if lat >= 72.0 and 0.0 <= lon < 42.0:
        return next(zone for east, zone in _SVALBARD if lon < east)
    return min(int((lon + 180.0) // 6.0) + 1, 60)


def utm_epsg(lat: float, lon: float) -> int:
    """EPSG code of the metric CRS for a position: ETRS89/UTM (258zz) where EPSG says it applies.

    Elsewhere WGS84/UTM north (326zz) or south (327zz); beyond UTM's latitudes (84 N, 80 S) the
    polar stereographic UPS north (32661) or south (32761).
    """
    p = check_latlon(lat, lon)
    if p.lat > 84.0:
        return 32661
    if p.lat < -80.0:
        return 32761
    zone = utm_zone(p.lat, p.lon)
    if zone in _ETRS89_ZONES and _in_etrs89(zone, p):
        return 25800 + zone
    return (32600 if p.lat >= 0 else 32700) + zone


def _in_etrs89(zone: int, p: LatLon) -> bool:
    """Inside ETRS89's extent and its UTM zone's latitudes (the zone's longitudes may widen)."""
    west, south, east, north = _bounds(_ETRS89)
    _, zone_south, _, zone_north = _bounds(25800 + zone)
    return west <= p.lon <= east and max(south, zone_south) <= p.lat <= min(north, zone_north)


@cache
def _bounds(epsg: int) -> tuple[float, float, float, float]:
    area = CRS.from_epsg(epsg).area_of_use
    assert area is not None, f"EPSG:{epsg} has no area of use"
    return area.bounds


@cache
def _tools(epsg: int) -> tuple[Transformer, Transformer, Proj]:
    crs = CRS.from_epsg(epsg)
    if not crs.is_projected or crs.axis_info[0].unit_name != "metre":
        raise ValueError(f"EPSG:{epsg} is not a projected CRS in metres")
    return (
        Transformer.from_crs(_WGS84, crs, always_xy=True),
        Transformer.from_crs(crs, _WGS84, always_xy=True),
        Proj(crs),
    )


class Projector:
    """WGS84 latitude/longitude to and from x (east) and y (north) metres in one projected CRS."""

    def __init__(self, epsg: int) -> None:
        self.epsg = epsg
        self._forward, self._inverse, self._proj = _tools(epsg)

    def __repr__(self) -> str:
        return f"Projector(epsg={self.epsg})"

    def to_xy(self, p: LatLon) -> tuple[float, float]:
        """Metres east and north of p; ValueError when p lies outside the projection's domain."""
        x, y = self._forward.transform(p[1], p[0])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"({p[0]}, {p[1]}) cannot be projected to EPSG:{self.epsg}")
        return x, y

    def to_latlon(self, x: float, y: float) -> LatLon:
        """The position at x metres east and y metres north."""
        lon, lat = self._inverse.transform(x, y)
        return LatLon(lat, lon)

    def to_xy_many(self, points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
        """Arrays of x and y for many points (inf where a point lies outside the domain)."""
        lats, lons = _columns(points)
        return self._forward.transform(lons, lats)

    def to_latlon_many(self, xs: Sequence[float], ys: Sequence[float]) -> list[LatLon]:
        """Positions for arrays of x and y."""
        lons, lats = self._inverse.transform(np.asarray(xs, float), np.asarray(ys, float))
        return [LatLon(float(lat), float(lon)) for lat, lon in zip(lats, lons, strict=True)]

    def scale(self, p: LatLon) -> float:
        """Point scale factor at p: projected metres per metre on the ellipsoid (NaN outside)."""
        return float(self.scales([p])[0])

    def scales(self, points: Sequence[LatLon]) -> np.ndarray:
        """Point scale factors of many points (the larger of meridional and parallel scale)."""
        lats, lons = _columns(points)
        f = self._proj.get_factors(lons, lats)
        return np.fmax(np.asarray(f.meridional_scale), np.asarray(f.parallel_scale))


def _columns(points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(points, dtype=float).reshape(-1, 2)
    return a[:, 0], a[:, 1]


@lru_cache(maxsize=64)
def projector(epsg: int) -> Projector:
    """The (shared) Projector of an EPSG code."""
    return Projector(epsg)


def projector_for(points: Sequence[LatLon]) -> Projector:
    """The Projector for the UTM zone of the points' centroid."""
    return projector(utm_epsg(*centroid(list(points))))
