"""Data and media: the Kaiserslautern venues and demo rally, the PDF fonts, the GPX/GeoJSON schemas.

Read them through files(), which works alike from a checkout and from an installed wheel.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def files() -> Traversable:
    """The assets folder, for reading with importlib.resources (``files() / "fonts" / name``)."""
    return resources.files(__name__)
