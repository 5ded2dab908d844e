"""Time MarkerIndex on 10,000 markers around Kaiserslautern: STRtree, grid fallback, brute force."""

from __future__ import annotations

import random
import time
from collections.abc import Hashable, Sequence

from markers.geo import LatLon, destination, distance_m
from markers.index import MarkerIndex

CENTRE = LatLon(49.4447, 7.7690)  # Fruchthalle
MARKERS = 10_000
SPREAD_M = 5_000.0
QUERIES = 200
BRUTE_QUERIES = 5
CASES = [("within", 50.0), ("within", 200.0), ("within", 1000.0), ("nearest", 1), ("nearest", 10)]


class BruteForce:
    """The baseline: the geodesic distance to every marker."""

    def __init__(self, markers: dict[Hashable, LatLon]) -> None:
        self.markers = markers

    def _all(self, p: LatLon) -> list[tuple[Hashable, float]]:
        found = [(i, distance_m(p, q)) for i, q in self.markers.items()]
        return sorted(found, key=lambda f: f[1])

    def within(self, p: LatLon, d: float) -> list[tuple[Hashable, float]]:
        return [f for f in self._all(p) if f[1] <= d]

    def nearest(self, p: LatLon, k: int) -> list[tuple[Hashable, float]]:
        return self._all(p)[:k]


def _random_point(rng: random.Random, radius_m: float) -> LatLon:
    return destination(CENTRE, rng.uniform(0.0, 360.0), radius_m * rng.random() ** 0.5)


def _ms_per_query(engine: object, method: str, arg: float, points: Sequence[LatLon]) -> float:
    query = getattr(engine, method)
    start = time.perf_counter()
    for p in points:
        query(p, arg)
    return (time.perf_counter() - start) / len(points) * 1e3


def main() -> None:
    rng = random.Random(2024)
    markers = {i: _random_point(rng, SPREAD_M) for i in range(MARKERS)}
    queries = [_random_point(rng, SPREAD_M * 1.2) for _ in range(QUERIES)]
    brute = BruteForce(markers)
    indexes = {}
    for backend in ("strtree", "grid"):
        start = time.perf_counter()
        indexes[backend] = MarkerIndex(markers, backend=backend)
        ms = (time.perf_counter() - start) * 1e3
        print(f"build {backend}: {ms:.0f} ms for {MARKERS} markers")

    for method, arg in CASES:
        label = f"{method} {arg:g}{' m' if method == 'within' else ''}"
        start = time.perf_counter()
        expected = [getattr(brute, method)(p, arg) for p in queries[:BRUTE_QUERIES]]
        slow = (time.perf_counter() - start) / BRUTE_QUERIES * 1e3
        for p, answer in zip(queries, expected, strict=False):  # figures need right answers
            assert all(getattr(ix, method)(p, arg) == answer for ix in indexes.values()), label
        tree = _ms_per_query(indexes["strtree"], method, arg, queries)
        grid = _ms_per_query(indexes["grid"], method, arg, queries)
        print(
            f"{label}: strtree {tree:.3g} ms/query, grid fallback {grid:.3g} ms, "
            f"brute force {slow:.3g} ms: {slow / tree:.0f}x and {slow / grid:.0f}x"
        )


if __name__ == "__main__":
    main()
