"""What every screen shares: it shows the app's latest Snapshot and holds no game logic."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen


class GameScreen(Screen):
    """A screen that redraws from the app's latest Snapshot."""

    snapshot = ObjectProperty(None, allownone=True)

    @property
    def app(self) -> Any:
        return App.get_running_app()

    def tr(self, key: str, **values: Any) -> str:
        return self.app.tr(key, **values)

    def on_snapshot(self, _screen: Any, snap: Any) -> None:
        if snap is not None and self.shown:
            self.show(snap)

    @property
    def shown(self) -> bool:
        """This screen is the one on display (the others catch up when they are entered)."""
        return self.manager is not None and self.manager.current == self.name

    def on_pre_enter(self, *_: Any) -> None:
        if self.snapshot is not None:
            self.show(self.snapshot)

    def show(self, snap: Any) -> None:
        """Update the screen's properties from a Snapshot."""

    def on_language(self) -> None:
        """The app's language changed: texts computed in Python are computed again."""
        if self.snapshot is not None:
            self.show(self.snapshot)


KEEP_MARGIN_DP = 24
KEYBOARD_SETTLE_S = 0.5
"""The soft keyboard slides in: its height is known a moment after the focus."""


def keep_in_view(widget: Any, covered: float | None = None) -> None:
    """Scroll the ScrollView around widget (a focused field) so that the whole of it shows
    above the soft keyboard (covered: the keyboard's height in window pixels; default
    Window.keyboard_height). Does nothing outside a ScrollView."""
    from kivy.core.window import Window
    from kivy.metrics import dp
    from kivy.uix.scrollview import ScrollView

    scroll = widget.parent
    while scroll is not None and not isinstance(scroll, ScrollView):
        above = scroll.parent
        scroll = None if above is scroll else above  # the Window is its own parent
    if scroll is None or not scroll.children:
        return
    content = scroll.children[0]
    span = content.height - scroll.height
    if span <= 0:
        return
    margin = dp(KEEP_MARGIN_DP)
    kb = Window.keyboard_height if covered is None else covered
    bottom = scroll.to_window(scroll.x, scroll.y)[1]
    visible_bottom = max(bottom, kb)
    # the widget's place in the content does not depend on the scroll position
    y = content.to_widget(*widget.to_window(widget.x, widget.y))[1]
    # window y of the widget's bottom = bottom - scroll_y * span + y
    highest = (bottom + y - visible_bottom - margin) / span  # widget clear of the keyboard
    lowest = (y + widget.height - scroll.height + margin) / span  # widget's top in view
    s = scroll.scroll_y
    if s > highest:
        s = highest
    elif s < lowest:
        s = min(lowest, highest)
    scroll.scroll_y = min(1.0, max(0.0, s))


def focus_changed(widget: Any, focused: bool) -> None:
    """A text field got the focus: keep it in view now and once the keyboard is up."""
    if not focused:
        return
    from kivy.clock import Clock

    def again(_dt: float) -> None:
        if widget.focus:
            keep_in_view(widget)

    Clock.schedule_once(again, 0)
    Clock.schedule_once(again, KEYBOARD_SETTLE_S)
