"""Rate limits: whom a limit counts (a live team by its token, everyone else by address) and
the limiter the routes decorate."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from flask import Response, after_this_request, current_app, g, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from limits import parse_many

from server import models, teams
from server.usererror import UserError

_NO_TEAM = object()


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, if the request has one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def bearer_team() -> models.Team | None:
    """The live team whose token came with this request; looked up once per request."""
    return None if (held := bearer_holder()) is None else held[0]


def bearer_holder() -> tuple[models.Team, models.TeamToken] | None:
    """The live team and the device whose token came with this request; looked up once."""
    found = g.get("bearer_team", _NO_TEAM)
    if found is _NO_TEAM:
        token = bearer_token()
        found = teams.by_token(token) if token else None
        g.bearer_team = found
    return found


def address_key() -> str:
    return "ip:" + (get_remote_address() or "unknown")


TEAM_COOKIE_PREFIX = "team_"
"""The web pages keep a team's token in a cookie ``team_<rally id>`` (server/play/routes.py)."""
MAX_TEAM_COOKIES = 3
"""At most this many team cookies of one request are looked up (one per rally played)."""


def cookie_token() -> str | None:
    """The token of the first team cookie of a live team (a browser's web player), if any."""
    found = g.get("cookie_token", _NO_TEAM)
    if found is _NO_TEAM:
        found = None
        names = sorted(n for n in request.cookies if n.startswith(TEAM_COOKIE_PREFIX))
        for name in names[:MAX_TEAM_COOKIES]:
            token = request.cookies[name]
            if 0 < len(token) <= 200 and teams.by_token(token) is not None:
                found = token
                break
        g.cookie_token = found
    return found


def rate_limit_key() -> str:
    """A live team counts by its token (the app's bearer, the web page's cookie); a made-up or
    stale token counts as its address."""
    token = bearer_token()
    if not (token and bearer_team() is not None):
        token = None if token else cookie_token()
    if token:
        return "team:" + hashlib.sha256(token.encode()).hexdigest()[:32]
    return address_key()


def setting(name: str) -> Callable[[], str]:
    """A limit read from the app's settings when a request checks it."""
    return lambda: current_app.config[name]


def minutes_until(moment: float) -> int:
    """Whole minutes (at least one) from now until a Unix time, for a "try again in" message."""
    return max(1, math.ceil((moment - time.time()) / 60))


def refuse(code: str) -> Callable[[RequestLimit], None]:
    """When a limit is breached: the user error ``code`` (429) saying in how many minutes to try
    again; the limiter adds the Retry-After header."""

    def breached(limit: RequestLimit) -> None:
        raise UserError(code, status=429, minutes=minutes_until(limit.reset_at))

    return breached


def _wrong_code(response: Any) -> bool:
    """Only refused join codes count against the join-code limits, not the phones that got in."""
    return response.status_code in (404, 422)


def _rally_key() -> str:
    return "rally:" + str((request.view_args or {}).get("slug", ""))


limiter = Limiter(
    key_func=rate_limit_key, default_limits=[setting("RATELIMIT_DEFAULT")], headers_enabled=True
)
"""One limiter for every app; each limit is read from the settings of the app that checks it."""

team_creation_limit = limiter.shared_limit(
    setting("RATELIMIT_TEAM_CREATE"),
    scope="team-create",
    key_func=address_key,
    on_breach=refuse("team_creation_limited"),
)
"""New teams per address, the app and the web pages together."""


def join_code_limits(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrong join codes counted per address and per rally (the app and the web pages together);
    either limit reached locks join-code attempts for a while."""
    for scope, key, name in (
        ("join-code", address_key, "RATELIMIT_JOIN_CODE_FAILURES"),
        ("join-code-rally", _rally_key, "RATELIMIT_JOIN_CODE_RALLY_FAILURES"),
    ):
        view = limiter.shared_limit(
            setting(name),
            scope=scope,
            key_func=key,
            deduct_when=_wrong_code,
            on_breach=refuse("join_code_locked"),
        )(view)
    return view


def _short_code_limits() -> list[Any]:
    return list(parse_many(current_app.config["RATELIMIT_SHORT_CODE_FAILURES"]))


def _short_code_key() -> tuple[str, ...]:
    return (current_app.config["RATELIMIT_KEY_PREFIX"], "short-code", address_key())


def short_code_guard() -> None:
    """Before a typed stop code is looked up: 429 ``short_code_locked`` (with Retry-After) when
    this address has typed too many wrong ones."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    window = limiter.limiter
    key = _short_code_key()
    for item in _short_code_limits():
        if not window.test(item, *key):
            reset = window.get_window_stats(item, *key).reset_time
            after_this_request(_retry_after(max(1, math.ceil(reset - time.time()))))
            raise UserError("short_code_locked", status=429, minutes=minutes_until(reset))


def _retry_after(seconds: int) -> Callable[[Response], Response]:
    def add(response: Response) -> Response:
        response.headers["Retry-After"] = str(seconds)
        return response

    return add


def wrong_short_code() -> None:
    """A typed stop code that names no stop: counted against this address (app and web
    together, single scans and batches alike)."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    key = _short_code_key()
    for item in _short_code_limits():
        limiter.limiter.hit(item, *key)
