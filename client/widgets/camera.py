"""The camera feed of the app: frames from a provider (client.sensors.camera) become the texture
behind the AR view and the scan screen, and go to the session's QR decoder while scanning.

Only Kivy's drawing runs on the UI thread: a worker thread (client.frame_worker, "camera-frames")
turns each frame into grey for the session's decoder and waits for the answer, and turns it
upright to show when the camera has no texture of its own; frames that arrive meanwhile are
dropped (only the newest waits). Nothing is converted unless the AR view or the scan screen shows.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.graphics.texture import Texture
from kivy.logger import Logger
from kivy.utils import platform

from client import camera_geometry
from client.frame_worker import FrameWorker
from client.sensors.camera import (
    CameraInfo,
    FramesFromFiles,
    KivyCameraFrames,
    RawFrame,
    android_display_rotation,
    luminance,
    to_image,
)

CAMERA_SCREENS = ("arview", "scan")
DECODE_WAIT_S = 10.0


def rgb_to_texture(data: bytes, size: tuple[int, int], texture: Any = None) -> Any:
    """RGB rows (top first) as a Kivy texture, reusing texture when it has the same size; main
    thread (a blit, no conversion)."""
    if texture is None or tuple(texture.size) != tuple(size):
        texture = Texture.create(size=size, colorfmt="rgb")
        texture.flip_vertical()
    texture.blit_buffer(data, colorfmt="rgb", bufferfmt="ubyte")
    return texture


class DecodedOnce(FramesFromFiles):
    """Image files as camera frames, each decoded once (the preview loops them for ever)."""

    def frames(self) -> Iterator[Any]:
        images = list(itertools.islice(super().frames(), len(self.paths)))
        yield from itertools.cycle(images) if self.loop else images


class CameraFeed:
    """Feeds app.frame_texture from the camera (phone) or from image files (desktop), and the
    session's QR decoder while scanning. start()/stop() open and close the camera."""

    def __init__(self, app: Any, frames_dir: Path | None = None) -> None:
        self.app = app
        self.frames_dir = frames_dir
        self.provider: Any = None
        self.info: CameraInfo | None = None
        """The camera's orientation and field of view (None for image files: upright, 60 deg)."""
        self.transform = camera_geometry.IDENTITY
        self._lock = threading.Lock()
        self._shown: tuple[bytes, tuple[int, int]] | None = None
        self.worker = FrameWorker(self._convert, on_error=self._frame_failed)
        self._event: Any = None
        self.converted = 0
        """Frames converted so far (tests)."""

    # --- start and stop (main thread) ------------------------------------------------------------

    def start(self, frames_dir: Path | None = None) -> None:
        """Open the camera (or the image files) and the worker; nothing when already running.
        On the phone only once the camera permission is granted (the app asks for it with
        location's, client/permissions.py)."""
        if frames_dir is not None:
            self.frames_dir = frames_dir
        if self.provider is not None:
            return
        if self.frames_dir is not None:
            self._start(DecodedOnce(self.frames_dir))
        elif platform == "android":
            self._start(KivyCameraFrames())

    def _start(self, provider: Any) -> None:
        self.worker.start()
        self.provider = provider
        try:
            provider.start(self._on_frame)
        except Exception as exc:  # no camera: the AR view shows a plain sky, scanning is off
            Logger.warning(f"ArtCaching: camera unavailable: {exc}")
            self.stop()
            return
        self.orient()
        live = getattr(self.provider, "texture", None)
        if live is not None:
            self.app.frame_texture = live
        self._event = Clock.schedule_interval(self._show_latest, 1 / 15)

    def stop(self) -> None:
        """Close the camera and end the worker (a frame being decoded still finishes)."""
        if self._event is not None:
            self._event.cancel()
            self._event = None
        if self.provider is not None:
            try:
                self.provider.stop()
            finally:
                self.provider = None
        self.worker.stop()
        with self._lock:
            self._shown = None

    @property
    def running(self) -> bool:
        return self.provider is not None

    def orient(self, display_deg: int | None = None) -> None:
        """Read the camera's orientation and field of view and the display's rotation (again
        after the display turned) and tell the app how to draw the camera image."""
        info_of = getattr(self.provider, "info", None)
        if info_of is None:
            self.info, self.transform = None, camera_geometry.IDENTITY
        else:
            try:
                self.info = info_of()
                if display_deg is None:
                    display_deg = android_display_rotation() if platform == "android" else 0
            except Exception as exc:  # a camera that does not say: upright, 60 deg
                Logger.warning(f"ArtCaching: camera orientation unknown: {exc}")
                self.info, display_deg = CameraInfo(), 0
            self.transform = camera_geometry.upright(
                self.info.sensor_deg, self.info.facing, display_deg
            )
        self.app.camera_info = self.info
        self.app.camera_transform = self.transform

    # --- frames ----------------------------------------------------------------------------------

    def wanted(self) -> bool:
        """Frames are converted only while the AR view or the scan screen shows."""
        return self.provider is not None and self.app.current in CAMERA_SCREENS

    def _on_frame(self, frame: Any) -> None:
        """From the provider's thread (files) or the main thread (Kivy's camera): no work here
        but keeping the newest frame for the worker."""
        if self.wanted():
            self.worker.put(frame)

    def _frame_failed(self, exc: Exception) -> None:
        Logger.warning(f"ArtCaching: camera frame: {exc}")

    def _convert(self, frame: Any) -> None:
        """On the worker: show the frame (when the camera has no texture of its own) and decode
        it while scanning, waiting for the answer (frames arriving meanwhile wait or drop)."""
        if not self.wanted():
            return
        if isinstance(frame, RawFrame):
            frame = frame.read()  # Android copies its preview buffer here, once
            if frame is None:
                return
        self.converted += 1
        if getattr(self.provider, "texture", None) is None:
            rgb = to_image(frame, self.transform).convert("RGB")
            with self._lock:
                self._shown = (rgb.tobytes(), rgb.size)
        session = self.app.session
        if not (self.app.scanning and session is not None):
            return
        future = session.handle_frame(luminance(frame))
        if future is not None:
            try:
                future.result(timeout=DECODE_WAIT_S)
            except Exception as exc:
                Logger.warning(f"ArtCaching: QR decoding: {exc}")

    def show(self, image: Any) -> None:
        """Put a PIL image on screen now (main thread; tests and the tour)."""
        rgb = image.convert("RGB")
        self._put(rgb.tobytes(), rgb.size)

    def _put(self, data: bytes, size: tuple[int, int]) -> None:
        texture = rgb_to_texture(data, size, self.app.frame_texture)
        if texture is not self.app.frame_texture:
            self.app.frame_texture = texture
        else:
            self.app.property("frame_texture").dispatch(self.app)

    def _show_latest(self, *_: Any) -> None:
        live = getattr(self.provider, "texture", None)
        if live is not None:
            if self.app.frame_texture is not live:
                self.app.frame_texture = live
            return
        with self._lock:
            shown, self._shown = self._shown, None
        if shown is not None:
            self._put(*shown)
