"""Map: own position, search areas, opened markers, found stops; tiles cached in the data dir."""

from __future__ import annotations

from typing import Any

from client.screens.base import GameScreen


class MapScreen(GameScreen):
    def __init__(self, **kwargs: Any) -> None:
        self.map: Any = None
        super().__init__(**kwargs)

    def on_pre_enter(self, *_: Any) -> None:
        if self.map is None:
            from client.widgets.map import GameMap  # mapview opens the window on import

            self.map = GameMap(self.app.tile_cache, pos_hint={"x": 0, "y": 0}, size_hint=(1, 1))
            self.ids.holder.add_widget(self.map)
        if self.snapshot is not None:
            self.map.show(self.snapshot)

    def show(self, snap: Any) -> None:
        if self.map is not None:
            self.map.show(snap)

    def centre(self) -> None:
        if self.map is not None:
            self.map.follow = True
            if self.snapshot is not None:
                self.map.show(self.snapshot)
