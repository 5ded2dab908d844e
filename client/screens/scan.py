"""Scan: the camera image with a frame to aim at the printed QR fallback; frames are decoded
off the UI thread by the session (client.qrscan) while this screen is shown (app.scanning).
Below it, the short code printed under the QR code can be typed instead (KM7-4QX)."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from client.screens.base import GameScreen


class ScanScreen(GameScreen):
    hint = StringProperty("")
    result = StringProperty("")

    def on_pre_enter(self, *_: Any) -> None:
        self.on_language()

    def show(self, snap: Any) -> None:
        if self.app.camera_note:
            self.hint = self.tr(self.app.camera_note)
        elif self.app.frame_texture is None:
            self.hint = self.tr("ui.scan.no_camera")
        else:
            self.hint = self.tr("ui.scan.hint")
        self.result = snap.last_result or snap.last_error or ""

    def on_language(self) -> None:
        if self.snapshot is not None:
            self.show(self.snapshot)
        else:
            self.hint = self.tr("ui.scan.hint")

    def send_code(self) -> None:
        """The typed code goes out like a scan; the field empties once it is on its way."""
        field = self.ids.code
        if self.app.session.handle_typed_code(field.text):
            field.text = ""
        self.result = self.app.session.snapshot.last_result or ""
