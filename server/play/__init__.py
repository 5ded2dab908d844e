"""The QR web fallback: pages a phone opens from a printed code, usable without the app or JS.

Its pages live in routes.py; importing that module registers them on bp."""

from flask import Blueprint

bp = Blueprint("play", __name__)
