"""The camera image upright in every display rotation, its field of view, the Cardboard lens
distortion and the tilt that leaves Cardboard mode: pure maths (client.camera_geometry), and
Android's camera as a fake object (client.sensors.camera)."""

from __future__ import annotations

import math
from typing import ClassVar

import pytest

from client import camera_geometry as cg
from client.camera_geometry import Facing, Transform
from client.sensors import camera as cam

BACK, FRONT = Facing.BACK, Facing.FRONT

# (sensor orientation, facing, display rotation) -> (Android's setDisplayOrientation value,
# the clockwise turn and mirroring of the raw image). The first column is what the sample in
# Camera.setDisplayOrientation's documentation computes; phones mount back sensors at 90 deg
# and front sensors at 270 deg (a few, such as the Nexus 5X, the other way round).
TABLE = [
    (90, BACK, 0, 90, Transform(90, False)),
    (90, BACK, 90, 0, Transform(0, False)),
    (90, BACK, 180, 270, Transform(270, False)),
    (90, BACK, 270, 180, Transform(180, False)),
    (270, BACK, 0, 270, Transform(270, False)),
    (270, BACK, 90, 180, Transform(180, False)),
    (270, BACK, 180, 90, Transform(90, False)),
    (270, BACK, 270, 0, Transform(0, False)),
    (270, FRONT, 0, 90, Transform(270, True)),
    (270, FRONT, 90, 0, Transform(0, True)),
    (270, FRONT, 180, 270, Transform(90, True)),
    (270, FRONT, 270, 180, Transform(180, True)),
    (90, FRONT, 0, 270, Transform(90, True)),
    (90, FRONT, 90, 180, Transform(180, True)),
    (90, FRONT, 180, 90, Transform(270, True)),
    (90, FRONT, 270, 0, Transform(0, True)),
]


def android_sample(orientation: int, facing: Facing, degrees: int) -> int:
    """The sample code of android.hardware.Camera.setDisplayOrientation, line by line."""
    if facing is FRONT:
        result = (orientation + degrees) % 360
        return (360 - result) % 360  # compensate the mirror
    return (orientation - degrees + 360) % 360


@pytest.mark.parametrize(("sensor", "facing", "display", "android", "transform"), TABLE)
def test_the_image_is_turned_upright_as_android_documents(
    sensor, facing, display, android, transform
):
    assert android_sample(sensor, facing, display) == android
    assert cg.display_orientation(sensor, facing, display) == android
    assert cg.upright(sensor, facing, display) == transform


def test_a_turned_image_is_upright():
    """A back sensor at 90 deg held in portrait: the sensor's top row runs down the right edge
    of the screen; turning the raw image 90 deg clockwise puts it on top."""
    from PIL import Image

    raw = Image.new("L", (4, 2), 0)  # landscape, as the sensor delivers it
    raw.putpixel((0, 0), 255)  # the sensor's top left: shown at the top right of the screen
    shown = cam.to_image(raw, cg.upright(90, BACK, 0))
    assert shown.size == (2, 4)
    assert shown.getpixel((1, 0)) == 255
    selfie = cam.to_image(raw, Transform(0, True))
    assert selfie.getpixel((3, 0)) == 255


@pytest.mark.parametrize("bad", [45, 100, -30])
def test_odd_angles_are_refused(bad):
    with pytest.raises(ValueError):
        cg.upright(bad, BACK, 0)
    with pytest.raises(ValueError):
        cg.upright(90, BACK, bad)


def test_tex_coords_turn_and_mirror_the_texture():
    assert cg.tex_coords(cg.IDENTITY) == (0, 0, 1, 0, 1, 1, 0, 1)
    # a quarter turn clockwise: the screen's bottom left shows the texture's bottom right
    assert cg.tex_coords(Transform(90, False)) == (1, 0, 1, 1, 0, 1, 0, 0)
    assert cg.tex_coords(Transform(180, False)) == (1, 1, 0, 1, 0, 0, 1, 0)
    assert cg.tex_coords(Transform(0, True)) == (1, 0, 0, 0, 0, 1, 1, 1)
    assert cg.tex_coords(cg.IDENTITY, flipped=True) == (0, 1, 1, 1, 1, 0, 0, 0)
    assert cg.tex_coords(cg.IDENTITY, (0.5, 1.0)) == (0.25, 0, 0.75, 0, 0.75, 1, 0.25, 1)


