"""The tile manifest: which of the box's map tiles a phone takes along for a rally."""

from __future__ import annotations

from server import rallies, tiles
from server.api import bp
from server.api.openapi import SLUG, err, obj, ok, register


@bp.get("/rallies/<slug>/tiles")
def rally_tiles(slug: str):
    return tiles.manifest(rallies.by_slug(slug))


register(
    {
        "/rallies/{slug}/tiles": {
            "get": {
                "operationId": "getRallyTiles",
                "tags": ["player"],
                "parameters": [SLUG],
                "summary": "The box's map tiles of the rally's play area for the phone to take "
                "along: lowest zooms first, cut at the pack's size limit (capped); none when the "
                "box has no tile package",
                "responses": {"200": ok("TileManifest"), "404": err("No such rally")},
            }
        }
    },
    {
        "TileManifest": obj(
            ["url", "attribution", "tiles", "bytes", "capped"],
            {
                "url": {"type": "string", "description": "Template with {z}, {x} and {y}"},
                "attribution": {"type": "string"},
                "tiles": {
                    "type": "array",
                    "items": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 0},
                        "minItems": 3,
                        "maxItems": 3,
                        "description": "z, x, y (OSM numbering, y from the top)",
                    },
                },
                "bytes": {"type": "integer", "minimum": 0},
                "capped": {
                    "type": "boolean",
                    "description": "True when the highest zooms were left out for the size limit",
                },
            },
        )
    },
)
