"""Heading providers: where the back camera looks (heading and pitch), real and scripted.

The phone is held upright to look through the camera, where Android's azimuth/pitch/roll angles
lock up (pitch -90); so the camera's direction is computed from the rotation matrix instead.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from itertools import pairwise
from typing import Any, ClassVar

from client.ar import normalize_deg
from client.sensors import Orientation, Provider, Replay
from client.sensors.declination import Declination
from client.sensors.location import SensorUnavailable

OrientationCallback = Callable[[Orientation], None]
Matrix = tuple[tuple[float, float, float], tuple[float, float, float], tuple[float, float, float]]


def matrix_from_rotation_vector(x: float, y: float, z: float, w: float | None = None) -> Matrix:
    """Android's getRotationMatrixFromVector: device to world (east, north, up) rotation."""
    if w is None:
        w = math.sqrt(max(0.0, 1 - x * x - y * y - z * z))
    return (
        (1 - 2 * y * y - 2 * z * z, 2 * x * y - 2 * z * w, 2 * x * z + 2 * y * w),
        (2 * x * y + 2 * z * w, 1 - 2 * x * x - 2 * z * z, 2 * y * z - 2 * x * w),
        (2 * x * z - 2 * y * w, 2 * y * z + 2 * x * w, 1 - 2 * x * x - 2 * y * y),
    )


def matrix_from_angles(azimuth: float, pitch: float, roll: float) -> Matrix:
    """The rotation matrix whose Android getOrientation() gives these angles (radians):
    Rz(-azimuth) Rx(-pitch) Ry(roll)."""
    sa, ca = math.sin(azimuth), math.cos(azimuth)
    sp, cp = math.sin(pitch), math.cos(pitch)
    sr, cr = math.sin(roll), math.cos(roll)
    return (
        (ca * cr - sa * sp * sr, sa * cp, ca * sr + sa * sp * cr),
        (-sa * cr - ca * sp * sr, ca * cp, -sa * sr + ca * sp * cr),
        (-cp * sr, -sp, cp * cr),
    )


def camera_orientation(r: Matrix, declination_deg: float = 0.0) -> Orientation:
    """Heading (from true north) and pitch of the back camera, which looks along device -z.

    When the camera looks almost straight up or down, the heading is that of the phone's top.
    """
    east, north, up = -r[0][2], -r[1][2], -r[2][2]
    if math.hypot(east, north) < 0.05:
        east, north = r[0][1] * (1 if up < 0 else -1), r[1][1] * (1 if up < 0 else -1)
    heading = math.degrees(math.atan2(east, north)) + declination_deg
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, up))))
    return Orientation(normalize_deg(heading), pitch)


def declination_deg(declination: Declination | None) -> float:
    """The current declination (read on every reading: a float, recomputed elsewhere)."""
    return declination.deg if declination is not None else 0.0


class AndroidHeading:
    """The rotation vector sensor through pyjnius (Android only), as camera Orientation readings.

    The sensor gives magnetic north; declination (the World Magnetic Model at the player's
    position, client.sensors.declination) turns it into true north (Kaiserslautern: about +3.5).
    """

    def __init__(self, declination: Declination | None = None) -> None:
        self.declination = declination
        self._listener: Any = None
        self._manager: Any = None

    def start(self, callback: OrientationCallback) -> None:
        from jnius import PythonJavaClass, autoclass, cast, java_method

        context = autoclass("android.content.Context")
        sensor_class = autoclass("android.hardware.Sensor")
        manager_class = autoclass("android.hardware.SensorManager")
        activity = autoclass("org.kivy.android.PythonActivity").mActivity
        manager = cast(
            "android.hardware.SensorManager", activity.getSystemService(context.SENSOR_SERVICE)
        )
        sensor = manager.getDefaultSensor(sensor_class.TYPE_ROTATION_VECTOR)
        if sensor is None:
            raise SensorUnavailable("this phone has no rotation vector sensor")
        owner = self

        class Listener(PythonJavaClass):
            __javainterfaces__: ClassVar[list[str]] = ["android/hardware/SensorEventListener"]

            @java_method("(Landroid/hardware/SensorEvent;)V")
            def onSensorChanged(self, event):
                v = list(event.values)
                r = (
                    matrix_from_rotation_vector(*v[:4])
                    if len(v) >= 4
                    else matrix_from_rotation_vector(*v[:3])
                )
                callback(camera_orientation(r, declination_deg(owner.declination)))

            @java_method("(Landroid/hardware/Sensor;I)V")
            def onAccuracyChanged(self, sensor, accuracy):
                pass

        self._listener = Listener()
        self._manager = manager
        manager.registerListener(self._listener, sensor, manager_class.SENSOR_DELAY_GAME)

    def stop(self) -> None:
        if self._manager is not None and self._listener is not None:
            self._manager.unregisterListener(self._listener)
        self._listener = self._manager = None


