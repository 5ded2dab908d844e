"""The app's settings, kept as JSON in its data folder."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from markers.i18n import PLAYER_LANGUAGES

DEFAULT_SERVER_URL = "http://127.0.0.1:5000"
FILE_NAME = "settings.json"


class SettingsError(ValueError):
    """A settings file that cannot be read, naming the file and the field."""


@dataclass(frozen=True)
class Settings:
    """What the player chose and what identifies the team on this phone."""

    server_url: str = DEFAULT_SERVER_URL
    language: str = "de"
    large_text: bool = False
    rally_slug: str | None = None
    team_token: str | None = None
    join_code: str | None = None

    def __post_init__(self) -> None:
        if self.language not in PLAYER_LANGUAGES:
            raise SettingsError(
                f"language must be one of {', '.join(PLAYER_LANGUAGES)}, got {self.language!r}"
            )
        if not self.server_url.startswith(("http://", "https://")):
            raise SettingsError(
                f"server_url must start with http:// or https://, got {self.server_url!r}"
            )

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)


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
    try:
        return Settings(**{k: v for k, v in raw.items() if k in known})
    except (TypeError, SettingsError) as exc:
        raise SettingsError(f"{path}: {exc}") from exc


def save(data_dir: str | Path, settings: Settings) -> None:
    """Write the settings atomically (a crash leaves the old file or the new one)."""
    path = Path(data_dir) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")
    os.replace(tmp, path)
