"""MBTiles 1.3 packages (one SQLite file of raster tiles): read, check and write them.

Rows are stored TMS-style (y from the bottom); every function here takes and gives OSM's z/x/y
(y from the top), as markers/tiles.py numbers them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from markers.tiles import MAX_ZOOM, Box, TileKey

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SIGNATURE = b"\xff\xd8\xff"
FORMATS = {"png": ("image/png", PNG_SIGNATURE), "jpg": ("image/jpeg", JPEG_SIGNATURE)}
MAX_TILE_BYTES = 512 * 1024


class PackageError(ValueError):
    """A file that is not a usable tile package; the message says why."""


@dataclass(frozen=True)
class Package:
    """What a package declares about itself (its metadata table)."""

    name: str
    format: str
    bounds: Box
    minzoom: int
    maxzoom: int
    attribution: str

    @property
    def mimetype(self) -> str:
        return FORMATS[self.format][0]

    @property
    def zooms(self) -> range:
        return range(self.minzoom, self.maxzoom + 1)


def _row(z: int, y: int) -> int:
    return 2**z - 1 - y


class MBTiles:
    """A package opened read-only; safe to share between threads (one connection each call)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.package = self._read_metadata()

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True)
        except sqlite3.Error as exc:
            raise PackageError(f"{self.path}: cannot be opened ({exc})") from None

    def _read_metadata(self) -> Package:
        if not self.path.is_file():
            raise PackageError(f"{self.path}: no such file")
        try:
            with closing(self._connect()) as db:
                meta = dict(db.execute("SELECT name, value FROM metadata").fetchall())
                db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles LIMIT 1")
        except sqlite3.Error as exc:
            raise PackageError(f"{self.path}: not an MBTiles package ({exc})") from None
        fmt = str(meta.get("format", "")).lower().replace("jpeg", "jpg")
        if fmt not in FORMATS:
            raise PackageError(f"{self.path}: format must be png or jpg, got {fmt or 'none'!r}")
        try:
            west, south, east, north = (float(v) for v in str(meta["bounds"]).split(","))
            minzoom, maxzoom = int(meta["minzoom"]), int(meta["maxzoom"])
        except (KeyError, ValueError):
            raise PackageError(
                f"{self.path}: metadata needs bounds (west,south,east,north), minzoom, maxzoom"
            ) from None
        if not (-180 <= west < east <= 180 and -85.06 <= south < north <= 85.06):
            raise PackageError(f"{self.path}: bounds {meta['bounds']!r} are not a box on Earth")
        if not 0 <= minzoom <= maxzoom <= MAX_ZOOM:
            raise PackageError(f"{self.path}: zooms {minzoom}-{maxzoom} out of 0-{MAX_ZOOM}")
        return Package(
            name=str(meta.get("name", self.path.stem)),
            format=fmt,
            bounds=Box(west, south, east, north),
            minzoom=minzoom,
            maxzoom=maxzoom,
            attribution=str(meta.get("attribution", "")),
        )

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        """The tile's image, or None when the package has none there."""
        if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
            return None
        with closing(self._connect()) as db:
            found = db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, _row(z, y)),
            ).fetchone()
        return bytes(found[0]) if found else None

    def keys(self) -> set[TileKey]:
        """Every tile the package holds."""
        with closing(self._connect()) as db:
            rows = db.execute("SELECT zoom_level, tile_column, tile_row FROM tiles").fetchall()
        return {(z, x, _row(z, row)) for z, x, row in rows}

    def sizes(self) -> dict[TileKey, int]:
        """Bytes per tile held."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT zoom_level, tile_column, tile_row, length(tile_data) FROM tiles"
            ).fetchall()
        return {(z, x, _row(z, row)): n for z, x, row, n in rows}

    def check_tiles(self) -> list[str]:
        """Problems of the tiles themselves: wrong image type, too large, outside the zooms."""
        signature = FORMATS[self.package.format][1]
        problems: list[str] = []
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT zoom_level, tile_column, tile_row, substr(tile_data, 1, 8),"
                " length(tile_data) FROM tiles"
            )
            for z, x, row, head, size in rows:
                where = f"tile {z}/{x}/{_row(z, row)}"
                if z not in self.package.zooms:
                    problems.append(
                        f"{where}: zoom outside {self.package.minzoom}-{self.package.maxzoom}"
                    )
                elif not bytes(head).startswith(signature):
                    problems.append(f"{where}: not a {self.package.format} image")
                elif size > MAX_TILE_BYTES:
                    problems.append(f"{where}: {size} bytes, more than {MAX_TILE_BYTES}")
                if len(problems) >= 10:
                    break
        return problems


def write(path: str | Path, package: Package, tiles: Iterable[tuple[TileKey, bytes]]) -> int:
    """Write (or add to) a package at path; the number of tiles written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE IF NOT EXISTS metadata (name TEXT PRIMARY KEY, value TEXT)")
        db.execute(
            "CREATE TABLE IF NOT EXISTS tiles (zoom_level INTEGER, tile_column INTEGER,"
            " tile_row INTEGER, tile_data BLOB, PRIMARY KEY (zoom_level, tile_column, tile_row))"
        )
        b = package.bounds
        meta = {
            "name": package.name,
            "format": package.format,
            "bounds": f"{b.west},{b.south},{b.east},{b.north}",
            "minzoom": str(package.minzoom),
            "maxzoom": str(package.maxzoom),
            "attribution": package.attribution,
            "type": "baselayer",
            "version": "1",
        }
        db.executemany("INSERT OR REPLACE INTO metadata VALUES (?, ?)", meta.items())
        for (z, x, y), data in tiles:
            db.execute("INSERT OR REPLACE INTO tiles VALUES (?, ?, ?, ?)", (z, x, _row(z, y), data))
            written += 1
    return written
