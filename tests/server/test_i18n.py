"""German and English everywhere: every key the server's code uses is in its catalogue.

That every catalogue file has every language is checked once, in tests/markers/test_i18n.py."""

from __future__ import annotations

import ast
import html
import re
import string
from pathlib import Path

import pytest
from flask import g

from markers import tokens
from server import i18n
from server.api.errors import _HTTP_CODES
from server.i18n import LANGUAGES, both, catalogue, language, set_preferred, t
from server.models import Marker
from server.usererror import UserError
from tests.conftest import ROOT

SERVER = ROOT / "server"
PYTHON = sorted(p for p in SERVER.rglob("*.py") if "migrations" not in p.parts)
TEMPLATES = sorted((SERVER / "templates").rglob("*.html"))
LITERAL_KEY = re.compile(r"""\b(?:t|both)\(\s*(['"])([A-Za-z0-9_.\-]+)\1\s*[,)]""")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def literal_keys(paths: list[Path]) -> dict[str, list[str]]:
    """Every key written as t('...') / both("...") in these files, with where it is used."""
    used: dict[str, list[str]] = {}
    for path in paths:
        for match in LITERAL_KEY.finditer(path.read_text(encoding="utf-8")):
            used.setdefault(match.group(2), []).append(path.name)
    return used


ERROR_CLASSES = ("UserError", "ExportError", "MediaError")


def user_error_calls() -> list[tuple[str, ast.Call]]:
    """Every UserError(...) call (and its subclasses') in server/, with its file."""
    calls = []
    for path in PYTHON:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ERROR_CLASSES:
                calls.append((str(path.relative_to(ROOT)), node))
    return calls


def test_the_server_catalogue_holds_the_domains_texts_too():
    names = {path.name for path in i18n.CATALOGUE.files()}
    assert {"translations.json", "api.json", "play.json"} <= names
    assert {"errors.token_malformed", "validate.empty_rally", "play.stop_n"} <= set(catalogue())


def test_the_scan_sees_the_keys():
    assert "auth.login_failed" in literal_keys(PYTHON)
    assert {"play.not_yet", "error.home"} <= set(literal_keys(TEMPLATES))


@pytest.mark.parametrize("path", PYTHON + TEMPLATES, ids=lambda p: str(p.relative_to(SERVER)))
def test_every_literal_key_exists(path):
    missing = sorted(k for k in literal_keys([path]) if k not in catalogue())
    assert missing == []


def test_the_scan_finds_keys_in_both_quote_styles(tmp_path):
    sample = tmp_path / "sample.html"
    sample.write_text("""{{ t('a.b') }} {{ t("c.d", n=1) }} {{ t('e.' ~ x) }} {{ both("f.g") }}""")
    assert set(literal_keys([sample])) == {"a.b", "c.d", "f.g"}


def test_error_page_has_a_title_and_text_for_each_status():
    source = (SERVER / "templates" / "error.html").read_text(encoding="utf-8")
    lists = re.findall(r"status in \(([\d,\s]+)\)", source)
    assert lists, "error.html no longer lists its statuses"
    statuses = {int(s) for s in ",".join(lists).split(",") if s.strip()} | {500}
    for status in statuses:
        for part in ("title", "text"):
            assert f"error.{part}_{status}" in catalogue(), f"error.{part}_{status}"


@pytest.mark.parametrize("where", sorted({w for w, _ in user_error_calls()}))
def test_every_literal_error_code_has_a_message_its_values_fill(where):
    problems = []
    for _, call in (c for c in user_error_calls() if c[0] == where):
        if not call.args or not isinstance(call.args[0], ast.Constant):
            continue
        names = {k.arg for k in call.keywords}
        key = f"errors.{call.args[0].value}"
        if key not in catalogue():
            problems.append(f"line {call.lineno}: no message {key}")
        elif None not in names and not placeholders(catalogue()[key]["en"]) <= names:
            problems.append(
                f"line {call.lineno}: {key} needs {placeholders(catalogue()[key]['en']) - names}"
            )
    assert problems == []


def test_the_error_scan_sees_the_calls():
    codes = {
        c.args[0].value
        for _, c in user_error_calls()
        if c.args and isinstance(c.args[0], ast.Constant)
    }
    assert {
        "invalid_team_name",
        "rally_not_found",
        "login_required",
        "image_type",
        "unknown_timezone",
    } <= codes


