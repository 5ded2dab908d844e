"""Spatial index of markers: those within d metres of a position, and the k nearest.

A backend only proposes candidates, always a superset of the answer; every reported distance is
geodesic (markers.geo.distance_m), so both backends give identical answers. The "strtree" backend
(shapely STRtree in projected metres, server side) is used when shapely and pyproj import and the
markers fit one UTM projection; the "grid" backend is pure Python, for the phone.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from itertools import product
from typing import Literal, Protocol

from markers.geo import CoordinateError, LatLon, bbox, check_latlon, distance_m

Backend = Literal["strtree", "grid"]

_A = 6378137.0
"""WGS84 semi-major axis: no parallel has a larger radius than a cos(lat)."""
_M_MIN = 6335439.327
"""Smallest meridional radius of curvature of WGS84 (at the equator): b^2/a."""
_M_PER_DEG = math.pi / 180.0 * 6371008.8
_MAX_K = 1.01
"""The STRtree takes markers and queries whose projection stretches distances by at most 1 %."""
_MAX_STRTREE_M = 100_000.0
"""Beyond this radius the STRtree prefilter's error bound is not trusted: all are candidates."""


class _Candidates(Protocol):
    def __call__(self, p: LatLon, d: float) -> Iterable[int] | None:
        """Indices of a superset of the markers within d metres of p; None means all of them."""


class MarkerIndex:
    """Markers by id (any hashable, usually int), queried by distance.

    ``backend`` None picks "strtree" where it can, else "grid"; ``cell_m`` sizes the grid's cells
    (default: twice the typical spacing of the markers).
    """

    def __init__(
        self,
        markers: Mapping[Hashable, LatLon],
        backend: Backend | None = None,
        cell_m: float | None = None,
    ) -> None:
        self.ids: list[Hashable] = list(markers)
        self.points: list[LatLon] = [_checked(i, p) for i, p in markers.items()]
        self._spacing_m = _spacing_m(self.points)
        if backend not in (None, "strtree", "grid"):
            raise ValueError(f"backend must be 'strtree' or 'grid', got {backend!r}")
        if cell_m is not None and not (math.isfinite(cell_m) and cell_m > 0):
            raise ValueError(f"cell_m must be a positive number of metres, got {cell_m}")
        self.backend, self._candidates = _backend(
            self.points, backend, cell_m or 2.0 * self._spacing_m
        )

    def __len__(self) -> int:
        return len(self.ids)

    def within(self, p: LatLon, d_m: float) -> list[tuple[Hashable, float]]:
        """(id, metres) of the markers at most d_m from p, nearest first (ties: insertion order)."""
        p = check_latlon(p[0], p[1])
        if not (math.isfinite(d_m) and d_m >= 0):
            raise ValueError(f"distance must be a non-negative number of metres, got {d_m}")
        found = self._measure(p, self._candidates(p, d_m), {})
        return self._sorted((i, dist) for i, dist in found.items() if dist <= d_m)

    def nearest(self, p: LatLon, k: int) -> list[tuple[Hashable, float]]:
        """(id, metres) of the k markers nearest to p, nearest first (ties: insertion order)."""
        p = check_latlon(p[0], p[1])
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ValueError(f"k must be a non-negative integer, got {k!r}")
        k = min(k, len(self))
        if k == 0:
            return []
        r = self._spacing_m * math.sqrt(k)
        while (candidates := self._candidates(p, r)) is not None:
            candidates = list(candidates)
            if len(candidates) >= k:
                break
            r *= 2.0
        measured = self._measure(p, candidates, {})
        # The k-th smallest distance so far bounds the k-th nearest: all nearer are candidates now.
        bound = sorted(measured.values())[k - 1]
        if bound > r:
            self._measure(p, self._candidates(p, bound), measured)
        return self._sorted(measured.items())[:k]

    def _measure(
        self, p: LatLon, candidates: Iterable[int] | None, measured: dict[int, float]
    ) -> dict[int, float]:
        for i in range(len(self)) if candidates is None else candidates:
            if i not in measured:
                measured[i] = distance_m(p, self.points[i])
        return measured

    def _sorted(self, found: Iterable[tuple[int, float]]) -> list[tuple[Hashable, float]]:
        return [(self.ids[i], dist) for i, dist in sorted(found, key=lambda f: (f[1], f[0]))]


def _checked(marker_id: Hashable, p: LatLon) -> LatLon:
    try:
        return check_latlon(p[0], p[1])
    except (CoordinateError, TypeError, IndexError) as e:
        raise CoordinateError(f"marker {marker_id!r}: {e}") from e


