"""The event box's map: which area a rally's map shows, and the tile package the box serves."""

from __future__ import annotations

import html
import importlib.metadata
import os
import re
import secrets
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from markers.tiles import Box, TileKey, covering
from server import models
from server.config import DEFAULT_TILE_URL
from server.mbtiles import MAX_TILE_BYTES, PNG_SIGNATURE, MBTiles, Package, PackageError

BOX_TILE_PATH = "/tiles/{z}/{x}/{y}.png"
"""Where the box serves the installed package's tiles."""

MARGIN_M = 300.0
"""Map around the outermost point of a rally: its search areas, start and finish, and room."""


def play_box(row: models.Rally, margin_m: float = MARGIN_M) -> Box | None:
    """The box a rally's maps need: stops, start, finish and play area, grown by the search
    radius and margin_m; None for a rally with no point yet."""
    points = [(s.marker.lat, s.marker.lon) for s in row.stops]
    points += [tuple(p) for p in row.play_area or ()]
    for lat, lon in ((row.start_lat, row.start_lon), (row.finish_lat, row.finish_lon)):
        if lat is not None and lon is not None:
            points.append((lat, lon))
    if not points:
        return None
    grow = margin_m + float(current_app.config["RULES_SEARCH_RADIUS_M"])
    return Box.around(points, margin_m=grow)


SOURCE_TILE_BYTES = 20_000
"""About how large a city tile of OSM's style is, for the estimate before a download."""
PROJECT_URL = "https://github.com/art-caching/art-caching"

_opened: dict[str, tuple[tuple[int, int, int], MBTiles | None]] = {}
_opened_lock = threading.Lock()


def installed() -> MBTiles | None:
    """The package at TILES_FILE, or None; reopened when a new one is installed (each worker
    notices the rename by the file's inode, time and size)."""
    path = current_app.config.get("TILES_FILE")
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    with _opened_lock:
        held = _opened.get(path)
        if held and held[0] == stamp:
            return held[1]
        package: MBTiles | None
        try:
            package = MBTiles(path)
        except PackageError as exc:
            current_app.logger.warning("tile package not served: %s", exc)
            package = None
        _opened[path] = (stamp, package)
        return package


def map_source() -> dict[str, Any]:
    """The web maps' tiles: TILE_URL when it is set, else the box's own tiles when a package is
    installed (asked only within its bounds and zooms), else the default (OpenStreetMap)."""
    config = current_app.config
    url, attribution = config["TILE_URL"], config["TILE_ATTRIBUTION"]
    chosen = {"tile_url": url, "attribution": attribution, "tile_options": {}}
    if config.get("TILE_URL_SET") or url != DEFAULT_TILE_URL:
        return chosen
    package = installed()
    if package is None:
        return chosen
    meta = package.package
    b = meta.bounds
    return {
        "tile_url": BOX_TILE_PATH,
        "attribution": safe_attribution(meta.attribution) or attribution,
        "tile_options": {
            "bounds": [[b.south, b.west], [b.north, b.east]],
            "minNativeZoom": meta.minzoom,
            "maxNativeZoom": meta.maxzoom,
        },
    }


def validate(path: str | Path, max_bytes: int) -> MBTiles:
    """The package at path, checked (metadata, tiles, size); PackageError says what is wrong."""
    path = Path(path)
    if path.is_file() and path.stat().st_size > max_bytes:
        raise PackageError(
            f"{path}: {path.stat().st_size / 1e6:.1f} MB, more than the limit of "
            f"{max_bytes / 1e6:.1f} MB (TILES_IMPORT_MAX_BYTES)"
        )
    package = MBTiles(path)
    if problems := package.check_tiles():
        raise PackageError(f"{path}: {problems[0]}")
    if not package.keys():
        raise PackageError(f"{path}: holds no tiles")
    return package


def install(source: str | Path, target: str | Path, max_bytes: int) -> MBTiles:
    """Check source and put a copy at target in one step (copy to a temporary name beside it,
    then rename): a worker serving tiles sees the old package or the new one, never half."""
    validate(source, max_bytes)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    draft = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        shutil.copyfile(source, draft)
        validate(draft, max_bytes)
        os.replace(draft, target)
    finally:
        draft.unlink(missing_ok=True)
    return MBTiles(target)


def missing(package: MBTiles, row: models.Rally, zooms: Iterable[int] | None = None) -> int | None:
    """How many tiles of row's play box the package lacks at its zooms (or the zooms given);
    None for a rally with no point yet."""
    box = play_box(row)
    if box is None:
        return None
    held = package.keys()
    wanted = zooms if zooms is not None else package.package.zooms
    return sum(1 for key in covering(box, wanted) if key not in held)


