"""The app's window on the desktop: phone-shaped, set before Kivy creates it (so import this
before anything that may open the window)."""

from __future__ import annotations

from kivy.utils import platform

DESKTOP_WINDOW = (540, 960)


def prepare_window() -> None:
    """A phone-shaped window on the desktop (before Kivy creates it)."""
    if platform in ("android", "ios"):
        return
    from kivy.config import Config

    Config.set("graphics", "width", str(DESKTOP_WINDOW[0]))
    Config.set("graphics", "height", str(DESKTOP_WINDOW[1]))
    Config.set("graphics", "resizable", "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
