"""Camera frame providers: Kivy's camera on the phone, image files in a folder on the desktop.

Frames are PIL images; client.qrscan.decode reads them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from client.sensors import Replay

FrameCallback = Callable[[Any], None]
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
    """Frames of Kivy's core camera (imported on start), at most one per interval_s.

    Call start/stop from Kivy's main thread; callback runs there too.
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

    def start(self, callback: FrameCallback) -> None:
        from kivy.core.camera import Camera

        def on_texture(camera: Any) -> None:
            now = time.monotonic()
            if now - self._last < self.interval_s or camera.texture is None:
                return
            self._last = now
            callback(texture_to_image(camera.texture))

        self._camera = Camera(index=self.index, resolution=self.resolution, stopped=True)
        self._camera.bind(on_texture=on_texture)
        self._camera.start()

    def stop(self) -> None:
        if self._camera is not None:
            self._camera.stop()
        self._camera = None


def texture_to_image(texture: Any) -> Any:
    """A Kivy texture as an RGB PIL image (Kivy's rows run bottom-up)."""
    from PIL import Image

    image = Image.frombytes("RGBA", tuple(texture.size), bytes(texture.pixels))
    return image.transpose(Image.Transpose.FLIP_TOP_BOTTOM).convert("RGB")
