"""Settings during play: language (also Leichte Sprache) and large text, reachable from the
navigation bar without leaving the rally (the start screen has the same card)."""

from __future__ import annotations

from client.screens.base import GameScreen


class SettingsScreen(GameScreen):
    """Shows the settings card; the app applies each choice at once (app.set_language, ...)."""
