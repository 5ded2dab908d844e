"""Tile packages: written and read back in OSM numbering; broken files named with their fault."""

import io
import sqlite3

import pytest
from PIL import Image

from markers.tiles import Box, covering
from server import mbtiles

AREA = Box(7.755, 49.438, 7.775, 49.449)


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), colour).save(out, "PNG")
    return out.getvalue()


def package(**changes) -> mbtiles.Package:
    values = dict(name="KL", format="png", bounds=AREA, minzoom=14, maxzoom=15, attribution="© OSM")
    values.update(changes)
    return mbtiles.Package(**values)


@pytest.fixture
def made(tmp_path):
    path = tmp_path / "kl.mbtiles"
    keys = list(covering(AREA, range(14, 16)))
    n = mbtiles.write(path, package(), ((k, png("#%02x8040" % (k[1] % 256))) for k in keys))
    assert n == len(keys)
    return path, keys


def test_tiles_come_back_under_their_osm_numbers(made):
    path, keys = made
    tiles = mbtiles.MBTiles(path)
    assert tiles.package == package()
    assert tiles.keys() == set(keys)
    z, x, y = keys[0]
    assert tiles.tile(z, x, y) == png("#%02x8040" % (x % 256))
    assert tiles.tile(z, x, 2**z - 1 - y) is None or (z, x, 2**z - 1 - y) in keys
    assert tiles.tile(14, -1, 0) is None and tiles.tile(30, 0, 0) is None
    assert tiles.check_tiles() == []
    assert sum(tiles.sizes().values()) > 0


def test_a_tile_that_is_no_png_is_named(made, tmp_path):
    path, keys = made
    mbtiles.write(path, package(), [(keys[0], b"<html>not a tile</html>")])
    assert "not a png image" in mbtiles.MBTiles(path).check_tiles()[0]


@pytest.mark.parametrize(
    ("meta", "says"),
    [
        ({"format": "webp"}, "format must be png or jpg"),
        ({"bounds": "a,b,c,d"}, "metadata needs bounds"),
        ({"bounds": "10,50,5,40"}, "not a box on Earth"),
        ({"maxzoom": "40"}, "out of 0-22"),
    ],
)
def test_bad_metadata_is_named(made, meta, says):
    path, _ = made
    with sqlite3.connect(path) as db:
        db.executemany(
            "UPDATE metadata SET value=? WHERE name=?", [(v, k) for k, v in meta.items()]
        )
    with pytest.raises(mbtiles.PackageError, match=says):
        mbtiles.MBTiles(path)


def test_files_that_are_no_package(tmp_path):
    with pytest.raises(mbtiles.PackageError, match="no such file"):
        mbtiles.MBTiles(tmp_path / "missing.mbtiles")
    text = tmp_path / "text.mbtiles"
    text.write_text("hello")
    with pytest.raises(mbtiles.PackageError, match="not an MBTiles package"):
        mbtiles.MBTiles(text)
    other = tmp_path / "other.mbtiles"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (a)")
    with pytest.raises(mbtiles.PackageError, match="not an MBTiles package"):
        mbtiles.MBTiles(other)
