"""Whom a rate limit counts: a team by its bearer token, everyone else by address."""

from __future__ import annotations

import hashlib

from flask import request
from flask_limiter.util import get_remote_address


def rate_limit_key() -> str:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer ") and len(auth) > 7:
        return "team:" + hashlib.sha256(auth[7:].strip().encode()).hexdigest()[:32]
    return "ip:" + (get_remote_address() or "unknown")
