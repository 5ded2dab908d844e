"""Tile numbering: known tiles of Kaiserslautern, boxes that round-trip, coverage counts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from markers import tiles

STIFTSKIRCHE = (49.4445, 7.7689)


def test_a_known_tile():
    assert tiles.tile_of(*STIFTSKIRCHE, 16) == (34182, 22382)
    assert tiles.tile_of(0.0, 0.0, 1) == (1, 1)


@given(st.floats(-85, 85), st.floats(-179.999, 179.999), st.integers(0, 20))
def test_a_point_lies_in_its_tile(lat, lon, z):
    x, y = tiles.tile_of(lat, lon, z)
    box = tiles.tile_box(z, x, y)
    assert box.west - 1e-9 <= lon <= box.east + 1e-9
    assert box.south - 1e-9 <= lat <= box.north + 1e-9


def test_covering_lists_every_tile_once_and_count_agrees():
    box = tiles.Box.around([STIFTSKIRCHE, (49.4412, 7.7628)], margin_m=300)
    listed = list(tiles.covering(box, range(14, 18)))
    assert len(listed) == len(set(listed)) == tiles.count(box, range(14, 18))
    for z, x, y in listed:
        covered = tiles.tile_box(z, x, y)
        assert covered.east >= box.west and covered.west <= box.east


@pytest.mark.parametrize(("text", "zooms"), [("14-18", range(14, 19)), ("16", range(16, 17))])
def test_zoom_ranges(text, zooms):
    assert tiles.zoom_range(text) == zooms


@pytest.mark.parametrize("text", ["", "a-b", "18-14", "0-23", "-1", "14-"])
def test_bad_zoom_ranges_say_why(text):
    with pytest.raises(ValueError, match="zoom"):
        tiles.zoom_range(text)
