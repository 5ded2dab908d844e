"""The AR view: the camera image with each marker the server opened drawn where it stands
(client.ar does the maths), sized by distance, and an arrow at the screen edge for a marker
aside or behind. The camera image is turned upright (client.camera_geometry) and the markers
are placed with the camera's own field of view. In Cardboard mode each eye's view is drawn into
a frame buffer and shown through a shader that pre-distorts it for the viewer's lenses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import (
    ClearBuffers,
    ClearColor,
    Color,
    Ellipse,
    Fbo,
    Line,
    Mesh,
    Rectangle,
    RenderContext,
)
from kivy.metrics import Metrics, dp
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.widget import Widget
from kivy.utils import platform

from client import ar, camera_geometry, i18n

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


DISTORTION_FS = """
$HEADER$
uniform vec2 lens_center;
uniform vec2 tan_per_tex;
uniform vec2 src_half_tan;
uniform float k1;
uniform float k2;

void main(void) {
    /* client.camera_geometry.eye_sample: the barrel a Cardboard lens straightens out */
    vec2 p = (tex_coord0 - lens_center) * tan_per_tex;
    float r2 = dot(p, p);
    vec2 q = p * (1.0 + k1 * r2 + k2 * r2 * r2);
    vec2 uv = vec2(0.5) + q / (2.0 * src_half_tan);
    if (uv.x < 0.0 || uv.x > 1.0 || uv.y < 0.0 || uv.y > 1.0) {
        gl_FragColor = vec4(0.0, 0.0, 0.0, 1.0);
    } else {
        gl_FragColor = frag_color * texture2D(texture0, uv);
    }
}
"""


def screen_metres(width_px: float, height_px: float) -> tuple[float, float]:
    """The screen's size in metres: measured on the phone, a phone's on the desktop."""
    if platform == "android" and Metrics.dpi > 0:
        return width_px / Metrics.dpi * 0.0254, height_px / Metrics.dpi * 0.0254
    w = camera_geometry.PHONE_LANDSCAPE_WIDTH_M
    return w, w * height_px / width_px


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
    """The field of view when the camera does not tell its own (image files, no camera)."""
    transform = ObjectProperty(camera_geometry.IDENTITY)
    camera_info = ObjectProperty(None, allownone=True)
    placed = ObjectProperty([])
    """The markers of the last drawing (of the left eye in cardboard mode), for tests."""
    view_fov = NumericProperty(60.0)
    """The horizontal field of view of the last drawing (of one eye's image in cardboard mode)."""
    eyes = ObjectProperty(None, allownone=True)
    """The EyeLayout of the last Cardboard drawing (tests)."""

    __events__ = ("on_cardboard_tap",)

    def __init__(self, **kwargs: Any) -> None:
        self._labels: dict[tuple[str, float], Any] = {}
        self._fbos: dict[int, Any] = {}
        self._trigger = Clock.create_trigger(self.redraw, -1)
        super().__init__(**kwargs)
        self.bind(
            pos=self._trigger,
            size=self._trigger,
            texture=self._trigger,
            snapshot=self._trigger,
            cardboard=self._trigger,
            h_fov_deg=self._trigger,
            transform=self._trigger,
            camera_info=self._trigger,
        )

    def on_cardboard_tap(self) -> None:
        """A tap in Cardboard mode (the screen leaves it)."""

    def on_touch_down(self, touch: Any) -> bool:
        if self.cardboard and self.collide_point(*touch.pos):
            self.dispatch("on_cardboard_tap")
            return True
        return bool(super().on_touch_down(touch))

    def fov_for(self, width: float, height: float) -> float:
        """The horizontal field of view of a width x height view of the camera image."""
        info = self.camera_info
        if info is None or self.texture is None:
            return float(self.h_fov_deg)
        return camera_geometry.view_h_fov(
            info.h_fov_deg,
            info.v_fov_deg,
            tuple(self.texture.size),
            (width, height),
            self.transform,
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
        if not self.cardboard:
            self.view_fov = self.fov_for(self.width, self.height)
            with self.canvas:
                self.placed = self._scene(self.x, self.y, self.width, self.height, self.view_fov)
            return
        self._cardboard()

    def _scene(self, x0: float, y0: float, w: float, h: float, fov: float) -> list[Placed]:
        """The camera image and the markers in the rectangle (x0, y0, w, h)."""
        placed = place_markers(self.snapshot, w, h, fov)
        self._background(x0, y0, w, h)
        for p in placed:
            if p.point.visible:
                self._marker(x0, y0, w, p)
            else:
                self._arrow(x0, y0, w, h, p)
        return placed

    def _cardboard(self) -> None:
        """Each eye's view into a frame buffer, shown through the lens distortion shader."""
        half, h = self.width / 2, self.height
        layout = camera_geometry.eye_layout(*screen_metres(self.width, h))
        viewer = camera_geometry.CARDBOARD_V2
        size = (max(1, int(half)), max(1, int(h)))
        placed: list[Placed] = []
        for eye in (0, 1):
            fbo = self._fbos.get(eye)
            if fbo is None or tuple(fbo.size) != size:
                fbo = self._fbos[eye] = Fbo(size=size, with_stencilbuffer=False)
            fbo.clear()
            with fbo:
                ClearColor(0, 0, 0, 1)
                ClearBuffers()
                shown = self._scene(0, 0, size[0], size[1], layout.h_fov_deg)
            if eye == 0:
                placed = shown
            lens = RenderContext(
                use_parent_projection=True,
                use_parent_modelview=True,
                use_parent_frag_modelview=True,
            )
            lens.shader.fs = DISTORTION_FS
            lens["lens_center"] = (float(layout.lens_cx[eye]), 0.5)
            lens["tan_per_tex"] = tuple(float(t) for t in layout.tan_per_tex)
            lens["src_half_tan"] = tuple(float(t) for t in layout.src_half_tan)
            lens["k1"] = float(viewer.k1)
            lens["k2"] = float(viewer.k2)
            with lens:
                Color(1, 1, 1, 1)
                Rectangle(texture=fbo.texture, pos=(self.x + eye * half, self.y), size=(half, h))
            self.canvas.add(fbo)
            self.canvas.add(lens)
        with self.canvas:
            Color(0, 0, 0, 1)
            Rectangle(pos=(self.center_x - dp(2), self.y), size=(dp(4), h))
        self.view_fov = layout.h_fov_deg
        self.eyes = layout
        self.placed = placed

    def _background(self, x0: float, y0: float, w: float, h: float) -> None:
        if self.texture is None:
            Color(*SKY[0], 1)
            Rectangle(pos=(x0, y0 + h * 0.45), size=(w, h * 0.55))
            Color(*GROUND, 1)
            Rectangle(pos=(x0, y0), size=(w, h * 0.45))
            return
        tw, th = self.texture.size
        if self.transform.swaps_axes:
            tw, th = th, tw
        share = camera_geometry.crop_to_fill(tw, th, w, h)
        Color(1, 1, 1, 1)
        Rectangle(
            texture=self.texture,
            pos=(x0, y0),
            size=(w, h),
            tex_coords=camera_geometry.tex_coords(self.transform, share, self._flipped()),
        )

    def _flipped(self) -> bool:
        coords = self.texture.tex_coords
        return bool(coords[1] > coords[5])

    def _marker(self, x0: float, y0: float, eye_width: float, p: Placed) -> None:
        pt = p.point
        cx, cy, s = x0 + pt.x, y0 + pt.y, display_size(pt, eye_width)
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

    def _arrow(self, x0: float, y0: float, w: float, h: float, p: Placed) -> None:
        pt = p.point
        a = dp(30)
        margin = dp(8)
        cy = y0 + min(max(pt.y, a + margin), h - a - margin)
        cx = x0 + min(max(pt.x, a + margin), w - a - margin)
        if pt.edge is ar.Edge.LEFT:
            cx = x0 + margin + a / 2
            tri = [cx - a / 2, cy, cx + a / 2, cy + a * 0.6, cx + a / 2, cy - a * 0.6]
        elif pt.edge is ar.Edge.RIGHT:
            cx = x0 + w - margin - a / 2
            tri = [cx + a / 2, cy, cx - a / 2, cy + a * 0.6, cx - a / 2, cy - a * 0.6]
        elif pt.edge is ar.Edge.TOP:
            cy = y0 + h - margin - a / 2
            tri = [cx, cy + a / 2, cx - a * 0.6, cy - a / 2, cx + a * 0.6, cy - a / 2]
        else:
            cy = y0 + margin + a / 2
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