def _spacing_m(points: Sequence[LatLon]) -> float:
    """Typical distance between neighbouring markers, from the area of their bounding box."""
    if not points:
        return 1.0
    lat0, lon0, lat1, lon1 = bbox(list(points))
    cos_lat = max(math.cos(math.radians((lat0 + lat1) / 2)), 0.01)
    area = (lat1 - lat0) * (lon1 - lon0) * cos_lat * _M_PER_DEG**2
    return min(max(math.sqrt(area / len(points)), 1.0), 1e6)


def _strtree_available() -> bool:
    try:
        import pyproj  # noqa: F401
        import shapely  # noqa: F401
    except ImportError:
        return False
    return True


def _backend(
    points: Sequence[LatLon], backend: Backend | None, cell_m: float
) -> tuple[Backend, _Candidates]:
    if not points:
        return backend or "grid", lambda p, d: ()
    if backend == "strtree" or (backend is None and _strtree_available()):
        try:
            return "strtree", _StrTree(points)
        except _TooWide:
            if backend:
                raise
    return "grid", _Grid(points, cell_m)


class _TooWide(ValueError):
    """The markers span too wide an area for one UTM projection."""


class _StrTree:
    """Candidates from an STRtree over projected points, the radius widened by the scale factor."""

    def __init__(self, points: Sequence[LatLon]) -> None:
        import shapely

        from markers.projection import projector_for

        self._projector = projector_for(points)
        self._k_max = float(self._projector.scales(points).max())
        if not self._k_max <= _MAX_K:
            raise _TooWide(
                f"the markers span too wide an area for one projection "
                f"(EPSG:{self._projector.epsg}); use the grid backend"
            )
        self._tree = shapely.STRtree(shapely.points(*self._projector.to_xy_many(points)))
        self._point = shapely.Point

    def __call__(self, p: LatLon, d: float) -> list[int] | None:
        k = self._projector.scale(p)
        if d > _MAX_STRTREE_M or not k <= _MAX_K:
            return None
        # Projected distance <= geodesic distance * the largest scale factor on the way.
        r = d * max(k, self._k_max) * 1.001 + 1.0
        hits = self._tree.query(self._point(self._projector.to_xy(p)), "dwithin", distance=r)
        return hits.tolist()


class _Grid:
    """Candidates from a grid of latitude/longitude cells, searched over a provably wide box."""

    def __init__(self, points: Sequence[LatLon], cell_m: float) -> None:
        lat0, _, lat1, _ = bbox(list(points))
        cos_lat = max(math.cos(math.radians((lat0 + lat1) / 2)), 0.01)
        self._dlat = min(cell_m / _M_PER_DEG, 180.0)
        self._nlon = max(1, min(math.ceil(360.0 / (cell_m / (_M_PER_DEG * cos_lat))), 1 << 20))
        self._dlon = 360.0 / self._nlon
        self._cells: dict[tuple[int, int], list[int]] = {}
        for i, p in enumerate(points):
            self._cells.setdefault(self._cell(p.lat, p.lon), []).append(i)

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return math.floor(lat / self._dlat), math.floor((lon + 180.0) / self._dlon) % self._nlon

    def __call__(self, p: LatLon, d: float) -> list[int]:
        d = d * (1 + 1e-6) + 1e-3
        # A path of length d changes latitude by at most d / M_min and, on parallels no longer than
        # a cos(lat_far), longitude by at most d / (a cos(lat_far)).
        dlat = math.degrees(d / _M_MIN)
        lat_lo, lat_hi = p.lat - dlat, p.lat + dlat
        lat_far = max(abs(lat_lo), abs(lat_hi))
        rows = range(math.floor(lat_lo / self._dlat), math.floor(lat_hi / self._dlat) + 1)
        cols: Collection[int] = range(self._nlon)
        if lat_far < 90.0:
            dlon = math.degrees(d / (_A * math.cos(math.radians(lat_far))))
            first = math.floor((p.lon - dlon + 180.0) / self._dlon)
            last = math.floor((p.lon + dlon + 180.0) / self._dlon)
            if last - first + 1 < self._nlon:
                cols = {c % self._nlon for c in range(first, last + 1)}
        if len(rows) * len(cols) > len(self._cells):
            keys: Iterable[tuple[int, int]] = (
                key for key in self._cells if key[0] in rows and key[1] in cols
            )
        else:
            keys = product(rows, cols)
        return [i for key in keys for i in self._cells.get(key, ())]
