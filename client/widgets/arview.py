"""The AR view: the camera image with each marker the server opened drawn where it stands
(client.ar does the maths), sized by distance, and an arrow at the screen edge for a marker
aside or behind. In cardboard mode the same view is drawn twice, side by side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Mesh, Rectangle
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.widget import Widget

from client import ar, i18n

MARKER_RGB = (1.0, 0.55, 0.0)
ARROW_RGB = (1.0, 0.85, 0.0)
SKY = ((0.55, 0.75, 0.95), (0.85, 0.92, 1.0))
GROUND = (0.45, 0.47, 0.42)
NEAR_M = 30.0
"""Within this distance a marker is drawn at NEAR_SHARE of the view's width (or its true size)."""
NEAR_SHARE = 0.22


def display_size(point: ar.ScreenPoint, width: float) -> float:
    """The marker's drawn size: its true angular size near by, and farther away a size that
    shrinks with the square root of the distance, so that 150 m is still easy to see and tap."""
    far = width * NEAR_SHARE * (NEAR_M / max(point.distance_m, NEAR_M)) ** 0.5
    return min(max(point.size, far), width * 0.6)


@dataclass(frozen=True)
class Placed:
    """One marker's place in one eye's view."""

    stop: int
    point: ar.ScreenPoint


def place_markers(snap: Any, width: float, height: float, h_fov_deg: float) -> list[Placed]:
    """Where each opened marker of a Snapshot appears in a view of width x height pixels."""
    if snap is None or snap.position is None or snap.heading_deg is None:
        return []
    view = ar.View(width, height, h_fov_deg)
    placed = []
    for target in snap.targets:
        if target.marker is None:
            continue
        point = ar.project_target(
            snap.position.position, target.marker, snap.heading_deg, view, pitch_deg=snap.pitch_deg
        )
        placed.append(Placed(target.stop, point))
    placed.sort(key=lambda p: -p.point.distance_m)
    return placed


