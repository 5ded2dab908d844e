"""Map tiles on disk in the app's data folder, fetched politely (the app's User-Agent, two
connections, no retry storm) and never a reason to crash: without network the map shows what
the cache holds. No Kivy here, so it is tested without a window."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from client import USER_AGENT
from client.http import open_url

OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_TILE_BYTES = 512 * 1024

TileKey = tuple[int, int, int]


class TileCache:
    """Tiles under root/<z>/<x>/<y>.png (OSM numbering, y from the top).

    ``url`` empty means offline: only cached tiles are shown. A tile that failed to download is
    not asked for again for ``retry_after_s``.
    """

    def __init__(
        self,
        root: str | Path,
        url: str = OSM_TILE_URL,
        *,
        user_agent: str = USER_AGENT,
        workers: int = 2,
        timeout_s: float = 8.0,
        retry_after_s: float = 120.0,
    ) -> None:
        self.root = Path(root)
        self.url = url
        self.user_agent = user_agent
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tiles")
        self._lock = threading.Lock()
        self._failed: dict[TileKey, float] = {}
        self._loading: set[TileKey] = set()
        self.fetched = 0
        self.errors = 0

    def path(self, z: int, x: int, y: int) -> Path:
        return self.root / str(z) / str(x) / f"{y}.png"

    def get(
        self, z: int, x: int, y: int, done: Callable[[Path], None] | None = None
    ) -> Path | None:
        """The cached tile's path, or None; a missing tile is fetched and done(path) called
        from a worker thread when it arrives."""
        path = self.path(z, x, y)
        if path.exists():
            return path
        key = (z, x, y)
        if not self.url or not 0 <= x < 2**z or not 0 <= y < 2**z:
            return None
        with self._lock:
            failed_at = self._failed.get(key)
            if key in self._loading or (
                failed_at is not None and time.monotonic() - failed_at < self.retry_after_s
            ):
                return None
            self._loading.add(key)
        try:
            self._pool.submit(self._fetch, key, done)
        except RuntimeError:
            with self._lock:
                self._loading.discard(key)
        return None

    def _fetch(self, key: TileKey, done: Callable[[Path], None] | None) -> None:
        z, x, y = key
        try:
            path = self.put(z, x, y, self.download(z, x, y))
            self.fetched += 1
        except (OSError, ValueError):
            with self._lock:
                self._failed[key] = time.monotonic()
                self.errors += 1
            return
        finally:
            with self._lock:
                self._loading.discard(key)
        if done is not None:
            done(path)

    def download(self, z: int, x: int, y: int) -> bytes:
        """One tile from the tile server; ValueError when the answer is not a PNG."""
        return fetch_tile(self.url, z, x, y, self.user_agent, self.timeout_s)

    def put(self, z: int, x: int, y: int, data: bytes) -> Path:
        """Keep a tile got elsewhere (the rally pack's map), written atomically; its path."""
        path = self.path(z, x, y)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{threading.get_ident()}.part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return path

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def fetch_tile(url: str, z: int, x: int, y: int, user_agent: str, timeout_s: float) -> bytes:
    """One tile from the tile URL template; ValueError when the answer is not a PNG."""
    where = url.format(z=z, x=x, y=y, s="a")
    request = urllib.request.Request(where, headers={"User-Agent": user_agent})
    with open_url(request, timeout_s) as response:
        data = response.read(MAX_TILE_BYTES + 1)
    if len(data) > MAX_TILE_BYTES or not data.startswith(PNG_SIGNATURE):
        raise ValueError(f"{where}: not a PNG tile")
    return data
