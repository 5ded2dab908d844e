"""Camera frames to QR texts without Kivy: a fake camera hands over a poster as real sensors do
(turned as the sensor is mounted, mirrored by none, in NV21, RGB, BGR, RGBA or BGRA, with rows
padded as GStreamer pads them, its bytes read lazily as Android's grab_frame); luminance turns
each into grey for client.qrscan without turning it upright, and to_image turns it upright."""

from __future__ import annotations

import io
import sys

import pytest
from PIL import Image, ImageChops, ImageDraw

from client import qrscan
from client.camera_geometry import Facing, Transform, upright
from client.sensors.camera import RawFrame, luminance, to_image
from markers import qr

URL = "https://artcaching.example.org/q/AQEBAQZk3nW2bq8mXyT0aLpQ"
BACK, FRONT = Facing.BACK, Facing.FRONT


@pytest.fixture(autouse=True)
def fresh_backend():
    qrscan.reset()
    yield
    qrscan.reset()


@pytest.fixture(params=["zxingcpp", "pyzbar"])
def decoder(request, monkeypatch):
    if request.param == "pyzbar":
        monkeypatch.setitem(sys.modules, "zxingcpp", None)
    yield request.param
    assert qrscan.backend()[0] == request.param


def scene(size: tuple[int, int] = (480, 640)) -> Image.Image:
    """What the player sees, upright: a poster on a striped, coloured wall (portrait)."""
    w, h = size
    wall = Image.new("RGB", size, (150, 110, 70))
    draw = ImageDraw.Draw(wall)
    for x in range(-h, w, 29):
        draw.line([(x, 0), (x + h, h)], fill=(60, 90, 140), width=4)
    code = Image.open(io.BytesIO(qr.png_bytes(URL, 4))).convert("RGB").resize((220, 220))
    poster = Image.new("RGB", (260, 320), (250, 246, 235))
    poster.paste(code, (20, 20))
    turned = poster.rotate(9, expand=True, fillcolor=(150, 110, 70))
    wall.paste(turned, ((w - turned.width) // 2, (h - turned.height) // 3))
    return wall


def as_sensor(view: Image.Image, transform: Transform) -> Image.Image:
    """The raw sensor image that transform shows as view (its inverse: mirror, then turn back)."""
    raw = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if transform.mirror else view
    return raw.rotate(transform.rotation_deg, expand=True)  # PIL turns counter-clockwise


def padded(rows: bytes, row_bytes: int, height: int, stride: int) -> bytes:
    pad = bytes(stride - row_bytes)
    return b"".join(rows[y * row_bytes : (y + 1) * row_bytes] + pad for y in range(height))


def encode(image: Image.Image, fmt: str, align: int = 1) -> tuple[bytes, int]:
    """image in a camera's pixel format, each row padded to a multiple of align bytes."""
    w, h = image.size
    if fmt == "nv21":  # grey plane, then interleaved V/U at half resolution
        grey, vu = image.convert("L").tobytes(), bytes([128]) * (w * (h // 2))
        stride = -(-w // align) * align
        return padded(grey, w, h, stride) + padded(vu, w, h // 2, stride), stride
    rawmode, per_pixel = {"rgb": ("RGB", 3), "bgr": ("BGR", 3)}.get(fmt, (fmt.upper(), 4))
    mode = "RGB" if per_pixel == 3 else "RGBA"
    data = image.convert(mode).tobytes("raw", rawmode)
    stride = -(-(w * per_pixel) // align) * align
    return padded(data, w * per_pixel, h, stride), stride


class FakeCamera:
    """A camera of one mounting and pixel format: frame() hands the scene over as the sensor
    does, with bytes read when the worker asks (reads counts them), None before the first."""

    def __init__(self, view: Image.Image, transform: Transform, fmt: str, align: int = 1) -> None:
        self.sensor = as_sensor(view, transform)
        self.data, self.stride = encode(self.sensor, fmt, align)
        self.fmt = fmt
        self.reads = 0
        self.ready = True

    def grab_frame(self) -> bytes | None:
        self.reads += 1
        return self.data if self.ready else None

    def frame(self) -> RawFrame:
        return RawFrame(self.grab_frame, self.sensor.size, self.fmt, self.stride)


FORMATS = ["nv21", "rgb", "bgr", "rgba", "bgra"]
MOUNTINGS = [  # (sensor orientation, facing, display rotation): portrait and landscape phones
    (90, BACK, 0),
    (270, BACK, 0),
    (90, BACK, 90),
    (90, BACK, 270),
    (270, FRONT, 0),
    (90, FRONT, 90),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("mounting", MOUNTINGS, ids=lambda m: f"{m[0]}-{m[1].value}-{m[2]}")
def test_every_mounting_and_format_decodes_and_shows_upright(fmt, mounting):
    transform = upright(*mounting)
    view = scene((640, 480) if mounting[2] in (90, 270) else (480, 640))
    camera = FakeCamera(view, transform, fmt, align=4)
    gray = luminance(camera.frame())
    assert (gray.width, gray.height) == camera.sensor.size, "decoded as the sensor delivers it"
    assert qrscan.decode(gray) == [URL]
    shown = to_image(camera.frame(), transform)
    assert shown.size == view.size
    if fmt != "nv21":  # the picture shown is the scene, upright and the right way round
        assert ImageChops.difference(shown.convert("RGB"), view).getbbox() is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_both_decoders_read_padded_rows(fmt, decoder):
    camera = FakeCamera(scene((477, 638)), Transform(90, False), fmt, align=64)
    assert camera.stride % 64 == 0 and camera.stride not in (638, 638 * 3, 638 * 4)
    assert qrscan.decode(luminance(camera.frame())) == [URL]


@pytest.mark.parametrize("fmt", ["rgb", "bgr", "rgba", "bgra"])
def test_colour_becomes_itu_luma_whatever_the_channel_order(fmt):
    """The grey is Pillow's (and zxing-cpp's) ITU-R 601 luma of the true colours."""
    view = scene((64, 48))
    camera = FakeCamera(view, Transform(0, False), fmt, align=4)
    gray = luminance(camera.frame())
    assert gray.packed() == view.convert("L").tobytes()


def test_nv21_grey_is_not_copied():
    camera = FakeCamera(scene((64, 48)), Transform(0, False), "nv21", align=16)
    gray = luminance(camera.frame())
    assert gray.data is camera.data and gray.stride == 64 and camera.reads == 1


def test_no_frame_yet_and_bad_frames():
    camera = FakeCamera(scene((64, 48)), Transform(0, False), "rgb")
    camera.ready = False  # Android before its first preview frame
    assert luminance(camera.frame()) is None and to_image(camera.frame()) is None
    with pytest.raises(ValueError, match="unknown frame format"):
        luminance(RawFrame(b"\x00" * 12, (2, 2), "yuv"))
    with pytest.raises(ValueError, match="needs 12 bytes"):
        luminance(RawFrame(b"\x00" * 11, (2, 2), "rgb"))
    with pytest.raises(ValueError, match="stride"):
        luminance(RawFrame(b"\x00" * 12, (2, 2), "rgb", stride=5))


def test_gray_checks_its_bytes_and_packs_padded_rows():
    gray = qrscan.Gray(b"ab--cd--", 2, 2, stride=4)
    assert gray.packed() == b"abcd"
    assert qrscan.Gray(b"abcdef", 2, 2).packed() == b"abcd"
    with pytest.raises(ValueError, match="needs 8 bytes"):
        qrscan.Gray(b"ab--cd-", 2, 2, stride=4)
    with pytest.raises(ValueError, match="stride"):
        qrscan.Gray(b"abcd", 2, 2, stride=1)
    with pytest.raises(ValueError, match="no pixels"):
        qrscan.Gray(b"", 0, 2)


def test_a_code_the_size_of_a_phone_frame(decoder):
    """A landscape 1280x720 camera frame, the poster far away and tilted."""
    frame = Image.new("RGB", (1280, 720), (120, 120, 110))
    small = scene().resize((240, 320))
    frame.paste(small.rotate(-20, expand=True, fillcolor=(120, 120, 110)), (900, 200))
    data, stride = encode(frame, "rgb")
    assert qrscan.decode(luminance(RawFrame(data, frame.size, "rgb", stride))) == [URL]
