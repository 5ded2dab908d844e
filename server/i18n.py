"""The server's face of the one catalogue (markers/i18n.py): the request's language, the cookie.

The server's texts live in server/translations/<area>.json; the domain's come along, so one
catalogue holds every key the server shows.

Players may read Leichte Sprache (EASY_GERMAN) beside German and English; staff pages and the
staff API (STAFF_PATHS) exist in LANGUAGES only, so a choice of Leichte Sprache shows them in
German there.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, Response, current_app, g, has_request_context, request

from markers.i18n import (
    EASY_GERMAN,
    LANGUAGE_NAMES,
    LANGUAGES,
    PLAYER_LANGUAGES,
    TEXT_LANGUAGES,
    Catalogue,
    Text,
    package_texts,
    pick,
    picked_language,
    speech_locale,
)

COOKIE = "lang"
STAFF_PATHS = (
    "/curator",
    "/organiser",
    "/staff",
    "/login",
    "/logout",
    "/api/v1/curator",
    "/api/v1/organiser",
    "/api/v1/session",
)
"""Where staff work (pages and API): these exist in LANGUAGES only; everything else is for
players (and PLAYER_LANGUAGES)."""
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
    """The message in every language (Leichte Sprache too), e.g. a detail a message fills in."""
    return {lang: t(key, lang, **values) for lang in TEXT_LANGUAGES}


def pick_text(value: Text | None, lang: str | None = None) -> str:
    """A language map's text in lang (default: the request's), along the one fallback chain."""
    return pick(value, lang or language())


def default_language() -> str:
    """The DEFAULT_LANGUAGE setting (the event's own language), else the first of LANGUAGES."""
    lang = current_app.config.get("DEFAULT_LANGUAGE") if current_app else None
    return lang if lang in LANGUAGES else LANGUAGES[0]


def is_staff_request() -> bool:
    """Whether the request is for a staff page or the staff API (see STAFF_PATHS)."""
    path = request.path
    return any(path == p or path.startswith(p + "/") for p in STAFF_PATHS)


def languages() -> tuple[str, ...]:
    """The languages this request may be answered in: PLAYER_LANGUAGES, LANGUAGES for staff."""
    if has_request_context() and is_staff_request():
        return LANGUAGES
    return PLAYER_LANGUAGES


def _allowed(lang: str | None) -> str | None:
    """lang if this request may use it; Leichte Sprache on a staff page is German."""
    if lang not in PLAYER_LANGUAGES:
        return None
    return lang if lang in languages() else "de"


def language() -> str:
    """?lang=, else the lang cookie, else a preference set for this request, else the browser's."""
    if not has_request_context():
        return default_language()
    if "lang" in g:
        return g.lang
    choice = (
        _allowed(request.args.get("lang"))
        or _allowed(request.cookies.get(COOKIE))
        or _allowed(g.get("preferred_lang"))
        or request.accept_languages.best_match(languages(), default=default_language())
    )
    g.lang = choice
    return choice


def html_lang(lang: str | None = None) -> str:
    """The HTML lang attribute of lang (default: the request's): Leichte Sprache is "de", the
    code browsers and screen readers know."""
    lang = lang or language()
    return "de" if lang == EASY_GERMAN else lang


def language_label(lang: str) -> str:
    """How the language switch names lang: "DE", "EN", and "Leichte Sprache" in every language."""
    return LANGUAGE_NAMES[EASY_GERMAN] if lang == EASY_GERMAN else lang.upper()


def set_preferred(lang: str | None) -> None:
    """A team's or user's own language, used when the request names none."""
    if lang in PLAYER_LANGUAGES:
        g.preferred_lang = lang
        if "lang" in g and not request.args.get("lang") and not request.cookies.get(COOKIE):
            g.lang = _allowed(lang)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        t=t,
        language=language,
        languages=languages,
        html_lang=html_lang,
        language_label=language_label,
        LANGUAGES=LANGUAGES,
        pick_text=pick_text,
        picked_language=picked_language,
        speech_locale=speech_locale,
    )

    @app.after_request
    def remember_language(response: Response) -> Response:
        choice = request.args.get("lang")
        if choice in languages() and request.cookies.get(COOKIE) != choice:
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
