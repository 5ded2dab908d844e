"""The app's settings, kept as JSON in its data folder."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from client import build_config
from markers.i18n import PLAYER_LANGUAGES

FILE_NAME = "settings.json"
MAP_PACK_MB = 40
MAX_MAP_PACK_MB = 2000
DEFAULT_PORTS = {"http": 80, "https": 443}


class SettingsError(ValueError):
    """A settings file that cannot be read, naming the file and the field."""


@dataclass(frozen=True)
class Settings:
    """What the player chose and what identifies the team on this phone.

    The saved team (team_token, join_code) belongs to the server team_server and the rally
    rally_slug: it is used only while server_url is that server (see team_for).
    """

    server_url: str = field(default_factory=build_config.default_server)
    """The event server; "" until the player names one (a phone built without a default)."""
    language: str = "de"
    large_text: bool = False
    rally_slug: str | None = None
    team_token: str | None = None
    join_code: str | None = None
    team_server: str | None = None
    """The server (normalised) that issued team_token."""
    ca_file: str | None = None
    """A PEM file of extra CA certificates to trust (an event server with a private CA)."""
    map_pack_mb: int = MAP_PACK_MB
    """The most the rally's map tiles may take on the phone, in MB (0: no map in the pack)."""

    def __post_init__(self) -> None:
        if self.language not in PLAYER_LANGUAGES:
            raise SettingsError(
                f"language must be one of {', '.join(PLAYER_LANGUAGES)}, got {self.language!r}"
            )
        if (
            not isinstance(self.map_pack_mb, int)
            or isinstance(self.map_pack_mb, bool)
            or not 0 <= self.map_pack_mb <= MAX_MAP_PACK_MB
        ):
            raise SettingsError(
                f"map_pack_mb must be a whole number of MB from 0 to {MAX_MAP_PACK_MB}, "
                f"got {self.map_pack_mb!r}"
            )
        if self.server_url:
            try:
                normalise_server(self.server_url)
            except ValueError as exc:
                raise SettingsError(f"server_url: {exc}") from None

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def team_for(self, server_url: str, slug: str | None = None) -> str | None:
        """The saved team's token if it belongs to server_url (and to rally slug, if given)."""
        if not self.team_token or not self.team_server or not server_url:
            return None
        if slug is not None and slug != self.rally_slug:
            return None
        try:
            same = normalise_server(server_url) == self.team_server
        except ValueError:
            return None
        return self.team_token if same else None


def normalise_server(url: str) -> str:
    """A server's base URL in one spelling: scheme and host in lower case, no default port,
    no trailing slash, no query ("HTTPS://Play.example.org:443/" -> "https://play.example.org").
    ValueError when it is not an http(s) URL with a host."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"must start with http:// or https:// and name a host, got {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in {url!r}") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path.rstrip("/"), "", ""))


def load(data_dir: str | Path) -> Settings:
    """The settings in data_dir, defaults when there is no file yet."""
    path = Path(data_dir) / FILE_NAME
    if not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{path}: cannot read settings: {exc}") from exc
    if not isinstance(raw, dict):
        raise SettingsError(f"{path}: settings must be a JSON object")
    known = {f.name for f in fields(Settings)}
    values = {k: v for k, v in raw.items() if k in known}
    if values.get("team_token") and not values.get("team_server"):
        try:  # saved before teams named their server: it was the server then in use
            values["team_server"] = normalise_server(str(values.get("server_url", "")))
        except ValueError:
            values["team_token"] = None
    if build_config.on_android() and build_config.is_loopback(str(values.get("server_url", ""))):
        values.pop("server_url")  # the phone itself is never the event server
    try:
        return Settings(**values)
    except (TypeError, SettingsError) as exc:
        raise SettingsError(f"{path}: {exc}") from exc


def save(data_dir: str | Path, settings: Settings) -> None:
    """Write the settings atomically (a crash leaves the old file or the new one)."""
    path = Path(data_dir) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")
    os.replace(tmp, path)
