"""Settings during play: language (also Leichte Sprache) and large text, reachable from the
navigation bar without leaving the rally (the start screen has the same card); below, how the
phone's clock compares with the server's and how far the rally's map is on the phone."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from client.clock import describe_offset
from client.pack import describe_map
from client.screens.base import GameScreen


class SettingsScreen(GameScreen):
    """Shows the settings card; the app applies each choice at once (app.set_language, ...)."""

    clock_text = StringProperty("")
    map_text = StringProperty("")

    def show(self, snap: Any) -> None:
        key, values = describe_offset(snap.clock_offset_s)
        self.clock_text = self.tr(key, **values)
        described = describe_map(snap.map_pack)
        self.map_text = self.tr(described[0], **described[1]) if described else ""