def test_computed_error_codes_have_messages():
    """UserError(f"token_{…}") names errors.token_<code>, which markers/translations.json holds."""
    computed = [
        (where, call)
        for where, call in user_error_calls()
        if call.args and isinstance(call.args[0], ast.JoinedStr)
    ]
    assert [where for where, _ in computed] == ["server/api/player.py"]
    for code in tokens.TokenErrorCode:
        error = tokens.TokenError(code, "test")
        assert error.key == f"errors.token_{code.value}" in catalogue()
        assert UserError(f"token_{code.value}").message("de") == error.text["de"]
        assert all(error.text[lang].strip() for lang in LANGUAGES), code


@pytest.mark.parametrize("code", sorted(set(_HTTP_CODES.values())))
def test_http_error_codes_have_messages_without_values(code):
    """from_http_exception raises these with no values, so their messages take none."""
    entry = catalogue()[f"errors.{code}"]
    assert placeholders(entry["de"]) == placeholders(entry["en"]) == set()


def test_play_join_errors_are_in_the_catalogue():
    """The web fallback shows teams.create's errors by their message."""
    source = (SERVER / "teams.py").read_text(encoding="utf-8")
    codes = re.findall(r'UserError\("([a-z_]+)"', source)
    assert {"invalid_team_name", "team_name_taken", "busy"} <= set(codes)
    for code in codes:
        for lang in LANGUAGES:
            assert t(f"errors.{code}", lang, field="name", max=40)


def test_t_formats_and_falls_back(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert t("play.stop_n", n=2, total=10) == "Stop 2 of 10"
        assert t("play.stop_n", "de", n=2, total=10) == "Station 2 von 10"
        assert both("play.stops", n=3) == {
            "de": "3 Stationen",
            "en": "3 stops",
            "de-x-ls": "3 Stationen",
        }
        assert t("no.such.key") == "no.such.key"
        assert t("play.stop_n", n=2) == "Stop 2 of "
    app.debug = True
    with app.test_request_context(), pytest.raises(KeyError):
        t("no.such.key")
    with app.test_request_context(), pytest.raises(KeyError):
        t("play.stop_n", n=2)


def test_t_outside_a_request_uses_the_default_language(make_app):
    app = make_app(DEFAULT_LANGUAGE="en")
    with app.app_context():
        assert language() == "en"
        assert t("play.have_code") == catalogue()["play.have_code"]["en"]
    assert i18n.default_language() == "de"


@pytest.mark.parametrize(
    ("query", "cookie", "preferred", "accept", "expected"),
    [
        ("", None, None, "en-GB,en;q=0.9", "en"),
        ("", None, None, "fr", "de"),
        ("", None, None, "fr, en;q=0.5", "en"),
        ("", None, "en", "de", "en"),
        ("", "de", "en", "en", "de"),
        ("?lang=en", "de", "de", "de", "en"),
        ("?lang=fr", None, None, "en", "en"),
        ("?lang=fr", "fr", "fr", "fr", "de"),
        ("?lang=de-x-ls", "en", None, "en", "de-x-ls"),
        ("", "de-x-ls", None, "en", "de-x-ls"),
        ("", None, "de-x-ls", "en", "de-x-ls"),
        ("", None, None, "de-x-ls, en;q=0.5", "de-x-ls"),
        ("", None, None, "de-DE, de;q=0.9", "de"),
    ],
)
def test_language_resolution_order(app, query, cookie, preferred, accept, expected):
    headers = {"Accept-Language": accept}
    if cookie:
        headers["Cookie"] = f"lang={cookie}"
    with app.test_request_context("/" + query, headers=headers):
        if preferred:
            g.preferred_lang = preferred
        assert language() == expected


def test_team_language_counts_when_the_request_names_none(app):
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        assert language() == "de"
        set_preferred("en")
        assert language() == "en"
    with app.test_request_context("/?lang=de", headers={"Accept-Language": "en"}):
        language()
        set_preferred("en")
        assert language() == "de"


def test_responses_name_their_language(client):
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.headers["Content-Language"] == "en"
    assert "Accept-Language" in response.headers["Vary"]
    switched = client.get("/?lang=de", headers={"Accept-Language": "en"})
    assert switched.headers["Content-Language"] == "de"
    assert any(c.startswith("lang=de;") for c in switched.headers.getlist("Set-Cookie"))


def test_error_pages_are_bilingual(client):
    for lang in LANGUAGES:
        response = client.get("/no-such-page", headers={"Accept-Language": lang})
        assert response.status_code == 404
        page = response.get_data(as_text=True)
        assert f'<html lang="{lang}">' in page
        assert t("error.title_404", lang) in page
    api = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "en"})
    assert api.get_json()["error"] == {"code": "not_found", "message": t("errors.not_found", "en")}


