"""Leichte Sprache (de-x-ls) for every text a player reads: the web player pages, the error pages,
the API's error messages (the app shows them as they are), the QR code errors and the whole app.

PLAYER_TEXTS is the one list of what players read. A new key in one of these files (or under one
of these prefixes) without de-x-ls fails here; so does a de-x-ls text whose placeholders differ
from the German one. That every file has de and en is checked in tests/markers/test_i18n.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from markers.i18n import EASY_GERMAN, Text, placeholders
from tests.conftest import ROOT

PLAYER_TEXTS: Mapping[str, tuple[str, ...]] = {
    # QR code errors: the scan page and the app show them.
    "markers/translations.json": ("",),
    # The app is for players: all of it.
    "client/translations.json": ("",),
    # The web player pages.
    "server/translations/play.json": ("",),
    # The API's errors (and the validation details they fill in): the app shows them.
    "server/translations/api.json": ("",),
    # The error pages and the language switch of base.html; auth.* is for staff.
    "server/translations/common.json": ("error.", "nav."),
    # routes/translations.json: none; its texts are curator findings and import errors.
}
"""Catalogue file (from the project root) -> the key prefixes players read ("" = every key)."""

PLAYER_TEMPLATES = sorted(
    [
        *(ROOT / "server" / "templates" / "play").glob("*.html"),
        ROOT / "server" / "templates" / "base.html",
        ROOT / "server" / "templates" / "error.html",
    ]
)
PLAYER_CODE = [
    ROOT / "server" / "play" / "routes.py",
    ROOT / "server" / "play" / "codes.py",
    ROOT / "server" / "api" / "player.py",
]
APP_CODE = sorted(p for p in (ROOT / "client").rglob("*") if p.suffix in (".py", ".kv"))

LITERAL_KEY = re.compile(
    r"""\b(?:t|tr|has|both)\(\s*(['"])([a-z0-9_]+(?:\.[a-z0-9_]+)+)\1\s*[,)]"""
)
KEY_PREFIX = re.compile(r"""\bt\(\s*(['"])([a-z0-9_.]+)\1\s*~""")
"""A key built in a template, e.g. t('error.title_' ~ status): its literal start."""


def player_entries() -> dict[str, Text]:
    """Every key players read, with its language map."""
    entries: dict[str, Text] = {}
    for name, prefixes in PLAYER_TEXTS.items():
        for key, entry in json.loads((ROOT / name).read_text(encoding="utf-8")).items():
            if key.startswith(prefixes):
                entries[key] = entry
    return entries


PLAYER = player_entries()


def easy_language_problems(key: str, entry: Text) -> list[str]:
    """What is wrong with a player text's Leichte Sprache: missing, or other placeholders."""
    text = entry.get(EASY_GERMAN)
    if not isinstance(text, str) or not text.strip():
        return [f"{key}: no {EASY_GERMAN} text"]
    problems = []
    if text != text.strip():
        problems.append(f"{key}: {EASY_GERMAN} has outer spaces")
    if placeholders(text) != placeholders(entry["de"]):
        problems.append(
            f"{key}: {EASY_GERMAN} has {sorted(placeholders(text))}, "
            f"de has {sorted(placeholders(entry['de']))}"
        )
    return problems


def is_player_key(key: str) -> bool:
    return key in PLAYER


def literal_keys(paths: list[Path]) -> set[str]:
    return {m.group(2) for p in paths for m in LITERAL_KEY.finditer(p.read_text(encoding="utf-8"))}


def test_the_player_files_exist_and_hold_player_texts():
    for name, prefixes in PLAYER_TEXTS.items():
        keys = json.loads((ROOT / name).read_text(encoding="utf-8"))
        for prefix in prefixes:
            assert any(k.startswith(prefix) for k in keys), f"{name}: nothing under {prefix!r}"
    assert {"play.not_yet", "error.title_404", "errors.token_malformed", "ui.start.intro"} <= set(
        PLAYER
    )
    assert "auth.login_failed" not in PLAYER and "validate.empty_rally" not in PLAYER


@pytest.mark.parametrize("key", sorted(PLAYER))
def test_every_player_text_is_in_easy_language_with_the_german_placeholders(key: str):
    entry = PLAYER[key]
    assert easy_language_problems(key, entry) == []
    entry[EASY_GERMAN].format(**dict.fromkeys(placeholders(entry[EASY_GERMAN]), 1.0))


def test_the_check_fails_on_a_missing_text_and_on_other_placeholders():
    assert easy_language_problems("a.b", {"de": "{n} Orte", "en": "{n} places"}) == [
        f"a.b: no {EASY_GERMAN} text"
    ]
    assert easy_language_problems("a.b", {"de": "{n} Orte", EASY_GERMAN: " "}) == [
        f"a.b: no {EASY_GERMAN} text"
    ]
    assert easy_language_problems("a.b", {"de": "{n} Orte", EASY_GERMAN: "{m} Orte"}) == [
        f"a.b: {EASY_GERMAN} has ['m'], de has ['n']"
    ]
    assert easy_language_problems("a.b", {"de": "{n} Orte", EASY_GERMAN: "{n} Orte"}) == []


def test_the_player_pages_use_player_texts_only():
    """A key on a player page (or in the player routes) that is not in PLAYER_TEXTS would be
    German in Leichte Sprache: name its file or prefix there and write its de-x-ls."""
    used = literal_keys(PLAYER_TEMPLATES + PLAYER_CODE)
    assert {"play.not_yet", "error.home", "nav.language", "errors.rally_closed"} <= used
    assert sorted(k for k in used if not is_player_key(k)) == []
    built = {
        m.group(2)
        for p in PLAYER_TEMPLATES
        for m in KEY_PREFIX.finditer(p.read_text(encoding="utf-8"))
    }
    assert {"error.title_", "error.text_"} <= built
    assert all(any(k.startswith(prefix) for k in PLAYER) for prefix in built)


def test_the_app_uses_player_texts_only():
    used = literal_keys(APP_CODE)
    assert {"ui.start.intro", "qr.not_ours"} <= used
    assert sorted(k for k in used if not is_player_key(k)) == []