def manifest(row: models.Rally) -> dict[str, Any]:
    """What the phone fetches for a rally's map: the installed package's tiles of its play box,
    lowest zooms first, cut at PACK_TILES_MAX_BYTES by dropping the highest zooms."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    answer: dict[str, Any] = {
        "url": base + BOX_TILE_PATH,
        "attribution": safe_attribution(current_app.config["TILE_ATTRIBUTION"]),
        "tiles": [],
        "bytes": 0,
        "capped": False,
    }
    package = installed()
    box = play_box(row)
    if package is None or box is None:
        return answer
    answer["attribution"] = safe_attribution(package.package.attribution) or answer["attribution"]
    sizes = package.sizes()
    limit = int(current_app.config["PACK_TILES_MAX_BYTES"])
    for z in package.package.zooms:
        level = [key for key in covering(box, (z,)) if key in sizes]
        level_bytes = sum(sizes[key] for key in level)
        if answer["bytes"] + level_bytes > limit:
            answer["capped"] = True
            break
        answer["tiles"] += [list(key) for key in level]
        answer["bytes"] += level_bytes
    return answer


def user_agent() -> str:
    """The named User-Agent of a download: version and where the box (or project) lives."""
    try:
        version = importlib.metadata.version("art-caching")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    config = current_app.config
    home = config["PUBLIC_BASE_URL"] if config.get("PUBLIC_BASE_URL_SOURCE") != "default" else ""
    return f"ArtCaching/{version} (+{home or PROJECT_URL})"


@dataclass
class Fetched:
    """What a download did: tiles kept, missing upstream (404) and failed (to try again)."""

    kept: int = 0
    absent: list[TileKey] = field(default_factory=list)
    failed: list[tuple[TileKey, str]] = field(default_factory=list)


class Downloader:
    """Fetches tiles from a z/x/y URL template, at most ``workers`` at a time, each worker
    pausing ``delay`` seconds after every request."""

    def __init__(
        self, template: str, agent: str, delay: float, workers: int = 2, timeout: float = 20.0
    ):
        self.template, self.agent, self.delay = template, agent, delay
        self.workers, self.timeout = max(1, min(workers, 2)), timeout

    def one(self, key: TileKey) -> tuple[TileKey, bytes | None, str | None]:
        """(key, PNG bytes, None), (key, None, None) when upstream has none, or (key, None, why)."""
        z, x, y = key
        url = self.template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
        url = url.replace("{s}", "abc"[(x + y) % 3])
        request = urllib.request.Request(url, headers={"User-Agent": self.agent})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                data = answer.read(MAX_TILE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            return key, None, None if exc.code == 404 else f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            return key, None, str(getattr(exc, "reason", exc))
        finally:
            time.sleep(self.delay)
        if not data.startswith(PNG_SIGNATURE):
            return key, None, "not a PNG image"
        if len(data) > MAX_TILE_BYTES:
            return key, None, f"more than {MAX_TILE_BYTES} bytes"
        return key, data, None

    def fetch(
        self,
        keys: list[TileKey],
        keep: Callable[[list[tuple[TileKey, bytes]]], None],
        progress: Callable[[int], None] = lambda n: None,
        batch: int = 16,
    ) -> Fetched:
        """Fetch keys, handing every ``batch`` good tiles to keep (so that an interrupted run
        keeps what it got); interrupted, it keeps the tiles got so far and lets the interrupt on."""
        done = Fetched()
        pending: list[tuple[TileKey, bytes]] = []

        def flush() -> None:
            if pending:
                keep(list(pending))
                done.kept += len(pending)
                pending.clear()

        pool = ThreadPoolExecutor(max_workers=self.workers)
        try:
            for key, data, why in pool.map(self.one, keys):
                if data is not None:
                    pending.append((key, data))
                    if len(pending) >= batch:
                        flush()
                elif why is None:
                    done.absent.append(key)
                else:
                    done.failed.append((key, why))
                progress(1)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            flush()
        return done


def package_for(
    name: str, box: Box, zooms: range, earlier: MBTiles | None, attribution: str
) -> Package:
    """The metadata of a package being prepared: box and zooms, grown to an earlier package's."""
    if earlier is not None:
        old = earlier.package
        box = Box(
            min(box.west, old.bounds.west),
            min(box.south, old.bounds.south),
            max(box.east, old.bounds.east),
            max(box.north, old.bounds.north),
        )
        zooms = range(min(zooms.start, old.minzoom), max(zooms[-1], old.maxzoom) + 1)
        name = old.name if name in old.name.split(", ") else f"{old.name}, {name}"
    return Package(
        name=name,
        format="png",
        bounds=box,
        minzoom=zooms.start,
        maxzoom=zooms[-1],
        attribution=safe_attribution(attribution),
    )


def safe_attribution(text: str) -> str:
    """A package's attribution as plain text (maps put it in the page as HTML): tags dropped,
    entities read, then escaped again."""
    plain = html.unescape(re.sub(r"<[^>]*>?", "", text))
    return html.escape(" ".join(plain.split()), quote=False)[:300]