def test_the_field_of_view_swaps_in_portrait_and_shrinks_with_the_crop():
    quarter = cg.upright(90, BACK, 0)
    assert cg.displayed_fov(66.0, 52.0, quarter) == (52.0, 66.0)
    assert cg.displayed_fov(66.0, 52.0, cg.upright(90, BACK, 90)) == (66.0, 52.0)
    # a 1280x720 sensor (66 x 41 deg) shown upright on a 540x960 portrait view: 720 px wide,
    # 1280 high after the turn, exactly the view's 9:16: nothing is cut
    assert cg.view_h_fov(66.0, 41.0, (1280, 720), (540, 960), quarter) == pytest.approx(41.0)
    # on a 540x720 view the turned image is cut at the top and bottom only
    assert cg.view_h_fov(66.0, 41.0, (1280, 720), (540, 720), quarter) == pytest.approx(41.0)
    # on a square view three quarters of its width remain: tan(x/2) = 0.5625 tan(20.5 deg)
    share = 720 / 1280
    assert cg.crop_to_fill(1280, 720, 500, 500) == pytest.approx((share, 1.0))
    expected = math.degrees(2 * math.atan(share * math.tan(math.radians(33))))
    assert cg.view_h_fov(66.0, 41.0, (1280, 720), (500, 500), cg.IDENTITY) == pytest.approx(
        expected
    )


def test_field_of_view_from_focal_length_and_sensor_size():
    # a 4.38 mm lens over a 5.64 mm wide sensor: 65.6 deg
    assert cg.fov_from_focal(4.38, 5.64) == pytest.approx(65.6, abs=0.1)
    with pytest.raises(ValueError):
        cg.fov_from_focal(0, 5.64)


# --- Android's camera, faked -----------------------------------------------------------------


class FakeCameraInfo:
    """android.hardware.Camera$CameraInfo: filled in by Camera.getCameraInfo."""

    CAMERA_FACING_BACK = 0
    CAMERA_FACING_FRONT = 1

    def __init__(self) -> None:
        self.facing = -1
        self.orientation = -1


class FakeCamera:
    """android.hardware.Camera's static getCameraInfo for a phone's cameras."""

    cameras: ClassVar[dict[int, tuple[int, int]]] = {0: (0, 90), 1: (1, 270)}

    @classmethod
    def getCameraInfo(cls, index: int, info: FakeCameraInfo) -> None:
        if index not in cls.cameras:
            raise RuntimeError("Fail to get camera info")
        info.facing, info.orientation = cls.cameras[index]


class FakeParameters:
    def __init__(self, h: float, v: float) -> None:
        self.h, self.v = h, v

    def getHorizontalViewAngle(self) -> float:
        return self.h

    def getVerticalViewAngle(self) -> float:
        return self.v


def test_android_camera_tells_orientation_facing_and_view_angles():
    back = cam.read_android_info(FakeCamera, FakeCameraInfo, 0, FakeParameters(66.5, 51.2))
    assert back == cam.CameraInfo(90, BACK, 66.5, 51.2)
    front = cam.read_android_info(FakeCamera, FakeCameraInfo, 1, FakeParameters(70.0, 55.0))
    assert front == cam.CameraInfo(270, FRONT, 70.0, 55.0)
    assert cg.upright(front.sensor_deg, front.facing, 0) == Transform(270, True)


