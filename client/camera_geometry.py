"""The camera's geometry, without Kivy: how to turn the sensor's image upright on the screen, the
field of view the screen shows, and the barrel distortion of a Cardboard viewer's lenses.

Android's camera delivers its image in the sensor's own orientation (landscape, mounted at 90 deg
or 270 deg to the phone's natural portrait orientation); Kivy's camera texture is that raw image.
The rotation to show it upright follows Android's documented formula (Camera.setDisplayOrientation
and its sample code): for a back camera ``(sensor - display + 360) % 360``; for a front camera the
preview is a mirror image, ``(360 - (sensor + display) % 360) % 360`` applied after the mirroring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum


class Facing(Enum):
    BACK = "back"
    FRONT = "front"


@dataclass(frozen=True)
class Transform:
    """What to do with the raw sensor image: turn it rotation_deg clockwise, then mirror it
    left-right when mirror (a front camera shows the player as in a mirror)."""

    rotation_deg: int
    mirror: bool

    @property
    def swaps_axes(self) -> bool:
        """True when the sensor's width runs up the screen (a quarter turn)."""
        return self.rotation_deg in (90, 270)


IDENTITY = Transform(0, False)


def _right_angle(degrees: int, what: str) -> int:
    if degrees % 90:
        raise ValueError(f"{what} must be 0, 90, 180 or 270 degrees, not {degrees}")
    return degrees % 360


def display_orientation(sensor_deg: int, facing: Facing, display_deg: int) -> int:
    """The value Android's sample passes to Camera.setDisplayOrientation (its formula)."""
    sensor = _right_angle(sensor_deg, "the sensor orientation")
    display = _right_angle(display_deg, "the display rotation")
    if facing is Facing.FRONT:
        return (360 - (sensor + display) % 360) % 360
    return (sensor - display + 360) % 360


def upright(sensor_deg: int, facing: Facing, display_deg: int) -> Transform:
    """The transform that shows the raw sensor image upright on a display turned display_deg
    (Display.getRotation() * 90) from the phone's natural orientation.

    For a front camera, mirroring and then turning by Android's display orientation d is the
    same as turning by 360 - d and then mirroring."""
    d = display_orientation(sensor_deg, facing, display_deg)
    if facing is Facing.FRONT:
        return Transform((360 - d) % 360, True)
    return Transform(d, False)


# --- field of view -----------------------------------------------------------------------------


def fov_from_focal(focal_mm: float, sensor_mm: float) -> float:
    """The angle (degrees) a sensor side of sensor_mm covers behind a lens of focal_mm
    (Camera2: SENSOR_INFO_PHYSICAL_SIZE and LENS_INFO_AVAILABLE_FOCAL_LENGTHS)."""
    if focal_mm <= 0 or sensor_mm <= 0:
        raise ValueError(f"focal length and sensor size must be positive: {focal_mm}, {sensor_mm}")
    return math.degrees(2 * math.atan(sensor_mm / (2 * focal_mm)))


def displayed_fov(h_fov_deg: float, v_fov_deg: float, transform: Transform) -> tuple[float, float]:
    """(horizontal, vertical) field of view of the image as shown: a quarter turn swaps them
    (the sensor's wide side runs up a portrait screen)."""
    return (v_fov_deg, h_fov_deg) if transform.swaps_axes else (h_fov_deg, v_fov_deg)


def crop_to_fill(
    image_w: float, image_h: float, view_w: float, view_h: float
) -> tuple[float, float]:
    """The shares (horizontal, vertical, 0..1) of an image the view shows when the image is
    scaled to fill the view and cut centred."""
    scale = max(view_w / image_w, view_h / image_h)
    return min(1.0, view_w / scale / image_w), min(1.0, view_h / scale / image_h)


def cropped_fov(fov_deg: float, share: float) -> float:
    """The angle a centred share of an image spanning fov_deg covers (a pinhole camera)."""
    return math.degrees(2 * math.atan(share * math.tan(math.radians(fov_deg) / 2)))


def view_h_fov(
    h_fov_deg: float,
    v_fov_deg: float,
    image_size: tuple[float, float],
    view_size: tuple[float, float],
    transform: Transform,
) -> float:
    """The horizontal field of view of a view that shows the sensor image (image_size in the
    sensor's orientation, fields of view of the sensor) upright, filled and cut centred."""
    h, _ = displayed_fov(h_fov_deg, v_fov_deg, transform)
    w_img, h_img = image_size
    if transform.swaps_axes:
        w_img, h_img = h_img, w_img
    share, _ = crop_to_fill(w_img, h_img, *view_size)
    return cropped_fov(h, share)


# --- texture coordinates -----------------------------------------------------------------------


