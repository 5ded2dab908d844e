"""German and English for every text the server shows: one catalogue, one language resolver."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import Flask, Response, current_app, g, has_request_context, request

LANGUAGES = ("de", "en")
DEFAULT = "de"
CATALOGUES = Path(__file__).parent / "translations"
COOKIE = "lang"


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Message key to {"de": ..., "en": ...}, from every translations/<area>.json."""
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(CATALOGUES.glob("*.json")):
        for key, entry in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"message {key!r} of {path.name} is defined twice")
            merged[key] = entry
    return merged


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The message ``key`` in lang (default: the request's language), formatted with values."""
    entry = catalogue().get(key)
    if entry is None:
        if current_app and current_app.debug:
            raise KeyError(f"no message {key!r} in {CATALOGUES}")
        return key
    text = entry.get(lang or language()) or entry["en"]
    if not values:
        return text
    try:
        return text.format(**values)
    except KeyError:
        if current_app and current_app.debug:
            raise
        return text.format_map(_Blank(values))


class _Blank(dict):
    """Values for str.format_map in which a missing one is empty rather than a crash."""

    def __missing__(self, key: str) -> str:
        return ""


def both(key: str, **values: object) -> dict[str, str]:
    """The message in every language, e.g. for JSON answers that clients show as they are."""
    return {lang: t(key, lang, **values) for lang in LANGUAGES}


def default_language() -> str:
    """DEFAULT_LANGUAGE from the settings (the event's own language), else German."""
    lang = current_app.config.get("DEFAULT_LANGUAGE", DEFAULT) if current_app else DEFAULT
    return lang if lang in LANGUAGES else DEFAULT


def language() -> str:
    """?lang=, else the lang cookie, else a preference set for this request, else the browser's."""
    if not has_request_context():
        return default_language()
    if "lang" in g:
        return g.lang
    choice = request.args.get("lang")
    if choice not in LANGUAGES:
        choice = request.cookies.get(COOKIE)
    if choice not in LANGUAGES:
        choice = g.get("preferred_lang")
    if choice not in LANGUAGES:
        choice = request.accept_languages.best_match(LANGUAGES, default=default_language())
    g.lang = choice
    return choice


def set_preferred(lang: str | None) -> None:
    """A team's or user's own language, used when the request names none."""
    if lang in LANGUAGES:
        g.preferred_lang = lang
        if "lang" in g and not request.args.get("lang") and not request.cookies.get(COOKIE):
            g.lang = lang


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(t=t, language=language, LANGUAGES=LANGUAGES)

    @app.after_request
    def remember_language(response: Response) -> Response:
        choice = request.args.get("lang")
        if choice in LANGUAGES and request.cookies.get(COOKIE) != choice:
            response.set_cookie(COOKIE, choice, max_age=365 * 86400, samesite="Lax",
                                secure=app.config["SESSION_COOKIE_SECURE"])
        if has_request_context() and "lang" in g:
            response.headers.setdefault("Content-Language", g.lang)
            response.vary.add("Accept-Language")
        return response
