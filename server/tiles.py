"""The event box's map: which area a rally's map shows, and the tile package the box serves."""

from __future__ import annotations

from flask import current_app

from markers.tiles import Box
from server import models

MARGIN_M = 300.0
"""Map around the outermost point of a rally: its search areas, start and finish, and room."""


def play_box(row: models.Rally, margin_m: float = MARGIN_M) -> Box | None:
    """The box a rally's maps need: stops, start, finish and play area, grown by the search
    radius and margin_m; None for a rally with no point yet."""
    points = [(s.marker.lat, s.marker.lon) for s in row.stops]
    points += [tuple(p) for p in row.play_area or ()]
    for lat, lon in ((row.start_lat, row.start_lon), (row.finish_lat, row.finish_lon)):
        if lat is not None and lon is not None:
            points.append((lat, lon))
    if not points:
        return None
    grow = margin_m + float(current_app.config["RULES_SEARCH_RADIUS_M"])
    return Box.around(points, margin_m=grow)
