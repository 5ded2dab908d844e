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
