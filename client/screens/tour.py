"""Screenshots of the screens: show one, let it draw, save the window as client-<name>.png.

Used by --screenshot-dir during autoplay and by the UI tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kivy.clock import Clock


def grab_window(path: Path) -> Path:
    """Save what the window shows now as a PNG (OpenGL's front image, read back)."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels
    from PIL import Image

    width, height = Window.size
    data = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
    image = Image.frombytes("RGB", (width, height), bytes(data))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(path)
    return path


class Tour:
    """Shows screens in turn and saves each as folder/client-<name>.png.

    A name may carry a variant after a dash ("arview-cardboard"): the screen is the part before.
    """

    def __init__(self, app: Any, folder: Path, settle_s: float = 0.7) -> None:
        self.app = app
        self.folder = Path(folder)
        self.settle_s = settle_s
        self.saved: dict[str, Path] = {}
        self._queue: list[tuple[str, Callable[[], None] | None]] = []
        self._busy = False

    def shoot(
        self,
        names: Sequence[str],
        done: Callable[[], None] | None = None,
        settle_s: float | None = None,
    ) -> None:
        """Visit names in order, a screenshot of each; then call done (main thread)."""
        for i, name in enumerate(names):
            self._queue.append((name, done if i == len(names) - 1 else None))
        if not names and done is not None:
            self._queue.append(("", done))
        if not self._busy:
            self._next(settle_s)

    def _next(self, settle_s: float | None = None) -> None:
        if not self._queue:
            self._busy = False
            return
        self._busy = True
        name, done = self._queue.pop(0)
        if not name:
            self._after(done)
            return
        self.app.show_screen(name.split("-")[0])
        wait = self.settle_s if settle_s is None else settle_s
        Clock.schedule_once(lambda _dt: self._take(name, done), wait)

    def _take(self, name: str, done: Callable[[], None] | None) -> None:
        self.saved[name] = grab_window(self.folder / f"client-{name}.png")
        self._after(done)

    def _after(self, done: Callable[[], None] | None) -> None:
        if done is not None:
            done()
        self._next()