class PlyerHeading:
    """plyer's spatialorientation, polled on a thread (a fallback where no rotation vector is)."""

    def __init__(self, interval_s: float = 0.05, declination: Declination | None = None) -> None:
        self.interval_s = interval_s
        self.declination = declination
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, callback: OrientationCallback) -> None:
        from plyer import spatialorientation

        spatialorientation.enable_listener()
        self._stop.clear()

        def poll() -> None:
            while not self._stop.wait(self.interval_s):
                angles = spatialorientation.orientation
                if None in angles:
                    continue
                r = matrix_from_angles(*angles)
                callback(camera_orientation(r, declination_deg(self.declination)))

        self._thread = threading.Thread(target=poll, name="plyer-heading", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            from plyer import spatialorientation

            spatialorientation.disable_listener()
        self._thread = None


class FirstAvailable:
    """The first of several providers that this phone has: on Android the rotation vector
    sensor, else plyer's angles from accelerometer and magnetometer (PlyerHeading)."""

    def __init__(self, *providers: Provider) -> None:
        self.providers = providers
        self.active: Provider | None = None

    def start(self, callback: OrientationCallback) -> None:
        """Start the first provider whose start does not raise SensorUnavailable."""
        missing = []
        for provider in self.providers:
            try:
                provider.start(callback)
            except SensorUnavailable as exc:
                missing.append(f"{type(provider).__name__}: {exc}")
                continue
            self.active = provider
            return
        raise SensorUnavailable("; ".join(missing) or "no provider")

    def stop(self) -> None:
        if self.active is not None:
            self.active.stop()
        self.active = None


class ScriptedHeading:
    """Headings from a script of (seconds, heading, pitch) key points, interpolated the short way
    round (350 -> 10 passes 0), with Gaussian jitter (deterministic for a seed)."""

    def __init__(
        self,
        script: Sequence[tuple[float, float] | tuple[float, float, float]],
        *,
        interval_s: float = 0.1,
        noise_deg: float = 0.0,
        seed: int = 0,
        speedup: float = 1.0,
        loop: bool = False,
    ) -> None:
        if not script:
            raise ValueError("a heading script needs at least one (seconds, heading) point")
        times = [float(p[0]) for p in script]
        if times != sorted(times):
            raise ValueError(f"script times must not decrease: {times}")
        self.script = [
            (float(p[0]), float(p[1]), float(p[2]) if len(p) > 2 else 0.0) for p in script
        ]
        self.interval_s = interval_s
        self.noise_deg = noise_deg
        self.seed = seed
        self.speedup = speedup
        self.loop = loop
        self._replay = Replay("scripted-heading")

    def at(self, t: float) -> Orientation:
        """The scripted orientation t seconds after the start (without jitter)."""
        pts = self.script
        if self.loop and pts[-1][0] > 0:
            t = math.fmod(t, pts[-1][0])
        if t <= pts[0][0]:
            return Orientation(normalize_deg(pts[0][1]), pts[0][2])
        for (t0, h0, p0), (t1, h1, p1) in pairwise(pts):
            if t <= t1:
                f = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
                turn = (h1 - h0 + 180.0) % 360.0 - 180.0
                return Orientation(normalize_deg(h0 + f * turn), p0 + f * (p1 - p0))
        return Orientation(normalize_deg(pts[-1][1]), pts[-1][2])

    def readings(self) -> Iterator[Orientation]:
        """Readings every interval_s, with jitter; endless when loop, else to the script's end."""
        rng = random.Random(self.seed)
        t = 0.0
        end = self.script[-1][0]
        while self.loop or t <= end + 1e-9:
            o = self.at(t)
            jitter = rng.gauss(0.0, self.noise_deg) if self.noise_deg else 0.0
            yield Orientation(normalize_deg(o.heading_deg + jitter), o.pitch_deg)
            t += self.interval_s

    def start(self, callback: OrientationCallback) -> None:
        self._replay.start(self.readings(), callback, self.interval_s / self.speedup)

    def stop(self) -> None:
        self._replay.stop()