EASY = "de-x-ls"


def test_players_may_choose_leichte_sprache(client):
    response = client.get(f"/?lang={EASY}", headers={"Accept-Language": "en"})
    page = html.unescape(response.get_data(as_text=True))
    assert '<html lang="de">' in page
    assert t("play.welcome", EASY) in page and t("play.welcome", "de") not in page
    assert "<strong>Leichte Sprache</strong>" in page
    assert 'href="/?lang=de"' in page and 'href="/?lang=en"' in page
    assert response.headers["Content-Language"] == EASY
    assert client.get_cookie("lang").value == EASY
    again = html.unescape(client.get("/", headers={"Accept-Language": "en"}).get_data(True))
    assert t("play.welcome", EASY) in again
    assert f'href="/?lang={EASY}" hreflang="de" lang="de">Leichte Sprache</a>' in html.unescape(
        client.get("/?lang=en").get_data(True)
    )


def test_the_language_switch_names_leichte_sprache_in_every_language(client):
    for lang in ("de", "en"):
        page = client.get(f"/?lang={lang}").get_data(as_text=True)
        assert f'href="/?lang={EASY}"' in page and ">Leichte Sprache</a>" in page


def test_staff_pages_show_leichte_sprache_in_german(client):
    client.set_cookie("lang", EASY)
    response = client.get("/login", headers={"Accept-Language": "en"})
    page = html.unescape(response.get_data(as_text=True))
    assert '<html lang="de">' in page and t("auth.title", "de") in page
    assert "Leichte Sprache" not in page
    assert response.headers["Content-Language"] == "de"
    missing = client.get("/curator/no-such-page", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert t("error.title_404", "de") in html.unescape(missing.get_data(as_text=True))
    client.delete_cookie("lang")
    asked = client.get(f"/login?lang={EASY}", headers={"Accept-Language": "en"})
    assert t("auth.title", "de") in html.unescape(asked.get_data(as_text=True))
    assert not any(c.startswith("lang=") for c in asked.headers.getlist("Set-Cookie"))
    with client.application.test_request_context(f"/organiser?lang={EASY}"):
        assert language() == "de" and i18n.languages() == LANGUAGES
    with client.application.test_request_context(f"/api/v1/curator/markers?lang={EASY}"):
        assert language() == "de"
        set_preferred(EASY)
        assert language() == "de"


def test_error_pages_and_api_errors_in_leichte_sprache(client):
    client.set_cookie("lang", EASY)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = html.unescape(response.get_data(as_text=True))
    assert '<html lang="de">' in page and t("error.title_404", EASY) in page
    api = client.get("/api/v1/no-such-thing", headers={"Accept-Language": EASY})
    assert api.get_json()["error"]["message"] == t("errors.not_found", EASY)


def test_html_lang_is_plain_german_for_leichte_sprache(app):
    with app.test_request_context(f"/?lang={EASY}"):
        assert i18n.html_lang() == "de"
        assert i18n.html_lang("en") == "en"
        assert i18n.language_label(EASY) == "Leichte Sprache"
        assert i18n.language_label("de") == "DE"


def test_unexpected_errors_are_friendly_in_both_languages(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("internal detail that must not leak")

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("internal detail that must not leak")

    client = app.test_client()
    for lang in LANGUAGES:
        page = client.get("/boom", headers={"Accept-Language": lang})
        assert page.status_code == 500
        text = page.get_data(as_text=True)
        assert t("error.title_500", lang) in text
        assert "internal detail" not in text and "Traceback" not in text
        api = client.get("/api/v1/boom", headers={"Accept-Language": lang})
        assert api.status_code == 500
        assert api.get_json()["error"] == {
            "code": "internal_error",
            "message": t("errors.internal_error", lang),
        }


def test_a_text_column_is_a_language_map_with_every_required_language():
    marker = Marker(title={"de": "Brunnen"})
    assert marker.text("title") == {"de": "Brunnen", "en": ""}
    marker.set_text("title", {"en": "Fountain", "de-x-ls": "Brunnen mit Wasser", "xx": "no"})
    assert marker.text("title") == {
        "de": "Brunnen",
        "en": "Fountain",
        "de-x-ls": "Brunnen mit Wasser",
    }
    marker.set_text("title", {"de-x-ls": ""})
    assert marker.text("title") == {"de": "Brunnen", "en": "Fountain"}
