"""The map: kivy_garden.mapview on a TileCache, with a layer that draws the player's position,
the search areas, the markers the server opened and the stops found. It draws on its own
canvas, so it shows all of that even when no tile loads."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from functools import partial
from typing import Any

from kivy.clock import mainthread
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Ellipse, Line, Rectangle
from kivy.logger import Logger
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ObjectProperty
from kivy_garden.mapview import MapLayer, MapSource, MapView

from client.widgets.tiles import OSM_ATTRIBUTION, TileCache
from markers.geo import LatLon, destination

DEFAULT_ZOOM = 16

AREA = (0.05, 0.25, 0.6)
OPEN = (0.95, 0.45, 0.0)
FOUND = (0.0, 0.5, 0.2)
ME = (0.1, 0.35, 1.0)


class CachedTileSource(MapSource):
    """A MapSource that takes its tiles from a TileCache instead of mapview's Downloader."""

    def __init__(self, cache: TileCache, **kwargs: Any) -> None:
        super().__init__(
            url=cache.url,
            cache_key="tiles",
            min_zoom=3,
            max_zoom=19,
            attribution=OSM_ATTRIBUTION,
            cache_dir=str(cache.root),
            **kwargs,
        )
        self.cache = cache

    def fill_tile(self, tile: Any) -> None:
        if tile.state == "done":
            return
        osm_y = self.get_row_count(tile.zoom) - tile.tile_y - 1
        path = self.cache.get(tile.zoom, tile.tile_x, osm_y, partial(_tile_arrived, tile))
        if path is not None:
            _show_tile(tile, str(path))


@mainthread
def _tile_arrived(tile: Any, path: Any) -> None:
    if tile.state != "done":
        _show_tile(tile, str(path))


def _show_tile(tile: Any, path: str) -> None:
    try:
        tile.set_source(path)
    except Exception as exc:  # a damaged file must not take the map down
        Logger.warning(f"Map: tile {path} unreadable ({exc}); it will be fetched again")
        with contextlib.suppress(OSError):
            os.remove(path)


@dataclass(frozen=True)
class MapState:
    """What the layer draws, taken from a Snapshot."""

    me: LatLon | None = None
    me_accuracy_m: float = 0.0
    areas: tuple[tuple[int, LatLon, float], ...] = ()
    opened: tuple[tuple[int, LatLon, float], ...] = ()
    found: tuple[tuple[int, LatLon], ...] = ()

    @classmethod
    def from_snapshot(cls, snap: Any) -> MapState:
        if snap is None:
            return cls()
        me, acc = None, 0.0
        if snap.position is not None:
            me, acc = snap.position.position, snap.position.accuracy_m
        areas, opened = [], []
        for t in snap.targets:
            areas.append((t.stop, t.area, t.area_radius_m))
            if t.marker is not None:
                opened.append((t.stop, t.marker, t.marker_radius_m or 0.0))
        found = tuple((int(f["stop"]), LatLon(f["lat"], f["lon"])) for f in snap.found)
        return cls(me, acc, tuple(areas), tuple(opened), found)

    def focus(self, rally: dict[str, Any] | None) -> LatLon | None:
        """Where to centre the map: the player, else the first search area, else the start."""
        if self.me is not None:
            return self.me
        if self.areas:
            return self.areas[0][1]
        if rally and rally.get("start"):
            return LatLon(rally["start"]["lat"], rally["start"]["lon"])
        if self.found:
            return self.found[-1][1]
        return None


class GameLayer(MapLayer):
    """Search areas (blue rings), opened markers (orange), found stops (green), the player."""

    state = ObjectProperty(MapState())

    def __init__(self, **kwargs: Any) -> None:
        self._labels: dict[str, Any] = {}
        super().__init__(**kwargs)

    def on_state(self, *_: Any) -> None:
        self.reposition()

    def _label(self, text: str) -> Any:
        if text not in self._labels:
            label = CoreLabel(text=text, font_size=dp(15), bold=True)
            label.refresh()
            self._labels[text] = label.texture
        return self._labels[text]

    def _xy_r(self, view: MapView, at: LatLon, radius_m: float) -> tuple[float, float, float]:
        x, y = view.get_window_xy_from(at.lat, at.lon, view.zoom)
        if radius_m <= 0:
            return x, y, 0.0
        edge = destination(at, 90.0, radius_m)
        x2, _ = view.get_window_xy_from(edge.lat, edge.lon, view.zoom)
        return x, y, abs(x2 - x)

    def _badge(
        self, x: float, y: float, size: float, rgb: tuple[float, float, float], text: str
    ) -> None:
        Color(0, 0, 0, 1)
        Ellipse(pos=(x - size / 2 - dp(2), y - size / 2 - dp(2)), size=(size + dp(4), size + dp(4)))
        Color(*rgb, 1)
        Ellipse(pos=(x - size / 2, y - size / 2), size=(size, size))
        texture = self._label(text)
        Color(1, 1, 1, 1)
        Rectangle(
            texture=texture, size=texture.size, pos=(x - texture.width / 2, y - texture.height / 2)
        )

    def reposition(self) -> None:
        view = self.parent
        self.canvas.clear()
        if view is None:
            return
        s = self.state
        with self.canvas:
            for stop, at, radius in s.areas:
                x, y, r = self._xy_r(view, at, radius)
                Color(*AREA, 0.15)
                Ellipse(pos=(x - r, y - r), size=(2 * r, 2 * r))
                Color(*AREA, 0.9)
                Line(circle=(x, y, r), width=dp(2))
                self._badge(x, y, dp(26), AREA, str(stop))
            for stop, at, radius in s.opened:
                x, y, r = self._xy_r(view, at, radius)
                Color(*OPEN, 0.9)
                Line(circle=(x, y, max(r, dp(16))), width=dp(3))
                self._badge(x, y, dp(26), OPEN, str(stop))
            for stop, at in s.found:
                x, y, _ = self._xy_r(view, at, 0)
                self._badge(x, y, dp(28), FOUND, str(stop))
            if s.me is not None:
                x, y, r = self._xy_r(view, s.me, s.me_accuracy_m)
                Color(*ME, 0.18)
                Ellipse(pos=(x - r, y - r), size=(2 * r, 2 * r))
                Color(1, 1, 1, 1)
                Ellipse(pos=(x - dp(11), y - dp(11)), size=(dp(22), dp(22)))
                Color(*ME, 1)
                Ellipse(pos=(x - dp(8), y - dp(8)), size=(dp(16), dp(16)))


class GameMap(MapView):
    """The map of the game; ``follow`` keeps the player in the middle."""

    follow = BooleanProperty(True)

    def __init__(self, cache: TileCache, **kwargs: Any) -> None:
        kwargs.setdefault("zoom", DEFAULT_ZOOM)
        kwargs.setdefault("double_tap_zoom", True)
        super().__init__(map_source=CachedTileSource(cache), cache_dir=str(cache.root), **kwargs)
        self.layer = GameLayer()
        self.add_layer(self.layer)
        self._centred = "lat" in kwargs and "lon" in kwargs
        self._pause = not self._centred  # no tiles of 0 N 0 E before we know where we are

    def show(self, snap: Any) -> None:
        """Draw a Snapshot; centre on the player while following (or the first time)."""
        state = MapState.from_snapshot(snap)
        self.layer.state = state
        focus = state.focus(snap.rally if snap is not None else None)
        if focus is not None and (self.follow or not self._centred):
            self.center_on(focus.lat, focus.lon)
            self._centred = True
            self._pause = False

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos):
            self.follow = False
        return super().on_touch_down(touch)
