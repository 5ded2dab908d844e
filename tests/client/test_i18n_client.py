"""The app's texts: its language, and every key its code names is in its catalogue.

That every catalogue file has every language is checked once, in tests/markers/test_i18n.py."""

from __future__ import annotations

import re

import pytest

from client import i18n
from client.ar import Band
from markers import tokens
from routes.rules import Rejection
from tests.conftest import ROOT


def test_the_app_catalogue_holds_its_texts_and_the_domains():
    names = {path.name for path in i18n.CATALOGUE.files()}
    assert names == {"translations.json"}
    assert len(list(i18n.CATALOGUE.files())) == 3
    assert i18n.has("band.warm") and i18n.has("errors.token_malformed")
    error = tokens.TokenError(tokens.TokenErrorCode.WRONG_RALLY, "test")
    assert i18n.t(error.key, "de") == error.text["de"]


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


def test_the_app_speaks_leichte_sprache():
    before = i18n.get_language()
    try:
        i18n.set_language("de-x-ls")
        assert i18n.get_language() == "de-x-ls"
        assert i18n.t("ui.start.need_name") == "Bitte schreib einen Team-Namen."
        assert i18n.t("outbox.pending", count=2) == "2 Nachrichten warten auf den Server."
        assert i18n.t("errors.token_wrong_rally") == "Dieser Code gehört zu einer anderen Rallye."
    finally:
        i18n.set_language(before)


def test_the_option_and_the_settings_take_leichte_sprache(tmp_path):
    from client.options import parse_args
    from client.settings import Settings, load, save

    assert parse_args(["--lang", "de-x-ls"]).lang == "de-x-ls"
    save(tmp_path, Settings(language="de-x-ls"))
    assert load(tmp_path).language == "de-x-ls"


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
            if not i18n.has(key):
                missing.append(f"{path.relative_to(ROOT)}: {key}")
    assert not missing, missing
