"""Spatial index of markers: those within d metres of a position, and the k nearest.

Which markers, and their order (ties: insertion order), are always the geodesic brute force's. The
"grid" backend (pure Python, for the phone) proposes candidates and measures each with
markers.geo.distance_m, so its metres are the brute force's to the bit. The "strtree" backend
(shapely STRtree in projected metres, server side; used when shapely and pyproj import and the
markers fit one UTM projection) estimates metres from the projection with a proven error bound and
measures a geodesic only where the bound leaves the answer in doubt. Its metres s differ from
distance_m's by at most s * (rel + 2.1e-15 * s^2) + 1 µm, rel computed for each index: under 2e-8
for markers spread up to 20 km (20 µm at 1 km, 2 mm at 10 km), 1e-7 at 100 km.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from itertools import product
from typing import Any, Literal, Protocol

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
_FAST_M = 10_000.0
"""Up to this distance the STRtree backend answers from projected metres (within its box)."""
_BOX_M = 10_000.0
"""How far beyond the markers the fitted scale factor reaches (queries from there are fast)."""
_ABS_M = 1e-6
"""Absolute slack of the planar estimate of a geodesic distance (projection and rounding)."""
_BEND = 1e-8
"""Relative slack for the projected geodesic's bend and k's change across it, up to 10 km."""
_WIDEN = 1.000001
"""Planar search radii are this much wider than the estimate's error needs (rounding)."""


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
        self._fast = self._candidates if isinstance(self._candidates, _StrTree) else None

    def __len__(self) -> int:
        return len(self.ids)

    def within(self, p: LatLon, d_m: float) -> list[tuple[Hashable, float]]:
        """(id, metres) of the markers at most d_m from p, nearest first (ties: insertion order)."""
        p = check_latlon(p[0], p[1])
        if not (math.isfinite(d_m) and d_m >= 0):
            raise ValueError(f"distance must be a non-negative number of metres, got {d_m}")
        if self._fast and (answer := self._fast.within(p, d_m)) is not None:
            return list(zip(map(self.ids.__getitem__, answer[0]), answer[1], strict=True))
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
        if self._fast and (answer := self._fast.nearest(p, k, r)) is not None:
            return list(zip(map(self.ids.__getitem__, answer[0]), answer[1], strict=True))
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
    """Candidates from an STRtree over projected points, and exact answers with few geodesics.

    Near the markers (in a box 10 km wider than theirs) the projection's scale factor k is a
    quadratic in x and y fitted when the index is built, its error measured on a finer grid. A
    geodesic distance is then the planar one over the mean of k at its two ends, within a proven
    relative error (the fit's error, the rest of k's curve along the way, the projected geodesic's
    bend) plus ``_ABS_M``. Only markers whose interval straddles the radius, or overlaps a
    neighbour's so that the order is in doubt, are measured with markers.geo.distance_m.
    """

    def __init__(self, points: Sequence[LatLon]) -> None:
        import numpy as np
        import shapely

        from markers.projection import projector_for

        self._np, self._point = np, shapely.Point
        self._points = points
        self._projector = projector_for(points)
        scales = self._projector.scales(points)
        self._k_max = float(scales.max())
        if not self._k_max <= _MAX_K:
            raise _TooWide(
                f"the markers span too wide an area for one projection "
                f"(EPSG:{self._projector.epsg}); use the grid backend"
            )
        self._x, self._y = (np.ascontiguousarray(a) for a in self._projector.to_xy_many(points))
        self._z = self._x + 1j * self._y  # one complex array: a distance is one subtraction
        self._k_half = scales / 2
        self._tree = shapely.STRtree(shapely.points(self._x, self._y))
        self._fit_scale(float(scales.min()))

    def _fit_scale(self, k_min: float) -> None:
        """Fit k(x, y) over the box as a quadratic and bound the error of s = L / mean(k)."""
        np = self._np
        x0, x1 = float(self._x.min()) - _BOX_M, float(self._x.max()) + _BOX_M
        y0, y1 = float(self._y.min()) - _BOX_M, float(self._y.max()) + _BOX_M
        self._box = (x0, x1, y0, y1)
        self._cx, self._cy = (x0 + x1) / 2, (y0 + y1) / 2
        self._h = max(x1 - x0, y1 - y0) / 2

        def terms(u: Any, v: Any) -> Any:
            return np.stack([np.ones_like(u), u, v, u * u, u * v, v * v], axis=-1)

        def sample(n: int) -> tuple[Any, Any, Any]:
            gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
            k = self._projector.scales(self._projector.to_latlon_many(gx.ravel(), gy.ravel()))
            return (gx.ravel() - self._cx) / self._h, (gy.ravel() - self._cy) / self._h, k

        u, v, k = sample(9)
        coef = np.linalg.lstsq(terms(u, v), k, rcond=None)[0]
        u, v, k = sample(17)  # the fit's error, measured between the points it was fitted to
        err = float(np.max(np.abs(terms(u, v) @ coef - k)))
        self._fitted = bool(np.isfinite(err) and err < 1e-7)
        self._coef = [float(c) for c in coef]
        self._k_hi = float(max(k.max(), self._k_max)) + 2 * err
        self._k_lo = k_lo = float(min(k.min(), k_min)) - 2 * err
        # mean(k) on a segment differs from the mean at its ends by its quadratic part / 6, at
        # most (|cxx| + |cxy| / 2 + |cyy|) L^2 / 6; the fit errs by at most twice the measured.
        self._curve = (abs(coef[3]) + abs(coef[4]) / 2 + abs(coef[5])) / self._h**2 / 6 / k_lo
        self._rel = 4 * err / k_lo + _BEND

    def __call__(self, p: LatLon, d: float) -> list[int] | None:
        k = self._projector.scale(p)
        if d > _MAX_STRTREE_M or not k <= _MAX_K:
            return None
        # Projected distance <= geodesic distance * the largest scale factor on the way.
        r = d * max(k, self._k_max) * 1.001 + 1.0
        return self._tree.query(self._point(self._projector.to_xy(p)), "dwithin", r).tolist()

    def within(self, p: LatLon, d: float) -> tuple[list[int], list[float]] | None:
        """Indices and metres of those within d, nearest first; None: ask the slow path."""
        if d > _FAST_M or (near := self._near(p)) is None:
            return None
        found = self._query(near, d * self._k_hi * _WIDEN + _ABS_M)
        return self._decide(p, *found, d, None)

    def nearest(self, p: LatLon, k: int, r: float) -> tuple[list[int], list[float]] | None:
        """Indices and metres of the k nearest, searching from r projected metres."""
        if (near := self._near(p)) is None:
            return None
        reach = _FAST_M * self._k_hi * _WIDEN
        if k == 1:  # the planar nearest bounds the nearest: search no further than it may lie
            planar = float(self._tree.query_nearest(near[3], return_distance=True)[1][0])
            rel = self._rel + self._curve * planar * planar
            r = (planar / self._k_lo * (1 + rel) + _ABS_M) * self._k_hi * _WIDEN + _ABS_M
        while len((found := self._query(near, r := min(r, reach)))[0]) < k:
            if r >= reach:
                return None
            r *= 2.0
        idx, s, rel = found
        # Above the k-th distance's upper bound no marker can be among the k; search out to it.
        bound = float(self._np.partition(s, k - 1)[k - 1]) * (1 + rel) + _ABS_M
        if bound * self._k_hi * _WIDEN + _ABS_M > r:
            if bound > _FAST_M:
                return None
            idx, s, rel = self._query(near, bound * self._k_hi * _WIDEN + _ABS_M)
        return self._decide(p, idx, s, rel, bound, k)

    def _near(self, p: LatLon) -> tuple[float, float, float, Any] | None:
        """x, y, the fitted scale factor and the shapely point of p; None outside the box."""
        if not self._fitted:
            return None
        try:
            px, py = self._projector.to_xy(p)
        except ValueError:
            return None
        x0, x1, y0, y1 = self._box
        if not (x0 <= px <= x1 and y0 <= py <= y1):
            return None
        u, v = (px - self._cx) / self._h, (py - self._cy) / self._h
        c = self._coef
        kp = c[0] + c[1] * u + c[2] * v + c[3] * u * u + c[4] * u * v + c[5] * v * v
        return px, py, kp, self._point(px, py)

    def _query(self, near: tuple[float, float, float, Any], r: float) -> tuple[Any, Any, float]:
        """Indices within r projected metres, their estimated metres, and the estimate's error."""
        px, py, kp, point = near
        idx = self._tree.query(point, "dwithin", r)
        est = abs(self._z[idx] - complex(px, py)) / (self._k_half[idx] + kp / 2)
        return idx, est, self._rel + self._curve * r * r

    def _decide(
        self, p: LatLon, idx: Any, s: Any, rel: float, limit: float, k: int | None
    ) -> tuple[list[int], list[float]]:
        """Those within limit (k None) or the k nearest, exactly ordered; each estimate s is
        within s * rel + _ABS_M of the geodesic, and that interval grows with s."""
        np = self._np
        if len(s) < 2:  # nothing to order
            if not len(s) or s[0] * (1 - rel) - _ABS_M > limit:
                return [], []
            metres = float(s[0])
            if k is None and metres * (1 + rel) + _ABS_M > limit:
                metres = distance_m(p, self._points[idx[0]])
            return ([int(idx[0])], [metres]) if metres <= limit else ([], [])
        order = s.argsort()
        idx, s = idx[order], s[order]
        n = int(s.searchsorted((limit + _ABS_M) / (1 - rel), "right"))  # may lie within limit
        if n == 0:
            return [], []
        if n < len(s):
            idx, s = idx[:n], s[:n]
        # Neighbours whose intervals may overlap may be in either order (so may exact ties).
        close = s[1:] - s[:-1] <= 2 * (float(s[-1]) * rel + _ABS_M)
        if k is None:  # from here on the interval reaches past the limit
            sure = int(s.searchsorted((limit - _ABS_M) / (1 + rel), "right"))
        else:  # only the k first matter, with whoever is close to them
            sure = n
            n = min(n, k)
            while 0 < n < len(s) and close[n - 1]:
                n += 1
            idx, s, close = idx[:n], s[:n], close[: n - 1]
        if sure >= n and not np.count_nonzero(close):
            return idx.tolist(), s.tolist()
        unsure = np.zeros(n, bool)
        unsure[sure:] = True
        unsure[1:] |= close
        unsure[:-1] |= close
        s = s.copy()
        for j in np.flatnonzero(unsure).tolist():
            s[j] = distance_m(p, self._points[idx[j]])
        if k is None:
            idx, s = idx[s <= limit], s[s <= limit]
        order = np.lexsort((idx, s))[:k]
        return idx[order].tolist(), s[order].tolist()


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
