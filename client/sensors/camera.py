"""Camera frame providers: Kivy's camera on the phone, image files in a folder on the desktop.

A provider pushes frames to a callback: PIL images (files) or RawFrames (Kivy's camera), which
to_image turns into upright PIL images for client.qrscan.decode, off the UI thread. Android's
camera also tells its sensor orientation, facing and field of view (read_android_info).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client.camera_geometry import IDENTITY, Facing, Transform
from client.sensors import Replay

FrameCallback = Callable[[Any], None]
DEFAULT_H_FOV = 60.0
"""The horizontal field of view assumed when the camera does not tell its own."""


@dataclass(frozen=True)
class CameraInfo:
    """What the camera tells about itself: how its sensor is mounted (degrees clockwise from
    the phone's natural orientation), which way it looks, and its fields of view in the
    sensor's own orientation (the long side horizontal)."""

    sensor_deg: int = 0
    facing: Facing = Facing.BACK
    h_fov_deg: float = DEFAULT_H_FOV
    v_fov_deg: float = DEFAULT_H_FOV * 0.75


def _angle(value: Any, fallback: float) -> float:
    """A view angle from the camera, or fallback for the nonsense some drivers report."""
    try:
        angle = float(value)
    except (TypeError, ValueError):
        return fallback
    return angle if 10.0 <= angle <= 150.0 else fallback


def read_android_info(
    camera_class: Any, info_class: Any, index: int, parameters: Any
) -> CameraInfo:
    """A CameraInfo from android.hardware.Camera (the API Kivy's Android camera uses):
    Camera.getCameraInfo(index, info) fills info.orientation and info.facing; the camera's
    Parameters tell getHorizontalViewAngle() and getVerticalViewAngle()."""
    info = info_class()
    camera_class.getCameraInfo(index, info)
    facing = Facing.FRONT if info.facing == info_class.CAMERA_FACING_FRONT else Facing.BACK
    h = _angle(parameters.getHorizontalViewAngle(), DEFAULT_H_FOV)
    v = _angle(parameters.getVerticalViewAngle(), h * 0.75)
    sensor = int(info.orientation) % 360
    return CameraInfo(sensor - sensor % 90, facing, h, v)


def android_display_rotation() -> int:
    """The display's rotation from the phone's natural orientation (0, 90, 180, 270)."""
    from jnius import autoclass

    activity = autoclass("org.kivy.android.PythonActivity").mActivity
    return int(activity.getWindowManager().getDefaultDisplay().getRotation()) * 90


@dataclass(frozen=True)
class RawFrame:
    """A camera frame as the camera holds it: "nv21" (Android's preview: the first w*h bytes
    are the grey image), "rgb", "bgr" or "rgba" rows from the top, in the sensor's orientation.
    data is the bytes, or a function that returns them (None when there is no frame), called on
    the worker: Android's grab_frame copies the preview buffer under its lock."""

    data: Any
    size: tuple[int, int]
    fmt: str


def to_image(frame: Any, transform: Transform = IDENTITY) -> Any:
    """A camera frame (RawFrame or PIL image) as an upright PIL image (grey or RGB) for the QR
    decoder, or None when the camera had no frame to give. Meant for a worker thread: it copies
    and converts the whole frame."""
    from PIL import Image

    if isinstance(frame, RawFrame):
        w, h = frame.size
        data = frame.data() if callable(frame.data) else frame.data
        if data is None:
            return None
        if frame.fmt == "nv21":
            image = Image.frombytes("L", (w, h), bytes(data[: w * h]))
        elif frame.fmt in ("rgb", "bgr", "rgba"):
            mode = "RGBA" if frame.fmt == "rgba" else "RGB"
            image = Image.frombytes(mode, (w, h), bytes(data))
            if frame.fmt == "bgr":
                b, g, r = image.split()
                image = Image.merge("RGB", (r, g, b))
            image = image.convert("RGB")
        else:
            raise ValueError(f"unknown frame format {frame.fmt!r}")
    else:
        image = frame
    if transform.rotation_deg:
        # PIL turns counter-clockwise
        image = image.rotate(-transform.rotation_deg, expand=True)
    if transform.mirror:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return image


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


class FramesFromFiles:
    """The images of a folder (sorted by name) as camera frames, interval_s apart, looping."""

    def __init__(self, folder: str | Path, *, interval_s: float = 0.2, loop: bool = True) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ValueError(f"frames folder {self.folder} does not exist")
        self.paths = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise ValueError(
                f"frames folder {self.folder} holds no images ({', '.join(IMAGE_SUFFIXES)})"
            )
        self.interval_s = interval_s
        self.loop = loop
        self._replay = Replay("frames-from-files")

    def __len__(self) -> int:
        return len(self.paths)

    def frames(self) -> Iterator[Any]:
        """The images in order (endless when loop), as RGB PIL images."""
        from PIL import Image

        while True:
            for path in self.paths:
                with Image.open(path) as image:
                    yield image.convert("RGB")
            if not self.loop:
                return

    def start(self, callback: FrameCallback) -> None:
        """Deliver frames on a daemon thread until stop()."""
        self._replay.start(self.frames(), callback, self.interval_s)

    def stop(self) -> None:
        self._replay.stop()


class KivyCameraFrames:
    """Frames of Kivy's core camera (imported on start) as RawFrames, at most one per interval_s.

    Call start/stop from Kivy's main thread; the callback runs there too and gets the frame's
    bytes only (a reference or one copy): converting them is the caller's worker's job.
    """

    def __init__(
        self, index: int = 0, resolution: tuple[int, int] = (1280, 720), interval_s: float = 0.2
    ) -> None:
        self.index = index
        self.resolution = resolution
        self.interval_s = interval_s
        self._camera: Any = None
        self._last = 0.0

    @property
    def texture(self) -> Any:
        """The live texture to show behind the AR overlay (None before start)."""
        return None if self._camera is None else self._camera.texture

    @property
    def frame_size(self) -> tuple[int, int]:
        return self.resolution

    def info(self) -> CameraInfo:
        """The camera's orientation and field of view (Android), else a back camera at 0 deg."""
        android_camera = getattr(self._camera, "_android_camera", None)
        if android_camera is None:
            return CameraInfo()
        from jnius import autoclass

        return read_android_info(
            autoclass("android.hardware.Camera"),
            autoclass("android.hardware.Camera$CameraInfo"),
            self.index,
            android_camera.getParameters(),
        )

    def grab(self) -> RawFrame | None:
        """The newest frame, without copying it (main thread), or None."""
        camera = self._camera
        if camera is None:
            return None
        if hasattr(camera, "grab_frame"):  # Android: the NV21 preview buffer, read on the worker
            return RawFrame(camera.grab_frame, tuple(camera.resolution), "nv21")
        data = getattr(camera, "_buffer", None)  # desktop providers keep the last frame here
        if data is None or camera.texture is None:
            return None
        return RawFrame(data, tuple(camera.texture.size), getattr(camera, "_format", "rgb"))

    def start(self, callback: FrameCallback) -> None:
        from kivy.core.camera import Camera

        def on_texture(camera: Any) -> None:
            now = time.monotonic()
            if now - self._last < self.interval_s:
                return
            self._last = now
            frame = self.grab()
            if frame is not None:
                callback(frame)

        self._camera = Camera(index=self.index, resolution=self.resolution, stopped=True)
        self._camera.bind(on_texture=on_texture)
        self._camera.start()

    def stop(self) -> None:
        if self._camera is not None:
            self._camera.stop()
        self._camera = None
