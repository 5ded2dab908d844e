"""Keep the phone's screen on during play (Android's FLAG_KEEP_SCREEN_ON on the activity's window).

The window's flags may only be changed on Android's UI thread, not on Kivy's: p4a's
``android.runnable.run_on_ui_thread`` posts the call there. Off Android (no pyjnius, no
``android`` module) this does nothing. Kivy-free.
"""

from __future__ import annotations

ACTIVITY = "org.kivy.android.PythonActivity"
LAYOUT_PARAMS = "android.view.WindowManager$LayoutParams"


def _set_flag(on: bool) -> None:
    """On Android's UI thread: add or clear FLAG_KEEP_SCREEN_ON."""
    from jnius import autoclass

    flag = autoclass(LAYOUT_PARAMS).FLAG_KEEP_SCREEN_ON
    window = autoclass(ACTIVITY).mActivity.getWindow()
    if on:
        window.addFlags(flag)
    else:
        window.clearFlags(flag)


def keep_screen_on(on: bool) -> bool:
    """Ask Android to keep the screen on (or to let it dim again); False off Android."""
    try:
        from android.runnable import run_on_ui_thread
    except ImportError:
        return False
    run_on_ui_thread(_set_flag)(on)
    return True
