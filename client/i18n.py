"""The app's face of the one catalogue (markers/i18n.py): texts in the language the player chose.

The app's own texts live in client/translations.json; the domain's come along.
"""

from __future__ import annotations

from collections.abc import Mapping

from markers.i18n import PLAYER_LANGUAGES, Catalogue, MissingText, Text, package_texts

__all__ = ["CATALOGUE", "MissingText", "catalogue", "get_language", "has", "set_language", "t"]

CATALOGUE = Catalogue(package_texts("markers"), package_texts("routes"), package_texts("client"))

_language = PLAYER_LANGUAGES[0]


def catalogue() -> Mapping[str, Text]:
    """Every key the app may show, with its language map."""
    return CATALOGUE.entries()


def set_language(lang: str) -> None:
    """Choose the language of t(); one of PLAYER_LANGUAGES (Leichte Sprache too)."""
    global _language
    if lang not in PLAYER_LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(PLAYER_LANGUAGES)}, got {lang!r}")
    _language = lang


def get_language() -> str:
    """The language the player chose."""
    return _language


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text for key in lang (default: the app's language), with {name} filled from values."""
    return CATALOGUE.t(key, lang or _language, **values)


def has(key: str) -> bool:
    """Whether the catalogue holds key."""
    return key in CATALOGUE
