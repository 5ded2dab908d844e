"""Configuration from the environment, with safe defaults; see the README for every variable."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from server import address, wifi
from server.formats import DEFAULT_TIMEZONE, zone_named

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILE_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


def database_url(url: str | None, instance_path: str) -> str:
    """The SQLAlchemy URL: DATABASE_URL (psycopg 3 for PostgreSQL) or a SQLite file."""
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "artcaching.sqlite3")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def secret_key(instance_path: str) -> str:
    """SECRET_KEY, or a key generated once into the instance folder and read from there after."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        _write_once(path, secrets.token_urlsafe(48))
    key = path.read_text().strip()
    if not key:
        raise SystemExit(f"{path} is empty: delete it to make a new key, or set SECRET_KEY")
    return key


def _write_once(path: Path, text: str) -> None:
    """Create path (mode 0600) holding text, unless another process got there first: the file
    appears whole, so several workers starting at once all read the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()


def _env_float(name: str, default: float) -> float:
    """A number of 0 or more from the environment; a clear stop for anything else."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise SystemExit(f"{name} must be a finite number of 0 or more, got {value!r}")
    return number


def _event_timezone(name: str) -> str:
    zone_named(name)
    return name


def from_environment(instance_path: str, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every setting the app reads, from the environment or its default; a SECRET_KEY among the
    caller's ``given`` settings spares making one in the instance folder."""
    env = os.environ.get
    public, public_source = address.configured(env("PUBLIC_BASE_URL"), instance_path)
    secure_default = "1" if public.startswith("https://") else "0"
    return {
        "SECRET_KEY": (given or {}).get("SECRET_KEY") or secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(env("DATABASE_URL"), instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PUBLIC_BASE_URL": public,
        "PUBLIC_BASE_URL_SOURCE": public_source,
        "RATELIMIT_STORAGE_URI": env("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_KEY_PREFIX": env("RATELIMIT_KEY_PREFIX", "artcaching"),
        "RATELIMIT_ENABLED": env("RATELIMIT_ENABLED", "1") == "1",
        "RATELIMIT_DEFAULT": env("RATELIMIT_DEFAULT", "600 per minute"),
        "RATELIMIT_TEAM_CREATE": env("RATELIMIT_TEAM_CREATE", "300 per 10 minutes"),
        "RATELIMIT_JOIN_CODE_FAILURES": env("RATELIMIT_JOIN_CODE_FAILURES", "100 per 10 minutes"),
        "RATELIMIT_JOIN_CODE_RALLY_FAILURES": env(
            "RATELIMIT_JOIN_CODE_RALLY_FAILURES", "300 per hour"
        ),
        # One typo per team of a 300-team start behind one address; a guess hits one of ~100
        # codes among 32**6 about once in ten million tries.
        "RATELIMIT_SHORT_CODE_FAILURES": env("RATELIMIT_SHORT_CODE_FAILURES", "300 per 10 minutes"),
        "RATELIMIT_EVENTS": env("RATELIMIT_EVENTS", "240 per minute"),
        # Batches of up to 50 events (POST /api/v1/team/events, an outbox catching up after an
        # outage) per team: each request counts once, however many events it holds.
        "RATELIMIT_BATCHES": env("RATELIMIT_BATCHES", "30 per minute"),
        "RATELIMIT_LOGIN": env("RATELIMIT_LOGIN", "10 per minute;30 per hour"),
        # Simulated walks per curator (each one request walking the whole rally on the server).
        "RATELIMIT_SIMULATE_WALK": env("RATELIMIT_SIMULATE_WALK", "30 per minute"),
        "LOGIN_LOCKOUT_FAILURES": max(1, int(_env_float("LOGIN_LOCKOUT_FAILURES", 10))),
        "LOGIN_LOCKOUT_SECONDS": _env_float("LOGIN_LOCKOUT_SECONDS", 60.0),
        "LOGIN_LOCKOUT_MAX_SECONDS": _env_float("LOGIN_LOCKOUT_MAX_SECONDS", 3600.0),
        "TILE_URL": env("TILE_URL", DEFAULT_TILE_URL),
        "TILE_ATTRIBUTION": env("TILE_ATTRIBUTION", DEFAULT_TILE_ATTRIBUTION),
        "TILE_URL_SET": bool(env("TILE_URL")),
        "TILES_FILE": env("TILES_FILE") or str(Path(instance_path) / "tiles.mbtiles"),
        "TILES_IMPORT_MAX_BYTES": int(_env_float("TILES_IMPORT_MAX_BYTES", 2 * 1024**3)),
        "PACK_TILES_MAX_BYTES": int(_env_float("PACK_TILES_MAX_BYTES", 40 * 1024 * 1024)),
        "TILE_SOURCE_URL": env("TILE_SOURCE_URL") or DEFAULT_TILE_URL,
        "TILE_FETCH_DELAY_S": _env_float("TILE_FETCH_DELAY_S", 0.25),
        "TILES_PREPARE_MAX": int(_env_float("TILES_PREPARE_MAX", 5000)),
        "MEDIA_DIR": env("MEDIA_DIR", str(Path(instance_path) / "media")),
        "MEDIA_MAX_BYTES": int(_env_float("MEDIA_MAX_BYTES", 8 * 1024 * 1024)),
        "MEDIA_MAX_PIXELS": int(_env_float("MEDIA_MAX_PIXELS", 60_000_000)),
        "MEDIA_MAX_SIDE": int(_env_float("MEDIA_MAX_SIDE", 1600)),
        "FIX_RETENTION_HOURS": _env_float("FIX_RETENTION_HOURS", 24.0),
        "PRIVACY_SWEEP_MINUTES": _env_float("PRIVACY_SWEEP_MINUTES", 10.0),
        "TRUSTED_PROXIES": int(_env_float("TRUSTED_PROXIES", 0)),
        "SESSION_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", secure_default) == "1",
        "REMEMBER_COOKIE_SECURE": env("SESSION_COOKIE_SECURE", secure_default) == "1",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
        "API_MAX_BODY": 64 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "RULES_AR_RADIUS_M": _env_float("RULES_AR_RADIUS_M", 150.0),
        "RULES_SEARCH_RADIUS_M": _env_float("RULES_SEARCH_RADIUS_M", 250.0),
        "RULES_MAX_SPEED_MPS": _env_float("RULES_MAX_SPEED_MPS", 25.0),
        "RULES_ACCURACY_CAP_M": _env_float("RULES_ACCURACY_CAP_M", 25.0),
        "DEFAULT_LANGUAGE": env("DEFAULT_LANGUAGE", "de"),
        "EVENT_TIMEZONE": _event_timezone(env("EVENT_TIMEZONE") or DEFAULT_TIMEZONE),
        "MAX_CLOCK_SKEW_S": _env_float("MAX_CLOCK_SKEW_S", 120.0),
        "LIVE_POLL_SECONDS": _env_float("LIVE_POLL_SECONDS", 5.0),
        "LIVE_POSITION_MAX_AGE_MIN": _env_float("LIVE_POSITION_MAX_AGE_MIN", 15.0),
        "EVENT_WIFI_SSID": env("EVENT_WIFI_SSID", ""),
        "EVENT_WIFI_PASSWORD": env("EVENT_WIFI_PASSWORD", ""),
        "EVENT_WIFI_SECURITY": wifi.security_setting(env("EVENT_WIFI_SECURITY")),
        "EVENT_WIFI_HIDDEN": wifi.hidden(env("EVENT_WIFI_HIDDEN")),
    }
