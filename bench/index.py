"""Time MarkerIndex on 10,000 markers around Kaiserslautern against a raw shapely STRtree.

The raw baseline does the same job in planar metres with no geodesic correction: it projects the
query with the same pyproj projector, asks a shapely STRtree over the same projected points for
those within d (predicate "dwithin"), and returns (id, planar metres) nearest first (ties:
insertion order), as MarkerIndex.within does. For nearest-k, shapely's STRtree.query_nearest gives
only the single nearest, so the planar k nearest come from its "dwithin" query from the radius
MarkerIndex starts with, doubled until it holds k, sorted the same way; nearest-1 (a reference
line, no target in issue 14) is query_nearest itself. Both run on the same queries in the same run,
alternating, best of a few rounds of this process's CPU time (other load on the machine counts
less). The answers are checked against the geodesic brute force first; the grid fallback (the
phone's backend) is timed on a few queries, and the bare "dwithin" query (indices only, unordered,
no metres) beside each within, for reference.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Hashable, Sequence

import numpy as np
import shapely

from bench import figure
from markers.geo import LatLon, destination, distance_m
from markers.index import MarkerIndex
from markers.projection import projector_for

CENTRE = LatLon(49.4447, 7.7690)  # Fruchthalle
MARKERS = 10_000
SPREAD_M = 5_000.0
QUERIES = 200
ROUNDS = 7
CHECKED = 3  # queries checked against the brute force (0.4 s each)
GRID_QUERIES = 10
CASES = [("within", 50.0), ("within", 200.0), ("within", 1000.0), ("nearest", 10), ("nearest", 1)]
TARGET = 1.5  # issue 14, for every kind but nearest-1
Answer = list[tuple[Hashable, float]]


class BruteForce:
    """The geodesic distance to every marker, nearest first (ties: insertion order)."""

    def __init__(self, markers: dict[Hashable, LatLon]) -> None:
        self.markers = markers

    def _all(self, p: LatLon) -> Answer:
        return sorted(((i, distance_m(p, q)) for i, q in self.markers.items()), key=lambda f: f[1])

    def within(self, p: LatLon, d: float) -> Answer:
        return [f for f in self._all(p) if f[1] <= d]

    def nearest(self, p: LatLon, k: int) -> Answer:
        return self._all(p)[:k]


class RawStrTree:
    """The baseline: a shapely STRtree over the projected points, planar metres, no correction."""

    def __init__(self, markers: dict[Hashable, LatLon]) -> None:
        points = list(markers.values())
        self.ids = list(markers)
        projector = projector_for(points)
        self._to_xy = projector.to_xy
        self.x, self.y = projector.to_xy_many(points)
        self.tree = shapely.STRtree(shapely.points(self.x, self.y))
        self.start_m = MarkerIndex(markers, "grid")._spacing_m * 1.5

    def _answer(self, hits: np.ndarray, px: float, py: float) -> tuple[np.ndarray, np.ndarray]:
        dist = np.hypot(self.x[hits] - px, self.y[hits] - py)
        order = np.lexsort((hits, dist))
        return hits[order], dist[order]

    def within(self, p: LatLon, d: float) -> Answer:
        px, py = self._to_xy(p)
        hits = self.tree.query(shapely.Point(px, py), "dwithin", d)
        hits, dist = self._answer(hits, px, py)
        return list(zip(map(self.ids.__getitem__, hits.tolist()), dist.tolist(), strict=True))

    def bare(self, p: LatLon, d: float) -> np.ndarray:
        """The query alone: indices within d planar metres, unordered, no distances."""
        return self.tree.query(shapely.Point(self._to_xy(p)), "dwithin", d)

    def nearest(self, p: LatLon, k: int) -> Answer:
        px, py = self._to_xy(p)
        point = shapely.Point(px, py)
        if k == 1:
            hits = self.tree.query_nearest(point)
        else:
            r = self.start_m * math.sqrt(k)
            while len(hits := self.tree.query(point, "dwithin", r)) < k:
                r *= 2.0
        hits, dist = self._answer(hits, px, py)
        return list(
            zip(map(self.ids.__getitem__, hits[:k].tolist()), dist[:k].tolist(), strict=True)
        )


def _random_point(rng: random.Random, radius_m: float) -> LatLon:
    return destination(CENTRE, rng.uniform(0.0, 360.0), radius_m * rng.random() ** 0.5)


def _ms_per_query(
    query: Callable[[LatLon, float], object], arg: float, points: Sequence[LatLon]
) -> float:
    start = time.process_time()
    for p in points:
        query(p, arg)
    return (time.process_time() - start) / len(points) * 1e3


def _agrees(answer: Answer, expected: Answer) -> bool:
    """Same markers in the same order, metres within the STRtree's bound (MarkerIndex)."""
    return [i for i, _ in answer] == [i for i, _ in expected] and all(
        abs(a - b) <= b * (2e-8 + 2.1e-15 * b * b) + 1e-6
        for (_, a), (_, b) in zip(answer, expected, strict=True)
    )


def main() -> None:
    rng = random.Random(2024)
    markers = {i: _random_point(rng, SPREAD_M) for i in range(MARKERS)}
    queries = [_random_point(rng, SPREAD_M * 1.2) for _ in range(QUERIES)]
    start = time.perf_counter()
    index = MarkerIndex(markers, backend="strtree")
    built = (time.perf_counter() - start) * 1e3
    grid = MarkerIndex(markers, backend="grid")
    raw = RawStrTree(markers)
    print(f"build: MarkerIndex (strtree) {built:.0f} ms for {MARKERS} markers")
    brute = BruteForce(markers)
    truth = [brute._all(p) for p in queries[:CHECKED]]  # figures need right answers

    for method, arg in CASES:
        label = f"{method} {arg:g}{' m' if method == 'within' else ''}"
        for p, everything in zip(queries, truth, strict=False):
            expected = (
                [f for f in everything if f[1] <= arg]
                if method == "within"
                else everything[: int(arg)]
            )
            assert _agrees(getattr(index, method)(p, arg), expected), label
            assert getattr(grid, method)(p, arg) == expected, label
        ours, theirs = math.inf, math.inf
        for _ in range(ROUNDS):
            ours = min(ours, _ms_per_query(getattr(index, method), arg, queries))
            theirs = min(theirs, _ms_per_query(getattr(raw, method), arg, queries))
        slow = _ms_per_query(getattr(grid, method), arg, queries[:GRID_QUERIES])
        detail = f"{ours * 1e3:.0f} vs {theirs * 1e3:.0f} µs/query; grid {slow * 1e3:.0f} µs"
        if method == "within":
            bare = min(_ms_per_query(raw.bare, arg, queries) for _ in range(ROUNDS))
            detail += f"; the bare query alone {bare * 1e3:.0f} µs"
        name = f"MarkerIndex / raw STRtree, {label}"
        if (method, arg) == ("nearest", 1):
            print(f"  {name}: {ours / theirs:.2f}x   (reference, no target)  ({detail})")
        else:
            figure(name, ours / theirs, at_most=TARGET, detail=detail)


if __name__ == "__main__":
    main()
