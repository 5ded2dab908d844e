"""The QR web fallback: pages a phone opens from a printed code, usable without the app or JS."""

from flask import Blueprint

bp = Blueprint("play", __name__)

from server.play import routes  # noqa: E402,F401
