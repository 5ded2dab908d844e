"""The organisers' tools: printed QR fallbacks, route and result exports, the live event view."""

from flask import Blueprint

bp = Blueprint("organiser", __name__, url_prefix="/organiser")

from server.organiser import routes  # noqa: E402,F401
