"""The one catalogue: every file in every language, one fallback chain, clear failures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from markers.i18n import (
    FALLBACK_LANGUAGE,
    LANGUAGES,
    TEXT_LANGUAGES,
    Catalogue,
    MissingText,
    fallbacks,
    package_texts,
    pick,
    picked_language,
    placeholders,
    speech_locale,
)
from tests.conftest import ROOT

CATALOGUE_FILES = sorted(
    [
        ROOT / "markers" / "translations.json",
        ROOT / "routes" / "translations.json",
        ROOT / "client" / "translations.json",
        *(ROOT / "server" / "translations").glob("*.json"),
    ]
)
EVERYTHING = Catalogue(*CATALOGUE_FILES)


def test_every_catalogue_file_is_found():
    assert len(CATALOGUE_FILES) >= 8
    on_disk = {p for p in ROOT.glob("*/translations.json")} | set(
        (ROOT / "server" / "translations").glob("*.json")
    )
    assert on_disk == set(CATALOGUE_FILES)


@pytest.mark.parametrize("path", CATALOGUE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_files_map_keys_to_every_language(path: Path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data
    for key, entry in data.items():
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", key), f"{path.name}: key {key!r}"
        assert isinstance(entry, dict), f"{path.name}: {key}"
        assert set(LANGUAGES) <= set(entry) <= set(TEXT_LANGUAGES), f"{path.name}: {key}"


@pytest.mark.parametrize("key", sorted(EVERYTHING.entries()))
def test_every_text_is_in_every_language_with_the_same_placeholders(key: str):
    """de and en always; de-x-ls (Leichte Sprache) where written: see tests/test_easy_language.py
    for the texts players read, which must have it."""
    entry = EVERYTHING.text(key)
    langs = [lang for lang in TEXT_LANGUAGES if lang in entry]
    for lang in langs:
        assert isinstance(entry[lang], str) and entry[lang].strip(), f"{key}: empty {lang}"
        assert entry[lang] == entry[lang].strip(), f"{key}: {lang} has outer spaces"
        entry[lang].format(**dict.fromkeys(placeholders(entry[lang]), 1.0))
    assert len({frozenset(placeholders(entry[lang])) for lang in langs}) == 1, key


def test_keys_are_unique_across_all_catalogue_files():
    assert len(EVERYTHING.entries()) == sum(
        len(json.loads(p.read_text(encoding="utf-8"))) for p in CATALOGUE_FILES
    )


def test_a_key_defined_twice_is_refused(tmp_path: Path):
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text('{"x.y": {"de": "1", "en": "1"}}', encoding="utf-8")
    with pytest.raises(ValueError, match=r"'x\.y' of b\.json is defined twice"):
        Catalogue(tmp_path).entries()


def test_fallbacks_lead_from_a_variant_to_its_language_and_the_fallback():
    assert fallbacks("de-x-ls") == ("de-x-ls", "de", FALLBACK_LANGUAGE)
    assert fallbacks("de") == ("de", FALLBACK_LANGUAGE)
    assert fallbacks(FALLBACK_LANGUAGE) == (FALLBACK_LANGUAGE,)
    assert pick({"de": "Brunnen", "en": "Fountain"}, "de-x-ls") == "Brunnen"
    assert pick({"de": "", "en": "Fountain"}, "de") == "Fountain"
    assert pick({"fr": "Fontaine"}, "de") == "Fontaine"
    assert pick(None, "de") == ""


def test_picked_language_names_the_language_pick_fell_back_to():
    text = {"de": "Brunnen", "en": "Fountain"}
    assert picked_language(text, "de-x-ls") == "de"
    assert picked_language({**text, "de-x-ls": "Der Brunnen"}, "de-x-ls") == "de-x-ls"
    assert picked_language({"de": "", "en": "Fountain"}, "de") == "en"
    assert picked_language({"fr": "Fontaine"}, "de") == "fr"
    assert picked_language({}, "de") == picked_language(None, "de") == "de"


def test_texts_are_read_aloud_in_a_voice_of_their_language():
    assert speech_locale("de") == "de-DE"
    assert speech_locale("en") == "en-GB"
    assert speech_locale("de-x-ls") == "de-DE"
    assert speech_locale("de-AT") == "de-DE"
    assert speech_locale("fr") == "fr"
    assert speech_locale("") == ""


def test_t_fills_values_and_picks_language_maps(tmp_path: Path):
    (tmp_path / "t.json").write_text(
        json.dumps(
            {
                "a.n": {"de": "{n} Stationen, {what}", "en": "{n} stops, {what}"},
                "a.only_en": {"de": "", "en": "English"},
            }
        ),
        encoding="utf-8",
    )
    catalogue = Catalogue(tmp_path / "t.json")
    what = {"de": "warm", "en": "warmish"}
    assert catalogue.t("a.n", "de", n=3, what=what) == "3 Stationen, warm"
    assert catalogue.t("a.n", "de-x-ls", n=3, what=what) == "3 Stationen, warm"
    assert dict(catalogue.text_map("a.n", n=1, what=what)) == {
        "de": "1 Stationen, warm",
        "en": "1 stops, warmish",
    }
    assert catalogue.t("a.only_en", "de") == "English"
    with pytest.raises(MissingText, match=r"no\.such"):
        catalogue.t("no.such", "de")
    with pytest.raises(KeyError):
        catalogue.t("a.n", "de", n=3)
    assert catalogue.format("a.n", "en", {"n": 3}, strict=False) == "3 stops, "
    assert catalogue.format("no.such", "en", {}, strict=False) == "no.such"


def test_package_texts_finds_a_package_file():
    assert package_texts("markers").read_text(encoding="utf-8").startswith("{")
