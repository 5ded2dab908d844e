"""The server's face of the one catalogue (markers/i18n.py): the request's language, the cookie.

The server's texts live in server/translations/<area>.json; the domain's come along, so one
catalogue holds every key the server shows.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response, current_app, g, has_request_context, request

from markers.i18n import (
    LANGUAGES,
    Catalogue,
    Text,
    package_texts,
    pick,
    picked_language,
    speech_locale,
)

COOKIE = "lang"
CATALOGUE = Catalogue(
    package_texts("markers"), package_texts("routes"), package_texts("server", "translations")
)


def catalogue() -> Mapping[str, Text]:
    """Message key to its language map, from every catalogue file the server uses."""
    return CATALOGUE.entries()


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The message ``key`` in lang (default: the request's language), formatted with values.

    In debug mode an unknown key or a missing value raises KeyError; otherwise the key itself or
    an empty value is shown, so a slip never costs a user the page.
    """
    strict = bool(current_app) and current_app.debug
    return CATALOGUE.format(key, lang or language(), values, strict=strict)


def both(key: str, **values: object) -> dict[str, str]:
    """The message in every language, e.g. for JSON answers that clients show as they are."""
    return {lang: t(key, lang, **values) for lang in LANGUAGES}


def pick_text(value: Text | None, lang: str | None = None) -> str:
    """A language map's text in lang (default: the request's), along the one fallback chain."""
    return pick(value, lang or language())


def default_language() -> str:
    """The DEFAULT_LANGUAGE setting (the event's own language), else the first of LANGUAGES."""
    lang = current_app.config.get("DEFAULT_LANGUAGE") if current_app else None
    return lang if lang in LANGUAGES else LANGUAGES[0]


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
    app.jinja_env.globals.update(
        t=t,
        language=language,
        LANGUAGES=LANGUAGES,
        pick_text=pick_text,
        picked_language=picked_language,
        speech_locale=speech_locale,
    )

    @app.after_request
    def remember_language(response: Response) -> Response:
        choice = request.args.get("lang")
        if choice in LANGUAGES and request.cookies.get(COOKIE) != choice:
            response.set_cookie(
                COOKIE,
                choice,
                max_age=365 * 86400,
                samesite="Lax",
                secure=app.config["SESSION_COOKIE_SECURE"],
            )
        if has_request_context() and "lang" in g:
            response.headers.setdefault("Content-Language", g.lang)
            response.vary.add("Accept-Language")
        return response