def tex_coords(
    transform: Transform,
    share: tuple[float, float] = (1.0, 1.0),
    flipped: bool = False,
) -> tuple[float, ...]:
    """Kivy Rectangle tex_coords (u, v of the rectangle's bottom-left, bottom-right, top-right,
    top-left corners) that draw the texture turned and mirrored by transform, showing the centred
    share (horizontal, vertical, of the turned image). flipped: the texture's rows run top-down
    (Texture.flip_vertical)."""
    sw, sh = share
    corners = [
        ((1 - sw) / 2, (1 - sh) / 2),
        ((1 + sw) / 2, (1 - sh) / 2),
        ((1 + sw) / 2, (1 + sh) / 2),
        ((1 - sw) / 2, (1 + sh) / 2),
    ]
    out: list[float] = []
    for x, y in corners:
        if transform.mirror:
            x = 1 - x
        u, v = x, y
        # the shown image is the texture turned clockwise; undo one quarter turn at a time:
        # a shown point (x, y) of a clockwise quarter turn comes from (1 - y, x)
        for _ in range(transform.rotation_deg // 90):
            u, v = 1 - v, u
        if flipped:
            v = 1 - v
        out += [u, v]
    return tuple(out)


# --- Cardboard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """A Cardboard viewer's lens profile (Google's Cardboard v2 by default)."""

    k1: float = 0.34
    k2: float = 0.55
    screen_to_lens_m: float = 0.039
    inter_lens_m: float = 0.0639


CARDBOARD_V2 = Viewer()


def distortion_factor(r: float, viewer: Viewer = CARDBOARD_V2) -> float:
    """1 + k1 r^2 + k2 r^4: how much farther from the lens centre the lens shows a point at
    radius r (in tan-angle units)."""
    r2 = r * r
    return 1 + viewer.k1 * r2 + viewer.k2 * r2 * r2


def barrel(x: float, y: float, viewer: Viewer = CARDBOARD_V2) -> tuple[float, float]:
    """Where to sample the eye's undistorted image for the screen point (x, y) (tan-angles from
    the lens centre): drawing the image through this map pre-distorts it into a barrel, which
    the viewer's pincushion lens straightens out. The same formula is in the shader."""
    f = distortion_factor(math.hypot(x, y), viewer)
    return x * f, y * f


class TiltExit:
    """The tilt that leaves Cardboard mode: looking steeply down (pitch at or below
    pitch_deg) for hold_s seconds, like taking the viewer off the face."""

    def __init__(self, pitch_deg: float = -70.0, hold_s: float = 1.5) -> None:
        self.pitch_deg = pitch_deg
        self.hold_s = hold_s
        self._since: float | None = None

    def feed(self, pitch_deg: float | None, now_s: float) -> bool:
        """True once when the tilt has been held long enough."""
        if pitch_deg is None or pitch_deg > self.pitch_deg:
            self._since = None
            return False
        if self._since is None:
            self._since = now_s
        if now_s - self._since >= self.hold_s:
            self._since = None
            return True
        return False


PHONE_LANDSCAPE_WIDTH_M = 0.14
"""A phone's screen width in landscape, when its size cannot be measured (the desktop)."""


@dataclass(frozen=True)
class EyeLayout:
    """How one eye's half of the screen samples that eye's undistorted image (the shader's
    uniforms): lens_cx (each eye's lens centre across its half, 0..1; left eye first),
    tan_per_tex (tan-angles per unit of the half's texture coordinates, x and y) and src_half_tan
    (the undistorted image's half extent in tan-angles, x and y); h_fov_deg of that image."""

    lens_cx: tuple[float, float]
    tan_per_tex: tuple[float, float]
    src_half_tan: tuple[float, float]
    h_fov_deg: float


def eye_layout(screen_w_m: float, screen_h_m: float, viewer: Viewer = CARDBOARD_V2) -> EyeLayout:
    """The eyes of a landscape screen of screen_w_m x screen_h_m in the viewer: the lenses sit
    inter_lens_m apart around the screen's middle, screen_to_lens_m above it."""
    if screen_w_m <= 0 or screen_h_m <= 0:
        raise ValueError(f"screen size must be positive: {screen_w_m} x {screen_h_m}")
    half_w = screen_w_m / 2
    left = min(max(1 - viewer.inter_lens_m / screen_w_m, 0.0), 1.0)
    tan_x, tan_y = half_w / viewer.screen_to_lens_m, screen_h_m / viewer.screen_to_lens_m
    reach = max(left, 1 - left) * tan_x
    src_x = reach * distortion_factor(reach, viewer)
    src_y = src_x * tan_y / tan_x
    return EyeLayout(
        (left, 1 - left),
        (tan_x, tan_y),
        (src_x, src_y),
        math.degrees(2 * math.atan(src_x)),
    )


def eye_sample(
    u: float, v: float, eye: int, layout: EyeLayout, viewer: Viewer = CARDBOARD_V2
) -> tuple[float, float]:
    """Where in the eye's undistorted image (0..1) the screen point (u, v) of that eye's half
    (0..1) samples: the shader's computation."""
    x = (u - layout.lens_cx[eye]) * layout.tan_per_tex[0]
    y = (v - 0.5) * layout.tan_per_tex[1]
    qx, qy = barrel(x, y, viewer)
    return 0.5 + qx / (2 * layout.src_half_tan[0]), 0.5 + qy / (2 * layout.src_half_tan[1])
