"""The organisers' tools: printed QR fallbacks, route and result exports, the live event view.

Its pages live in routes.py; importing that module registers them on bp."""

from flask import Blueprint

bp = Blueprint("organiser", __name__, url_prefix="/organiser")