def test_nonsense_view_angles_fall_back():
    """Some drivers report 0 or 360 degrees; the app then assumes 60 deg."""
    info = cam.read_android_info(FakeCamera, FakeCameraInfo, 0, FakeParameters(0.0, 360.0))
    assert info.h_fov_deg == cam.DEFAULT_H_FOV and info.v_fov_deg == pytest.approx(45.0)


def test_an_nv21_frame_becomes_an_upright_grey_image():
    w, h = 8, 4
    luma = bytes(range(w * h))
    frame = cam.RawFrame(luma + bytes(w * h // 2), (w, h), "nv21")
    image = cam.to_image(frame, Transform(90, False))
    assert image.mode == "L" and image.size == (h, w)
    # the sensor's top left pixel (0) is at the top right after a clockwise quarter turn
    assert image.getpixel((h - 1, 0)) == 0
    lazy = cam.RawFrame(lambda: None, (w, h), "nv21")  # Android had no frame yet
    assert cam.to_image(lazy) is None
    with pytest.raises(ValueError):
        cam.to_image(cam.RawFrame(b"", (1, 1), "yuv"))


def test_a_bgr_frame_becomes_rgb():
    frame = cam.RawFrame(bytes([10, 20, 30]), (1, 1), "bgr")
    assert cam.to_image(frame).getpixel((0, 0)) == (30, 20, 10)


# --- Cardboard -------------------------------------------------------------------------------


def test_cardboard_v2_distortion():
    v2 = cg.CARDBOARD_V2
    assert (v2.k1, v2.k2) == (0.34, 0.55)
    assert cg.distortion_factor(0.0) == 1.0
    # r = 0.5: 1 + 0.34 * 0.25 + 0.55 * 0.0625 = 1.119375
    assert cg.distortion_factor(0.5) == pytest.approx(1.119375)
    # r = 1: 1 + 0.34 + 0.55
    assert cg.barrel(1.0, 0.0) == pytest.approx((1.89, 0.0))
    x, y = cg.barrel(0.3, 0.4)  # r = 0.5
    assert (x, y) == pytest.approx((0.3 * 1.119375, 0.4 * 1.119375))
    # the barrel grows monotonically: no fold-over within the viewer's field
    radii = [i / 100 for i in range(0, 150)]
    sampled = [r * cg.distortion_factor(r) for r in radii]
    assert sampled == sorted(sampled)


def test_eye_layout_of_a_phone_in_a_cardboard_v2():
    layout = cg.eye_layout(0.14, 0.068)
    # the lenses are 63.9 mm apart: inside the middle of the screen
    assert layout.lens_cx[0] == pytest.approx(1 - 0.0639 / 0.14)
    assert layout.lens_cx[1] == pytest.approx(0.0639 / 0.14)
    assert layout.tan_per_tex == pytest.approx((0.07 / 0.039, 0.068 / 0.039))
    # the lens centre samples the image's centre; the far edge samples the image's edge
    assert cg.eye_sample(layout.lens_cx[0], 0.5, 0, layout) == pytest.approx((0.5, 0.5))
    assert cg.eye_sample(0.0, 0.5, 0, layout)[0] == pytest.approx(0.0)
    assert cg.eye_sample(1.0, 0.5, 1, layout)[0] == pytest.approx(1.0)
    assert 90 < layout.h_fov_deg < 150
    with pytest.raises(ValueError):
        cg.eye_layout(0, 0.07)


def test_looking_steeply_down_for_a_while_leaves_cardboard():
    tilt = cg.TiltExit(pitch_deg=-70, hold_s=1.5)
    assert not tilt.feed(-10, 0.0)
    assert not tilt.feed(-80, 1.0)
    assert not tilt.feed(-80, 2.0)
    assert tilt.feed(-85, 2.6)
    assert not tilt.feed(-85, 2.7)  # once
    assert not tilt.feed(-80, 3.0)
    assert not tilt.feed(-20, 3.5)  # looked up again: starts over
    assert not tilt.feed(-80, 4.0)
    assert not tilt.feed(None, 5.0)
    assert not tilt.feed(-80, 6.0)
