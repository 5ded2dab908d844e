"""Camera frame providers: Kivy's camera on the phone, image files in a folder on the desktop.

A provider pushes frames to a callback: PIL images (files) or RawFrames (Kivy's camera). Off the
UI thread, luminance turns one into grey for client.qrscan.decode, and to_image into an upright
PIL image to show. Android's
camera also tells its sensor orientation, facing and field of view (read_android_info).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client import qrscan
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


PIXELS = {
    "rgb": ("RGB", "RGB", 3),
    "bgr": ("RGB", "BGR", 3),
    "rgba": ("RGBA", "RGBA", 4),
    "bgra": ("RGBA", "BGRA", 4),
}
"""A RawFrame's colour formats: (Pillow mode, Pillow raw mode, bytes per pixel)."""


def bytes_per_pixel(fmt: str) -> int:
    """Bytes per pixel of a RawFrame's first plane (NV21's grey plane: 1)."""
    if fmt == "nv21":
        return 1
    if fmt not in PIXELS:
        raise ValueError(f"unknown frame format {fmt!r}")
    return PIXELS[fmt][2]


@dataclass(frozen=True)
class RawFrame:
    """A camera frame as the camera holds it: "nv21" (Android's preview: the first rows are the
    grey image), "rgb", "bgr", "rgba" or "bgra" rows from the top, in the sensor's orientation,
    each stride bytes after the previous (0: no padding). data is the bytes, or a function that
    returns them (None when there is no frame), called on the worker: Android's grab_frame copies
    the preview buffer under its lock."""

    data: Any
    size: tuple[int, int]
    fmt: str
    stride: int = 0

    def read(self) -> RawFrame | None:
        """This frame with its bytes at hand (calls data once), or None when there are none;
        checks that the bytes hold the frame."""
        data = self.data() if callable(self.data) else self.data
        if data is None:
            return None
        w, h = self.size
        per_pixel = bytes_per_pixel(self.fmt)
        row = self.stride or w * per_pixel
        if row < w * per_pixel:
            raise ValueError(f"{w} {self.fmt} pixels do not fit in a stride of {row} bytes")
        needed = row * h
        if memoryview(data).nbytes < needed:
            raise ValueError(
                f"a {w}x{h} {self.fmt} frame needs {needed} bytes, got {memoryview(data).nbytes}"
            )
        return RawFrame(data, self.size, self.fmt, row)


def luminance(frame: Any) -> qrscan.Gray | None:
    """A camera frame (RawFrame or PIL image) as grey for the QR decoder, or None when the camera
    had no frame to give. NV21 is grey already (its first plane, not copied); colour goes
    through Pillow once (ITU-R 601 luma). Not turned upright: QR decoders read codes at any
    angle and mirrored. Meant for a worker thread."""
    from PIL import Image

    if not isinstance(frame, RawFrame):
        return qrscan.gray_of(frame)
    raw = frame.read()
    if raw is None:
        return None
    if raw.fmt == "nv21":
        return qrscan.Gray(raw.data, *raw.size, raw.stride)
    mode, rawmode, _ = PIXELS[raw.fmt]
    return qrscan.gray_of(Image.frombuffer(mode, raw.size, raw.data, "raw", rawmode, raw.stride, 1))


def to_image(frame: Any, transform: Transform = IDENTITY) -> Any:
    """A camera frame (RawFrame or PIL image) as an upright PIL image (grey or RGB) to show, or
    None when the camera had no frame to give. Meant for a worker thread: it copies and
    converts the whole frame."""
    from PIL import Image

    if isinstance(frame, RawFrame):
        raw = frame.read()
        if raw is None:
            return None
        size, data = raw.size, raw.data
        if raw.fmt == "nv21":
            image = Image.frombuffer("L", size, data, "raw", "L", raw.stride, 1).copy()
        else:
            mode, rawmode, _ = PIXELS[raw.fmt]
            image = Image.frombuffer(mode, size, data, "raw", rawmode, raw.stride, 1)
            image = image.convert("RGB")
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
        w, h = camera.texture.size
        stride = memoryview(data).nbytes // h  # GStreamer pads each row to 4 bytes
        return RawFrame(data, (w, h), getattr(camera, "_format", "rgb"), stride)

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
