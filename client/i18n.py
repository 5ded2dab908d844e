"""The app's texts in German and English: t(key, **values) from client/translations.json."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from routes.model import DEFAULT_LANGUAGE, LANGUAGES

CATALOGUE_PATH = Path(__file__).with_name("translations.json")

_lock = threading.Lock()
_language = "de"
_catalogue: dict[str, dict[str, str]] | None = None


class MissingText(KeyError):
    """A key that the catalogue does not hold."""


def catalogue() -> dict[str, dict[str, str]]:
    """{key: {"de": ..., "en": ...}}, read once from translations.json."""
    global _catalogue
    with _lock:
        if _catalogue is None:
            _catalogue = json.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))
        return _catalogue


def set_language(lang: str) -> None:
    """Choose the language of t(); one of routes.model.LANGUAGES."""
    global _language
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    _language = lang


def get_language() -> str:
    return _language


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The text for key in lang (default: the app's language), with {name} filled from values."""
    entry = catalogue().get(key)
    if entry is None:
        raise MissingText(f"no text {key!r} in {CATALOGUE_PATH.name}")
    code = lang or _language
    template = entry.get(code) or entry.get(DEFAULT_LANGUAGE) or next(iter(entry.values()))
    return template.format(**values) if values else template


def has(key: str) -> bool:
    return key in catalogue()
