"""Rate limits: whom a limit counts (a live team by its token, everyone else by address) and
the limiter the routes decorate."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from flask import current_app, g, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address

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
    found = g.get("bearer_team", _NO_TEAM)
    if found is _NO_TEAM:
        token = bearer_token()
        found = teams.by_token(token) if token else None
        g.bearer_team = found
    return found


def address_key() -> str:
    return "ip:" + (get_remote_address() or "unknown")


def rate_limit_key() -> str:
    """A live team counts by its token; a made-up or stale bearer counts as its address."""
    token = bearer_token()
    if token and bearer_team() is not None:
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
