"""/api/v1: the JSON API. Its routes live in player, session, curator and organiser;
server/api/routes.py gathers them, so that importing any helper here loads no route."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from server.api.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def limit_body_size() -> None:
    request.max_content_length = current_app.config["API_MAX_BODY"]


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document(request.script_root + bp.url_prefix))
