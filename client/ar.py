"""AR math without Kivy: where a marker appears on screen, how big, and smoothing of the sensors.

Screen coordinates follow Kivy: x from the left, y from the bottom, in pixels. Angles are degrees;
headings and bearings clockwise from true north; pitch is the camera axis above the horizon.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from markers.geo import LatLon, distance_and_bearing

MARKER_SIZE_M = 2.0
"""The virtual marker is drawn as if it were an object this wide standing at the venue."""

WALKING_NOISE_MPS = 1.5
"""How fast the true position may drift between fixes (walking), for the position smoother."""


def normalize_deg(deg: float) -> float:
    """An angle in [0, 360)."""
    value = math.fmod(deg, 360.0)
    if value < 0:
        value += 360.0
    return 0.0 if value >= 360.0 else value


def relative_bearing(target_bearing_deg: float, heading_deg: float) -> float:
    """How far the target lies right (+) or left (-) of where the camera looks, in (-180, 180]."""
    rel = normalize_deg(target_bearing_deg - heading_deg)
    return rel - 360.0 if rel > 180.0 else rel


@dataclass(frozen=True)
class View:
    """The camera image on screen: size in pixels and field of view in degrees.

    v_fov_deg defaults to the vertical field that matches h_fov_deg for a pinhole camera with
    the screen's aspect ratio.
    """

    width: float
    height: float
    h_fov_deg: float = 60.0
    v_fov_deg: float | None = None

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"view size must be positive, got {self.width} x {self.height}")
        if not 0 < self.h_fov_deg < 180:
            raise ValueError(f"h_fov_deg must lie in (0, 180), got {self.h_fov_deg}")
        if self.v_fov_deg is not None and not 0 < self.v_fov_deg < 180:
            raise ValueError(f"v_fov_deg must lie in (0, 180), got {self.v_fov_deg}")

    @property
    def vertical_fov(self) -> float:
        if self.v_fov_deg is not None:
            return self.v_fov_deg
        half = math.tan(math.radians(self.h_fov_deg / 2)) * self.height / self.width
        return 2 * math.degrees(math.atan(half))


class Edge(StrEnum):
    """Where the arrow goes when a marker is off screen."""

    LEFT = "left"
    RIGHT = "right"
    TOP = "top"
    BOTTOM = "bottom"


@dataclass(frozen=True)
class ScreenPoint:
    """Where to draw a marker: centre x, y (clamped to the screen edge when not visible)."""

    x: float
    y: float
    size: float
    visible: bool
    edge: Edge | None
    """None when visible; else the screen edge where an arrow should point to the marker."""
    relative_deg: float
    distance_m: float

    @property
    def behind(self) -> bool:
        """The marker lies behind the player (more than 90 degrees off the view axis)."""
        return abs(self.relative_deg) > 90.0


def marker_size(
    distance_m: float,
    view: View,
    *,
    real_size_m: float = MARKER_SIZE_M,
    min_px: float | None = None,
    max_px: float | None = None,
) -> float:
    """Width in pixels of a real_size_m object at distance_m, clamped to [min_px, max_px].

    Defaults: min 6 % and max 60 % of the view's width, so far markers stay tappable.
    """
    low = view.width * 0.06 if min_px is None else min_px
    high = view.width * 0.6 if max_px is None else max_px
    angular = 2 * math.degrees(math.atan2(real_size_m / 2, max(distance_m, 0.01)))
    return min(max(angular / view.h_fov_deg * view.width, low), high)


def project(
    relative_deg: float,
    distance_m: float,
    view: View,
    *,
    pitch_deg: float = 0.0,
    elevation_deg: float = 0.0,
    margin_px: float | None = None,
) -> ScreenPoint:
    """Place a marker seen relative_deg off the view axis and elevation_deg above the horizon.

    x = width/2 + relative/h_fov * width; y = height/2 + (elevation - pitch)/v_fov * height.
    Outside the field of view the point is clamped to margin_px (default: half the marker size)
    inside the screen edge named by ``edge``.
    """
    size = marker_size(distance_m, view)
    x = view.width / 2 + relative_deg / view.h_fov_deg * view.width
    up = elevation_deg - pitch_deg
    y = view.height / 2 + up / view.vertical_fov * view.height
    edge = None
    if abs(relative_deg) > view.h_fov_deg / 2:
        edge = Edge.LEFT if relative_deg < 0 else Edge.RIGHT
    elif abs(up) > view.vertical_fov / 2:
        edge = Edge.BOTTOM if up < 0 else Edge.TOP
    if edge is not None:
        margin = size / 2 if margin_px is None else margin_px
        x = min(max(x, margin), view.width - margin)
        y = min(max(y, margin), view.height - margin)
    return ScreenPoint(x, y, size, edge is None, edge, relative_deg, distance_m)


def project_target(
    device: LatLon,
    target: LatLon,
    heading_deg: float,
    view: View,
    *,
    pitch_deg: float = 0.0,
    elevation_deg: float = 0.0,
) -> ScreenPoint:
    """Project a target seen from device with the camera looking towards heading_deg."""
    distance, bearing = distance_and_bearing(device, target)
    return project(
        relative_bearing(bearing, heading_deg),
        distance,
        view,
        pitch_deg=pitch_deg,
        elevation_deg=elevation_deg,
    )


class Band(StrEnum):
    """How close the player is, shown instead of a number: cold, warm, warmer, here."""

    COLD = "cold"
    WARM = "warm"
    WARMER = "warmer"
    HERE = "here"


WARMER_M = 50.0
WARM_M = 250.0


def distance_band(distance_m: float, radius_m: float = 0.0) -> Band:
    """HERE inside radius_m; WARMER within 50 m of its edge; WARM within 250 m; else COLD."""
    gap = distance_m - radius_m
    if gap <= 0:
        return Band.HERE
    if gap <= WARMER_M:
        return Band.WARMER
    if gap <= WARM_M:
        return Band.WARM
    return Band.COLD


def circular_mean(angles_deg: Iterable[float], weights: Iterable[float] | None = None) -> float:
    """The mean direction of angles (350 and 10 average to 0, not 180), in [0, 360)."""
    angles = list(angles_deg)
    if not angles:
        raise ValueError("circular_mean needs at least one angle")
    ws = [1.0] * len(angles) if weights is None else list(weights)
    if len(ws) != len(angles):
        raise ValueError(f"{len(ws)} weights for {len(angles)} angles")
    s = sum(w * math.sin(math.radians(a)) for a, w in zip(angles, ws, strict=True))
    c = sum(w * math.cos(math.radians(a)) for a, w in zip(angles, ws, strict=True))
    if abs(s) < 1e-12 and abs(c) < 1e-12:
        raise ValueError("the angles cancel out: no mean direction")
    return normalize_deg(math.degrees(math.atan2(s, c)))


class HeadingSmoother:
    """Low-pass filter on the unit vector of the heading, so 359 -> 0 is a step of one degree.

    With timestamps, each reading moves the estimate by 1 - exp(-dt / time_constant_s);
    without, by the fixed ``alpha``.
    """

    def __init__(self, alpha: float = 0.25, time_constant_s: float = 0.4) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must lie in (0, 1], got {alpha}")
        if time_constant_s <= 0:
            raise ValueError(f"time_constant_s must be positive, got {time_constant_s}")
        self.alpha = alpha
        self.time_constant_s = time_constant_s
        self._s = self._c = 0.0
        self._at: float | None = None
        self.value: float | None = None
        """The smoothed heading in [0, 360), None before the first reading."""

    def update(self, heading_deg: float, at_s: float | None = None) -> float:
        """Feed one reading (at_s: seconds on any monotonic clock); return the smoothed heading."""
        s, c = math.sin(math.radians(heading_deg)), math.cos(math.radians(heading_deg))
        if self.value is None:
            self._s, self._c = s, c
        else:
            k = self.alpha
            if at_s is not None and self._at is not None:
                k = 1 - math.exp(-max(at_s - self._at, 0.0) / self.time_constant_s)
            self._s += k * (s - self._s)
            self._c += k * (c - self._c)
            if abs(self._s) < 1e-9 and abs(self._c) < 1e-9:
                self._s, self._c = s, c
        self._at = at_s
        self.value = normalize_deg(math.degrees(math.atan2(self._s, self._c)))
        return self.value

    def reset(self) -> None:
        self.value, self._at = None, None


@dataclass(frozen=True)
class Estimate:
    """A smoothed position and its accuracy radius in metres."""

    position: LatLon
    accuracy_m: float


class PositionSmoother:
    """Accuracy-weighted position (a Kalman filter per axis with walking-speed drift).

    A fix with accuracy a has weight 1/a^2 against the estimate's variance, which grows by
    (drift_mps * dt)^2 between fixes. A fix farther than reset_m from the estimate restarts it.
    """

    def __init__(self, drift_mps: float = WALKING_NOISE_MPS, reset_m: float = 300.0) -> None:
        self.drift_mps = drift_mps
        self.reset_m = reset_m
        self.estimate: Estimate | None = None
        self._at: datetime | None = None

    def update(self, position: LatLon, accuracy_m: float, at: datetime | None = None) -> Estimate:
        """Feed one fix; return the new estimate."""
        accuracy = max(float(accuracy_m), 1.0)
        est = self.estimate
        if est is None or distance_and_bearing(est.position, position)[0] > self.reset_m:
            self.estimate, self._at = Estimate(position, accuracy), at
            return self.estimate
        dt = 1.0
        if at is not None and self._at is not None:
            dt = max((at - self._at).total_seconds(), 0.0)
        variance = est.accuracy_m**2 + (self.drift_mps * dt) ** 2
        gain = variance / (variance + accuracy**2)
        lat = est.position.lat + gain * (position.lat - est.position.lat)
        lon = est.position.lon + gain * (position.lon - est.position.lon)
        self.estimate = Estimate(LatLon(lat, lon), math.sqrt((1 - gain) * variance))
        if at is not None:
            self._at = at
        return self.estimate

    def reset(self) -> None:
        self.estimate, self._at = None, None
