"""markers.qr: what is drawn decodes back to what was given."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from markers import qr

URL = "https://artcaching.example.org/q/AQEHKoLTdWKMTGvGdD85ng"
SVG = "{http://www.w3.org/2000/svg}"


def decode(image: Image.Image) -> list[str]:
    found = zxingcpp.read_barcodes(image)
    return [r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode]


def test_png_decodes_back():
    png = qr.png_bytes(URL)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    n = 17 + 4 * qr.version(URL)
    assert image.size == ((n + 8) * 10, (n + 8) * 10)
    assert decode(image) == [URL]


def test_png_box_size_and_border():
    image = Image.open(io.BytesIO(qr.png_bytes(URL, box_size=3, border=2)))
    n = len(qr.matrix(URL))
    assert image.size == ((n + 4) * 3, (n + 4) * 3)
    larger = image.resize((image.width * 4, image.height * 4), Image.Resampling.NEAREST)
    assert decode(larger) == [URL]


@settings(max_examples=15, deadline=None)
@given(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
)
def test_any_text_round_trips(data):
    assert decode(Image.open(io.BytesIO(qr.png_bytes(data, box_size=4)))) == [data]


@pytest.mark.parametrize("data", ["A", URL, "x" * 100])
def test_matrix_is_square_and_sized_by_version(data):
    m = qr.matrix(data)
    v = qr.version(data)
    assert 1 <= v <= 6
    assert len(m) == 17 + 4 * v and all(len(row) == len(m) for row in m)
    assert all(isinstance(cell, bool) for row in m for cell in row)
    # The three finder patterns: dark 7x7 rings in the corners.
    for r0, c0 in ((0, 0), (0, len(m) - 7), (len(m) - 7, 0)):
        assert all(m[r0][c0 + i] and m[r0 + 6][c0 + i] and m[r0 + i][c0] for i in range(7))


def test_matrix_drawn_as_an_image_decodes_back():
    m = qr.matrix(URL)
    size = len(m) + 8
    image = Image.new("L", (size, size), 255)
    image.putdata(
        [
            0 if 4 <= y < size - 4 and 4 <= x < size - 4 and m[y - 4][x - 4] else 255
            for y in range(size)
            for x in range(size)
        ]
    )
    assert decode(image.resize((size * 8, size * 8), Image.Resampling.NEAREST)) == [URL]


def svg_modules(svg: str) -> tuple[ET.Element, set[tuple[int, int]]]:
    root = ET.fromstring(svg)
    paths = root.findall(f"{SVG}path")
    assert len(paths) == 1
    dark = set()
    for x, y, w, h in re.findall(r"M(\d+) (\d+)h(\d+)v(\d+)h-\3z", paths[0].get("d")):
        dark.update((int(y) + j, int(x) + i) for i in range(int(w)) for j in range(int(h)))
    assert re.fullmatch(r"(M\d+ \d+h\d+v\d+h-\d+z)+", paths[0].get("d"))
    return root, dark


def test_svg_is_one_path_of_the_matrix_in_a_quiet_zone():
    m = qr.matrix(URL)
    root, dark = svg_modules(qr.svg_text(URL))
    n = len(m) + 8
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == f"0 0 {n} {n}"
    assert dark == {(y + 4, x + 4) for y, row in enumerate(m) for x, cell in enumerate(row) if cell}


def test_svg_border():
    root, dark = svg_modules(qr.svg_text("A", border=0))
    assert root.get("viewBox") == "0 0 21 21"
    assert (0, 0) in dark


def test_too_long_data_is_a_clear_error():
    with pytest.raises(ValueError, match="above version 6 at error correction M"):
        qr.make("x" * 107)
    qr.make("x" * 106)  # the capacity of version 6-M in byte mode
    with pytest.raises(ValueError, match="above version 3"):
        qr.matrix(URL + "x" * 20, max_version=3)
    for render in (qr.png_bytes, qr.svg_text):
        with pytest.raises(ValueError, match="above version 6"):
            render("x" * 200)
    with pytest.raises(ValueError, match="above version 40"):
        qr.version("x" * 4000)
    assert qr.version("x" * 2000) == 38


def test_error_correction_levels():
    versions = [qr.version("x" * 60, level) for level in "LMQH"]
    assert versions == sorted(versions) and versions[0] < versions[-1]
    with pytest.raises(ValueError, match="error correction"):
        qr.make(URL, error_correction="X")


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1, max_size=300),
    st.sampled_from("LMQH"),
)
def test_matrix_draws_the_modules_qrcode_draws(data, level):
    """matrix() scores the masks on bits instead of drawing each: the same mask, the same
    modules, at every version (7 and up carry version bits) and level."""
    try:
        made = qr.make(data, 40, level)
    except ValueError:
        return
    assert qr.matrix(data, 40, level) == [[bool(m) for m in row] for row in made.modules]
