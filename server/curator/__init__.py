"""The curators' editor: place markers on a map, build rallies, try them, publish."""

from flask import Blueprint

bp = Blueprint("curator", __name__, url_prefix="/curator")

from server.curator import routes  # noqa: E402,F401
