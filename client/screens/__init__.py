"""The app's screens: each a Screen subclass (<name>.py) with its layout (<name>.kv).

A screen shows a Snapshot of the GameSession and sends the player's actions back to the app;
it holds no game logic of its own. SCREENS is the one table of them: the App builds its screen
manager from it, and whatever needs the screens' names or layouts reads it here.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

from client.screens.arview import ARScreen
from client.screens.base import GameScreen
from client.screens.clue import ClueScreen
from client.screens.map import MapScreen
from client.screens.progress import ProgressScreen
from client.screens.reveal import RevealScreen
from client.screens.scan import ScanScreen
from client.screens.settings import SettingsScreen
from client.screens.start import StartScreen

HERE = Path(__file__).parent

SCREENS: dict[str, type[GameScreen]] = {
    "start": StartScreen,
    "clue": ClueScreen,
    "arview": ARScreen,
    "map": MapScreen,
    "scan": ScanScreen,
    "reveal": RevealScreen,
    "progress": ProgressScreen,
    "settings": SettingsScreen,
}
"""Screen name -> class; the layout is the .kv file of that name in this folder."""


def layout_path(name: str) -> Path:
    """The .kv file of the screen called name."""
    return HERE / f"{name}.kv"


def load_layouts() -> None:
    """Load every screen's .kv file (once)."""
    for name in SCREENS:
        path = str(layout_path(name))
        if path not in Builder.files:
            Builder.load_file(path)
