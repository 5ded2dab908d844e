"""/api/v1: the JSON API (player; curator and organiser register their parts here too)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def limit_body_size() -> None:
    request.max_content_length = current_app.config["API_MAX_BODY"]


@bp.get("/openapi.json")
def openapi() -> Response:
    from server.api.openapi import document

    return jsonify(document(request.script_root + bp.url_prefix))


from server.api import curator, organiser, player, session  # noqa: E402,F401  (register their routes)
