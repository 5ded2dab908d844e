"""Web Mercator tile numbering (OSM's z/x/y, y from the top) and the tiles that cover an area:
the one tile arithmetic the server's tile packages and the phone's rally pack share."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MAX_LAT = 85.0511287798
MAX_ZOOM = 22

TileKey = tuple[int, int, int]


@dataclass(frozen=True)
class Box:
    """A latitude/longitude box (degrees), west <= east (no crossing of the antimeridian)."""

    west: float
    south: float
    east: float
    north: float

    @classmethod
    def around(cls, points: Iterable[tuple[float, float]], margin_m: float = 0.0) -> Box:
        """The box of (lat, lon) points, grown by margin_m on every side."""
        lats, lons = zip(*points, strict=True)
        dlat = margin_m / 111_320.0
        dlon = margin_m / (111_320.0 * max(0.01, math.cos(math.radians(sum(lats) / len(lats)))))
        return cls(min(lons) - dlon, min(lats) - dlat, max(lons) + dlon, max(lats) + dlat)

    def contains(self, other: Box) -> bool:
        return (
            self.west <= other.west
            and self.south <= other.south
            and self.east >= other.east
            and self.north >= other.north
        )


def tile_of(lat: float, lon: float, z: int) -> tuple[int, int]:
    """The (x, y) of the tile at zoom z holding a point."""
    n = 2**z
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_box(z: int, x: int, y: int) -> Box:
    """The area a tile shows."""
    n = 2**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return Box(x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y))


def covering(box: Box, zooms: Iterable[int]) -> Iterator[TileKey]:
    """Every tile (z, x, y) that shows part of box, zoom by zoom."""
    for z in zooms:
        x0, y0 = tile_of(box.north, box.west, z)
        x1, y1 = tile_of(box.south, box.east, z)
        for x in range(x0, x1 + 1):
            for y in range(y0, y1 + 1):
                yield z, x, y


def count(box: Box, zooms: Iterable[int]) -> int:
    """How many tiles covering() yields, without listing them."""
    total = 0
    for z in zooms:
        x0, y0 = tile_of(box.north, box.west, z)
        x1, y1 = tile_of(box.south, box.east, z)
        total += (x1 - x0 + 1) * (y1 - y0 + 1)
    return total


def zoom_range(text: str) -> range:
    """'14-18' or '16' as a range of zooms; ValueError with a message otherwise."""
    low, sep, high = text.strip().partition("-")
    try:
        first, last = int(low), int(high) if sep else int(low)
    except ValueError:
        raise ValueError(f"zoom must be like 14-18, got {text!r}") from None
    if not 0 <= first <= last <= MAX_ZOOM:
        raise ValueError(f"zoom must be within 0-{MAX_ZOOM}, low to high, got {text!r}")
    return range(first, last + 1)
