"""The rally pack: what the phone keeps so the game stays useful without network.

Per rally, in <data dir>/packs/<slug>/: the rally's public JSON, the team's last JSON, every clue
opened so far, every found stop (story, letter) and its image, and the server's tile manifest
(map.json) whose tiles go into the map's TileCache (download_map).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from client import USER_AGENT
from client.http import open_url
from client.widgets.tiles import OSM_TILE_URL, TileCache, TileKey, fetch_tile

MAX_ZOOM = 22
MAX_MANIFEST_TILES = 200_000
MB = 1024 * 1024

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

    # --- the map -----------------------------------------------------------------------------

    def save_map(self, manifest: dict[str, Any]) -> None:
        """Keep the server's tile manifest (what download_map fetches)."""
        with self._lock:
            _write_json(self.folder / "map.json", manifest)

    def map(self) -> dict[str, Any] | None:
        """The tile manifest last got from the server (None before)."""
        value = _read_json(self.folder / "map.json")
        return value if isinstance(value, dict) else None

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


@dataclass(frozen=True)
class MapProgress:
    """How far the rally's map is on the phone: tiles and bytes planned (after the app's cap)
    and kept so far. state: "loading", "done", "none" (the server has no map), "failed"."""

    state: str
    tiles: int = 0
    kept: int = 0
    bytes_planned: int = 0
    bytes_kept: int = 0
    capped: bool = False
    """The app's cap (or the server's) left out the highest zooms."""
    error: str | None = None

    @property
    def megabytes(self) -> float:
        return self.bytes_planned / MB


def manifest_tiles(manifest: object) -> list[TileKey]:
    """The manifest's valid [z, x, y] entries as keys, in its order (lowest zooms first);
    anything else in it is left out."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("tiles"), list):
        return []
    keys: list[TileKey] = []
    seen: set[TileKey] = set()
    for entry in manifest["tiles"][:MAX_MANIFEST_TILES]:
        if not isinstance(entry, list | tuple) or len(entry) != 3:
            continue
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in entry):
            continue
        z, x, y = entry
        if 0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z and (z, x, y) not in seen:
            seen.add((z, x, y))
            keys.append((z, x, y))
    return keys


def manifest_url(manifest: dict[str, Any], base_url: str) -> str | None:
    """The tile URL template of a manifest (relative ones against base_url); None when it is
    not an http(s) template with {z}, {x} and {y}."""
    url = manifest.get("url")
    if not isinstance(url, str) or not all(p in url for p in ("{z}", "{x}", "{y}")):
        return None
    url = urljoin(base_url + "/", url)
    return url if urlsplit(url).scheme in ("http", "https") else None


def plan_map(manifest: dict[str, Any], max_bytes: int) -> tuple[list[TileKey], int, bool]:
    """(tiles, estimated bytes, capped): the manifest's tiles, whole zoom levels from the lowest
    while their estimated size fits max_bytes."""
    keys = manifest_tiles(manifest)
    total = manifest.get("bytes")
    total = total if isinstance(total, int) and total > 0 else 0
    capped = manifest.get("capped") is True
    if not keys:
        return [], 0, capped
    average = total / len(keys) if total else 0.0
    chosen: list[TileKey] = []
    for z in sorted({k[0] for k in keys}):
        level = [k for k in keys if k[0] == z]
        if average * (len(chosen) + len(level)) > max_bytes:
            capped = True
            break
        chosen.extend(level)
    return chosen, round(average * len(chosen)), capped


def download_map(
    manifest: dict[str, Any],
    cache: TileCache,
    base_url: str,
    max_bytes: int,
    *,
    progress: Callable[[MapProgress], None] | None = None,
    cancel: threading.Event | None = None,
    timeout_s: float = 10.0,
    user_agent: str = USER_AGENT,
) -> MapProgress:
    """Fetch the manifest's tiles (as planned by plan_map) into cache, skipping those already
    there, so an interrupted download resumes where it stopped; stops at max_bytes kept. Blocking:
    call it off the UI thread. A network failure ends it with state "failed" (the tiles kept
    stay)."""
    tiles, planned, capped = plan_map(manifest, max_bytes)
    url = manifest_url(manifest, base_url)
    if not tiles or url is None:
        return _report(progress, MapProgress("none", capped=capped))
    if cache.url == OSM_TILE_URL:
        cache.url = url  # the box's own tiles stand in for the default source, which needs internet
    kept = kept_bytes = 0
    state = MapProgress("loading", len(tiles), 0, planned, 0, capped)
    for number, (z, x, y) in enumerate(tiles):
        if cancel is not None and cancel.is_set():
            break
        path = cache.path(z, x, y)
        try:
            size = path.stat().st_size
        except OSError:
            try:
                data = fetch_tile(url, z, x, y, user_agent, timeout_s)
            except (OSError, ValueError, http.client.HTTPException) as exc:
                failed = MapProgress(
                    "failed", len(tiles), kept, planned, kept_bytes, capped, str(exc)
                )
                return _report(progress, failed)
            if kept_bytes + len(data) > max_bytes:
                capped = True
                tiles = tiles[:number]
                break
            cache.put(z, x, y, data)
            size = len(data)
        kept += 1
        kept_bytes += size
        state = MapProgress(
            "loading", len(tiles), kept, max(planned, kept_bytes), kept_bytes, capped
        )
        if progress is not None and (kept % 20 == 0 or kept == len(tiles)):
            progress(state)
    done = kept == len(tiles)
    return _report(
        progress,
        MapProgress(
            "done" if done else "loading",
            len(tiles),
            kept,
            kept_bytes if done else max(planned, kept_bytes),
            kept_bytes,
            capped,
        ),
    )


def _report(progress: Callable[[MapProgress], None] | None, state: MapProgress) -> MapProgress:
    if progress is not None:
        progress(state)
    return state


def describe_map(progress: MapProgress | None) -> tuple[str, dict[str, object]] | None:
    """The catalogue key and values that say how far the map is ("Karte: 12 MB"); None before
    it was asked for."""
    if progress is None:
        return None
    if progress.state == "none":
        return "ui.map_pack.none", {}
    values: dict[str, object] = {
        "done": _mb(progress.bytes_kept),
        "total": _mb(max(progress.bytes_planned, progress.bytes_kept)),
    }
    if progress.state == "done":
        return "ui.map_pack.done", values
    return f"ui.map_pack.{'failed' if progress.state == 'failed' else 'loading'}", values


def _mb(size: int) -> str:
    """Megabytes for people: 12, 3.4, 0.2."""
    mb = size / MB
    return f"{mb:.0f}" if mb >= 10 else f"{mb:.1f}"
