"""AR view: the camera image with the opened markers drawn where they stand (widgets.arview)."""

from __future__ import annotations

from typing import Any

from kivy.properties import ListProperty, StringProperty

from client.screens.base import GameScreen
from client.screens.clue import BAND_RGBA
from client.widgets.arview import distance_text


def nearest_marker(snap: Any) -> Any:
    """The opened target with the smallest distance, or None."""
    near = [t for t in snap.targets if t.marker is not None and t.distance_m is not None]
    return min(near, key=lambda t: t.distance_m) if near else None


class ARScreen(GameScreen):
    hint = StringProperty("")
    band = StringProperty("")
    band_rgba = ListProperty(BAND_RGBA["cold"])

    def show(self, snap: Any) -> None:
        target = nearest_marker(snap)
        if snap.finished:
            self.hint = self.tr("ui.clue.finished")
        elif snap.position is None:
            self.hint = self.tr(self.app.location_note or "ui.clue.no_fix")
        elif snap.heading_deg is None:
            self.hint = self.tr("ui.ar.no_heading")
        elif target is None:
            self.hint = self.tr("ui.ar.no_marker")
        else:
            self.hint = self.tr(
                "ui.ar.look", stop=target.stop, distance=distance_text(target.distance_m)
            )
        if self.app.camera_note:
            self.hint = f"{self.tr(self.app.camera_note)}\n{self.hint}"
        if target is not None and target.band is not None:
            self.band = self.tr(f"band.{target.band.value}").upper()
            self.band_rgba = BAND_RGBA[target.band.value]
        else:
            self.band = ""
