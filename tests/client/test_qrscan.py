"""QR decoding: zxing-cpp first, pyzbar when zxing-cpp cannot be imported (as on Android)."""

from __future__ import annotations

import io
import sys

import pytest
from PIL import Image, ImageDraw

from client import qrscan
from markers import qr

URL = "https://artcaching.example.org/q/AQEBAQZk3nW2bq8mXyT0aLpQ"


@pytest.fixture(autouse=True)
def fresh_backend():
    qrscan.reset()
    yield
    qrscan.reset()


@pytest.fixture
def without_zxing(monkeypatch):
    """zxing-cpp cannot be imported (None in sys.modules makes import raise ImportError)."""
    monkeypatch.setitem(sys.modules, "zxingcpp", None)


def code(text: str = URL, box: int = 6) -> Image.Image:
    return Image.open(io.BytesIO(qr.png_bytes(text, box))).convert("RGB")


def camera_frame() -> Image.Image:
    """A poster seen by a camera: the code small, tilted 7 degrees, on a busy grey wall."""
    frame = Image.new("RGB", (960, 720), (128, 120, 110))
    draw = ImageDraw.Draw(frame)
    for x in range(0, 960, 37):
        draw.line([(x, 0), (x + 200, 720)], fill=(90, 85, 80), width=3)
    poster = Image.new("RGB", (420, 560), "white")
    poster.paste(code(box=7).resize((300, 300)), (60, 40))
    frame.paste(poster.rotate(7, expand=True, fillcolor=(128, 120, 110)), (300, 60))
    return frame


def test_zxing_is_the_desktop_decoder():
    assert qrscan.backend()[0] == "zxingcpp"
    assert qrscan.decode(code()) == [URL]
    assert qrscan.decode(camera_frame()) == [URL]


def test_pyzbar_when_zxing_is_missing(without_zxing):
    assert qrscan.backend()[0] == "pyzbar"
    assert qrscan.decode(code()) == [URL]
    assert qrscan.decode(camera_frame()) == [URL]


@pytest.mark.parametrize("blocked", [False, True])
def test_raw_rgb_bytes_and_other_modes(monkeypatch, blocked):
    if blocked:
        monkeypatch.setitem(sys.modules, "zxingcpp", None)
    image = code()
    assert qrscan.decode(image.tobytes(), size=image.size) == [URL]
    assert qrscan.decode(image.convert("RGBA")) == [URL]
    assert qrscan.decode(image.convert("L")) == [URL]
    assert qrscan.decode(Image.new("RGB", (200, 200), "white")) == []


def test_two_codes_in_one_frame():
    frame = Image.new("RGB", (900, 400), "white")
    frame.paste(code("https://example.org/a", 5), (20, 20))
    frame.paste(code("https://example.org/b", 5), (480, 20))
    assert sorted(qrscan.decode(frame)) == ["https://example.org/a", "https://example.org/b"]


def test_no_decoder_at_all(monkeypatch, without_zxing):
    monkeypatch.setitem(sys.modules, "pyzbar", None)
    monkeypatch.setitem(sys.modules, "pyzbar.pyzbar", None)
    with pytest.raises(qrscan.NoDecoder, match=r"zxingcpp.*pyzbar"):
        qrscan.decode(code())


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="size"):
        qrscan.decode(b"\x00" * 12)
    with pytest.raises(ValueError, match="needs 12 bytes"):
        qrscan.decode(b"\x00" * 10, size=(2, 2))
    with pytest.raises(TypeError, match="PIL image"):
        qrscan.decode("https://example.org")


def test_qr_token_accepts_our_urls_only():
    assert qrscan.qr_token("https://artcaching.example.org/q/AQEBAQxyzxyzxyzxyzxyzxyz")
    assert qrscan.qr_token("AQEBAQxyzxyzxyzxyzxyzxyz")
    assert qrscan.qr_token("https://example.org/menu") is None
    assert qrscan.qr_token("hello") is None