def decimal(value: float, digits: int = 1) -> str:
    """A number with the decimal sign of the app's language (2,9 in German and Leichte Sprache,
    2.9 in English)."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if i18n.get_language().partition("-")[0] == "de" else text


def distance_text(metres: float) -> str:
    """ "85 m", or "1.2 km" from a kilometre on."""
    return f"{decimal(metres / 1000)} km" if metres >= 1000 else f"{round(metres)} m"


class ARView(Widget):
    """Draws ``texture`` (the camera frame, cropped to fill) and the markers of ``snapshot``."""

    texture = ObjectProperty(None, allownone=True)
    snapshot = ObjectProperty(None, allownone=True)
    cardboard = BooleanProperty(False)
    h_fov_deg = NumericProperty(60.0)
    placed = ObjectProperty([])
    """The markers of the last drawing (of the left eye in cardboard mode), for tests."""

    def __init__(self, **kwargs: Any) -> None:
        self._labels: dict[tuple[str, float], Any] = {}
        self._trigger = Clock.create_trigger(self.redraw, -1)
        super().__init__(**kwargs)
        self.bind(
            pos=self._trigger,
            size=self._trigger,
            texture=self._trigger,
            snapshot=self._trigger,
            cardboard=self._trigger,
            h_fov_deg=self._trigger,
        )

    def _label(self, text: str, size: float) -> Any:
        key = (text, size)
        if key not in self._labels:
            if len(self._labels) > 200:
                self._labels.clear()
            label = CoreLabel(
                text=text, font_size=size, bold=True, outline_width=2, outline_color=(0, 0, 0)
            )
            label.refresh()
            self._labels[key] = label.texture
        return self._labels[key]

    def redraw(self, *_: Any) -> None:
        self.canvas.clear()
        if self.width < 2 or self.height < 2:
            return
        eyes = [(self.x, self.width)]
        if self.cardboard:
            half = self.width / 2
            eyes = [(self.x, half), (self.x + half, half)]
        first = []
        for i, (x0, w) in enumerate(eyes):
            placed = place_markers(self.snapshot, w, self.height, self.h_fov_deg)
            if i == 0:
                first = placed
            with self.canvas:
                self._background(x0, w)
                for p in placed:
                    if p.point.visible:
                        self._marker(x0, w, p)
                    else:
                        self._arrow(x0, w, p)
        if self.cardboard:
            with self.canvas:
                Color(0, 0, 0, 1)
                Rectangle(pos=(self.center_x - dp(2), self.y), size=(dp(4), self.height))
        self.placed = first

    def _background(self, x0: float, w: float) -> None:
        h = self.height
        if self.texture is None:
            Color(*SKY[0], 1)
            Rectangle(pos=(x0, self.y + h * 0.45), size=(w, h * 0.55))
            Color(*GROUND, 1)
            Rectangle(pos=(x0, self.y), size=(w, h * 0.45))
            return
        tw, th = self.texture.size
        scale = max(w / tw, h / th)
        cw, ch = w / scale / tw, h / scale / th
        u0, v0 = (1 - cw) / 2, (1 - ch) / 2
        Color(1, 1, 1, 1)
        Rectangle(
            texture=self.texture,
            pos=(x0, self.y),
            size=(w, h),
            tex_coords=(u0, v0 + ch, u0 + cw, v0 + ch, u0 + cw, v0, u0, v0)
            if self._flipped()
            else (u0, v0, u0 + cw, v0, u0 + cw, v0 + ch, u0, v0 + ch),
        )

    def _flipped(self) -> bool:
        coords = self.texture.tex_coords
        return coords[1] > coords[5]

    def _marker(self, x0: float, eye_width: float, p: Placed) -> None:
        pt = p.point
        cx, cy, s = x0 + pt.x, self.y + pt.y, display_size(pt, eye_width)
        Color(0, 0, 0, 0.35)
        Ellipse(pos=(cx - s / 2 + dp(3), cy - s / 2 - dp(3)), size=(s, s))
        Color(0, 0, 0, 1)
        Ellipse(pos=(cx - s / 2 - dp(3), cy - s / 2 - dp(3)), size=(s + dp(6), s + dp(6)))
        Color(*MARKER_RGB, 1)
        Ellipse(pos=(cx - s / 2, cy - s / 2), size=(s, s))
        Color(1, 1, 1, 1)
        Line(circle=(cx, cy, s * 0.36), width=max(dp(2), s * 0.04))
        number = self._label(str(p.stop), max(dp(14), s * 0.4))
        Rectangle(
            texture=number, size=number.size, pos=(cx - number.width / 2, cy - number.height / 2)
        )
        dist = self._label(distance_text(pt.distance_m), dp(18))
        Rectangle(
            texture=dist,
            size=dist.size,
            pos=(cx - dist.width / 2, cy - s / 2 - dist.height - dp(6)),
        )

    def _arrow(self, x0: float, w: float, p: Placed) -> None:
        pt = p.point
        a = dp(30)
        margin = dp(8)
        cy = self.y + min(max(pt.y, a + margin), self.height - a - margin)
        cx = x0 + min(max(pt.x, a + margin), w - a - margin)
        if pt.edge is ar.Edge.LEFT:
            cx = x0 + margin + a / 2
            tri = [cx - a / 2, cy, cx + a / 2, cy + a * 0.6, cx + a / 2, cy - a * 0.6]
        elif pt.edge is ar.Edge.RIGHT:
            cx = x0 + w - margin - a / 2
            tri = [cx + a / 2, cy, cx - a / 2, cy + a * 0.6, cx - a / 2, cy - a * 0.6]
        elif pt.edge is ar.Edge.TOP:
            cy = self.top - margin - a / 2
            tri = [cx, cy + a / 2, cx - a * 0.6, cy - a / 2, cx + a * 0.6, cy - a / 2]
        else:
            cy = self.y + margin + a / 2
            tri = [cx, cy - a / 2, cx - a * 0.6, cy + a / 2, cx + a * 0.6, cy + a / 2]
        Color(0, 0, 0, 1)
        Line(points=[*tri, tri[0], tri[1]], width=dp(3), joint="round")
        Color(*ARROW_RGB, 1)
        Mesh(
            vertices=[v for i in range(3) for v in (tri[2 * i], tri[2 * i + 1], 0, 0)],
            indices=[0, 1, 2],
            mode="triangle_fan",
        )
        text = self._label(f"{p.stop} · {distance_text(pt.distance_m)}", dp(16))
        tx = min(max(cx - text.width / 2, x0 + margin), x0 + w - margin - text.width)
        ty = cy - a / 2 - text.height - dp(4) if pt.edge is not ar.Edge.BOTTOM else cy + a / 2
        Rectangle(texture=text, size=text.size, pos=(tx, ty))
