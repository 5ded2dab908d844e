"""Security headers on every response: a strict Content-Security-Policy on pages, no framing, no
sniffing, a Referrer-Policy and a Permissions-Policy.

A small after_request rather than Flask-Talisman: Talisman redirects to HTTPS, sends HSTS and
marks cookies secure by default, all of which must be switched off for the event box on plain
http, and then adds nothing these few lines do not; one dependency less to keep up to date.
"""

from __future__ import annotations

from flask import Flask, Response, request

from server import maps

PAGE_TYPES = ("text/html", "image/svg+xml")
"""Documents a browser would run script in: these get the Content-Security-Policy."""

PERMISSIONS = (
    "camera=(self)",
    "geolocation=(self)",
    "microphone=()",
    "payment=()",
    "usb=()",
    "serial=()",
    "hid=()",
    "bluetooth=()",
    "midi=()",
    "accelerometer=()",
    "gyroscope=()",
    "magnetometer=()",
    "display-capture=()",
)
"""Camera (QR scanning) and location for the app's own pages; the rest off."""

SECRET_URL_PREFIXES = ("/q/",)
"""Paths whose URL is itself a secret (a QR code's signed token): sent as no referrer at all."""


def content_security_policy(tile_url: str) -> str:
    """The policy for every page: everything from the app itself, tiles from TILE_URL's host."""
    images = ["'self'", "data:"]
    tiles = maps.tile_source(tile_url)
    if tiles:
        images.append(tiles)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": " ".join(images),
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def init_app(app: Flask) -> None:
    """Add the headers to every response the app sends (pages, JSON, static files, errors)."""
    policy = content_security_policy(app.config["TILE_URL"])
    permissions = ", ".join(PERMISSIONS)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        if response.mimetype in PAGE_TYPES:
            headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        secret = request.path.startswith(SECRET_URL_PREFIXES)
        referrer = "no-referrer" if secret else "strict-origin-when-cross-origin"
        headers.setdefault("Referrer-Policy", referrer)
        headers.setdefault("Permissions-Policy", permissions)
        return response
