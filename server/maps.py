"""Maps in the web UI: Leaflet from the xstatic-leaflet package, served by the app (no CDN)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import xstatic.pkg.leaflet as leaflet
from flask import Flask, Response, request, send_from_directory

from server import tiles
from server.i18n import t
from server.ratelimit import limiter

TILE_MAX_AGE_S = 7 * 86400


def settings() -> dict[str, Any]:
    """What a page's map script needs: its tiles (server.tiles.map_source), Leaflet's version,
    the zoom buttons' names in the page's language (Leaflet's own are English)."""
    return {
        **tiles.map_source(),
        "leaflet_version": leaflet.VERSION,
        "zoom_in": t("staff.map.zoom_in"),
        "zoom_out": t("staff.map.zoom_out"),
    }


def tile_source(tile_url: str) -> str | None:
    """The CSP source that admits the tiles of ``tile_url`` (TILE_URL): scheme and host, a
    ``{s}``-style subdomain as a wildcard; None when the tiles come from the app itself."""
    parts = urlsplit(tile_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    if not host:
        return None
    host = re.sub(r"^[^.]*\{[^}]*\}[^.]*\.", "*.", host)
    if not re.fullmatch(r"(\*\.)?[A-Za-z0-9.-]+(:\d+)?|\[[0-9A-Fa-f:.]+\](:\d+)?", host):
        return f"{parts.scheme}:" if parts.scheme in ("http", "https") else None
    return f"{parts.scheme}://{host}" if parts.scheme else host


def init_app(app: Flask) -> None:
    def leaflet_file(filename: str):
        return send_from_directory(leaflet.BASE_DIR, filename, max_age=7 * 86400)

    app.add_url_rule("/vendor/leaflet/<path:filename>", "leaflet", leaflet_file)
    app.add_url_rule("/tiles/<int:z>/<int:x>/<int:y>.png", "tile", limiter.exempt(tile))
    app.jinja_env.globals["map_settings"] = settings


def tile(z: int, x: int, y: int) -> Response:
    """A tile of the installed package (its own image type), cached long with an ETag; 404
    for a tile it does not hold, or when no package is installed."""
    package = tiles.installed()
    data = package.tile(z, x, y) if package else None
    if package is None or data is None:
        return Response(status=404, headers={"Cache-Control": "no-cache"})
    response = Response(data, mimetype=package.package.mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = TILE_MAX_AGE_S
    response.add_etag()
    return response.make_conditional(request)
