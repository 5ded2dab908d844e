"""Every text a user reads, in each language: catalogues of JSON files and one fallback chain.

A catalogue file maps a key to a language map: ``{"play.stop_n": {"de": "…", "en": "…"}}``.
Each package keeps its own texts (``markers/translations.json``, ``routes/translations.json``,
``server/translations/*.json``, ``client/translations.json``) and a ``Catalogue`` joins the files
a side needs. Pure Python, so the domain, the server and the phone all use this one mechanism.
"""

from __future__ import annotations

import json
import string
import threading
from collections.abc import Iterator, Mapping
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from types import MappingProxyType

LANGUAGES: tuple[str, ...] = ("de", "en")
"""The languages every text is written in."""

EASY_GERMAN = "de-x-ls"
"""Leichte Sprache (easy-to-read German, by the rules of the Netzwerk Leichte Sprache)."""

TEXT_LANGUAGES: tuple[str, ...] = (*LANGUAGES, EASY_GERMAN)
"""The languages a text that players read may have: LANGUAGES, and Leichte Sprache beside them.
A text missing in EASY_GERMAN falls back to German (see fallbacks)."""

PLAYER_LANGUAGES: tuple[str, ...] = TEXT_LANGUAGES
"""The languages a player may choose: the web pages and the app exist in each."""

LANGUAGE_NAMES: Mapping[str, str] = MappingProxyType(
    {"de": "Deutsch", "en": "English", EASY_GERMAN: "Leichte Sprache"}
)
"""Each player language by its own name, the same in every language (for language choices)."""

FALLBACK_LANGUAGE = "en"
"""The language a text is shown in when it is missing in the one asked for."""

Text = Mapping[str, str]
"""A text in several languages: language code to text, e.g. {"de": "Brunnen", "en": "Fountain"}."""


def fallbacks(lang: str) -> tuple[str, ...]:
    """The languages to try for lang, best first: "de-x-ls" gives ("de-x-ls", "de", "en")."""
    chain: list[str] = []
    parts = lang.split("-") if lang else []
    while parts:
        if len(parts[-1]) > 1:
            chain.append("-".join(parts))
        parts.pop()
    chain.append(FALLBACK_LANGUAGE)
    return tuple(dict.fromkeys(chain))


def pick(value: Text | None, lang: str) -> str:
    """The text in lang, else along its fallbacks, else in any language it has, else ""."""
    if not value:
        return ""
    for code in (*fallbacks(lang), *LANGUAGES):
        if value.get(code):
            return value[code]
    return next((v for v in value.values() if v), "")


def picked_language(value: Text | None, lang: str) -> str:
    """The language of the text pick(value, lang) gives: lang, or the one it fell back to."""
    for code in (*fallbacks(lang), *LANGUAGES):
        if value and value.get(code):
            return code
    return next((code for code, v in (value or {}).items() if v), lang)


SPEECH_LOCALES: Mapping[str, str] = MappingProxyType(
    {"de": "de-DE", "en": "en-GB", EASY_GERMAN: "de-DE"}
)
"""The BCP-47 tag a text of each language is read aloud in: Leichte Sprache with a German voice."""


def speech_locale(lang: str) -> str:
    """The voice's language for a text in lang: "de-x-ls" -> "de-DE", "de-AT" -> "de-DE", "fr" ->
    "fr" (a voice for the language itself, never one of another language)."""
    for code in fallbacks(lang):
        if code in SPEECH_LOCALES and (code == lang or lang.startswith(f"{code}-")):
            return SPEECH_LOCALES[code]
    return lang


def package_texts(package: str, name: str = "translations.json") -> Traversable:
    """The catalogue file (or folder of files) ``name`` inside ``package``."""
    return files(package) / name


class MissingText(KeyError):
    """A key that the catalogue does not hold."""


class _Blank(dict):
    """Values for str.format_map in which a missing one is empty rather than a crash."""

    def __missing__(self, key: str) -> str:
        return ""


class Catalogue:
    """The texts of some JSON files (or folders of them), read once on first use."""

    def __init__(self, *sources: Traversable | Path) -> None:
        self.sources = sources
        self._entries: Mapping[str, Text] | None = None
        self._lock = threading.Lock()

    def entries(self) -> Mapping[str, Text]:
        """Every key with its language map; a key defined in two files is an error."""
        with self._lock:
            if self._entries is None:
                merged: dict[str, Text] = {}
                for path in self.files():
                    for key, entry in json.loads(path.read_text(encoding="utf-8")).items():
                        if key in merged:
                            raise ValueError(f"text {key!r} of {path.name} is defined twice")
                        merged[key] = MappingProxyType(entry)
                self._entries = MappingProxyType(merged)
            return self._entries

    def files(self) -> Iterator[Traversable | Path]:
        """The JSON files of the sources, a folder's files by name."""
        for source in self.sources:
            if source.is_dir():
                yield from sorted(
                    (p for p in source.iterdir() if p.name.endswith(".json")), key=lambda p: p.name
                )
            else:
                yield source

    def __contains__(self, key: object) -> bool:
        return key in self.entries()

    def text(self, key: str) -> Text:
        """The language map of key."""
        try:
            return self.entries()[key]
        except KeyError:
            raise MissingText(f"no text {key!r} in the catalogue") from None

    def format(
        self, key: str, lang: str, values: Mapping[str, object], *, strict: bool = True
    ) -> str:
        """The text of key in lang with {name} filled from values (language maps picked in lang).

        Not strict: an unknown key gives the key itself and a missing value an empty string.
        """
        if not strict and key not in self:
            return key
        template = pick(self.text(key), lang)
        if not values:
            return template
        filled = {k: pick(v, lang) if isinstance(v, Mapping) else v for k, v in values.items()}
        if strict:
            return template.format(**filled)
        return template.format_map(_Blank(filled))

    def t(self, key: str, lang: str, /, **values: object) -> str:
        """The text of key in lang, {name} filled from values; MissingText for an unknown key."""
        return self.format(key, lang, values)

    def text_map(self, key: str, /, **values: object) -> Text:
        """The text of key in every language it has, e.g. for answers clients show as they are."""
        entry = self.text(key)
        langs = [lang for lang in TEXT_LANGUAGES if lang in LANGUAGES or lang in entry]
        return MappingProxyType({lang: self.format(key, lang, values) for lang in langs})


def placeholders(template: str) -> set[str]:
    """The {names} a text needs."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


MARKERS_TEXTS = Catalogue(package_texts("markers"))
"""The texts of markers/ (QR token errors)."""
