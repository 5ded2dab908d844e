"""The app's texts: every key in German and English, with the same placeholders."""

from __future__ import annotations

import json
import re
import string

import pytest

from client import i18n
from client.ar import Band
from routes.rules import Rejection
from tests.conftest import ROOT

CATALOGUE = json.loads((ROOT / "client" / "translations.json").read_text(encoding="utf-8"))


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_text_in_both_languages_with_the_same_placeholders(key):
    entry = CATALOGUE[key]
    assert set(entry) == {"de", "en"}, key
    assert entry["de"].strip() and entry["en"].strip(), key
    assert fields(entry["de"]) == fields(entry["en"]), key


def test_t_fills_values_and_follows_the_language():
    before = i18n.get_language()
    try:
        i18n.set_language("de")
        assert i18n.t("outbox.pending", count=3) == "3 Ereignisse warten auf den Server"
        assert i18n.t("outbox.pending", "en", count=1) == "1 events waiting for the server"
        i18n.set_language("en")
        assert i18n.t("band.warmer") == "warmer"
        assert i18n.t("band.warmer", "de") == "wärmer"
    finally:
        i18n.set_language(before)


def test_unknown_key_and_language_are_named():
    with pytest.raises(i18n.MissingText, match=r"no\.such\.key"):
        i18n.t("no.such.key")
    with pytest.raises(ValueError, match="'fr'"):
        i18n.set_language("fr")


def test_every_band_and_server_answer_has_a_text():
    for band in Band:
        assert i18n.has(f"band.{band.value}")
    for outcome in ["found", *(r.value for r in Rejection if r is not Rejection.NOT_IN_RALLY)]:
        assert i18n.has(f"result.{outcome}"), outcome


LITERAL_KEY = re.compile(r"""\b(?:t|tr|has)\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""")


def test_every_key_the_client_code_names_exists():
    missing = []
    for path in sorted((ROOT / "client").rglob("*")):
        if path.suffix not in (".py", ".kv"):
            continue
        for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8")):
            if key not in CATALOGUE:
                missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert not missing, missing
