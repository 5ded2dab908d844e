"""The camera feed of the app: frames from a provider (client.sensors.camera) become the texture
behind the AR view and the scan screen, and go to the session's QR decoder while scanning."""

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

from client.sensors.camera import FramesFromFiles, KivyCameraFrames


def image_to_texture(image: Any, texture: Any = None) -> Any:
    """A PIL image as a Kivy texture (reusing texture when it has the same size); main thread."""
    rgb = image.convert("RGB")
    if texture is None or tuple(texture.size) != rgb.size:
        texture = Texture.create(size=rgb.size, colorfmt="rgb")
        texture.flip_vertical()
    texture.blit_buffer(rgb.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
    return texture


class DecodedOnce(FramesFromFiles):
    """Image files as camera frames, each decoded once (the preview loops them for ever)."""

    def frames(self) -> Iterator[Any]:
        images = list(itertools.islice(super().frames(), len(self.paths)))
        yield from itertools.cycle(images) if self.loop else images


class FrameFeed:
    """Feeds app.frame_texture from the camera (phone) or from image files (desktop)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.provider: Any = None
        self._latest: Any = None
        self._lock = threading.Lock()
        self._event: Any = None

    def start(self, frames_dir: Path | None) -> None:
        """Start the frames (main thread); on the phone only once the camera permission is
        granted (the app asks for it with location's, client/permissions.py)."""
        if frames_dir is not None:
            self._start(DecodedOnce(frames_dir))
        elif platform == "android":
            self._start(KivyCameraFrames())

    def _start(self, provider: Any) -> None:
        self.provider = provider
        try:
            provider.start(self._on_frame)
        except Exception as exc:  # no camera: the AR view shows a plain sky, scanning is off
            Logger.warning(f"ArtCaching: camera unavailable: {exc}")
            self.provider = None
            return
        live = getattr(self.provider, "texture", None)
        if live is not None:
            self.app.frame_texture = live
        self._event = Clock.schedule_interval(self._show_latest, 1 / 15)

    def stop(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None
        if self.provider is not None:
            self.provider.stop()
            self.provider = None

    def _on_frame(self, image: Any) -> None:
        """From the provider's thread (or the main thread on the phone)."""
        app = self.app
        if app.scanning and app.session is not None:
            app.session.handle_frame(image)
        with self._lock:
            self._latest = image

    def show(self, image: Any) -> None:
        """Put image on screen now (main thread)."""
        live = getattr(self.provider, "texture", None)
        if live is not None:
            self.app.frame_texture = live
            return
        texture = image_to_texture(image, self.app.frame_texture)
        if texture is not self.app.frame_texture:
            self.app.frame_texture = texture
        else:
            self.app.property("frame_texture").dispatch(self.app)

    def _show_latest(self, *_: Any) -> None:
        if self.app.current not in ("arview", "scan"):
            return
        with self._lock:
            image, self._latest = self._latest, None
        if image is not None:
            self.show(image)
