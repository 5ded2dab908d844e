"""The app's window on the desktop: phone-shaped, set before Kivy creates it (so import this
before anything that may open the window)."""

from __future__ import annotations

from typing import Any

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


# --- Cardboard: landscape and full screen ------------------------------------------------------

SYSTEM_UI_IMMERSIVE = 0x1000 | 0x0004 | 0x0002 | 0x0400 | 0x0200 | 0x0100
"""View.SYSTEM_UI_FLAG_IMMERSIVE_STICKY | FULLSCREEN | HIDE_NAVIGATION | LAYOUT_FULLSCREEN |
LAYOUT_HIDE_NAVIGATION | LAYOUT_STABLE: status and navigation bar hidden until a swipe."""
SCREEN_ORIENTATION_LANDSCAPE = 0
SCREEN_ORIENTATION_PORTRAIT = 1
"""ActivityInfo's constants (the app is built for portrait: buildozer.spec)."""


def apply_android_cardboard(activity: Any, on: bool) -> None:
    """Landscape and immersive full screen for a Cardboard viewer (on), else portrait with the
    system bars: Activity.setRequestedOrientation and the decor view's system UI flags. Run on
    Android's UI thread."""
    activity.setRequestedOrientation(
        SCREEN_ORIENTATION_LANDSCAPE if on else SCREEN_ORIENTATION_PORTRAIT
    )
    decor = activity.getWindow().getDecorView()
    decor.setSystemUiVisibility(SYSTEM_UI_IMMERSIVE if on else 0)


def set_cardboard_window(on: bool) -> None:
    """Turn the screen for Cardboard mode: Android in landscape and immersive full screen; the
    desktop's phone-shaped window turns on its side like a phone (there is nothing to hide)."""
    if platform == "android":
        try:
            from android.runnable import run_on_ui_thread
            from jnius import autoclass

            activity = autoclass("org.kivy.android.PythonActivity").mActivity
            run_on_ui_thread(apply_android_cardboard)(activity, on)
        except Exception as exc:  # an old or odd system: Cardboard still draws, bars and all
            from kivy.logger import Logger

            Logger.warning(f"ArtCaching: cardboard screen mode: {exc}")
        return
    from kivy.core.window import Window

    w, h = Window.size
    if (on and h > w) or (not on and w > h):
        Window.size = (h, w)
