"""Maps in the web UI: Leaflet from the xstatic-leaflet package, served by the app (no CDN)."""

from __future__ import annotations

from typing import Any

import xstatic.pkg.leaflet as leaflet
from flask import Flask, current_app, send_from_directory


def settings() -> dict[str, Any]:
    """What a page's map script needs: tile URL and attribution (settings), Leaflet's version."""
    return {
        "tile_url": current_app.config["TILE_URL"],
        "attribution": current_app.config["TILE_ATTRIBUTION"],
        "leaflet_version": leaflet.VERSION,
    }


def init_app(app: Flask) -> None:
    def leaflet_file(filename: str):
        return send_from_directory(leaflet.BASE_DIR, filename, max_age=7 * 86400)

    app.add_url_rule("/vendor/leaflet/<path:filename>", "leaflet", leaflet_file)
    app.jinja_env.globals["map_settings"] = settings
