"""A short walking order for a rally's stops: nearest neighbour, then 2-opt and or-opt.

The walk starts at the fixed start (or, without one, at the first stop unless ``fixed_first`` is
False) and ends at the fixed finish when there is one. Distances are geodesic. The suggestion is
never longer than the given order and the same input always gives the same answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from markers.geo import CoordinateError, LatLon, check_latlon, distance_m
from routes.geometry import length_m
from routes.model import Rally

_EPS_M = 1e-7
"""An improvement smaller than this is float noise, not a shorter walk."""


@dataclass(frozen=True)
class OrderSuggestion:
    """A walking order as indices into the stops, with its length and the given order's."""

    order: list[int]
    length_m: float
    original_length_m: float
    saving_m: float

    @property
    def changed(self) -> bool:
        return self.order != list(range(len(self.order)))


def suggest_order(
    route: Rally | Sequence[LatLon],
    start: LatLon | None = None,
    finish: LatLon | None = None,
    fixed_first: bool = True,
) -> OrderSuggestion:
    """A short order for the stops of a rally (or for the given points).

    ``start`` and ``finish`` default to the rally's own. Without a start, ``fixed_first`` keeps the
    first stop first; otherwise the walk may begin at any stop.
    """
    if isinstance(route, Rally):
        points = [s.marker.position for s in route.stops]
        start = route.start if start is None else start
        finish = route.finish if finish is None else finish
    else:
        points = list(route)
    points = [_checked(p, f"stop {i + 1}") for i, p in enumerate(points)]
    start = None if start is None else _checked(start, "start")
    finish = None if finish is None else _checked(finish, "finish")

    n = len(points)
    given = list(range(n))
    head = [start] if start is not None else []
    tail = [finish] if finish is not None else []

    def walk(order: list[int]) -> float:
        return length_m(head + [points[i] for i in order] + tail)

    original = walk(given)
    best = _search(points, start, finish, fixed_first) if n >= 2 else given
    length = walk(best)
    if length >= original:
        best, length = given, original
    return OrderSuggestion(best, length, original, original - length)


def apply_order(rally: Rally, order: Sequence[int]) -> Rally:
    """The rally with its stops in the given order; start, finish and solution word stay put.

    The solution word's letters belong to positions, not to stops: after reordering, stop i still
    reveals letter i.
    """
    n = len(rally.stops)
    if sorted(order) != list(range(n)):
        raise ValueError(
            f"order must list each stop index 0..{n - 1} exactly once, got {list(order)}"
        )
    return dataclasses.replace(rally, stops=tuple(rally.stops[i] for i in order))


def _checked(p: object, what: str) -> LatLon:
    try:
        return check_latlon(*p)  # type: ignore[misc]
    except (TypeError, ValueError) as e:
        if isinstance(e, CoordinateError):
            raise CoordinateError(f"{what}: {e}") from None
        raise CoordinateError(f"{what}: expected (lat, lon), got {p!r}") from None


def _search(
    points: list[LatLon], start: LatLon | None, finish: LatLon | None, fixed_first: bool
) -> list[int]:
    """The best order found from nearest neighbour and from the given order, each improved.

    Works on a path with two fixed ends: the start (or the first stop, or a free end) and the
    finish (or a free end). A free end is a node at distance 0 from every other.
    """
    n = len(points)
    nodes = list(points)
    d = _matrix(nodes)
    if start is not None:
        first = _add_node(d, nodes, start)
    elif fixed_first:
        first = 0
    else:
        first = _add_node(d, nodes, None)
    last = _add_node(d, nodes, finish)
    movable = [i for i in range(n) if i != first]

    candidates = [
        _improve([first, *movable, last], d),
        _improve([first, *_nearest_neighbour(first, movable, d), last], d),
    ]
    path = min(candidates, key=lambda p: _cost(p, d))
    return [i for i in path if i < n]


def _matrix(points: list[LatLon]) -> list[list[float]]:
    n = len(points)
    d = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            d[i][j] = d[j][i] = distance_m(points[i], points[j])
    return d


def _add_node(d: list[list[float]], nodes: list, p: LatLon | None) -> int:
    """Append a node at p (a free end when p is None) to the matrix; return its index."""
    row = [0.0 if p is None or q is None else distance_m(p, q) for q in nodes]
    for r, x in zip(d, row, strict=True):
        r.append(x)
    d.append([*row, 0.0])
    nodes.append(p)
    return len(nodes) - 1


def _cost(path: list[int], d: list[list[float]]) -> float:
    return sum(d[a][b] for a, b in pairwise(path))


def _nearest_neighbour(first: int, todo: list[int], d: list[list[float]]) -> list[int]:
    order, here, left = [], first, list(todo)
    while left:
        here = min(left, key=lambda j: (d[here][j], j))
        left.remove(here)
        order.append(here)
    return order


def _improve(path: list[int], d: list[list[float]]) -> list[int]:
    """Apply improving 2-opt and or-opt moves until none is left; the ends stay in place."""
    path = list(path)
    while _two_opt(path, d) or _or_opt(path, d):
        pass
    return path


def _two_opt(path: list[int], d: list[list[float]]) -> bool:
    """One sweep reversing every segment whose reversal shortens the path; True if any did."""
    improved = False
    m = len(path)
    for i in range(1, m - 2):
        for j in range(i + 1, m - 1):
            a, b, c, e = path[i - 1], path[i], path[j], path[j + 1]
            if d[a][c] + d[b][e] < d[a][b] + d[c][e] - _EPS_M:
                path[i : j + 1] = reversed(path[i : j + 1])
                improved = True
    return improved


def _or_opt(path: list[int], d: list[list[float]]) -> bool:
    """One sweep moving runs of 1 to 3 stops (maybe reversed) where that shortens the path."""
    improved = False
    m = len(path)
    for k in (1, 2, 3):
        for i in range(1, m - k):
            if _move_run(path, d, i, k):
                improved = True
    return improved


def _move_run(path: list[int], d: list[list[float]], i: int, k: int) -> bool:
    """Move path[i:i + k] to the first place where it shortens the path; True if it moved."""
    m = len(path)
    a, b = path[i], path[i + k - 1]
    prev, nxt = path[i - 1], path[i + k]
    gain = d[prev][a] + d[b][nxt] - d[prev][nxt]
    for q in range(m - 1):
        if i - 1 <= q <= i + k - 1:
            continue
        u, v = path[q], path[q + 1]
        forward = d[u][a] + d[b][v] - d[u][v]
        backward = d[u][b] + d[a][v] - d[u][v]
        if min(forward, backward) < gain - _EPS_M:
            run = path[i : i + k]
            if backward < forward:
                run.reverse()
            rest = path[:i] + path[i + k :]
            at = q + 1 if q < i else q - k + 1
            path[:] = rest[:at] + run + rest[at:]
            return True
    return False
