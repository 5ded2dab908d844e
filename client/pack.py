"""The rally pack: what the phone keeps so the game stays useful without network.

Per rally, in <data dir>/packs/<slug>/: the rally's public JSON, the team's last JSON, every clue
opened so far, every found stop (story, letter) and its image.
"""

from __future__ import annotations

import json
import os
import re
import threading
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from client import USER_AGENT
from client.http import open_url

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class RallyPack:
    """One rally's offline pack in data_dir; thread-safe, written atomically."""

    def __init__(self, data_dir: str | Path, slug: str) -> None:
        if not slug or _SAFE.sub("", slug) != slug:
            raise ValueError(f"rally slug must be letters, digits, '.', '_' or '-', got {slug!r}")
        self.slug = slug
        self.folder = Path(data_dir) / "packs" / slug
        self._lock = threading.Lock()

    # --- rally and team ----------------------------------------------------------------------

    def save_rally(self, rally: dict[str, Any]) -> None:
        with self._lock:
            _write_json(self.folder / "rally.json", rally)

    def rally(self) -> dict[str, Any] | None:
        return _read_json(self.folder / "rally.json")

    def save_team(self, team: dict[str, Any]) -> None:
        """Keep the team's state, and add its open clues and found stops to what is known."""
        with self._lock:
            _write_json(self.folder / "team.json", team)
            clues = {str(c["marker_id"]): c for c in self._read("clues.json", [])}
            for o in team.get("open", []):
                clues[str(o["marker_id"])] = {
                    k: o.get(k) for k in ("marker_id", "stop", "clue", "search_area")
                }
            _write_json(
                self.folder / "clues.json", sorted(clues.values(), key=lambda c: c.get("stop") or 0)
            )
            found = {str(f["marker_id"]): f for f in self._read("found.json", [])}
            for f in team.get("found", []):
                found[str(f["marker_id"])] = f
            _write_json(
                self.folder / "found.json",
                sorted(found.values(), key=lambda f: f.get("found_at") or ""),
            )

    def team(self) -> dict[str, Any] | None:
        return _read_json(self.folder / "team.json")

    def clues(self) -> list[dict[str, Any]]:
        """Every clue opened so far: {marker_id, stop, clue, search_area}, in stop order."""
        return self._read("clues.json", [])

    def found(self) -> list[dict[str, Any]]:
        """Every found stop as the server revealed it (title, story, letter, ...), in find order."""
        return self._read("found.json", [])

    def letters(self) -> list[str | None]:
        """The solution letters so far (from the team's last state)."""
        team = self.team() or {}
        return list(team.get("letters") or [])

    # --- images ------------------------------------------------------------------------------

    def image_path(self, found: dict[str, Any]) -> Path | None:
        """Where the image of a found stop is kept (None when it has none or it isn't fetched)."""
        url = found.get("image_url")
        if not url:
            return None
        path = self.folder / "images" / _file_name(url)
        return path if path.exists() else None

    def fetch_images(self, base_url: str, timeout: float = 10.0) -> int:
        """Download the images of found stops not yet kept; how many were fetched.

        Network errors propagate (the caller retries on the next sync).
        """
        fetched = 0
        for f in self.found():
            url = f.get("image_url")
            if not url:
                continue
            path = self.folder / "images" / _file_name(url)
            if path.exists():
                continue
            request = urllib.request.Request(
                urljoin(base_url + "/", url), headers={"User-Agent": USER_AGENT}
            )
            with open_url(request, timeout) as response:
                data = response.read()
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            fetched += 1
        return fetched

    def clear(self) -> None:
        """Delete the pack (the team left)."""
        with self._lock:
            if self.folder.exists():
                for path in sorted(self.folder.rglob("*"), reverse=True):
                    path.rmdir() if path.is_dir() else path.unlink()
                self.folder.rmdir()

    def _read(self, name: str, default: Any) -> Any:
        value = _read_json(self.folder / name)
        return default if value is None else value


def _file_name(url: str) -> str:
    name = Path(urlsplit(url).path).name
    return _SAFE.sub("_", name) or "image"
