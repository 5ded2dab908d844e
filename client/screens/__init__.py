"""The app's screens: each a Screen subclass (<name>.py) with its layout (<name>.kv).

A screen shows a Snapshot of the GameSession and sends the player's actions back to the app;
it holds no game logic of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import ObjectProperty
from kivy.uix.screenmanager import Screen

SCREENS = ("start", "clue", "arview", "map", "scan", "reveal", "progress")
"""Screen names, each with a module and a .kv file of that name in this folder."""

HERE = Path(__file__).parent


def load_layouts() -> None:
    """Load every screen's .kv file (once)."""
    for name in SCREENS:
        path = str(HERE / f"{name}.kv")
        if path not in Builder.files:
            Builder.load_file(path)


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
