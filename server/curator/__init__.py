"""The curators' editor: place markers on a map, build rallies, try them, publish.

Its pages live in routes.py; importing that module registers them on bp."""

from flask import Blueprint

bp = Blueprint("curator", __name__, url_prefix="/curator")
