"""The map's tile cache (client/widgets/tiles.py, no Kivy): files in the data folder, the app's
User-Agent, no retry storm, and no exception when the network is gone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from client import USER_AGENT
from client.widgets.tiles import TileCache
from tests.client.conftest import TileServer, png


def policy(z: int, x: int, y: int) -> tuple[int, str, bytes]:
    """PNG for even x, 503 for odd x, an HTML page for x == 7."""
    if x == 7:
        return 200, "text/html", b"<html>blocked</html>"
    if x % 2:
        return 503, "text/plain", b"busy"
    return 200, "image/png", png((0, 200, 220))


@pytest.fixture
def tiles():
    server = TileServer(policy)
    yield server
    server.close()


def wait_for(test, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not test():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_missing_tile_is_fetched_with_the_apps_user_agent_and_kept(tiles, tmp_path):
    cache = TileCache(tmp_path / "tiles", tiles.url)
    arrived: list[Path] = []
    assert cache.get(16, 34184, 22448, arrived.append) is None
    wait_for(lambda: arrived)
    assert arrived == [tmp_path / "tiles" / "16" / "34184" / "22448.png"]
    assert arrived[0].read_bytes() == png((0, 200, 220))
    assert tiles.requests == [("/16/34184/22448.png", USER_AGENT)]
    assert USER_AGENT.startswith("ArtCaching/")
    assert cache.get(16, 34184, 22448) == arrived[0], "the second time it comes from the disk"
    assert len(tiles.requests) == 1
    cache.close()


def test_a_failed_tile_is_not_asked_for_again_until_retry_after(tiles, tmp_path):
    cache = TileCache(tmp_path / "tiles", tiles.url, retry_after_s=3600)
    for _ in range(5):
        assert cache.get(16, 34185, 22448) is None
        wait_for(lambda: cache.errors == 1)
    assert [path for path, _ in tiles.requests] == ["/16/34185/22448.png"]
    assert not (tmp_path / "tiles" / "16" / "34185").exists()
    cache.close()


def test_an_answer_that_is_not_a_png_is_not_kept(tiles, tmp_path):
    cache = TileCache(tmp_path / "tiles", tiles.url)
    cache.get(16, 7, 3)
    wait_for(lambda: cache.errors == 1)
    assert not list((tmp_path / "tiles").rglob("*.png"))
    cache.close()


def test_without_network_or_url_nothing_breaks(tmp_path):
    unreachable = TileCache(tmp_path / "a", "http://127.0.0.1:9/{z}/{x}/{y}.png", timeout_s=2)
    assert unreachable.get(16, 1, 1) is None
    wait_for(lambda: unreachable.errors == 1)
    offline = TileCache(tmp_path / "b", "")
    assert offline.get(16, 1, 1) is None
    assert offline.errors == 0 and not (tmp_path / "b").exists()
    for cache in (unreachable, offline):
        cache.close()


def test_tiles_outside_the_world_are_not_asked_for(tiles, tmp_path):
    cache = TileCache(tmp_path / "tiles", tiles.url)
    assert cache.get(2, 4, 0) is None and cache.get(2, 0, -1) is None
    time.sleep(0.2)
    assert tiles.requests == []
    cache.close()
