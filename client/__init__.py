"""Art Caching phone app: Kivy screens on top of a Kivy-free core (session, AR math, outbox)."""

__version__ = "0.1.0"

USER_AGENT = f"ArtCaching/{__version__} (+https://github.com/art-caching/art-caching)"
"""Sent with every HTTP request (API and map tiles)."""
